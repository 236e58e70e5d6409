//! `EdgeProxy`: the edge's decisions ([`crate::edge::Edge`]) for the
//! Cloudflare Worker in `edge/worker.mjs`, which does the I/O.

use std::cell::RefCell;

use js_sys::{Array, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;

use super::to_js;
use crate::edge::{self, Edge, Route};
use crate::error::Error;
use crate::providers::{HttpRequest, HttpResponse, MatchRequest, Provider};

/// An edge error as a JS `Error` with `code`, the HTTP `status` to answer
/// with and `body`, the JSON text to send. Never holds a secret.
pub(crate) fn edge_error(e: Error) -> JsValue {
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

    /// Throws `BODY_TOO_LARGE` when the declared `Content-Length` is over the limit.
    #[wasm_bindgen(js_name = checkLength)]
    pub fn check_length(&self, content_length: Option<String>) -> Result<(), JsValue> {
        let declared = content_length.and_then(|v| v.trim().parse::<u64>().ok());
        self.edge
            .borrow()
            .check_length(declared)
            .map_err(edge_error)
    }

    /// Verifies the token for this exact body: `{provider, jti, exp, sub}`.
    /// Consume `jti` before going on.
    #[wasm_bindgen(unchecked_return_type = "EdgeAdmitted")]
    pub fn admit(
        &self,
        #[wasm_bindgen(unchecked_param_type = "EdgeRoute")] route: JsValue,
        authorization: Option<String>,
        body: &[u8],
        now_s: f64,
    ) -> Result<JsValue, JsValue> {
        let route: Route = match Reflect::get(&route, &"kind".into())
            .ok()
            .and_then(|k| k.as_string())
            .as_deref()
        {
            Some("match") => Route::Match {
                provider: provider(
                    &Reflect::get(&route, &"provider".into())
                        .ok()
                        .and_then(|p| p.as_string())
                        .unwrap_or_default(),
                )?,
            },
            Some("valifyDirect") => Route::ValifyDirect,
            _ => Route::Preflight,
        };
        self.edge
            .borrow()
            .admit(route, authorization.as_deref(), body, now_s.max(0.0) as u64)
            .map(|a| to_js(&a))
            .map_err(edge_error)
    }

    /// Reads the body and re-checks both images against the service's profile.
    pub fn validate(&self, provider_name: &str, body: &[u8]) -> Result<CheckedRequest, JsValue> {
        let p = provider(provider_name)?;
        let req = self.edge.borrow().validate(p, body).map_err(edge_error)?;
        Ok(CheckedRequest { provider: p, req })
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

    /// The service's request with its credential, for `fetch`.
    #[wasm_bindgen(js_name = serviceRequest, unchecked_return_type = "ServiceRequest")]
    pub fn service_request(
        &self,
        checked: &CheckedRequest,
        now_s: f64,
    ) -> Result<JsValue, JsValue> {
        self.edge
            .borrow_mut()
            .service_request(checked.provider, &checked.req, now_s.max(0.0) as u64)
            .map(request_to_js)
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
            "timeout" => Error::Network {
                timeout: true,
                reason: reason.chars().take(200).collect(),
            },
            "replayed" => Error::Token(crate::auth::TokenError::Replayed),
            _ => Error::Network {
                timeout: false,
                reason: reason.chars().take(200).collect(),
            },
        };
        edge_error(e)
    }
}

/// A service's answer as the Worker hands it over.
fn answer<'a>(status: u16, content_type: &'a Option<String>, body: &'a [u8]) -> HttpResponse<'a> {
    HttpResponse {
        status,
        content_type: content_type.as_deref(),
        body,
    }
}
