//! `EdgeProxy`: the edge's decisions ([`crate::edge::Edge`]) for the
//! Cloudflare Worker in `edge/worker.mjs`, which does the I/O. Only in the
//! edge's wasm (feature `edge`, `pkg/edge/`): a page never runs it.

use std::cell::RefCell;

use sha2::{Digest, Sha256};

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::to_js;
use crate::edge::{self, Admitted, Edge, Route};
use crate::error::Error;
use crate::providers::{HttpRequest, HttpResponse, MatchRequest, Provider};

/// An edge error as a JS `Error` with `code`, the HTTP `status` to answer
/// with and `body`, the JSON text to send. Never holds a secret.
pub(crate) fn edge_error(e: Error) -> JsValue {
    // `message` is for the Worker's log (it may name a variable); `body` is
    // what the client gets.
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("FaceBridgeError");
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    let _ = Reflect::set(&err, &"status".into(), &edge::http_status(&e).into());
    let _ = Reflect::set(
        &err,
        &"body".into(),
        &edge::error_body(&e).to_string().into(),
    );
    err.into()
}

fn provider(name: &str) -> Result<Provider, JsValue> {
    Provider::parse_name(name).ok_or_else(|| {
        edge_error(Error::refused(
            crate::error::Refusal::NotFound,
            "unknown provider",
        ))
    })
}

/// A service request for `fetch`: `{method, url, headers: [name, value][], body}`.
fn request_to_js(r: HttpRequest) -> JsValue {
    let o = js_sys::Object::new();
    let headers = Array::new();
    for (k, v) in &r.headers {
        headers.push(&Array::of2(&k.into(), &v.into()));
    }
    let _ = Reflect::set(&o, &"method".into(), &r.method.into());
    let _ = Reflect::set(&o, &"url".into(), &r.url.into());
    let _ = Reflect::set(&o, &"headers".into(), &headers);
    let _ = Reflect::set(&o, &"body".into(), &Uint8Array::from(r.body.as_slice()));
    o.into()
}

/// A request whose images the edge has re-checked, ready for the service.
#[wasm_bindgen]
pub struct CheckedRequest {
    provider: Provider,
    req: MatchRequest,
}

/// The edge proxy's logic, one per Worker isolate. Build it from the
/// Worker's `env` inside the first request (secrets are read from there).
#[wasm_bindgen]
pub struct EdgeProxy {
    edge: RefCell<Edge>,
    /// `FB_TEST_TRAP_HOOK=true` (the workerd suite only): `validate` aborts
    /// the instance, borrow held, for a token whose `sub` is `trap`, so the
    /// suite can show the Worker recovering from a trap.
    trap_hook: bool,
}

#[wasm_bindgen]
impl EdgeProxy {
    /// Reads `FB_*` settings and secrets from the Worker's `env`. With
    /// `FB_EDGE_DETECT_FACES` on, pass the package's full-range network as
    /// `models.fullModel` (a Data module import of `blazeface_back_256.fbnet`):
    /// the wasm does not embed it, and checks its SHA-256.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Record<string, unknown>")] env: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EdgeModels")] models: Option<JsValue>,
    ) -> Result<EdgeProxy, JsValue> {
        let lookup = |name: &str| -> Option<String> {
            Reflect::get(&env, &name.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        let full = models
            .filter(|m| m.is_object())
            .and_then(|m| Reflect::get(&m, &"fullModel".into()).ok())
            .filter(|v| {
                v.is_instance_of::<Uint8Array>() || v.is_instance_of::<js_sys::ArrayBuffer>()
            })
            .map(|v| Uint8Array::new(&v).to_vec());
        let edge = Edge::from_env_with(&lookup, full.as_deref()).map_err(edge_error)?;
        Ok(EdgeProxy {
            edge: RefCell::new(edge),
            trap_hook: lookup("FB_TEST_TRAP_HOOK").as_deref() == Some("true"),
        })
    }

    /// How long a service has to answer, in milliseconds.
    #[wasm_bindgen(getter, js_name = timeoutMs)]
    pub fn timeout_ms(&self) -> f64 {
        self.edge.borrow().config().timeout_ms as f64
    }

    /// The largest request body accepted, in bytes.
    #[wasm_bindgen(getter, js_name = maxBodyBytes)]
    pub fn max_body_bytes(&self) -> f64 {
        self.edge.borrow().config().max_body_bytes as f64
    }

    /// `{kind: "preflight" | "match" | "valifyDirect", provider?}`, or throws `NOT_FOUND`.
    #[wasm_bindgen(unchecked_return_type = "EdgeRoute")]
    pub fn route(&self, method: &str, path: &str) -> Result<JsValue, JsValue> {
        self.edge
            .borrow()
            .route(method, path)
            .map(|r| to_js(&r))
            .map_err(edge_error)
    }

    /// Throws `ORIGIN_REJECTED` unless the origin is on the allow-list.
    #[wasm_bindgen(js_name = checkOrigin)]
    pub fn check_origin(&self, origin: Option<String>) -> Result<(), JsValue> {
        self.edge
            .borrow()
            .check_origin(origin.as_deref())
            .map_err(edge_error)
    }

    /// CORS headers for an answer to `origin`, as `[name, value]` pairs.
    #[wasm_bindgen(js_name = corsHeaders, unchecked_return_type = "[string, string][]")]
    pub fn cors_headers(&self, origin: Option<String>) -> JsValue {
        let out = Array::new();
        for (k, v) in self.edge.borrow().cors_headers(origin.as_deref()) {
            out.push(&Array::of2(&k.into(), &v.into()));
        }
        out.into()
    }

    /// The most body bytes this route may send (the provider's profile,
    /// capped by `FB_MAX_BODY_BYTES`).
    #[wasm_bindgen(js_name = bodyLimit)]
    pub fn body_limit(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EdgeRoute")] route: JsValue,
    ) -> Result<f64, JsValue> {
        let route = route_from_js(&route)?;
        Ok(self.edge.borrow().body_limit(route) as f64)
    }

    /// Verifies the token from the `Authorization` header alone (signature,
    /// lifetime, audience, provider, operation), before the body is read.
    /// Throws `TOKEN_*` or `BODY_TOO_LARGE` (the declared length over the
    /// route's limit); returns an [`Admission`] to stream the body into.
    pub fn authorize(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EdgeRoute")] route: JsValue,
        authorization: Option<String>,
        content_length: Option<String>,
        now_s: f64,
    ) -> Result<Admission, JsValue> {
        let route = route_from_js(&route)?;
        let edge = self.edge.borrow();
        let admitted = edge
            .authorize(route, authorization.as_deref(), now_s.max(0.0) as u64)
            .map_err(edge_error)?;
        let declared = content_length.and_then(|v| v.trim().parse::<u64>().ok());
        edge.check_route_length(route, declared)
            .map_err(edge_error)?;
        let limit = edge.body_limit(route);
        // Reserve what the client declared (within the limit) so the body
        // lands in one buffer, never grown and copied.
        let reserve = declared.map_or(0, |n| n as usize).min(limit);
        Ok(Admission {
            admitted,
            limit,
            body: Vec::with_capacity(reserve),
            hash: Some(Sha256::new()),
            digest: None,
        })
    }

    /// Compares the streamed body's digest with the token's: throws
    /// `TOKEN_REJECTED` (`digest`) for another body. Consume `jti` after.
    pub fn bind(&self, admission: &mut Admission) -> Result<(), JsValue> {
        let digest = admission.finish_digest();
        self.edge
            .borrow()
            .bind(&admission.admitted, &digest)
            .map_err(edge_error)
    }

    /// Re-checks both images of the admitted body against the service's
    /// profile. The body is read in place (no copy from JS) and released as
    /// soon as the files are out of it; call this once.
    pub fn validate(&self, admission: &mut Admission) -> Result<CheckedRequest, JsValue> {
        if admission.digest.is_none() {
            return Err(edge_error(crate::auth::TokenError::Digest.into()));
        }
        let p = admission.admitted.provider;
        let edge = self.edge.borrow();
        if self.trap_hook && admission.admitted.sub == "trap" {
            // What an out-of-memory abort does mid-call: the borrow stays held.
            std::process::abort();
        }
        let body = std::mem::take(&mut admission.body);
        let req = edge.validate_owned(p, body).map_err(edge_error)?;
        Ok(CheckedRequest { provider: p, req })
    }

    /// The answer's JSON with its signed receipt added: at the top for a
    /// result, inside `error` for a refusal (the Worker calls this for every
    /// answer after `authorize` and `bind` passed).
    pub fn seal(&self, admission: &Admission, answer: &str, now_s: f64) -> Result<String, JsValue> {
        self.edge
            .borrow()
            .seal(&admission.admitted, answer, now_s.max(0.0) as u64)
            .map_err(edge_error)
    }

    /// The public JWK set receipts verify with (Ed25519 keys only; an HS256
    /// receipt key is never published): `GET /v1/receipt-keys`.
    #[wasm_bindgen(js_name = receiptKeys)]
    pub fn receipt_keys(&self) -> String {
        self.edge
            .borrow()
            .config()
            .receipts
            .public_jwks()
            .to_string()
    }

    /// Whether a Valify call needs a new access token first.
    #[wasm_bindgen(js_name = valifyTokenNeeded)]
    pub fn valify_token_needed(&self, now_s: f64) -> bool {
        self.edge
            .borrow()
            .valify_token_needed(now_s.max(0.0) as u64)
    }

    /// Valify's token request (password grant) for `fetch`.
    #[wasm_bindgen(js_name = valifyTokenRequest, unchecked_return_type = "ServiceRequest")]
    pub fn valify_token_request(&self) -> Result<JsValue, JsValue> {
        self.edge
            .borrow()
            .valify_token_request()
            .map(request_to_js)
            .map_err(edge_error)
    }

    /// Keeps Valify's token answer for the next calls (10 minutes, 3 calls).
    #[wasm_bindgen(js_name = acceptValifyToken)]
    pub fn accept_valify_token(
        &self,
        status: u16,
        content_type: Option<String>,
        body: &[u8],
        now_s: f64,
    ) -> Result<(), JsValue> {
        let resp = answer(status, &content_type, body);
        self.edge
            .borrow_mut()
            .accept_valify_token(&resp, now_s.max(0.0) as u64)
            .map_err(edge_error)
    }

    /// Direct mode: the JSON text handed to the browser (access token and
    /// bundle key), from a fresh token answer.
    #[wasm_bindgen(js_name = directGrant)]
    pub fn direct_grant(
        &self,
        status: u16,
        content_type: Option<String>,
        body: &[u8],
        now_s: f64,
    ) -> Result<String, JsValue> {
        let resp = answer(status, &content_type, body);
        let g = self
            .edge
            .borrow()
            .direct_grant(&resp, now_s.max(0.0) as u64)
            .map_err(edge_error)?;
        Ok(serde_json::to_string(&g).unwrap_or_default())
    }

    /// The service's request with its credential, for `fetch`; `null` when
    /// Valify needs a new access token first (fetch it, `acceptValifyToken`,
    /// ask again). The Valify call is taken from the token's budget in this
    /// same synchronous step.
    #[wasm_bindgen(js_name = serviceRequest, unchecked_return_type = "ServiceRequest | null")]
    pub fn service_request(
        &self,
        checked: &CheckedRequest,
        now_s: f64,
    ) -> Result<JsValue, JsValue> {
        self.edge
            .borrow_mut()
            .service_request(checked.provider, &checked.req, now_s.max(0.0) as u64)
            .map(|r| r.map_or(JsValue::NULL, request_to_js))
            .map_err(edge_error)
    }

    /// The service's answer as the common result (JSON text), or a typed error.
    pub fn finish(
        &self,
        provider_name: &str,
        status: u16,
        content_type: Option<String>,
        body: &[u8],
    ) -> Result<String, JsValue> {
        let p = provider(provider_name)?;
        let resp = answer(status, &content_type, body);
        self.edge.borrow_mut().finish(p, &resp).map_err(edge_error)
    }

    /// A typed error for a failure the Worker saw itself (`TIMEOUT`, `NETWORK`,
    /// a replayed `jti`): `{code, status, body}` like the proxy's own errors.
    #[wasm_bindgen(js_name = transportError, unchecked_return_type = "FaceBridgeError")]
    pub fn transport_error(kind: &str, reason: &str) -> JsValue {
        let e = match kind {
            "timeout" => Error::network(true, reason.chars().take(200).collect::<String>()),
            "replayed" => Error::Token(crate::auth::TokenError::Replayed),
            _ => Error::network(false, reason.chars().take(200).collect::<String>()),
        };
        edge_error(e)
    }
}

/// A request whose token verified from its header: the body streams into
/// it (`push`), hashed as it arrives, and stays in the wasm's memory for
/// `validate`; JS never holds a second copy.
#[wasm_bindgen]
pub struct Admission {
    admitted: Admitted,
    limit: usize,
    body: Vec<u8>,
    hash: Option<Sha256>,
    digest: Option<String>,
}

#[wasm_bindgen]
impl Admission {
    #[wasm_bindgen(getter)]
    pub fn provider(&self) -> String {
        self.admitted.provider.name().to_string()
    }
    #[wasm_bindgen(getter)]
    pub fn jti(&self) -> String {
        self.admitted.jti.clone()
    }
    /// The token's `exp`, seconds since the epoch.
    #[wasm_bindgen(getter)]
    pub fn exp(&self) -> f64 {
        self.admitted.exp as f64
    }
    /// Bytes received so far.
    #[wasm_bindgen(getter)]
    pub fn received(&self) -> f64 {
        self.body.len() as f64
    }

    /// Appends one chunk of the body; throws `BODY_TOO_LARGE` as soon as the
    /// route's limit is passed (stop reading then).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        let n = self.body.len().saturating_add(chunk.len());
        if n > self.limit || self.hash.is_none() {
            return Err(edge_error(Error::refused(
                crate::error::Refusal::BodyTooLarge,
                format!(
                    "the body is {n} bytes or more, over this route's limit of {}",
                    self.limit
                ),
            )));
        }
        if self.body.capacity() < n {
            // Grow to what is needed, not doubled: the limit bounds it anyway.
            self.body.reserve_exact(
                (n - self.body.len())
                    .max(self.body.len() / 4)
                    .min(self.limit - self.body.len()),
            );
        }
        self.body.extend_from_slice(chunk);
        if let Some(h) = self.hash.as_mut() {
            h.update(chunk);
        }
        Ok(())
    }
}

impl Admission {
    fn finish_digest(&mut self) -> String {
        if let Some(h) = self.hash.take() {
            use base64::Engine;
            self.digest =
                Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(h.finalize()));
        }
        self.digest.clone().unwrap_or_default()
    }
}

fn route_from_js(route: &JsValue) -> Result<Route, JsValue> {
    Ok(
        match Reflect::get(route, &"kind".into())
            .ok()
            .and_then(|k| k.as_string())
            .as_deref()
        {
            Some("match") => Route::Match {
                provider: provider(
                    &Reflect::get(route, &"provider".into())
                        .ok()
                        .and_then(|p| p.as_string())
                        .unwrap_or_default(),
                )?,
            },
            Some("valifyDirect") => Route::ValifyDirect,
            _ => Route::Preflight,
        },
    )
}

/// A service's answer as the Worker hands it over.
fn answer<'a>(status: u16, content_type: &'a Option<String>, body: &'a [u8]) -> HttpResponse<'a> {
    HttpResponse {
        status,
        content_type: content_type.as_deref(),
        body,
    }
}
