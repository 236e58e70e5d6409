//! computervision.com.vn eKYC face_matching: HTTP Basic, base64 JSON (or
//! multipart files). URL mode is deliberately not offered: it makes the
//! service fetch any URL, and a client must never choose those URLs.

use super::*;
use crate::image::Format;

pub const PATH: &str = "/api/v2/ekyc/face_matching";

pub static PROFILE: Profile = Profile {
    provider: Provider::Cvs,
    formats: &[Format::Jpeg, Format::Png],
    max_bytes: DEFAULT_MAX_BYTES,
    budget_on_base64: true,
    min_side: 0,
    min_face_px: 0.0,
    first: "img1",
    second: "img2",
};

/// CVS's request options (`FB_PROVIDER_OPTIONS.cvs` at the edge).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Options {
    /// Send the images as multipart files (`format_type=file`) instead of
    /// base64 JSON.
    pub multipart: bool,
    /// `type1`: what the first image is.
    pub type1: Type1,
}

/// CVS's `type1`: the first image is an ID card or a portrait.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Type1 {
    #[default]
    Card,
    Portrait,
}

impl Type1 {
    fn as_str(self) -> &'static str {
        match self {
            Type1::Card => "card",
            Type1::Portrait => "portrait",
        }
    }
}

pub(super) fn build(
    req: &MatchRequest,
    cred: &Credential,
    url: &str,
    opts: &Options,
) -> Result<HttpRequest, Error> {
    let Credential::Cvs {
        api_key,
        api_secret,
    } = cred
    else {
        return Err(Credential::wrong(Provider::Cvs));
    };
    let auth = format!(
        "Basic {}",
        b64(format!("{}:{}", api_key.expose(), api_secret.expose()).as_bytes())
    );
    let (first, second) = (PROFILE.first, PROFILE.second);
    let (format_type, ct, body) = if opts.multipart {
        let (ct, body) = Multipart::new()
            .file(
                first,
                &format!("{first}.{}", req.document.extension()),
                req.document.mime(),
                &req.document.bytes,
            )
            .file(
                second,
                &format!("{second}.{}", req.selfie.extension()),
                req.selfie.mime(),
                &req.selfie.bytes,
            )
            .finish();
        ("file", ct, body)
    } else {
        let files: [(&str, &[u8]); 2] = [(first, &req.document.bytes), (second, &req.selfie.bytes)];
        (
            "base64",
            "application/json".to_string(),
            json_with_files(&files, &serde_json::json!({})),
        )
    };
    Ok(HttpRequest {
        method: "POST",
        url: format!(
            "{url}?type1={}&format_type={format_type}",
            opts.type1.as_str()
        ),
        headers: vec![("content-type".into(), ct), ("authorization".into(), auth)],
        body,
    })
}

/// `errorCode` (documented as a string; integers accepted) → meaning.
fn error_code(code: &str, message: &str) -> ServiceCode {
    match code {
        "1" | "2" | "6" => ServiceCode::BadRequest,
        // Code 3 is also what the service says when it finds no face.
        "3" if message.to_ascii_lowercase().contains("face") => ServiceCode::NoFace,
        "3" => ServiceCode::UnsupportedFormat,
        "4" => ServiceCode::QuotaExhausted,
        "5" => ServiceCode::Unauthorized,
        _ => ServiceCode::ServiceError,
    }
}

/// `invalidCode` warnings, as documented.
pub const WARNINGS: &[(&str, &str)] = &[
    ("1", "the ID card photo is missing"),
    ("2", "the card is a photocopy"),
    ("3", "the card photo is suspected of tampering"),
    ("4", "the card photo has no face"),
    ("5", "the portrait has no face"),
    ("6", "a photo contains more than one face"),
    ("7", "sunglasses"),
    ("8", "a hat"),
    ("9", "a mask"),
    (
        "10",
        "a photo of a picture or screen, blur, noise or signs of fraud",
    ),
    ("11", "the face is too small"),
    ("12", "the face is too close to the margin"),
];

pub(super) fn parse(resp: &HttpResponse) -> Result<MatchResult, ServiceError> {
    let p = Provider::Cvs;
    if resp.status == 401 || resp.status == 403 {
        return Err(ServiceError::new(
            p.name(),
            ServiceCode::Unauthorized,
            resp.status,
            None,
            "Basic credentials refused",
        ));
    }
    if resp.status >= 500 {
        return Err(protocol(p, resp, "service error").with_code(ServiceCode::ServiceUnavailable));
    }
    let v = json_body(p, resp)?;
    let Some(ec) = v.get("errorCode").and_then(code_string) else {
        return Err(protocol(p, resp, "no errorCode"));
    };
    let message = v
        .get("errorMessage")
        .and_then(|m| m.as_str())
        .unwrap_or("")
        .to_string();
    if ec != "0" {
        return Err(ServiceError::new(
            p.name(),
            error_code(&ec, &message),
            resp.status,
            Some(ec),
            &message,
        ));
    }
    let data = v
        .get("data")
        .filter(|d| d.is_object())
        .ok_or_else(|| protocol(p, resp, "no data"))?;
    let matching = data.get("matching");
    let Some(percent) = matching
        .and_then(number)
        .filter(|m| (0.0..=100.0).contains(m))
    else {
        return Err(protocol(p, resp, "no `matching` percentage"));
    };
    // `match`: 1 above 75 %, 0 in [65 %, 75 %], -1 below.
    let decision = match data.get("match").and_then(code_string).as_deref() {
        Some("1") => Decision::Match,
        Some("0") => Decision::Refer,
        Some("-1") => Decision::NoMatch,
        _ => return Err(protocol(p, resp, "`match` is not 1, 0 or -1")),
    };
    let mut warnings = Vec::new();
    if let Some(ic) = data
        .get("invalidCode")
        .and_then(code_string)
        .filter(|c| c != "0" && !c.is_empty())
    {
        let documented = WARNINGS.iter().find(|(c, _)| *c == ic).map(|(_, m)| *m);
        let msg = data
            .get("invalidMessage")
            .and_then(|m| m.as_str())
            .filter(|m| !m.is_empty());
        warnings.push(Warning {
            code: format!("cvs:{ic}"),
            message: msg
                .or(documented)
                .unwrap_or("undocumented warning")
                .to_string(),
        });
    }
    Ok(MatchResult {
        provider: p,
        decision,
        similarity: percent / 100.0,
        provider_score: matching.cloned().unwrap_or_default(),
        thresholds: None,
        warnings,
        request_id: None,
        trials_remaining: None,
        raw: v,
    })
}
