//! The five face-match services, sans-IO.
//!
//! Each service is a [`Profile`] (what its images must look like and how they
//! travel) plus two pure functions: build the HTTP request, parse the HTTP
//! answer into one [`MatchResult`] shape or a typed [`ServiceError`]. No I/O
//! happens here: the edge Worker, the native CLI and the tests bring their
//! own transport.
//!
//! Contracts: `docs/services.md`. Where the services' documentation is loose,
//! the parsers accept every documented variant (numbers as strings, `result`
//! as bool or 0/1) and anything else is `PROTOCOL`, never a panic.

pub mod aigen;
pub mod biometric_kz;
pub mod biometry;
pub mod cvs;
mod multipart;
pub mod secrets;
pub mod valify;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ServiceCode, ServiceError};
use crate::image::Format;
use crate::prepare::PrepareOptions;
use crate::quality::{GateConfig, Role};

pub use multipart::Multipart;

/// The five services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// biometric.kz Face2Face
    BiometricKz,
    /// Valify Face Match (two images)
    Valify,
    /// Biometry Solutions facematch (video + image)
    Biometry,
    /// computervision.com.vn eKYC face_matching
    Cvs,
    /// AIGEN face-compare
    Aigen,
}

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::BiometricKz,
        Provider::Valify,
        Provider::Biometry,
        Provider::Cvs,
        Provider::Aigen,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Provider::BiometricKz => "biometric_kz",
            Provider::Valify => "valify",
            Provider::Biometry => "biometry",
            Provider::Cvs => "cvs",
            Provider::Aigen => "aigen",
        }
    }

    pub fn parse_name(s: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.name() == s)
    }

    pub fn profile(self) -> &'static Profile {
        match self {
            Provider::BiometricKz => &biometric_kz::PROFILE,
            Provider::Valify => &valify::PROFILE,
            Provider::Biometry => &biometry::PROFILE,
            Provider::Cvs => &cvs::PROFILE,
            Provider::Aigen => &aigen::PROFILE,
        }
    }

    /// Builds the service's HTTP request. Fails (typed) when the request or
    /// the credential does not fit the service.
    pub fn build_request(
        self,
        req: &MatchRequest,
        cred: &Credential,
        cfg: &ProviderConfig,
    ) -> Result<HttpRequest, Error> {
        req.check(self.profile())?;
        match self {
            Provider::BiometricKz => biometric_kz::build(req, cred, cfg),
            Provider::Valify => valify::build(req, cred, cfg),
            Provider::Biometry => biometry::build(req, cred, cfg),
            Provider::Cvs => cvs::build(req, cred, cfg),
            Provider::Aigen => aigen::build(req, cred, cfg),
        }
    }

    /// Reads the service's answer. `cred` is only used to scrub the
    /// credential out of any message the service echoes back.
    pub fn parse_response(
        self,
        resp: &HttpResponse,
        cred: &Credential,
    ) -> Result<MatchResult, ServiceError> {
        // The answer is scrubbed before it is read: an excerpt cut at 300
        // characters could otherwise keep half a secret, and `raw` all of it.
        let pairs: Vec<(&str, &str)> = match cred {
            Credential::Cvs {
                api_key,
                api_secret,
            } => vec![(api_key.expose(), api_secret.expose())],
            _ => Vec::new(),
        };
        let forms = secrets::spellings(&cred.secrets(), &pairs);
        self.parse_scrubbed(resp, &forms)
    }

    /// Reads the answer with every one of `forms` ([`secrets::spellings`])
    /// replaced before any parser sees it, so no excerpt, code or `raw` can
    /// carry one, however the parser cuts it; then once more in `raw`, since
    /// unescaping can turn a twice-escaped spelling into a once-escaped one.
    /// The edge calls this with every secret it holds.
    pub(crate) fn parse_scrubbed(
        self,
        resp: &HttpResponse,
        forms: &[String],
    ) -> Result<MatchResult, ServiceError> {
        let clean = ScrubbedResponse::new(resp, forms);
        let refs: Vec<&str> = forms.iter().map(String::as_str).collect();
        let mut r = self
            .parse_unscrubbed(&clean.view())
            .map_err(|e| e.scrubbed(&refs))?;
        let raw = secrets::scrub(&r.raw.to_string(), forms);
        r.raw = serde_json::from_str(&raw).unwrap_or(serde_json::Value::Null);
        Ok(r)
    }

    /// [`Provider::parse_response`] without scrubbing: for a caller that
    /// scrubs with every secret it holds (the edge).
    pub(crate) fn parse_unscrubbed(self, resp: &HttpResponse) -> Result<MatchResult, ServiceError> {
        let mut r = match self {
            Provider::BiometricKz => biometric_kz::parse(resp),
            Provider::Valify => valify::parse(resp),
            Provider::Biometry => biometry::parse(resp),
            Provider::Cvs => cvs::parse(resp),
            Provider::Aigen => aigen::parse(resp),
        }?;
        r.raw = allow_listed(&r.raw, &self.raw_fields());
        Ok(r)
    }

    /// The members of a successful answer that `raw` passes on: the
    /// documented ones (docs/services.md), nothing a service adds. CVS's
    /// `face1`/`face2` (face crops) are documented but left out: biometric
    /// data the page has no use for.
    fn raw_fields(self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Provider::BiometricKz => {
                json!({"result": true, "prediction": true, "prediction_percent": true})
            }
            Provider::Valify => json!({
                "result": {"is_similar": true, "confidence": true},
                "transaction_id": true, "trials_remaining": true,
            }),
            Provider::Biometry => json!({
                "data": {
                    "anchor": {"code": true, "description": true},
                    "code": true, "description": true, "percentages": true,
                    "result": true, "score": true,
                    "target": {"code": true, "description": true},
                },
                "score": true,
                "scoring_result": {"failed_conditions": true, "failed_refer_conditions": true, "status": true},
                "message": true,
            }),
            Provider::Cvs => json!({
                "data": {
                    "matching": true, "face1_score": true, "face2_score": true,
                    "invalidCode": true, "invalidMessage": true, "match": true,
                },
                "errorCode": true, "errorMessage": true,
            }),
            Provider::Aigen => json!({
                "request_id": true, "confidence": true,
                "thresholds": {"err_01": true, "err_001": true, "err_0001": true},
                "time_used": true,
            }),
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How images travel to a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Transport {
    /// Files in a `multipart/form-data` body.
    Multipart,
    /// Base64 strings inside a JSON body.
    Base64Json,
}

/// Where the secret goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CredentialPlace {
    /// A multipart text field (biometric.kz `api_key`).
    FormField(&'static str),
    /// `Authorization: Bearer …`
    Bearer,
    /// `Authorization: Basic …`
    Basic,
    /// A header of its own (AIGEN `x-aigen-key`).
    Header(&'static str),
}

/// What one service needs of the images, and how they travel.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub provider: Provider,
    pub formats: &'static [Format],
    /// File extensions the service accepts (multipart filenames must match).
    pub extensions: &'static [&'static str],
    /// Byte limit per image.
    pub max_bytes: usize,
    /// Whether `max_bytes` counts the base64 encoding.
    pub budget_on_base64: bool,
    /// The shortest side an image must exceed (AIGEN: more than 480 px).
    pub min_side: u32,
    /// The smallest face box, in pixels of the image sent.
    pub min_face_px: f32,
    pub transport: Transport,
    pub credential: CredentialPlace,
    /// Which input is which: the document (card) first, then the live side.
    pub first: &'static str,
    pub second: &'static str,
}

/// The project's own byte limit where a service documents none.
pub const DEFAULT_MAX_BYTES: usize = 5_000_000;

impl Profile {
    /// `prepare` options that make a photo of `role` fit this service.
    pub fn prepare_options(&self, role: Role) -> PrepareOptions {
        let mut gate = GateConfig::for_role(role);
        gate.min_face_px = gate.min_face_px.max(self.min_face_px);
        PrepareOptions {
            role,
            max_bytes: self.max_bytes,
            base64: self.budget_on_base64,
            min_side: self.min_side,
            max_side: PrepareOptions::default().max_side.max(self.min_side),
            min_face_px_out: self.min_face_px,
            gate: Some(gate),
            ..PrepareOptions::default()
        }
    }

    fn counted(&self, n: usize) -> usize {
        if self.budget_on_base64 {
            crate::image::base64_len(n)
        } else {
            n
        }
    }
}

/// The video types a liveness video may have (Biometry).
pub const VIDEO_TYPES: &[&str] = &["video/mp4", "video/webm", "video/quicktime"];

/// A file to send: an image prepared by this crate, or a video as given.
#[derive(Clone, PartialEq)]
pub struct Media {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

impl fmt::Debug for Media {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Media({}, {} bytes)",
            self.content_type,
            self.bytes.len()
        )
    }
}

impl Media {
    pub fn jpeg(bytes: Vec<u8>) -> Media {
        Media {
            bytes,
            content_type: "image/jpeg".into(),
        }
    }
    /// The media type a service is told: the sniffed image format, or for a
    /// video the one of [`VIDEO_TYPES`] the client's type names. Never the
    /// client's own string, which could hold CR/LF (a header or a whole part
    /// smuggled into the service's multipart body).
    pub fn mime(&self) -> &'static str {
        match Format::sniff(&self.bytes) {
            Ok(f) => f.mime(),
            Err(_) => {
                let named = self.content_type.split(';').next().unwrap_or("").trim();
                VIDEO_TYPES
                    .iter()
                    .find(|t| t.eq_ignore_ascii_case(named))
                    .copied()
                    .unwrap_or("application/octet-stream")
            }
        }
    }

    /// The file extension that matches the bytes (services read it from the filename).
    pub fn extension(&self) -> &'static str {
        match Format::sniff(&self.bytes) {
            Ok(Format::Jpeg) => "jpg",
            Ok(Format::Png) => "png",
            Ok(Format::Webp) => "webp",
            Err(_) => match self.content_type.as_str() {
                "video/mp4" => "mp4",
                "video/webm" => "webm",
                "video/quicktime" => "mov",
                _ => "bin",
            },
        }
    }
}

/// The two images to compare: the document (ID card) and the live side
/// (selfie; for Biometry, a video).
#[derive(Debug, Clone, PartialEq)]
pub struct MatchRequest {
    pub document: Media,
    pub selfie: Media,
    /// Biometry only: the liveness video, sent as given.
    pub video: Option<Media>,
}

impl MatchRequest {
    /// Re-checks the images against the profile: the edge runs this on
    /// whatever a client sent, SDK or not.
    pub fn check(&self, p: &Profile) -> Result<(), Error> {
        for (field, m) in [("document", &self.document), ("selfie", &self.selfie)] {
            if m.bytes.is_empty() {
                return Err(Error::invalid(field, "the image is empty"));
            }
            let f = Format::sniff(&m.bytes).map_err(Error::from)?;
            if !p.formats.contains(&f) {
                return Err(crate::error::ImageError::UnsupportedFormat {
                    what: format!("{} does not accept {f:?}", p.provider),
                }
                .into());
            }
            if p.counted(m.bytes.len()) > p.max_bytes {
                return Err(Error::invalid(
                    field,
                    format!(
                        "{} bytes, over {}'s limit of {}",
                        p.counted(m.bytes.len()),
                        p.provider,
                        p.max_bytes
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// A secret. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The value itself, for the one place that puts it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// One service's credential.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    BiometricKz {
        api_key: Secret,
    },
    /// A Valify access token (from the OAuth password grant) and the bundle key.
    Valify {
        access_token: Secret,
        bundle_key: Secret,
    },
    Biometry {
        token: Secret,
    },
    Cvs {
        api_key: Secret,
        api_secret: Secret,
    },
    Aigen {
        key: Secret,
    },
}

impl Credential {
    fn secrets(&self) -> Vec<&str> {
        match self {
            Credential::BiometricKz { api_key } => vec![api_key.expose()],
            Credential::Valify {
                access_token,
                bundle_key,
            } => vec![access_token.expose(), bundle_key.expose()],
            Credential::Biometry { token } => vec![token.expose()],
            Credential::Cvs {
                api_key,
                api_secret,
            } => vec![api_key.expose(), api_secret.expose()],
            Credential::Aigen { key } => vec![key.expose()],
        }
    }

    fn wrong(provider: Provider) -> Error {
        Error::invalid("credential", format!("not a {provider} credential"))
    }
}

/// Per-service request settings that are not secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderConfig {
    /// Scheme, host and optional path prefix, no trailing slash
    /// (e.g. `https://apis.aigen.online`, or a simulator on loopback).
    pub base_url: String,
    /// Valify's API version in the path: "v1" (the seed page) or "v1.1".
    pub valify_version: String,
    /// Valify: language of error messages, "en" or "ar".
    pub valify_lang: Option<String>,
    /// CVS: send images as multipart files instead of base64 JSON.
    pub cvs_multipart: bool,
    /// CVS `type1`: the first image is an ID card ("card", default) or a portrait.
    pub cvs_type1: String,
    /// AIGEN: ask the service to detect blur.
    pub aigen_blur_detection: bool,
    /// AIGEN: ask the service to check that the document image shows an ID card.
    pub aigen_verify_document: bool,
    /// Biometry `X-Session-ID`.
    pub biometry_session_id: Option<String>,
    /// Biometry `X-User-Fullname`: sent only when `biometry_fullname_consent` is true.
    pub biometry_user_fullname: Option<String>,
    pub biometry_fullname_consent: bool,
    /// Biometry `X-Use-Prefilled-Video: true`: reuse the session's earlier video.
    pub biometry_use_prefilled_video: bool,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            base_url: String::new(),
            valify_version: "v1".into(),
            valify_lang: None,
            cvs_multipart: false,
            cvs_type1: "card".into(),
            aigen_blur_detection: false,
            aigen_verify_document: false,
            biometry_session_id: None,
            biometry_user_fullname: None,
            biometry_fullname_consent: false,
            biometry_use_prefilled_video: false,
        }
    }
}

impl ProviderConfig {
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        ProviderConfig {
            base_url: base_url.into(),
            ..Default::default()
        }
    }
    fn url(&self, path: &str) -> Result<String, Error> {
        let base = self.base_url.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(Error::invalid(
                "baseUrl",
                "must start with https:// (or http:// for a local simulator)",
            ));
        }
        Ok(format!("{base}{path}"))
    }
}

/// A service's answer with secrets replaced (`ScrubbedResponse::new`), owned
/// so a parser can borrow it as an [`HttpResponse`].
pub(crate) struct ScrubbedResponse {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

impl ScrubbedResponse {
    pub(crate) fn new(resp: &HttpResponse, forms: &[String]) -> Self {
        ScrubbedResponse {
            status: resp.status,
            content_type: resp.content_type.map(|c| secrets::scrub(c, forms)),
            body: secrets::scrub(&String::from_utf8_lossy(resp.body), forms).into_bytes(),
        }
    }
    pub(crate) fn view(&self) -> HttpResponse<'_> {
        HttpResponse {
            status: self.status,
            content_type: self.content_type.as_deref(),
            body: &self.body,
        }
    }
}

/// An HTTP request to send as is.
#[derive(Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl fmt::Debug for HttpRequest {
    /// Headers are listed by name only: one of them usually holds a secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        write!(
            f,
            "HttpRequest({} {}, headers {:?}, {} bytes)",
            self.method,
            self.url,
            names,
            self.body.len()
        )
    }
}

impl HttpRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// An HTTP answer as the transport received it.
#[derive(Debug, Clone, Copy)]
pub struct HttpResponse<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The comparison's verdict, the same three values for every service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Match,
    /// Neither clearly the same nor clearly different: a person should look.
    Refer,
    NoMatch,
}

/// AIGEN's score thresholds (0..100), as returned with this very answer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub err_01: f64,
    pub err_001: f64,
    pub err_0001: f64,
}

/// A warning that came with a result (CVS `invalidCode`, Biometry's failed conditions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub code: String,
    pub message: String,
}

/// One result shape for all five services.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchResult {
    pub provider: Provider,
    pub decision: Decision,
    /// The service's similarity mapped to 0..1.
    pub similarity: f64,
    /// The service's own score, exactly as it sent it (number or string).
    pub provider_score: serde_json::Value,
    pub thresholds: Option<Thresholds>,
    pub warnings: Vec<Warning>,
    /// The service's request or transaction id.
    pub request_id: Option<String>,
    /// Valify: comparisons left on this transaction.
    pub trials_remaining: Option<i64>,
    /// The service's answer, its documented members only
    /// ([`Provider::parse_response`] drops the rest).
    pub raw: serde_json::Value,
}

// ── Helpers shared by the parsers ───────────────────────────────────────────

/// The answer as JSON, or `PROTOCOL` with an excerpt (HTML error pages,
/// truncated bodies, proxies' plain-text errors).
pub(crate) fn json_body(
    provider: Provider,
    resp: &HttpResponse,
) -> Result<serde_json::Value, ServiceError> {
    serde_json::from_slice(resp.body)
        .map_err(|_| protocol(provider, resp, "the answer is not JSON"))
}

pub(crate) fn protocol(provider: Provider, resp: &HttpResponse, why: &str) -> ServiceError {
    let text = String::from_utf8_lossy(&resp.body[..resp.body.len().min(600)]);
    ServiceError::new(
        provider.name(),
        ServiceCode::Protocol,
        resp.status,
        None,
        &format!("{why}: {text}"),
    )
}

/// A number, or a string holding one (several services send both).
pub(crate) fn number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok(),
        _ => None,
    }
    .filter(|x: &f64| x.is_finite())
}

/// A bool, or 1/0 (as number or string), or "true"/"false".
pub(crate) fn boolean(v: &serde_json::Value) -> Option<bool> {
    match v {
        serde_json::Value::Bool(b) => Some(*b),
        serde_json::Value::Number(n) => n.as_i64().and_then(|i| match i {
            1 => Some(true),
            0 => Some(false),
            _ => None,
        }),
        serde_json::Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A short code as a string, whether sent as a string or a number.
pub(crate) fn code_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.trim().to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The message of an error body, wherever the service put it.
pub(crate) fn error_message(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Object(o) => [
            "message",
            "error",
            "detail",
            "error_message",
            "errorMessage",
            "msg",
        ]
        .iter()
        .find_map(|k| o.get(*k).and_then(error_message)),
        serde_json::Value::Array(a) => a.first().and_then(error_message),
        _ => None,
    }
}

/// A generic refusal whose message says no face was found becomes `NO_FACE`
/// (services that have no code of their own for it say it in words).
pub(crate) fn no_face_if_said(code: ServiceCode, message: &str) -> ServiceCode {
    let lower = message.to_lowercase();
    let said = lower.contains("no face") || lower.contains("face not");
    if said && matches!(code, ServiceCode::BadRequest | ServiceCode::ServiceError) {
        ServiceCode::NoFace
    } else {
        code
    }
}

/// `v` cut to the members `fields` names (an object: member → `true` for a
/// value, or an object of its own members). A kept value is a number, a
/// bool, `null`, a string of at most 300 characters, or an array of at most
/// 100 of those; anything else a service sends is dropped.
pub(crate) fn allow_listed(v: &serde_json::Value, fields: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    fn scalar(v: &Value) -> Option<Value> {
        match v {
            Value::String(s) if s.chars().count() <= 300 => Some(v.clone()),
            Value::String(_) | Value::Object(_) | Value::Array(_) => None,
            _ => Some(v.clone()),
        }
    }
    let (Value::Object(have), Value::Object(want)) = (v, fields) else {
        return Value::Null;
    };
    let mut out = serde_json::Map::new();
    for (k, spec) in want {
        let Some(x) = have.get(k) else { continue };
        let kept = match (spec, x) {
            (Value::Object(_), Value::Object(_)) => Some(allow_listed(x, spec)),
            (Value::Bool(true), Value::Array(items)) if items.len() <= 100 => items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
            (Value::Bool(true), _) => scalar(x),
            _ => None,
        };
        if let Some(kept) = kept {
            out.insert(k.clone(), kept);
        }
    }
    Value::Object(out)
}

/// A JSON object body: each of `files` as a base64 string member, then the
/// members of `rest` (an object). Written into one buffer sized up front,
/// the base64 encoded straight into it: a 5 MB image costs its base64 once,
/// not three times (string, JSON value, text), which was most of the edge's
/// memory peak for the JSON services.
pub(crate) fn json_with_files(files: &[(&str, &[u8])], rest: &serde_json::Value) -> Vec<u8> {
    use base64::Engine;
    let rest = serde_json::to_string(rest).unwrap_or_else(|_| "{}".into());
    let inner = rest.get(1..rest.len().saturating_sub(1)).unwrap_or("");
    let size: usize = files
        .iter()
        .map(|(k, b)| k.len() + 6 + crate::image::base64_len(b.len()))
        .sum::<usize>()
        + inner.len()
        + 3;
    let mut out = String::with_capacity(size);
    out.push('{');
    for (i, (k, b)) in files.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::Value::from(*k).to_string());
        out.push_str(":\"");
        base64::engine::general_purpose::STANDARD.encode_string(b, &mut out);
        out.push('"');
    }
    if !inner.is_empty() {
        out.push(',');
        out.push_str(inner);
    }
    out.push('}');
    out.into_bytes()
}

pub(crate) fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let c = Credential::Cvs {
            api_key: Secret::new("key-123456"),
            api_secret: Secret::new("s3cr3t-value"),
        };
        let shown = format!("{c:?} {}", Secret::new("s3cr3t-value"));
        assert!(
            !shown.contains("key-123456") && !shown.contains("s3cr3t-value"),
            "{shown}"
        );
        let e = ServiceError::new(
            "cvs",
            ServiceCode::Protocol,
            500,
            None,
            "echo: s3cr3t-value key-123456",
        )
        .scrubbed(&c.secrets());
        assert!(!e.to_string().contains("s3cr3t-value") && !e.to_string().contains("key-123456"));
    }

    #[test]
    fn raw_keeps_the_documented_members_only() {
        let answer = serde_json::json!({
            "request_id": "r-1", "confidence": 91.5, "time_used": 0.2,
            "thresholds": {"err_01": 70, "err_001": 80, "err_0001": 90, "debug": {"x": 1}},
            "echo": "anything the service adds", "request_id_2": "x",
            "debug_image": "A".repeat(5000),
        });
        let kept = allow_listed(&answer, &Provider::Aigen.raw_fields());
        assert_eq!(
            kept,
            serde_json::json!({
                "request_id": "r-1", "confidence": 91.5, "time_used": 0.2,
                "thresholds": {"err_01": 70, "err_001": 80, "err_0001": 90},
            })
        );
        // A documented member with an undocumented shape is dropped too.
        let odd = serde_json::json!({"request_id": {"nested": "x"}, "confidence": "9".repeat(400)});
        assert_eq!(
            allow_listed(&odd, &Provider::Aigen.raw_fields()),
            serde_json::json!({})
        );
        let cvs = serde_json::json!({"data": {"matching": "91", "face1": "base64 crop", "match": "1"}, "errorCode": "0"});
        assert_eq!(
            allow_listed(&cvs, &Provider::Cvs.raw_fields()),
            serde_json::json!({"data": {"matching": "91", "match": "1"}, "errorCode": "0"})
        );
    }

    #[test]
    fn loose_values_table() {
        use serde_json::json;
        for (v, want) in [
            (json!(0.96), Some(0.96)),
            (json!("96"), Some(96.0)),
            (json!(" 85.5 % "), Some(85.5)),
            (json!("x"), None),
            (json!(null), None),
        ] {
            assert_eq!(number(&v), want, "{v}");
        }
        for (v, want) in [
            (json!(true), Some(true)),
            (json!(1), Some(true)),
            (json!("0"), Some(false)),
            (json!(2), None),
            (json!("yes"), None),
        ] {
            assert_eq!(boolean(&v), want, "{v}");
        }
        assert_eq!(
            error_message(&json!({"detail": [{"msg": "bad"}]})),
            Some("bad".into())
        );
    }

    #[test]
    fn excerpts_are_bounded() {
        let long = "<html>".repeat(500);
        let e = ServiceError::new("aigen", ServiceCode::Protocol, 502, None, &long);
        assert!(e.message.chars().count() <= ServiceError::MAX_MESSAGE + 1);
    }

    #[test]
    fn base_url_must_be_http() {
        for bad in ["", "ftp://x", "javascript:alert(1)"] {
            assert!(
                ProviderConfig::with_base_url(bad).url("/x").is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            ProviderConfig::with_base_url("https://a.example/")
                .url("/x")
                .unwrap(),
            "https://a.example/x"
        );
    }
}
