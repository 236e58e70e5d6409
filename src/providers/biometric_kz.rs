//! biometric.kz Face2Face: multipart with the API key inside the body.

use super::*;
use crate::image::Format;

pub const PATH: &str = "/api/v1/backend/face2face/compare/";

pub static PROFILE: Profile = Profile {
    provider: Provider::BiometricKz,
    formats: &[Format::Jpeg, Format::Png],
    max_bytes: DEFAULT_MAX_BYTES,
    budget_on_base64: false,
    min_side: 0,
    min_face_px: 0.0,
    first: "img_1",
    second: "img_2",
};

pub(super) fn build(
    req: &MatchRequest,
    cred: &Credential,
    url: &str,
) -> Result<HttpRequest, Error> {
    let Credential::BiometricKz { api_key } = cred else {
        return Err(Credential::wrong(Provider::BiometricKz));
    };
    // The service takes the extension from the filename: it must match the bytes.
    let (ct, body) = Multipart::new()
        .text("api_key", api_key.expose())
        .file(
            PROFILE.first,
            &format!("{}.{}", PROFILE.first, req.document.extension()),
            req.document.mime(),
            &req.document.bytes,
        )
        .file(
            PROFILE.second,
            &format!("{}.{}", PROFILE.second, req.selfie.extension()),
            req.selfie.mime(),
            &req.selfie.bytes,
        )
        .finish();
    Ok(HttpRequest {
        method: "POST",
        url: url.to_string(),
        headers: vec![
            ("content-type".into(), ct),
            ("accept".into(), "application/json".into()),
        ],
        body,
    })
}

/// The documented error messages and what they mean. Matching is on the
/// message (the seed page writes "Can`t", the digest "Can't": both match).
const ERRORS: &[(&str, ServiceCode)] = &[
    ("no face found", ServiceCode::NoFace),
    (
        "connect to face2face service",
        ServiceCode::ServiceUnavailable,
    ),
    (
        "does not have access to face2face technology",
        ServiceCode::SubscriptionInactive,
    ),
    ("face2face result does not exist", ServiceCode::ServiceError),
    ("not allowed file", ServiceCode::UnsupportedFormat),
    (
        "subscription has not started",
        ServiceCode::SubscriptionInactive,
    ),
    (
        "no active or future subscription",
        ServiceCode::SubscriptionInactive,
    ),
    (
        "does not have subscription",
        ServiceCode::SubscriptionInactive,
    ),
];

pub(super) fn parse(resp: &HttpResponse) -> Result<MatchResult, ServiceError> {
    let p = Provider::BiometricKz;
    let body = serde_json::from_slice::<serde_json::Value>(resp.body).ok();
    if resp.status != 200 {
        let message = body
            .as_ref()
            .and_then(error_message)
            .unwrap_or_else(|| String::from_utf8_lossy(resp.body).into_owned());
        let lower = message.to_ascii_lowercase();
        let code = ERRORS
            .iter()
            .find(|(m, _)| lower.contains(m))
            .map(|(_, c)| *c)
            .unwrap_or(match resp.status {
                401 | 403 => ServiceCode::Unauthorized,
                415 => ServiceCode::UnsupportedFormat,
                500..=599 => ServiceCode::ServiceUnavailable,
                _ => ServiceCode::Protocol,
            });
        if code == ServiceCode::Protocol {
            return Err(protocol(p, resp, "undocumented error"));
        }
        return Err(ServiceError::new(
            p.name(),
            code,
            resp.status,
            None,
            &message,
        ));
    }
    let v = body.ok_or_else(|| protocol(p, resp, "the answer is not JSON"))?;
    let result = v.get("result").and_then(boolean);
    let prediction = v.get("prediction").and_then(number);
    let (Some(result), Some(prediction)) = (result, prediction) else {
        return Err(protocol(p, resp, "no `result` and `prediction`"));
    };
    // `prediction` is 0..1; a percent-sized value would be a contract change.
    if !(0.0..=1.0).contains(&prediction) {
        return Err(protocol(p, resp, "`prediction` outside 0..1"));
    }
    Ok(MatchResult {
        provider: p,
        decision: if result {
            Decision::Match
        } else {
            Decision::NoMatch
        },
        similarity: prediction,
        provider_score: v.get("prediction").cloned().unwrap_or_default(),
        thresholds: None,
        warnings: vec![],
        request_id: None,
        trials_remaining: None,
        raw: v,
    })
}
