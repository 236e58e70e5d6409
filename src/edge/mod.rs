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

use std::collections::HashMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::auth::{self, Expect, KeySet};
use crate::detect::{Detector, ModelKind};
use crate::error::{Error, Refusal, ServiceCode};
use crate::image::{DecodeTarget, Limits, decode};
use crate::prepare::{default_detect, detect_photo};
use crate::providers::secrets::{NAMES, Secrets};
use crate::providers::valify::{self, AccessToken};
use crate::providers::{
    HttpRequest, HttpResponse, MatchRequest, MatchResult, Media, Provider, ProviderConfig, Secret,
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
/// Default time a service has to answer.
pub const DEFAULT_TIMEOUT_MS: u64 = 25_000;

// ── The wire body, shared by the SDK (writer) and the edge (reader) ─────────

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMedia {
    #[serde(rename = "type")]
    content_type: String,
    /// Standard base64 with padding.
    data: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireBody {
    document: WireMedia,
    selfie: WireMedia,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    video: Option<WireMedia>,
}

fn wire(m: &Media) -> WireMedia {
    WireMedia {
        content_type: m.content_type.clone(),
        data: base64::engine::general_purpose::STANDARD.encode(&m.bytes),
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
        if m.content_type.len() > 100 || !m.content_type.is_ascii() {
            return Err(bad(format!("`{field}.type` is not a media type")));
        }
        Ok(Media {
            bytes,
            content_type: m.content_type,
        })
    };
    Ok(MatchRequest {
        document: media("document", w.document)?,
        selfie: media("selfie", w.selfie)?,
        video: w.video.map(|v| media("video", v)).transpose()?,
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
        let mut providers = Vec::new();
        for p in Provider::ALL {
            let Some(base) = lookup(&base_url_name(p)).filter(|v| !v.trim().is_empty()) else {
                continue;
            };
            let mut cfg = match options.get(p.name()) {
                Some(o) => serde_json::from_value::<ProviderConfig>(o.clone())
                    .map_err(|e| misconfigured(format!("FB_PROVIDER_OPTIONS.{}: {e}", p.name())))?,
                None => ProviderConfig::default(),
            };
            cfg.base_url = base.trim().trim_end_matches('/').to_string();
            if !(cfg.base_url.starts_with("https://") || cfg.base_url.starts_with("http://")) {
                return Err(misconfigured(format!(
                    "{} must start with https://",
                    base_url_name(p)
                )));
            }
            providers.push((p, cfg));
        }
        Ok(EdgeConfig {
            audience: audience.trim().to_string(),
            keys: KeySet::new(pairs),
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
                crate::detect::check_published_model(ModelKind::Full, bytes).map_err(why)?;
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
            limits: Limits::default(),
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

    /// Refuses a body over the limit from its declared length, before it is read.
    pub fn check_length(&self, declared: Option<u64>) -> Result<(), Error> {
        match declared {
            Some(n) if n > self.cfg.max_body_bytes as u64 => Err(self.too_large(n)),
            _ => Ok(()),
        }
    }

    fn too_large(&self, n: u64) -> Error {
        Error::refused(
            Refusal::BodyTooLarge,
            format!(
                "the body is {n} bytes, over this edge's limit of {}",
                self.cfg.max_body_bytes
            ),
        )
    }

    /// Checks the body's size and its token. The caller then consumes the
    /// returned `jti` before going on.
    pub fn admit(
        &self,
        route: Route,
        authorization: Option<&str>,
        body: &[u8],
        now_s: u64,
    ) -> Result<Admitted, Error> {
        let provider = route
            .provider()
            .ok_or_else(|| Error::refused(Refusal::NotFound, "a preflight has no body"))?;
        if body.len() > self.cfg.max_body_bytes {
            return Err(self.too_large(body.len() as u64));
        }
        let token = authorization
            .map(str::trim)
            .and_then(|a| {
                a.get(..7)
                    .filter(|p| p.eq_ignore_ascii_case("bearer "))
                    .map(|_| &a[7..])
            })
            .unwrap_or("");
        let claims = auth::verify(
            token,
            &self.cfg.keys,
            &Expect {
                audience: &self.cfg.audience,
                provider: provider.name(),
                operation: route.operation(),
                body,
                now_s,
            },
        )?;
        Ok(Admitted {
            provider,
            jti: claims.jti,
            exp: claims.exp,
            sub: claims.sub,
        })
    }

    /// Reads the body and re-checks both images against the service's
    /// profile: format, bytes, that they decode, dimensions, and (with
    /// `FB_EDGE_DETECT_FACES`) that each shows a face.
    pub fn validate(&self, provider: Provider, body: &[u8]) -> Result<MatchRequest, Error> {
        let req = decode_body(body)?;
        let profile = provider.profile();
        req.check(profile)?;
        for (role, m) in [(Role::Document, &req.document), (Role::Selfie, &req.selfie)] {
            let d = decode(
                &m.bytes,
                &self.limits,
                DecodeTarget {
                    min_long_side: Some(256),
                },
            )?;
            if d.width.min(d.height) < profile.min_side {
                return Err(crate::error::ImageError::TooSmall {
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
        let t = valify::parse_token(resp, now_s).map_err(|e| e.scrubbed(&self.secret_values()))?;
        self.valify = Some(t);
        Ok(())
    }

    /// Direct mode: a fresh access token (never the edge's cached one, whose
    /// budget the edge itself spends) and the bundle key, for the browser.
    pub fn direct_grant(&self, resp: &HttpResponse, now_s: u64) -> Result<DirectGrant, Error> {
        let cfg = self
            .cfg
            .provider(Provider::Valify)
            .ok_or_else(|| Error::refused(Refusal::NotFound, "valify is not enabled here"))?;
        let t = valify::parse_token(resp, now_s).map_err(|e| e.scrubbed(&self.secret_values()))?;
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
            valify_version: cfg.valify_version.clone(),
            lang: cfg.valify_lang.clone(),
        })
    }

    /// The service's request, credential added. For Valify this spends one
    /// call of the cached access token's budget.
    pub fn service_request(
        &mut self,
        provider: Provider,
        req: &MatchRequest,
        now_s: u64,
    ) -> Result<HttpRequest, Error> {
        let cfg = self
            .cfg
            .provider(provider)
            .ok_or_else(|| Error::refused(Refusal::NotFound, "not enabled here"))?
            .clone();
        let access = if provider == Provider::Valify {
            let t = self
                .valify
                .as_mut()
                .filter(|t| t.budget.usable(now_s))
                .ok_or_else(|| misconfigured("no usable Valify access token"))?;
            t.budget.take(now_s);
            Some(t.token.clone())
        } else {
            None
        };
        let cred = self
            .lookup()
            .credential(provider, access)
            .map_err(|e| misconfigured(e.to_string()))?;
        provider.build_request(req, &cred, &cfg)
    }

    /// Reads the service's answer into the common result. Secrets are
    /// scrubbed from whatever the service echoed, result and errors alike.
    pub fn finish(&mut self, provider: Provider, resp: &HttpResponse) -> Result<String, Error> {
        let secrets: Vec<String> = self.secret_values().into_iter().map(String::from).collect();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        // Scrubbed once below, with every secret this edge holds.
        let parsed = provider.parse_unscrubbed(resp);
        let result: MatchResult = match parsed {
            Ok(r) => r,
            Err(e) => {
                if provider == Provider::Valify && e.code == ServiceCode::Unauthorized {
                    // Revoked or spent elsewhere: mint a new one next time.
                    self.valify = None;
                }
                return Err(e.scrubbed(&secrets).into());
            }
        };
        let mut json = serde_json::to_string(&result).unwrap_or_default();
        for s in secrets.iter().filter(|s| s.len() >= 4) {
            json = json.replace(s, "[redacted]");
        }
        Ok(json)
    }

    fn secret_values(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.secrets.values().map(Secret::expose).collect();
        if let Some(t) = &self.valify {
            v.push(t.token.expose());
        }
        v
    }
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
    let mut err = serde_json::json!({
        "code": e.code(),
        "message": e.to_string(),
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
            edge.check_length(Some(1001)).unwrap_err().code(),
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
}
