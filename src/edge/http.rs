//! How the edge's errors go on the wire: the HTTP status and the JSON body.

use crate::error::{Error, ImageError, Refusal, ServiceCode};

/// The HTTP status the edge answers an error with.
pub fn http_status(e: &Error) -> u16 {
    match e {
        Error::Token(_) => 401,
        Error::Refused { code, .. } => match code {
            Refusal::OriginRejected => 403,
            Refusal::BodyTooLarge => 413,
            Refusal::NotFound => 404,
            Refusal::BadRequest => 400,
            Refusal::EdgeMisconfigured => 500,
        },
        // Our own failures, not the photo's.
        Error::Image(ImageError::Encode { .. } | ImageError::Resize { .. }) => 500,
        Error::Image(_) | Error::Quality(_) | Error::InvalidOptions { .. } => 422,
        Error::Detect(_) => 500,
        Error::Service(s) => match s.code {
            ServiceCode::NoFace
            | ServiceCode::MultipleFaces
            | ServiceCode::UnsupportedFormat
            | ServiceCode::Blurry
            | ServiceCode::ImageRejected => 422,
            ServiceCode::ServiceUnavailable => 503,
            _ => 502,
        },
        Error::Network { timeout: true, .. } => 504,
        Error::Network { .. } => 502,
    }
}

/// The JSON body of an error answer: `{"error": {code, message, …}}`.
pub fn error_body(e: &Error) -> serde_json::Value {
    let message = match e {
        // Which variable or key is wrong is for the operator's log, not for
        // an unauthenticated client.
        Error::Refused {
            code: Refusal::EdgeMisconfigured,
            ..
        } => "the edge is misconfigured: its log says what to fix".to_string(),
        _ => e.to_string(),
    };
    let mut err = serde_json::json!({
        "code": e.code(),
        "message": message,
        "status": http_status(e),
    });
    match e {
        Error::Service(s) => {
            err["provider"] = s.provider.into();
            err["serviceStatus"] = s.status.into();
            if let Some(c) = &s.service_code {
                err["serviceCode"] = c.as_str().into();
            }
        }
        Error::Quality(q) => {
            err["failures"] = serde_json::to_value(&q.failures).unwrap_or_default();
        }
        Error::Token(t) => {
            err["reason"] = serde_json::to_value(t).unwrap_or_default();
        }
        _ => {}
    }
    serde_json::json!({ "error": err })
}
