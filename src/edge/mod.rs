//! The edge proxy's logic, sans-IO: everything the Cloudflare Worker
//! (`edge/worker.mjs`) decides, as plain Rust the native tests exercise. The
//! Worker only moves bytes: it reads the request, asks [`Edge`] what to do,
//! consumes the token's `jti` in a Durable Object, calls the service and
//! hands the answer back to [`Edge::finish`].
//!
//! A request goes through these checks, in this order, and the first failure
//! ends it with a typed error before anything is sent to a service:
//!
//! 1. route (`POST /v1/match/{provider}` for a provider this edge serves),
//! 2. `Origin` against the allow-list,
//! 3. body size (the declared length first, then the bytes read),
//! 4. the token (see [`crate::auth::verify`]), bound to this exact body,
//! 5. the `jti` (single use; the Worker's Durable Object),
//! 6. the body's shape and both images again ([`Edge::validate`]): a client
//!    can skip the SDK, so nothing it checked is trusted here.
//!
//! Only then is the credential added and the billed call made, once: a
//! timeout or a 5xx comes back as a typed error and is never retried here.

use std::borrow::Cow;
use std::collections::HashMap;
use std::rc::Rc;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::auth::{self, KeySet, Receipt, ReceiptSigner, Verdict};
use crate::detect::{Detector, ModelKind};
use crate::error::{Error, ImageError, Refusal, ServiceCode};
use crate::image::{Limits, probe};
use crate::prepare::{default_detect, detect_photo};
use crate::providers::secrets::{NAMES, Secrets, scrub};
use crate::providers::valify::{self, AccessToken};
use crate::providers::{
    HttpRequest, HttpResponse, MatchRequest, MatchResult, Media, Provider, ProviderConfig,
    ScrubbedResponse, Secret,
};
use crate::quality::Role;

/// The comparison route's prefix; the provider's name follows.
pub const MATCH_PREFIX: &str = "/v1/match/";
/// Direct mode: the edge hands a Valify access token to the browser.
pub const VALIFY_DIRECT_PATH: &str = "/v1/direct/valify/token";
/// The token operation (`fbo`) of a comparison.
pub const OP_COMPARE: &str = "compare";
/// The token operation (`fbo`) of a direct-mode Valify token request.
pub const OP_VALIFY_TOKEN: &str = "valify-token";
/// Default body limit: two 5 MB images as base64 plus a short video.
pub const DEFAULT_MAX_BODY: usize = 24 << 20;
/// The largest liveness video the edge forwards to Biometry (raw bytes; it
/// travels as base64 in the body). Biometry documents no limit: a liveness
/// clip of a few seconds from MediaRecorder is 1–5 MB, and 8 MB keeps the
/// largest Biometry request within the edge's memory figure
/// (docs/security.md).
pub const MAX_VIDEO_BYTES: usize = 8_000_000;
/// The JSON around the files in the SDK's body: field names, media types.
pub const BODY_OVERHEAD: usize = 1024;
/// What one image may cost the edge to read. A Worker isolate has 128 MB
/// for everything; one request's peak (docs/security.md, measured in
/// workerd) is the body, its two decoded files and at most one decode at a
/// time under this limit:
/// - `max_pixels`: 24 MP, checked from the header before anything else,
///   with or without face detection;
/// - `max_alloc`: 24 MiB for one decode (face detection only), progressive
///   JPEG coefficients and PNG's RGBA copy included. A baseline JPEG decodes
///   at the reduced DCT scale the detector needs, so a 24 MP phone photo fits;
///   a progressive one or a PNG must be about 2–4 MP.
pub const EDGE_LIMITS: Limits = Limits {
    max_pixels: 24_000_000,
    max_alloc: 24 << 20,
};
/// Default time a service has to answer.
pub const DEFAULT_TIMEOUT_MS: u64 = 25_000;

// ── The wire body, shared by the SDK (writer) and the edge (reader) ─────────

// Borrowed where the JSON allows (base64 has nothing to unescape), so reading
// a body does not copy its largest part: the edge's memory peak counts it.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMedia<'a> {
    #[serde(rename = "type", borrow)]
    content_type: Cow<'a, str>,
    /// Standard base64 with padding.
    #[serde(borrow)]
    data: Cow<'a, str>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBody<'a> {
    #[serde(borrow)]
    document: WireMedia<'a>,
    #[serde(borrow)]
    selfie: WireMedia<'a>,
    #[serde(default, skip_serializing_if = "Option::is_none", borrow)]
    video: Option<WireMedia<'a>>,
}

fn wire(m: &Media) -> WireMedia<'_> {
    WireMedia {
        content_type: Cow::Borrowed(&m.content_type),
        data: Cow::Owned(base64::engine::general_purpose::STANDARD.encode(&m.bytes)),
    }
}

/// The body the SDK sends to `POST /v1/match/{provider}`: JSON with each
/// file as `{"type": <media type>, "data": <base64>}`. The token's `fbd`
/// claim is the digest of exactly these bytes.
pub fn encode_body(req: &MatchRequest) -> Vec<u8> {
    let body = WireBody {
        document: wire(&req.document),
        selfie: wire(&req.selfie),
        video: req.video.as_ref().map(wire),
    };
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Reads a body written by [`encode_body`] (or by any client that follows it).
pub fn decode_body(body: &[u8]) -> Result<MatchRequest, Error> {
    let bad = |why: String| Error::refused(Refusal::BadRequest, why);
    let w: WireBody = serde_json::from_slice(body)
        .map_err(|e| bad(format!("the body is not the SDK's JSON: {e}")))?;
    let media = |field: &str, m: WireMedia| -> Result<Media, Error> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(m.data.as_bytes())
            .map_err(|_| bad(format!("`{field}.data` is not base64")))?;
        if !is_media_type(&m.content_type) {
            return Err(bad(format!("`{field}.type` is not a media type")));
        }
        Ok(Media {
            bytes,
            content_type: m.content_type.into_owned(),
        })
    };
    Ok(MatchRequest {
        document: media("document", w.document)?,
        selfie: media("selfie", w.selfie)?,
        video: w.video.map(|v| media("video", v)).transpose()?,
    })
}

/// A media type as a client may name it: `type/subtype`, then optional
/// `; name=value` parameters (MediaRecorder's `video/webm;codecs=vp8,opus`),
/// at most 100 characters of RFC 9110 token characters. No CR, LF, quote,
/// space or control character: nothing that could end a header line or a
/// quoted string in the service's multipart body. The adapters never copy
/// it anyway (they write [`Media::mime`], from the bytes); this refuses the
/// attempt at the door.
fn is_media_type(t: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if t.len() > 100 {
        return false;
    }
    let mut parts = t.split(';');
    let Some((ty, sub)) = parts.next().and_then(|m| m.trim().split_once('/')) else {
        return false;
    };
    token(ty)
        && token(sub)
        && parts.all(|p| {
            p.trim()
                .split_once('=')
                .is_some_and(|(k, v)| token(k.trim()) && v.split(',').all(|x| token(x.trim())))
        })
}

// ── Configuration ───────────────────────────────────────────────────────────

/// The edge's settings, read from the Worker's environment (`[vars]` and
/// secrets in `wrangler.toml`); see [`EdgeConfig::from_env`] for the names.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// `FB_EDGE_AUDIENCE`: the `aud` every token must carry.
    pub audience: String,
    /// `FB_TOKEN_KEYS` (a secret): `{"<kid>": "<HMAC secret>", …}`.
    pub keys: KeySet,
    /// `FB_ALLOWED_ORIGINS`: exact origins, separated by commas or spaces.
    pub allowed_origins: Vec<String>,
    /// `FB_ALLOW_NO_ORIGIN=true` admits requests without `Origin`
    /// (server-to-server clients). Browsers always send it on a POST.
    pub allow_no_origin: bool,
    /// `FB_MAX_BODY_BYTES`, default [`DEFAULT_MAX_BODY`].
    pub max_body_bytes: usize,
    /// `FB_SERVICE_TIMEOUT_MS`, default [`DEFAULT_TIMEOUT_MS`].
    pub timeout_ms: u64,
    /// `FB_EDGE_DETECT_FACES=true` runs face detection on both images
    /// before the billed call (CPU time on the Worker; off by default).
    pub detect_faces: bool,
    /// `FB_VALIFY_DIRECT=true` opens the direct-mode route.
    pub valify_direct: bool,
    /// The providers this edge serves: those with `FB_<PROVIDER>_BASE_URL`
    /// set, with options from `FB_PROVIDER_OPTIONS` (`{"cvs": {…}, …}`).
    pub providers: Vec<(Provider, ProviderConfig)>,
    /// `FB_RECEIPT_KEYS` (a secret): the private JWK or JWK set every final
    /// answer's receipt is signed with (first key), never a token key.
    pub receipts: Rc<ReceiptSigner>,
    /// `FB_RECEIPT_AUDIENCE`: the backend receipts are for (their `aud`).
    pub receipt_audience: String,
    /// `FB_RECEIPT_TTL_S`, default [`auth::DEFAULT_RECEIPT_TTL_S`].
    pub receipt_ttl_s: u64,
}

fn truthy(v: Option<String>) -> bool {
    matches!(
        v.as_deref().map(str::trim),
        Some("1" | "true" | "yes" | "on")
    )
}

fn misconfigured(why: impl Into<String>) -> Error {
    Error::refused(Refusal::EdgeMisconfigured, why)
}

/// `http://` to this machine only (`127.0.0.0/8`, `localhost`, `[::1]`): the
/// simulators. Anything else in plain text would carry the service's secret
/// over the network unencrypted.
fn is_loopback_http(url: &str) -> bool {
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

/// `FB_AIGEN_BASE_URL`, `FB_BIOMETRIC_KZ_BASE_URL`, …
pub fn base_url_name(p: Provider) -> String {
    format!("FB_{}_BASE_URL", p.name().to_ascii_uppercase())
}

impl EdgeConfig {
    /// Reads the settings through `lookup` (a Worker's `env`, or the process
    /// environment). Errors name the variable, never a value.
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let audience = lookup("FB_EDGE_AUDIENCE")
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| misconfigured("FB_EDGE_AUDIENCE is not set"))?;
        let keys_json =
            lookup("FB_TOKEN_KEYS").ok_or_else(|| misconfigured("FB_TOKEN_KEYS is not set"))?;
        let keys: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&keys_json)
            .map_err(|_| {
                misconfigured("FB_TOKEN_KEYS must be a JSON object {\"<kid>\": \"<secret>\"}")
            })?;
        let mut pairs = Vec::new();
        for (kid, v) in keys {
            let secret = v
                .as_str()
                .ok_or_else(|| misconfigured("FB_TOKEN_KEYS values must be strings"))?;
            if secret.len() < auth::MIN_SECRET_LEN {
                return Err(misconfigured(format!(
                    "FB_TOKEN_KEYS: the key `{kid}` is shorter than {} bytes",
                    auth::MIN_SECRET_LEN
                )));
            }
            pairs.push((kid, secret.as_bytes().to_vec()));
        }
        if pairs.is_empty() {
            return Err(misconfigured("FB_TOKEN_KEYS holds no key"));
        }
        let keys = KeySet::new(pairs.clone());
        let number = |name: &str, default: u64| -> Result<u64, Error> {
            match lookup(name).filter(|v| !v.trim().is_empty()) {
                None => Ok(default),
                Some(v) => v
                    .trim()
                    .parse()
                    .map_err(|_| misconfigured(format!("{name} must be a whole number"))),
            }
        };
        let options: serde_json::Map<String, serde_json::Value> =
            match lookup("FB_PROVIDER_OPTIONS").filter(|v| !v.trim().is_empty()) {
                None => serde_json::Map::new(),
                Some(v) => serde_json::from_str(&v).map_err(|_| {
                    misconfigured("FB_PROVIDER_OPTIONS must be a JSON object by provider")
                })?,
            };
        // Every service's options are checked, served or not: a misspelt
        // member is a mistake whichever service it was meant for.
        let mut set = ProviderConfig::default();
        for (k, o) in &options {
            let p = Provider::parse_name(k).ok_or_else(|| {
                misconfigured(format!(
                    "FB_PROVIDER_OPTIONS names `{k}`, which is not a service"
                ))
            })?;
            set.set_options(p, o.clone())
                .map_err(|e| misconfigured(format!("FB_PROVIDER_OPTIONS.{k}: {e}")))?;
        }
        let mut providers = Vec::new();
        for p in Provider::ALL {
            let Some(base) = lookup(&base_url_name(p)).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let cfg = ProviderConfig {
                base_url: base.trim().trim_end_matches('/').to_string(),
                ..set.clone()
            };
            if !(cfg.base_url.starts_with("https://") || is_loopback_http(&cfg.base_url)) {
                return Err(misconfigured(format!(
                    "{} must start with https:// (plain http only to a loopback simulator)",
                    base_url_name(p)
                )));
            }
            providers.push((p, cfg));
        }
        let receipts = ReceiptSigner::from_jwks(&lookup("FB_RECEIPT_KEYS").ok_or_else(|| {
            misconfigured(
                "FB_RECEIPT_KEYS is not set: the edge signs every answer (see docs/security.md)",
            )
        })?)
        .map_err(|why| misconfigured(format!("FB_RECEIPT_KEYS: {why}")))?;
        if pairs.iter().any(|(_, s)| receipts.shares_secret(s)) {
            return Err(misconfigured(
                "FB_RECEIPT_KEYS shares a secret with FB_TOKEN_KEYS: receipts need a key of their own",
            ));
        }
        let receipt_audience = lookup("FB_RECEIPT_AUDIENCE")
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .ok_or_else(|| misconfigured("FB_RECEIPT_AUDIENCE is not set"))?;
        Ok(EdgeConfig {
            receipts: Rc::new(receipts),
            receipt_audience,
            receipt_ttl_s: number("FB_RECEIPT_TTL_S", auth::DEFAULT_RECEIPT_TTL_S)?
                .clamp(30, 86_400),
            audience: audience.trim().to_string(),
            keys,
            allowed_origins: lookup("FB_ALLOWED_ORIGINS")
                .unwrap_or_default()
                .split([',', ' ', '\n'])
                .map(|o| o.trim().trim_end_matches('/').to_string())
                .filter(|o| !o.is_empty())
                .collect(),
            allow_no_origin: truthy(lookup("FB_ALLOW_NO_ORIGIN")),
            max_body_bytes: number("FB_MAX_BODY_BYTES", DEFAULT_MAX_BODY as u64)? as usize,
            timeout_ms: number("FB_SERVICE_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)?,
            detect_faces: truthy(lookup("FB_EDGE_DETECT_FACES")),
            valify_direct: truthy(lookup("FB_VALIFY_DIRECT")),
            providers,
        })
    }

    fn provider(&self, p: Provider) -> Option<&ProviderConfig> {
        self.providers.iter().find(|(q, _)| *q == p).map(|(_, c)| c)
    }
}

// ── The proxy ───────────────────────────────────────────────────────────────

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Route {
    /// A CORS preflight (`OPTIONS`) of one of the routes below.
    Preflight,
    /// `POST /v1/match/{provider}`.
    Match { provider: Provider },
    /// `POST /v1/direct/valify/token` (only with `FB_VALIFY_DIRECT`).
    ValifyDirect,
}

impl Route {
    fn provider(self) -> Option<Provider> {
        match self {
            Route::Match { provider } => Some(provider),
            Route::ValifyDirect => Some(Provider::Valify),
            Route::Preflight => None,
        }
    }
    fn operation(self) -> &'static str {
        match self {
            Route::ValifyDirect => OP_VALIFY_TOKEN,
            _ => OP_COMPARE,
        }
    }
}

/// A request whose token verified: the Worker consumes `jti` (until `exp`)
/// before anything else happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Admitted {
    pub provider: Provider,
    pub jti: String,
    pub exp: u64,
    pub sub: String,
    /// The token's operation (`fbo`) and body digest (`fbd`), for the receipt.
    pub op: String,
    pub digest: String,
}

/// What direct mode hands to the browser: one Valify access token (10
/// minutes, 3 calls) and the bundle key, the trade-off the README spells out.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DirectGrant {
    pub access_token: String,
    pub bundle_key: String,
    pub expires_at: u64,
    pub calls_left: u32,
    pub base_url: String,
    pub valify_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

/// The proxy: configuration, the services' secrets and the cached Valify
/// access token. One per Worker isolate.
pub struct Edge {
    cfg: EdgeConfig,
    secrets: HashMap<&'static str, Secret>,
    valify: Option<AccessToken>,
    /// Valify access tokens this isolate held before the current one: a
    /// service that echoes a replaced token must not leak it either.
    valify_past: Vec<Secret>,
    limits: Limits,
    /// For `FB_EDGE_DETECT_FACES` (documents need the full-range model): one
    /// with a model passed in, or `None` for this build's shared one.
    detector: Option<Detector>,
}

impl std::fmt::Debug for Edge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.secrets.keys().copied().collect();
        write!(f, "Edge({:?}, secrets {names:?} redacted)", self.cfg)
    }
}

impl Edge {
    /// Settings and secrets from the same lookup (the Worker's `env`), with
    /// the models this build embeds.
    pub fn from_env(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, Error> {
        Edge::from_env_with(lookup, None)
    }

    /// The same, with the package's full-range network for a build that does
    /// not embed it (the wasm: the Worker imports the file and passes it in).
    /// Its SHA-256 must be the one this build was made with. With
    /// `FB_EDGE_DETECT_FACES` on, both models must be there.
    pub fn from_env_with(
        lookup: &dyn Fn(&str) -> Option<String>,
        full_model: Option<&[u8]>,
    ) -> Result<Self, Error> {
        let cfg = EdgeConfig::from_env(lookup)?;
        let detector = match full_model {
            Some(bytes) => {
                let why = |e: String| misconfigured(format!("models.fullModel: {e}"));
                crate::detect::check_published_model(ModelKind::Full, bytes)
                    .map_err(|e| why(e.to_string()))?;
                let d = Detector::embedded();
                d.supply_model(ModelKind::Full, bytes)
                    .map_err(|e| why(e.to_string()))?;
                Some(d)
            }
            None => None,
        };
        let detector_in_use = detector.as_ref().unwrap_or_else(|| crate::detect::shared());
        if cfg.detect_faces {
            for kind in [ModelKind::Short, ModelKind::Full] {
                if !detector_in_use.has_model(kind) {
                    return Err(misconfigured(format!(
                        "FB_EDGE_DETECT_FACES needs the {} model: import the package's {} and pass it as `new EdgeProxy(env, {{ fullModel }})`",
                        kind.name(),
                        crate::detect::model_file_name(kind)
                    )));
                }
            }
        }
        let mut secrets = HashMap::new();
        for name in NAMES.iter().flat_map(|(_, n)| n.iter()) {
            if let Some(v) = lookup(name).filter(|v| !v.is_empty()) {
                secrets.insert(*name, Secret::new(v));
            }
        }
        Ok(Edge {
            cfg,
            secrets,
            valify: None,
            valify_past: Vec::new(),
            limits: EDGE_LIMITS,
            detector,
        })
    }

    pub fn config(&self) -> &EdgeConfig {
        &self.cfg
    }

    fn lookup(&self) -> Secrets<impl Fn(&str) -> Option<String> + '_> {
        Secrets::new(|n: &str| self.secrets.get(n).map(|s: &Secret| s.expose().to_string()))
    }

    /// Which route, or `NOT_FOUND` (for an unknown path, method or a provider
    /// this edge does not serve).
    pub fn route(&self, method: &str, path: &str) -> Result<Route, Error> {
        let target = if path == VALIFY_DIRECT_PATH && self.cfg.valify_direct {
            if self.cfg.provider(Provider::Valify).is_none() {
                return Err(Error::refused(
                    Refusal::NotFound,
                    "valify is not enabled here",
                ));
            }
            Route::ValifyDirect
        } else if let Some(name) = path.strip_prefix(MATCH_PREFIX) {
            let provider = Provider::parse_name(name).ok_or_else(|| {
                Error::refused(
                    Refusal::NotFound,
                    format!("no provider `{}`", excerpt(name)),
                )
            })?;
            if self.cfg.provider(provider).is_none() {
                return Err(Error::refused(
                    Refusal::NotFound,
                    format!("{provider} is not enabled on this edge"),
                ));
            }
            Route::Match { provider }
        } else {
            return Err(Error::refused(Refusal::NotFound, "no such route"));
        };
        match method {
            "POST" => Ok(target),
            "OPTIONS" => Ok(Route::Preflight),
            _ => Err(Error::refused(
                Refusal::NotFound,
                format!("{} is not allowed here: use POST", excerpt(method)),
            )),
        }
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        let origin = origin.trim_end_matches('/');
        // `null` is what sandboxed iframes, `data:` and `file:` pages send:
        // any page can make itself one, so a wildcard never covers it.
        if origin.eq_ignore_ascii_case("null") {
            return self.cfg.allowed_origins.iter().any(|o| o == "null");
        }
        self.cfg
            .allowed_origins
            .iter()
            .any(|o| o == origin || o == "*")
    }

    /// Refuses an `Origin` that is not on the allow-list (and a missing one,
    /// unless `FB_ALLOW_NO_ORIGIN`).
    pub fn check_origin(&self, origin: Option<&str>) -> Result<(), Error> {
        match origin {
            Some(o) if self.origin_allowed(o) => Ok(()),
            None if self.cfg.allow_no_origin => Ok(()),
            Some(o) => Err(Error::refused(
                Refusal::OriginRejected,
                format!("the origin {} is not allowed", excerpt(o)),
            )),
            None => Err(Error::refused(
                Refusal::OriginRejected,
                "no Origin header (set FB_ALLOW_NO_ORIGIN for server-to-server calls)",
            )),
        }
    }

    /// CORS headers for a response to `origin`: the origin echoed only when
    /// it is allowed; `Vary: Origin` always.
    pub fn cors_headers(&self, origin: Option<&str>) -> Vec<(String, String)> {
        let mut h = vec![("vary".to_string(), "Origin".to_string())];
        if let Some(o) = origin.filter(|o| self.origin_allowed(o)) {
            h.extend([
                ("access-control-allow-origin".into(), o.to_string()),
                (
                    "access-control-allow-methods".into(),
                    "POST, OPTIONS".into(),
                ),
                (
                    "access-control-allow-headers".into(),
                    "authorization, content-type".into(),
                ),
                ("access-control-max-age".into(), "600".into()),
            ]);
        }
        h
    }

    /// Checks the token from the `Authorization` header alone, before any
    /// of the body is read: signature, lifetime, `aud`, provider, operation
    /// and a `jti`. The body is then read up to [`Edge::body_limit`] and
    /// its digest compared with [`Edge::bind`]; only then is the `jti`
    /// consumed.
    pub fn authorize(
        &self,
        route: Route,
        authorization: Option<&str>,
        now_s: u64,
    ) -> Result<Admitted, Error> {
        let provider = route
            .provider()
            .ok_or_else(|| Error::refused(Refusal::NotFound, "a preflight has no body"))?;
        let token = authorization
            .map(str::trim)
            .and_then(|a| {
                a.get(..7)
                    .filter(|p| p.eq_ignore_ascii_case("bearer "))
                    .and_then(|_| a.get(7..))
            })
            .unwrap_or("");
        let claims = auth::verify_header(
            token,
            &self.cfg.keys,
            &auth::ExpectHeader {
                audience: &self.cfg.audience,
                provider: provider.name(),
                operation: route.operation(),
                now_s,
            },
        )?;
        Ok(Admitted {
            provider,
            jti: claims.jti,
            exp: claims.exp,
            sub: claims.sub,
            op: claims.fbo,
            digest: claims.fbd,
        })
    }

    /// The most body bytes a route may send: what the service's profile
    /// allows for both images as base64 in the SDK's JSON (plus a video for
    /// Biometry), and never more than `FB_MAX_BODY_BYTES`.
    pub fn body_limit(&self, route: Route) -> usize {
        let derived = match route {
            Route::Match { provider } => {
                let p = provider.profile();
                let image = if p.budget_on_base64 {
                    p.max_bytes
                } else {
                    crate::image::base64_len(p.max_bytes)
                };
                let video = if provider == Provider::Biometry {
                    crate::image::base64_len(MAX_VIDEO_BYTES)
                } else {
                    0
                };
                2 * image + video + BODY_OVERHEAD
            }
            Route::ValifyDirect => BODY_OVERHEAD,
            Route::Preflight => 0,
        };
        derived.min(self.cfg.max_body_bytes)
    }

    /// Refuses a body over the route's limit from its declared length,
    /// before it is read.
    pub fn check_route_length(&self, route: Route, declared: Option<u64>) -> Result<(), Error> {
        let limit = self.body_limit(route);
        match declared {
            Some(n) if n > limit as u64 => Err(too_large(n, limit)),
            _ => Ok(()),
        }
    }

    /// Compares the digest of the body as read with the token's `fbd`.
    pub fn bind(&self, a: &Admitted, digest: &str) -> Result<(), Error> {
        if a.digest != digest {
            return Err(auth::TokenError::Digest.into());
        }
        Ok(())
    }

    /// [`Edge::authorize`], the size and [`Edge::bind`] in one step, for a
    /// caller that holds the whole body already. The caller then consumes
    /// the returned `jti` before going on.
    pub fn admit(
        &self,
        route: Route,
        authorization: Option<&str>,
        body: &[u8],
        now_s: u64,
    ) -> Result<Admitted, Error> {
        let a = self.authorize(route, authorization, now_s)?;
        let limit = self.body_limit(route);
        if body.len() > limit {
            return Err(too_large(body.len() as u64, limit));
        }
        self.bind(&a, &auth::body_digest(body))?;
        Ok(a)
    }

    /// Reads the body and re-checks both images against the service's
    /// profile: format, bytes, size from the header ([`EDGE_LIMITS`]), and
    /// (with `FB_EDGE_DETECT_FACES`) that each decodes and shows a face.
    pub fn validate(&self, provider: Provider, body: &[u8]) -> Result<MatchRequest, Error> {
        self.check_files(provider, decode_body(body)?)
    }

    /// [`Edge::validate`] taking the body, which is dropped as soon as the
    /// files are out of it: a face-detection decode then reuses its memory
    /// instead of adding to the request's peak.
    pub fn validate_owned(&self, provider: Provider, body: Vec<u8>) -> Result<MatchRequest, Error> {
        let req = decode_body(&body)?;
        drop(body);
        self.check_files(provider, req)
    }

    fn check_files(&self, provider: Provider, req: MatchRequest) -> Result<MatchRequest, Error> {
        let profile = provider.profile();
        req.check(profile)?;
        for (role, m) in [(Role::Document, &req.document), (Role::Selfie, &req.selfie)] {
            let d = probe(&m.bytes, &self.limits)?;
            if d.width.min(d.height) < profile.min_side {
                return Err(ImageError::TooSmall {
                    what: if role == Role::Selfie {
                        "selfie"
                    } else {
                        "document"
                    },
                    width: d.width,
                    height: d.height,
                    needed: format!(
                        "{provider} needs more than {} px on each side",
                        profile.min_side
                    ),
                }
                .into());
            }
            if self.cfg.detect_faces {
                self.check_face(role, &m.bytes)?;
            }
        }
        Ok(req)
    }

    fn check_face(&self, role: Role, bytes: &[u8]) -> Result<(), Error> {
        let detector = self
            .detector
            .as_ref()
            .unwrap_or_else(|| crate::detect::shared());
        let report = detect_photo(detector, bytes, role, &default_detect(role), &self.limits)?;
        // Only what a service would refuse: no face, or several in a selfie.
        let fatal: Vec<_> = report
            .gate
            .iter()
            .filter(|f| {
                matches!(f.code, crate::error::GateCode::NoFace)
                    || (role == Role::Selfie
                        && matches!(f.code, crate::error::GateCode::MultipleFaces))
            })
            .cloned()
            .collect();
        if fatal.is_empty() {
            return Ok(());
        }
        Err(Error::Quality(crate::error::QualityError {
            failures: fatal,
            report: Box::new(report.quality),
        }))
    }

    /// Whether a Valify call needs a new access token first.
    pub fn valify_token_needed(&self, now_s: u64) -> bool {
        !self.valify.as_ref().is_some_and(|t| t.budget.usable(now_s))
    }

    /// The password-grant request for a Valify access token.
    pub fn valify_token_request(&self) -> Result<HttpRequest, Error> {
        let cfg = self
            .cfg
            .provider(Provider::Valify)
            .ok_or_else(|| Error::refused(Refusal::NotFound, "valify is not enabled here"))?;
        let client = self
            .lookup()
            .valify_client()
            .map_err(|e| misconfigured(e.to_string()))?;
        valify::token_request(&client, cfg)
    }

    /// Keeps the token endpoint's answer for the next (up to 3) calls.
    pub fn accept_valify_token(&mut self, resp: &HttpResponse, now_s: u64) -> Result<(), Error> {
        let clean = ScrubbedResponse::new(resp, &self.secret_forms());
        let t = valify::parse_token(&clean.view(), now_s)?;
        if let Some(old) = self.valify.replace(t) {
            self.valify_past.push(old.token);
            // A handful is enough: a token lives 10 minutes.
            if self.valify_past.len() > 8 {
                self.valify_past.remove(0);
            }
        }
        Ok(())
    }

    /// Direct mode: a fresh access token (never the edge's cached one, whose
    /// budget the edge itself spends) and the bundle key, for the browser.
    pub fn direct_grant(&self, resp: &HttpResponse, now_s: u64) -> Result<DirectGrant, Error> {
        let cfg = self
            .cfg
            .provider(Provider::Valify)
            .ok_or_else(|| Error::refused(Refusal::NotFound, "valify is not enabled here"))?;
        let t = valify::parse_token(resp, now_s).map_err(|e| {
            let forms = self.secret_forms();
            e.scrubbed(&forms.iter().map(String::as_str).collect::<Vec<_>>())
        })?;
        let bundle_key = self
            .secrets
            .get("FB_VALIFY_BUNDLE_KEY")
            .ok_or_else(|| misconfigured("FB_VALIFY_BUNDLE_KEY is not set"))?;
        Ok(DirectGrant {
            access_token: t.token.expose().to_string(),
            bundle_key: bundle_key.expose().to_string(),
            expires_at: t.budget.expires_at_s,
            calls_left: t.budget.calls_left,
            base_url: cfg.base_url.clone(),
            valify_version: cfg.valify.version.clone(),
            lang: cfg.valify.lang.clone(),
        })
    }

    /// The service's request, credential added; `None` when Valify needs a
    /// new access token first (fetch it, [`Edge::accept_valify_token`], ask
    /// again). For Valify this spends one call of the cached token's budget
    /// in the same step that checks it, so two requests in flight can never
    /// both count on the token's last call.
    pub fn service_request(
        &mut self,
        provider: Provider,
        req: &MatchRequest,
        now_s: u64,
    ) -> Result<Option<HttpRequest>, Error> {
        let cfg = self
            .cfg
            .provider(provider)
            .ok_or_else(|| Error::refused(Refusal::NotFound, "not enabled here"))?
            .clone();
        let access = if provider == Provider::Valify {
            let Some(t) = self.valify.as_mut().filter(|t| t.budget.usable(now_s)) else {
                return Ok(None);
            };
            t.budget.take(now_s);
            Some(t.token.clone())
        } else {
            None
        };
        let cred = self
            .lookup()
            .credential(provider, access)
            .map_err(|e| misconfigured(e.to_string()))?;
        provider.build_request(req, &cred, &cfg).map(Some)
    }

    /// Reads the service's answer into the common result (JSON text).
    /// Every form of every secret this edge holds is scrubbed from the
    /// answer **before** it is parsed, so nothing derived from it (message,
    /// `raw`, codes) can carry one, however the parser cuts it.
    pub fn finish(&mut self, provider: Provider, resp: &HttpResponse) -> Result<String, Error> {
        let forms = self.secret_forms();
        let result: MatchResult = match provider.parse_scrubbed(resp, &forms) {
            Ok(r) => r,
            Err(e) => {
                if provider == Provider::Valify && e.code == ServiceCode::Unauthorized {
                    // Revoked or spent elsewhere: mint a new one next time.
                    if let Some(old) = self.valify.take() {
                        self.valify_past.push(old.token);
                    }
                }
                return Err(e.into());
            }
        };
        // And once more on all that is sent, not only `raw`: the warnings'
        // messages were unescaped by the parser too.
        Ok(scrub(
            &serde_json::to_string(&result).unwrap_or_default(),
            &forms,
        ))
    }

    /// Every spelling of every secret a service could echo back: the value
    /// itself, JSON-escaped, form-encoded (Valify's password grant), base64
    /// (CVS's `Basic base64(key:secret)`, and each value alone), longest
    /// first so a longer form is replaced before a part of it.
    pub fn secret_forms(&self) -> Vec<String> {
        let mut values: Vec<&str> = self.secrets.values().map(Secret::expose).collect();
        values.extend(self.valify.iter().map(|t| t.token.expose()));
        values.extend(self.valify_past.iter().map(Secret::expose));
        let pair = |a: &str, b: &str| match (self.secrets.get(a), self.secrets.get(b)) {
            (Some(a), Some(b)) => Some((a.expose(), b.expose())),
            _ => None,
        };
        let pairs: Vec<(&str, &str)> = [
            pair("FB_CVS_API_KEY", "FB_CVS_API_SECRET"),
            pair("FB_VALIFY_CLIENT_ID", "FB_VALIFY_CLIENT_SECRET"),
        ]
        .into_iter()
        .flatten()
        .collect();
        crate::providers::secrets::spellings(&values, &pairs)
    }

    /// The receipt for an answer to an admitted request: `answer` is the
    /// JSON the edge is about to send (a result from [`Edge::finish`], or an
    /// [`error_body`]). Returns the same JSON with `receipt` added, at the
    /// top for a result and inside `error` for a refusal.
    pub fn seal(&self, admitted: &Admitted, answer: &str, now_s: u64) -> Result<String, Error> {
        let mut v: serde_json::Value = serde_json::from_str(answer)
            .map_err(|_| misconfigured("seal: the answer to sign is not JSON"))?;
        let outcome = if let Some(err) = v.get("error") {
            Outcome {
                verdict: Verdict::Refused,
                similarity: None,
                request_id: None,
                code: Some(err["code"].as_str().unwrap_or("SERVICE_ERROR").to_string()),
                service_code: err["serviceCode"].as_str().map(str::to_string),
            }
        } else {
            let verdict = match v["decision"].as_str() {
                Some("match") => Verdict::Match,
                Some("no_match") => Verdict::NoMatch,
                Some("refer") => Verdict::Refer,
                _ => return Err(misconfigured("seal: a result without a decision")),
            };
            Outcome {
                verdict,
                similarity: v["similarity"].as_f64(),
                request_id: v["requestId"].as_str().map(str::to_string),
                code: None,
                service_code: None,
            }
        };
        let receipt = self.receipt(admitted, outcome, now_s)?;
        match v.get_mut("error") {
            Some(err) => err["receipt"] = receipt.into(),
            None => v["receipt"] = receipt.into(),
        }
        Ok(v.to_string())
    }

    /// Signs the receipt of one outcome (see [`crate::auth::Receipt`]).
    pub fn receipt(&self, a: &Admitted, o: Outcome, now_s: u64) -> Result<String, Error> {
        let r = Receipt {
            iss: self.cfg.audience.clone(),
            aud: self.cfg.receipt_audience.clone(),
            sub: a.sub.clone(),
            jti: a.jti.clone(),
            iat: now_s,
            exp: now_s.saturating_add(self.cfg.receipt_ttl_s),
            fbp: a.provider.name().to_string(),
            fbo: a.op.clone(),
            fbd: a.digest.clone(),
            decision: o.verdict,
            similarity: o.similarity,
            request_id: o.request_id,
            code: o.code,
            service_code: o.service_code,
        };
        self.cfg
            .receipts
            .sign(&r)
            .map_err(|e| misconfigured(format!("FB_RECEIPT_KEYS: {e}")))
    }
}

/// What a receipt says of one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    pub similarity: Option<f64>,
    pub request_id: Option<String>,
    pub code: Option<String>,
    pub service_code: Option<String>,
}

fn too_large(n: u64, limit: usize) -> Error {
    Error::refused(
        Refusal::BodyTooLarge,
        format!("the body is {n} bytes or more, over this route's limit of {limit}"),
    )
}

fn excerpt(s: &str) -> String {
    s.chars()
        .take(80)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Claims;

    const KEY: &str = "edge-test-secret-0123456789abcdef0123";
    // RFC 8037 §A.1's Ed25519 test key.
    const RECEIPT_JWK: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"r1","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
    const RECEIPT_PUBLIC: &str = r#"{"kty":"OKP","crv":"Ed25519","kid":"r1","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;

    fn env(extra: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let mut m: HashMap<String, String> = [
            ("FB_EDGE_AUDIENCE", "https://edge.test"),
            (
                "FB_ALLOWED_ORIGINS",
                "https://shop.test, http://127.0.0.1:5173",
            ),
            ("FB_AIGEN_BASE_URL", "http://127.0.0.1:9"),
            ("FB_VALIFY_BASE_URL", "http://127.0.0.1:9/"),
            ("FB_AIGEN_KEY", "aigen-secret-value"),
            ("FB_RECEIPT_KEYS", RECEIPT_JWK),
            ("FB_RECEIPT_AUDIENCE", "https://backend.test"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        m.insert("FB_TOKEN_KEYS".into(), format!("{{\"k1\": \"{KEY}\"}}"));
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        move |n| m.get(n).cloned()
    }

    #[test]
    fn a_full_model_passed_in_must_load() {
        let on = env(&[("FB_EDGE_DETECT_FACES", "true")]);
        let e = Edge::from_env_with(&on, Some(b"not a network")).unwrap_err();
        assert_eq!(e.code(), "EDGE_MISCONFIGURED");
        assert!(e.to_string().contains("models.fullModel"), "{e}");
        // Natively both models are embedded: the shared detector serves.
        assert!(Edge::from_env(&on).is_ok());
    }

    #[test]
    fn configuration_errors_name_the_variable_not_the_value() {
        let e =
            Edge::from_env(&env(&[("FB_TOKEN_KEYS", "{\"k\": \"short-secret\"}")])).unwrap_err();
        assert_eq!(e.code(), "EDGE_MISCONFIGURED");
        assert!(e.to_string().contains("FB_TOKEN_KEYS"));
        assert!(!e.to_string().contains("short-secret"));
        let e = Edge::from_env(&env(&[("FB_AIGEN_BASE_URL", "ftp://x")])).unwrap_err();
        assert!(e.to_string().contains("FB_AIGEN_BASE_URL"));
        // Each service takes its own options only, by their own names.
        for (options, why) in [
            (
                r#"{"aigen": {"cvsMultipart": true}}"#,
                "FB_PROVIDER_OPTIONS.aigen",
            ),
            (
                r#"{"aigen": {"blurDetection": "yes"}}"#,
                "FB_PROVIDER_OPTIONS.aigen",
            ),
            (
                r#"{"biometric_kz": {"lang": "en"}}"#,
                "FB_PROVIDER_OPTIONS.biometric_kz",
            ),
            (r#"{"aigenn": {}}"#, "`aigenn`, which is not a service"),
            ("[]", "FB_PROVIDER_OPTIONS must be a JSON object"),
        ] {
            let e = Edge::from_env(&env(&[("FB_PROVIDER_OPTIONS", options)])).unwrap_err();
            assert!(e.to_string().contains(why), "{options}: {e}");
        }
        let edge = Edge::from_env(&env(&[(
            "FB_PROVIDER_OPTIONS",
            r#"{"aigen": {"blurDetection": true}, "biometric_kz": {}}"#,
        )]))
        .unwrap();
        let aigen = edge.cfg.provider(Provider::Aigen).unwrap();
        assert!(aigen.aigen.blur_detection && !aigen.aigen.verify_document);
        let edge = Edge::from_env(&env(&[])).unwrap();
        assert!(!format!("{edge:?}").contains("aigen-secret-value"));
        assert_eq!(edge.config().providers.len(), 2);
    }

    #[test]
    fn routes_and_origins() {
        let edge = Edge::from_env(&env(&[])).unwrap();
        assert_eq!(
            edge.route("POST", "/v1/match/aigen").unwrap(),
            Route::Match {
                provider: Provider::Aigen
            }
        );
        assert_eq!(
            edge.route("OPTIONS", "/v1/match/aigen").unwrap(),
            Route::Preflight
        );
        for (m, p) in [
            ("GET", "/v1/match/aigen"),
            ("POST", "/v1/match/cvs"),
            ("POST", "/v1/match/nope"),
            ("POST", "/"),
            ("POST", VALIFY_DIRECT_PATH),
        ] {
            let e = edge.route(m, p).unwrap_err();
            assert_eq!(e.code(), "NOT_FOUND", "{m} {p}");
        }
        assert!(edge.check_origin(Some("https://shop.test")).is_ok());
        assert!(edge.check_origin(Some("http://127.0.0.1:5173/")).is_ok());
        for o in [
            Some("https://evil.test"),
            Some("https://shop.test.evil"),
            None,
        ] {
            assert_eq!(edge.check_origin(o).unwrap_err().code(), "ORIGIN_REJECTED");
        }
        assert!(
            !edge
                .cors_headers(Some("https://evil.test"))
                .iter()
                .any(|(k, _)| k == "access-control-allow-origin")
        );
        let edge = Edge::from_env(&env(&[("FB_ALLOW_NO_ORIGIN", "true")])).unwrap();
        assert!(edge.check_origin(None).is_ok());
    }

    #[test]
    fn admits_only_the_body_the_token_signs() {
        let edge = Edge::from_env(&env(&[("FB_MAX_BODY_BYTES", "1000")])).unwrap();
        let body = br#"{"document": 1}"#;
        let now = 1_900_000_000;
        let keys = KeySet::single("k1", KEY.as_bytes());
        let c = Claims::new(
            "https://edge.test",
            "s",
            "aigen",
            "compare",
            body,
            now,
            60,
            "j1",
        );
        let token = auth::mint(&c, &keys).unwrap();
        let route = edge.route("POST", "/v1/match/aigen").unwrap();
        let bearer = format!("Bearer {token}");
        let a = edge.admit(route, Some(&bearer), body, now).unwrap();
        assert_eq!((a.jti.as_str(), a.exp), ("j1", now + 60));
        let e = edge
            .admit(route, Some(&bearer), br#"{"document": 2}"#, now)
            .unwrap_err();
        assert_eq!((e.code(), http_status(&e)), ("TOKEN_REJECTED", 401));
        let e = edge.admit(route, None, body, now).unwrap_err();
        assert_eq!(e.code(), "TOKEN_REJECTED");
        let e = edge
            .admit(route, Some(&bearer), body, now + 200)
            .unwrap_err();
        assert_eq!(e.code(), "TOKEN_EXPIRED");
        let big = vec![b' '; 1001];
        let e = edge.admit(route, Some(&bearer), &big, now).unwrap_err();
        assert_eq!((e.code(), http_status(&e)), ("BODY_TOO_LARGE", 413));
        assert_eq!(
            edge.check_route_length(route, Some(1001))
                .unwrap_err()
                .code(),
            "BODY_TOO_LARGE"
        );
    }

    #[test]
    fn the_body_round_trips_and_bad_bodies_are_typed() {
        let req = MatchRequest {
            document: Media::jpeg(vec![0xff, 0xd8, 1, 2]),
            selfie: Media::jpeg(vec![0xff, 0xd8, 3]),
            video: Some(Media {
                bytes: vec![9; 10],
                content_type: "video/mp4".into(),
            }),
        };
        let back = decode_body(&encode_body(&req)).unwrap();
        assert_eq!(back, req);
        for bad in [
            &b"not json"[..],
            br#"{"document": {"type": "image/jpeg", "data": "%%%"}, "selfie": {"type": "image/jpeg", "data": ""}}"#,
            br#"{"document": {"type": "image/jpeg", "data": ""}, "selfie": {"type": "image/jpeg", "data": ""}, "extra": 1}"#,
        ] {
            let e = decode_body(bad).unwrap_err();
            assert_eq!((e.code(), http_status(&e)), ("BAD_REQUEST", 400));
        }
    }

    fn token_for(body: &[u8], now: u64, jti: &str) -> String {
        let keys = KeySet::single("k1", KEY.as_bytes());
        let c = Claims::new(
            "https://edge.test",
            "session-9",
            "aigen",
            "compare",
            body,
            now,
            60,
            jti,
        );
        format!("Bearer {}", auth::mint(&c, &keys).unwrap())
    }

    #[test]
    fn every_answer_after_the_token_carries_a_receipt_the_backend_verifies() {
        use crate::auth::{ReceiptExpect, ReceiptKeys, Verdict, verify_receipt};
        let edge = Edge::from_env(&env(&[])).unwrap();
        let now = 1_900_000_000;
        let body = br#"{"document": 1}"#;
        let route = edge.route("POST", "/v1/match/aigen").unwrap();
        let a = edge
            .admit(route, Some(&token_for(body, now, "j-7")), body, now)
            .unwrap();
        let keys = ReceiptKeys::from_jwks(RECEIPT_PUBLIC).unwrap();
        let digest = auth::body_digest(body);
        let expect = ReceiptExpect {
            audience: "https://backend.test",
            sub: "session-9",
            jti: "j-7",
            digest: &digest,
            now_s: now + 1,
        };
        // A result: the receipt sits beside it.
        let result =
            r#"{"provider":"aigen","decision":"match","similarity":0.93,"requestId":"r-1"}"#;
        let sealed: serde_json::Value =
            serde_json::from_str(&edge.seal(&a, result, now).unwrap()).unwrap();
        let r = verify_receipt(sealed["receipt"].as_str().unwrap(), &keys, &expect).unwrap();
        assert_eq!(r.decision, Verdict::Match);
        assert_eq!(
            (r.similarity, r.request_id.as_deref()),
            (Some(0.93), Some("r-1"))
        );
        assert_eq!(
            (r.fbp.as_str(), r.fbo.as_str(), r.iss.as_str()),
            ("aigen", "compare", "https://edge.test")
        );
        // A refusal: inside the error, with the codes.
        let refused = error_body(&Error::Service(crate::error::ServiceError::new(
            "aigen",
            ServiceCode::NoFace,
            422,
            Some("E_NO_FACE".into()),
            "no face",
        )));
        let sealed: serde_json::Value =
            serde_json::from_str(&edge.seal(&a, &refused.to_string(), now).unwrap()).unwrap();
        let r =
            verify_receipt(sealed["error"]["receipt"].as_str().unwrap(), &keys, &expect).unwrap();
        assert_eq!(r.decision, Verdict::Refused);
        assert_eq!(r.code.as_deref(), Some("NO_FACE"));
        assert_eq!(r.service_code.as_deref(), Some("E_NO_FACE"));
        // Another session's token, or another body: the backend refuses it.
        for (sub, jti, d, want) in [
            ("session-9", "j-8", digest.as_str(), auth::TokenError::Id),
            (
                "session-1",
                "j-7",
                digest.as_str(),
                auth::TokenError::Subject,
            ),
            (
                "session-9",
                "j-7",
                "another-digest",
                auth::TokenError::Digest,
            ),
        ] {
            let e = verify_receipt(
                sealed["error"]["receipt"].as_str().unwrap(),
                &keys,
                &ReceiptExpect {
                    sub,
                    jti,
                    digest: d,
                    ..expect
                },
            )
            .unwrap_err();
            assert_eq!(e, want);
        }
        // Nothing to sign without a decision.
        assert!(edge.seal(&a, r#"{"decision":"maybe"}"#, now).is_err());
    }

    #[test]
    fn receipt_keys_are_required_and_their_own() {
        for (extra, why) in [
            (("FB_RECEIPT_KEYS", "{}"), "FB_RECEIPT_KEYS"),
            (("FB_RECEIPT_AUDIENCE", " "), "FB_RECEIPT_AUDIENCE"),
        ] {
            let e = Edge::from_env(&env(&[extra])).unwrap_err();
            assert_eq!(e.code(), "EDGE_MISCONFIGURED");
            assert!(e.to_string().contains(why), "{e}");
        }
        // An HS256 receipt key equal to a token key: a receipt could pass for a token.
        use base64::Engine;
        let k = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(KEY);
        let shared = format!(r#"{{"kty":"oct","k":"{k}"}}"#);
        let e = Edge::from_env(&env(&[("FB_RECEIPT_KEYS", &shared)])).unwrap_err();
        assert!(e.to_string().contains("shares a secret"), "{e}");
        // The client never sees which variable: that is for the log.
        let body = error_body(&e).to_string();
        assert!(!body.contains("FB_"), "{body}");
        assert!(body.contains("EDGE_MISCONFIGURED"));
    }

    #[test]
    fn the_token_is_checked_before_the_body_and_limits_are_per_route() {
        let edge = Edge::from_env(&env(&[])).unwrap();
        let now = 1_900_000_000;
        let aigen = edge.route("POST", "/v1/match/aigen").unwrap();
        // No token, a bad one: refused from the header alone.
        assert_eq!(
            edge.authorize(aigen, None, now).unwrap_err().code(),
            "TOKEN_REJECTED"
        );
        assert_eq!(
            edge.authorize(aigen, Some("Bearer x.y.z"), now)
                .unwrap_err()
                .code(),
            "TOKEN_REJECTED"
        );
        assert_eq!(
            edge.authorize(aigen, Some("Bearer \u{e9}\u{e9}\u{e9}\u{e9}"), now)
                .unwrap_err()
                .code(),
            "TOKEN_REJECTED"
        );
        let body = b"{}";
        let a = edge
            .authorize(aigen, Some(&token_for(body, now, "j-1")), now)
            .unwrap();
        assert!(edge.bind(&a, &auth::body_digest(body)).is_ok());
        assert_eq!(
            edge.bind(&a, &auth::body_digest(b"{ }"))
                .unwrap_err()
                .code(),
            "TOKEN_REJECTED"
        );
        // AIGEN: two 5 MB images (counted as base64) and the JSON around them.
        assert_eq!(edge.body_limit(aigen), 2 * 5_000_000 + BODY_OVERHEAD);
        let valify = edge.route("POST", "/v1/match/valify").unwrap();
        assert_eq!(edge.body_limit(valify), 2 * 2_000_000 + BODY_OVERHEAD);
        assert_eq!(
            edge.check_route_length(valify, Some(4_100_000))
                .unwrap_err()
                .code(),
            "BODY_TOO_LARGE"
        );
        let small = Edge::from_env(&env(&[("FB_MAX_BODY_BYTES", "1000")])).unwrap();
        assert_eq!(small.body_limit(aigen), 1000);
    }

    #[test]
    fn plain_http_only_to_loopback_and_null_origin_never_by_wildcard() {
        for ok in [
            "http://127.0.0.1:8787",
            "http://localhost:9",
            "http://[::1]:80/x",
            "https://api.example",
        ] {
            assert!(
                Edge::from_env(&env(&[("FB_AIGEN_BASE_URL", ok)])).is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "http://api.example",
            "http://10.0.0.1",
            "http://127.0.0.1.evil.example",
            "http://user@127.0.0.1",
            "http://localhost.evil.example",
        ] {
            let e = Edge::from_env(&env(&[("FB_AIGEN_BASE_URL", bad)])).unwrap_err();
            assert!(e.to_string().contains("FB_AIGEN_BASE_URL"), "{bad}");
        }
        let star = Edge::from_env(&env(&[("FB_ALLOWED_ORIGINS", "*")])).unwrap();
        assert!(star.check_origin(Some("https://any.example")).is_ok());
        assert_eq!(
            star.check_origin(Some("null")).unwrap_err().code(),
            "ORIGIN_REJECTED"
        );
        assert!(
            !star
                .cors_headers(Some("null"))
                .iter()
                .any(|(k, _)| k == "access-control-allow-origin")
        );
    }

    #[test]
    fn client_media_types_never_reach_a_header() {
        let jpeg = base64::engine::general_purpose::STANDARD.encode([0xff, 0xd8, 0xff, 0xe0]);
        for t in [
            "image/jpeg\r\nX-Injected: 1",
            "image/jpeg\nContent-Disposition: form-data; name=\"image\"",
            "image/jpeg; name=\"x\"",
            "image/ jpeg",
            "image",
            "",
        ] {
            let body = serde_json::json!({
                "document": {"type": t, "data": jpeg},
                "selfie": {"type": "image/jpeg", "data": jpeg},
            });
            let e = decode_body(body.to_string().as_bytes()).unwrap_err();
            assert_eq!(e.code(), "BAD_REQUEST", "{t:?}");
        }
        for t in [
            "image/jpeg",
            "video/webm;codecs=vp8,opus",
            "video/mp4; codecs=avc1",
        ] {
            let body = serde_json::json!({
                "document": {"type": t, "data": jpeg},
                "selfie": {"type": "image/jpeg", "data": jpeg},
            });
            assert!(decode_body(body.to_string().as_bytes()).is_ok(), "{t}");
        }
    }

    #[test]
    fn valify_needs_a_token_in_the_same_step_that_spends_it() {
        let mut edge = Edge::from_env(&env(&[
            ("FB_VALIFY_BUNDLE_KEY", "bundle-key-value"),
            ("FB_VALIFY_USERNAME", "u"),
            ("FB_VALIFY_PASSWORD", "p@ss word&=1"),
            ("FB_VALIFY_CLIENT_ID", "client-id-1"),
            ("FB_VALIFY_CLIENT_SECRET", "client-secret-1"),
        ]))
        .unwrap();
        let now = 1_900_000_000;
        let jpeg = crate::image::encode_jpeg(&crate::image::RgbImage::new(8, 8), 80).unwrap();
        let req = MatchRequest {
            document: Media::jpeg(jpeg.clone()),
            selfie: Media::jpeg(jpeg),
            video: None,
        };
        // No token yet: asked for one, never EDGE_MISCONFIGURED.
        assert!(
            edge.service_request(Provider::Valify, &req, now)
                .unwrap()
                .is_none()
        );
        let grant = br#"{"access_token": "valify-access-token-1", "expires_in": 600, "token_type": "Bearer"}"#;
        let ok = HttpResponse {
            status: 200,
            content_type: Some("application/json"),
            body: grant,
        };
        edge.accept_valify_token(&ok, now).unwrap();
        // Three calls, then it asks again (two requests in flight never share the last call).
        for _ in 0..3 {
            assert!(
                edge.service_request(Provider::Valify, &req, now)
                    .unwrap()
                    .is_some()
            );
        }
        assert!(
            edge.service_request(Provider::Valify, &req, now)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn secrets_are_scrubbed_in_every_spelling_before_the_answer_is_read() {
        use base64::Engine;
        let mut edge = Edge::from_env(&env(&[
            ("FB_CVS_API_KEY", "cvs-key-123"),
            ("FB_CVS_API_SECRET", "cvs-secret-\"quoted\"-456"),
            ("FB_CVS_BASE_URL", "http://127.0.0.1:9"),
            ("FB_VALIFY_PASSWORD", "p@ss word&=1"),
        ]))
        .unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        let basic = b64.encode("cvs-key-123:cvs-secret-\"quoted\"-456");
        // A long echo puts the secret across the 300-character cut.
        let pad = "x".repeat(290);
        let echoes = [
            format!("{pad}aigen-secret-value and more"),
            format!("Authorization: Basic {basic}"),
            serde_json::to_string("cvs-secret-\"quoted\"-456").unwrap(),
            "password=p%40ss+word%26%3D1&grant_type=password".to_string(),
        ];
        for echo in echoes {
            for status in [200, 500] {
                let body = serde_json::json!({"errorCode": 9, "errorMessage": echo, "echo": echo})
                    .to_string();
                let resp = HttpResponse {
                    status,
                    content_type: Some("application/json"),
                    body: body.as_bytes(),
                };
                let out = match edge.finish(Provider::Cvs, &resp) {
                    Ok(json) => json,
                    Err(e) => format!("{e} {}", error_body(&e)),
                };
                for leaked in [
                    "aigen-se",
                    "cvs-key-123",
                    "cvs-secret-",
                    "quoted\\\"-456",
                    "p%40ss",
                    &basic[..20],
                ] {
                    assert!(!out.contains(leaked), "{leaked} in {out}");
                }
            }
        }
    }
}
