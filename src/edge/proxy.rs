//! The proxy's decisions for one request: route, token, body, images, the
//! service's request with its credential, the answer, the receipt.

use std::collections::HashMap;

use serde::Serialize;

use crate::auth::{self, Receipt, Verdict};
use crate::detect::{Detector, ModelKind};
use crate::error::{Error, ImageError, Refusal, ServiceCode};
use crate::image::{Limits, probe};
use crate::prepare::{default_detect, detect_photo};
use crate::providers::secrets::{NAMES, Secrets, scrub};
use crate::providers::valify::{self, AccessToken};
use crate::providers::{
    HttpRequest, HttpResponse, MatchRequest, MatchResult, Provider, ScrubbedResponse, Secret,
};
use crate::quality::Role;

use super::*;

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

pub(super) fn too_large(n: u64, limit: usize) -> Error {
    Error::refused(
        Refusal::BodyTooLarge,
        format!("the body is {n} bytes or more, over this route's limit of {limit}"),
    )
}

pub(super) fn excerpt(s: &str) -> String {
    s.chars()
        .take(80)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
