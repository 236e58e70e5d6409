//! Biometry Solutions facematch: a liveness video and a document image,
//! multipart, with a bearer API token.

use super::*;
use crate::image::Format;

pub const PATH: &str = "/api-gateway/match-faces";

pub static PROFILE: Profile = Profile {
    provider: Provider::Biometry,
    formats: &[Format::Jpeg, Format::Png],
    max_bytes: DEFAULT_MAX_BYTES,
    budget_on_base64: false,
    min_side: 0,
    min_face_px: 0.0,
    first: "image",
    second: "video",
};

/// Biometry's request options (`FB_PROVIDER_OPTIONS.biometry` at the edge).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Options {
    /// `X-Session-ID`.
    pub session_id: Option<String>,
    /// `X-User-Fullname`: personal data, sent only with `fullname_consent`.
    pub user_fullname: Option<String>,
    /// The user agreed to their full name going to the service.
    pub fullname_consent: bool,
    /// `X-Use-Prefilled-Video: true`: reuse the session's earlier video.
    pub use_prefilled_video: bool,
}

pub(super) fn build(
    req: &MatchRequest,
    cred: &Credential,
    url: &str,
    opts: &Options,
) -> Result<HttpRequest, Error> {
    let Credential::Biometry { token } = cred else {
        return Err(Credential::wrong(Provider::Biometry));
    };
    let mut headers = vec![("authorization".into(), format!("Bearer {}", token.expose()))];
    if let Some(id) = &opts.session_id {
        headers.push((
            "x-session-id".into(),
            header_value("biometry.sessionId", id)?,
        ));
    }
    // The full name is personal data: sent only when the caller says the user consented.
    if let (true, Some(name)) = (opts.fullname_consent, &opts.user_fullname) {
        headers.push((
            "x-user-fullname".into(),
            header_value("biometry.userFullname", name)?,
        ));
    }
    let mut form = Multipart::new();
    if opts.use_prefilled_video {
        headers.push(("x-use-prefilled-video".into(), "true".into()));
    } else {
        let video = req.video.as_ref().ok_or_else(|| {
            Error::invalid("video", "Biometry compares a liveness video with the image: pass `video`, or set biometry.usePrefilledVideo")
        })?;
        if video.mime() == "application/octet-stream" || video.bytes.is_empty() {
            return Err(Error::invalid(
                "video",
                "a non-empty MP4, WebM or QuickTime video",
            ));
        }
        form = form.file(
            PROFILE.second,
            &format!("{}.{}", PROFILE.second, video.extension()),
            video.mime(),
            &video.bytes,
        );
    }
    form = form.file(
        PROFILE.first,
        &format!("{}.{}", PROFILE.first, req.document.extension()),
        req.document.mime(),
        &req.document.bytes,
    );
    let (ct, body) = form.finish();
    headers.insert(0, ("content-type".into(), ct));
    Ok(HttpRequest {
        method: "POST",
        url: url.to_string(),
        headers,
        body,
    })
}

/// Header values must be visible ASCII (a name with a newline is an injection).
fn header_value(field: &'static str, v: &str) -> Result<String, Error> {
    if v.is_empty() || v.len() > 256 || !v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Err(Error::invalid(field, "1–256 printable ASCII characters"));
    }
    Ok(v.to_string())
}

pub(super) fn parse(resp: &HttpResponse) -> Result<MatchResult, ServiceError> {
    let p = Provider::Biometry;
    let body = serde_json::from_slice::<serde_json::Value>(resp.body).ok();
    if resp.status != 200 {
        let message = body.as_ref().and_then(error_message).unwrap_or_default();
        let code = match resp.status {
            400 => ServiceCode::BadRequest,
            401 | 403 => ServiceCode::Unauthorized,
            500..=599 => ServiceCode::ServiceUnavailable,
            404 => return Err(protocol(p, resp, "not found: check the base URL")),
            _ => return Err(protocol(p, resp, "undocumented status")),
        };
        if body.is_none() && resp.status == 400 {
            return Err(protocol(p, resp, "error without a JSON body"));
        }
        let code = no_face_if_said(code, &message);
        return Err(ServiceError::new(
            p.name(),
            code,
            resp.status,
            None,
            if message.is_empty() {
                "no message"
            } else {
                &message
            },
        ));
    }
    let v = body.ok_or_else(|| protocol(p, resp, "the answer is not JSON"))?;
    let data = v.get("data").filter(|d| d.is_object());
    let score = v.get("score").or_else(|| data.and_then(|d| d.get("score")));
    let Some(score_n) = score.and_then(number).filter(|s| (0.0..=100.0).contains(s)) else {
        return Err(protocol(p, resp, "no `score` in 0..100"));
    };
    let scoring = v.get("scoring_result").filter(|s| s.is_object());
    let decision = match scoring
        .and_then(|s| s.get("status"))
        .and_then(|s| s.as_str())
    {
        Some("pass") => Decision::Match,
        Some("refer") => Decision::Refer,
        Some("fail") => Decision::NoMatch,
        Some(_) => return Err(protocol(p, resp, "unknown scoring_result.status")),
        // `scoring_result` may be absent: fall back on `data.result` (bool or 1/0).
        None => match data.and_then(|d| d.get("result")).and_then(boolean) {
            Some(true) => Decision::Match,
            Some(false) => Decision::NoMatch,
            None => return Err(protocol(p, resp, "neither scoring_result nor data.result")),
        },
    };
    let mut warnings = Vec::new();
    for (key, kind) in [
        ("failed_conditions", "failed"),
        ("failed_refer_conditions", "refer"),
    ] {
        for c in scoring
            .and_then(|s| s.get(key))
            .and_then(|c| c.as_array())
            .into_iter()
            .flatten()
        {
            if let Some(c) = c.as_str() {
                warnings.push(Warning {
                    code: format!("{kind}:{c}"),
                    message: c.to_string(),
                });
            }
        }
    }
    Ok(MatchResult {
        provider: p,
        decision,
        similarity: score_n / 100.0,
        provider_score: score.cloned().unwrap_or_default(),
        thresholds: None,
        warnings,
        request_id: None,
        trials_remaining: None,
        raw: v,
    })
}
