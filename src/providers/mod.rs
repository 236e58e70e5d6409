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
mod http;
mod loose;
mod multipart;
pub mod secrets;
pub mod valify;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ServiceCode, ServiceError};
use crate::image::Format;
use crate::prepare::PrepareOptions;
use crate::quality::{GateConfig, Role};

pub(crate) use http::ScrubbedResponse;
pub use http::{HttpRequest, HttpResponse};
pub(crate) use loose::*;
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
            Provider::BiometricKz => biometric_kz::build(req, cred, &cfg.url(biometric_kz::PATH)?),
            Provider::Valify => valify::build(req, cred, cfg, &cfg.valify),
            Provider::Biometry => {
                biometry::build(req, cred, &cfg.url(biometry::PATH)?, &cfg.biometry)
            }
            Provider::Cvs => cvs::build(req, cred, &cfg.url(cvs::PATH)?, &cfg.cvs),
            Provider::Aigen => aigen::build(req, cred, &cfg.url(aigen::PATH)?, &cfg.aigen),
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

/// What one service needs of the images, and the names it gives them.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub provider: Provider,
    /// Formats the service accepts; a multipart file is named after its
    /// format (`Media::extension`), since the services read the extension.
    pub formats: &'static [Format],
    /// Byte limit per image.
    pub max_bytes: usize,
    /// Whether `max_bytes` counts the base64 encoding.
    pub budget_on_base64: bool,
    /// The shortest side an image must exceed (AIGEN: more than 480 px).
    pub min_side: u32,
    /// The smallest face box, in pixels of the image sent.
    pub min_face_px: f32,
    /// The request's names for the document (card) and the live side
    /// (selfie; Biometry's video): each adapter's `build` uses these.
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

/// Where the services are and how to call them: no secrets. Each adapter
/// reads its own options only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ProviderConfig {
    /// Scheme, host and optional path prefix, no trailing slash
    /// (e.g. `https://apis.aigen.online`, or a simulator on loopback).
    pub base_url: String,
    pub valify: valify::Options,
    pub biometry: biometry::Options,
    pub cvs: cvs::Options,
    pub aigen: aigen::Options,
}

/// biometric.kz takes no options: `{}` is all it accepts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoOptions {}

impl ProviderConfig {
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        ProviderConfig {
            base_url: base_url.into(),
            ..Default::default()
        }
    }

    /// Sets `p`'s options from JSON (the edge's `FB_PROVIDER_OPTIONS.<p>`):
    /// that service's members only, in its own names.
    pub fn set_options(
        &mut self,
        p: Provider,
        v: serde_json::Value,
    ) -> Result<(), serde_json::Error> {
        match p {
            Provider::BiometricKz => serde_json::from_value::<NoOptions>(v).map(|_| ()),
            Provider::Valify => serde_json::from_value(v).map(|o| self.valify = o),
            Provider::Biometry => serde_json::from_value(v).map(|o| self.biometry = o),
            Provider::Cvs => serde_json::from_value(v).map(|o| self.cvs = o),
            Provider::Aigen => serde_json::from_value(v).map(|o| self.aigen = o),
        }
    }

    fn url(&self, path: &str) -> Result<String, Error> {
        let base = self.base_url.trim_end_matches('/');
        if !(base.starts_with("https://") || is_loopback_http(base)) {
            return Err(Error::invalid(
                "baseUrl",
                "must start with https:// (plain http:// only to a simulator on this machine)",
            ));
        }
        Ok(format!("{base}{path}"))
    }
}

/// `http://` to this machine only (`127.0.0.0/8`, `localhost`, `[::1]`): the
/// simulators. Anything else in plain text would carry the service's secret
/// over the network unencrypted.
pub(crate) fn is_loopback_http(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
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
    fn base_url_must_be_https_or_loopback() {
        for bad in [
            "",
            "ftp://x",
            "javascript:alert(1)",
            "http://api.example",
            "http://127.0.0.1.example",
            "http://user@127.0.0.1",
        ] {
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
        for ok in [
            "http://127.0.0.1:8787",
            "http://localhost/p",
            "http://[::1]:9",
        ] {
            assert!(ProviderConfig::with_base_url(ok).url("/x").is_ok(), "{ok}");
        }
    }
}
