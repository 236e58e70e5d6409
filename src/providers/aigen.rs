//! AIGEN face-compare: base64 JSON, key in `x-aigen-key` (never the query).

use super::*;
use crate::image::Format;

pub const PATH: &str = "/aiface/face-compare/v1";

pub static PROFILE: Profile = Profile {
    provider: Provider::Aigen,
    formats: &[Format::Jpeg, Format::Png],
    max_bytes: DEFAULT_MAX_BYTES,
    budget_on_base64: true,
    // "Must be over 480*480 pixels" and a face box "over 112 pixels".
    min_side: 481,
    min_face_px: 113.0,
    first: "image1",
    second: "image2",
};

/// AIGEN's request options (`FB_PROVIDER_OPTIONS.aigen` at the edge).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Options {
    /// Ask the service to detect blur (`blur_detection`).
    pub blur_detection: bool,
    /// Ask the service to check that the document image shows an ID card
    /// (`verified_document`).
    pub verify_document: bool,
}

pub(super) fn build(
    req: &MatchRequest,
    cred: &Credential,
    url: &str,
    opts: &Options,
) -> Result<HttpRequest, Error> {
    let Credential::Aigen { key } = cred else {
        return Err(Credential::wrong(Provider::Aigen));
    };
    let mut body = serde_json::json!({
        "image1_is_document": true,
    });
    if opts.blur_detection {
        body["blur_detection"] = true.into();
    }
    if opts.verify_document {
        body["verified_document"] = true.into();
    }
    Ok(HttpRequest {
        method: "POST",
        url: url.to_string(),
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-aigen-key".into(), key.expose().to_string()),
        ],
        body: json_with_files(
            &[
                (PROFILE.first, &req.document.bytes),
                (PROFILE.second, &req.selfie.bytes),
            ],
            &body,
        ),
    })
}

pub(super) fn parse(resp: &HttpResponse) -> Result<MatchResult, ServiceError> {
    let p = Provider::Aigen;
    let simple = |code, msg: &str| Err(ServiceError::new(p.name(), code, resp.status, None, msg));
    match resp.status {
        200 | 400 => {}
        401 => return simple(ServiceCode::Unauthorized, "missing or invalid x-aigen-key"),
        403 => {
            return simple(
                ServiceCode::SubscriptionInactive,
                "the key has no permission for face-compare",
            );
        }
        429 => return simple(ServiceCode::QuotaExhausted, "credit exhausted"),
        500..=599 => {
            return Err(
                protocol(p, resp, "service error").with_code(ServiceCode::ServiceUnavailable)
            );
        }
        _ => return Err(protocol(p, resp, "undocumented status")),
    }
    let v = json_body(p, resp)?;
    // Errors come as `error_message: "CODE: param"`, with HTTP 400 or 200.
    if let Some(msg) = v
        .get("error_message")
        .and_then(|m| m.as_str())
        .filter(|m| !m.is_empty())
    {
        let kind = msg.split(':').next().unwrap_or("").trim();
        let code = match kind {
            "IMAGE_ERROR_UNSUPPORTED_FORMAT" => ServiceCode::UnsupportedFormat,
            "CAN_NOT_DETECT_FACE" => ServiceCode::NoFace,
            "IMAGE_BLURED" => ServiceCode::Blurry,
            "CAN_NOT_DETECT_IDCARD" => ServiceCode::ImageRejected,
            _ => ServiceCode::ServiceError,
        };
        return Err(ServiceError::new(
            p.name(),
            code,
            resp.status,
            Some(kind.to_string()),
            msg,
        ));
    }
    if resp.status != 200 {
        return Err(protocol(p, resp, "HTTP 400 without error_message"));
    }
    let confidence = v
        .get("confidence")
        .and_then(number)
        .filter(|c| (0.0..=100.0).contains(c));
    let t = v.get("thresholds");
    let th = |k: &str| t.and_then(|t| t.get(k)).and_then(number);
    let (Some(confidence), Some(err_01), Some(err_001), Some(err_0001)) =
        (confidence, th("err_01"), th("err_001"), th("err_0001"))
    else {
        return Err(protocol(p, resp, "no `confidence` and `thresholds`"));
    };
    // The thresholds of this very answer decide: they change over time.
    let decision = if confidence >= err_0001 {
        Decision::Match
    } else if confidence < err_01 {
        Decision::NoMatch
    } else {
        Decision::Refer
    };
    Ok(MatchResult {
        provider: p,
        decision,
        similarity: confidence / 100.0,
        provider_score: v.get("confidence").cloned().unwrap_or_default(),
        thresholds: Some(Thresholds {
            err_01,
            err_001,
            err_0001,
        }),
        warnings: vec![],
        request_id: v
            .get("request_id")
            .and_then(|r| r.as_str())
            .map(str::to_string),
        trials_remaining: None,
        raw: v,
    })
}
