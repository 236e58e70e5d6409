//! The browser side of a comparison: the body, the token exchange through
//! the page's `getToken`, the call to the edge, one retry on `TOKEN_EXPIRED`,
//! and direct mode for Valify. A token is never logged, stored or put in an
//! error message.

use std::cell::RefCell;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use serde::Deserialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::auth::body_digest;
use crate::error::{CODES, Error};
use crate::image::Format;
use crate::providers::{
    Credential, HttpResponse, MatchRequest, Media, Provider, ProviderConfig, Secret,
};
use crate::wire::{self, OP_COMPARE, OP_VALIFY_TOKEN, VALIFY_DIRECT_PATH};

/// What the constructor's options say about talking to the edge.
pub(crate) struct ClientConfig {
    pub provider: Option<Provider>,
    pub endpoint: Option<String>,
    pub get_token: Option<Function>,
    pub fetch: Option<Function>,
    pub timeout_ms: f64,
    pub direct: bool,
    pub grant: RefCell<Option<Grant>>,
    /// Direct mode: the grant request under way, shared by concurrent calls.
    pub inflight: RefCell<Option<Promise>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Grant {
    access_token: String,
    bundle_key: String,
    expires_at: u64,
    calls_left: u32,
    base_url: String,
    valify_version: String,
    #[serde(default)]
    lang: Option<String>,
}

fn get(o: &JsValue, key: &str) -> Option<JsValue> {
    if !o.is_object() {
        return None;
    }
    Reflect::get(o, &key.into())
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

impl ClientConfig {
    pub fn from_options(options: &JsValue) -> Result<Self, Error> {
        let provider = match get(options, "provider").and_then(|p| p.as_string()) {
            Some(name) => Some(Provider::parse_name(&name).ok_or_else(|| {
                Error::invalid(
                    "provider",
                    "one of biometric_kz, valify, biometry, cvs, aigen",
                )
            })?),
            None => None,
        };
        let endpoint = get(options, "endpoint")
            .and_then(|e| e.as_string())
            .map(|e| e.trim_end_matches('/').to_string());
        let func = |key: &'static str| -> Result<Option<Function>, Error> {
            match get(options, key) {
                None => Ok(None),
                Some(f) => f
                    .dyn_into::<Function>()
                    .map(Some)
                    .map_err(|_| Error::invalid(key, "must be a function")),
            }
        };
        let timeout_ms = get(options, "timeoutMs")
            .and_then(|t| t.as_f64())
            .unwrap_or(30_000.0);
        if timeout_ms.is_nan() || timeout_ms < 1.0 {
            return Err(Error::invalid("timeoutMs", "must be a positive number"));
        }
        let direct = get(options, "direct")
            .and_then(|d| d.as_bool())
            .unwrap_or(false);
        if direct && provider != Some(Provider::Valify) {
            return Err(Error::invalid(
                "direct",
                "direct mode exists for valify only",
            ));
        }
        Ok(ClientConfig {
            provider,
            endpoint,
            get_token: func("getToken")?,
            fetch: func("fetch")?,
            timeout_ms,
            direct,
            grant: RefCell::new(None),
            inflight: RefCell::new(None),
        })
    }
}

impl ClientConfig {
    /// The settings a request needs, without the grant state: for a future
    /// that must own what it uses.
    fn detached(&self) -> ClientConfig {
        ClientConfig {
            provider: self.provider,
            endpoint: self.endpoint.clone(),
            get_token: self.get_token.clone(),
            fetch: self.fetch.clone(),
            timeout_ms: self.timeout_ms,
            direct: self.direct,
            grant: RefCell::new(None),
            inflight: RefCell::new(None),
        }
    }
}

fn now_s() -> u64 {
    (js_sys::Date::now() / 1000.0) as u64
}

/// A JS `Error` for an answer from the edge (or a service in direct mode).
fn remote_error(code: &str, message: &str, extra: Option<&JsValue>) -> JsValue {
    let known = CODES
        .iter()
        .find(|c| **c == code)
        .copied()
        .unwrap_or("PROTOCOL");
    let err = js_sys::Error::new(message);
    err.set_name("FaceBridgeError");
    let _ = Reflect::set(&err, &"code".into(), &known.into());
    if let Some(x) = extra {
        for key in [
            "status",
            "provider",
            "serviceCode",
            "serviceStatus",
            "failures",
            "reason",
            // The edge's signed receipt of a refusal, for the backend.
            "receipt",
        ] {
            if let Some(v) = get(x, key) {
                let _ = Reflect::set(&err, &key.into(), &v);
            }
        }
    }
    err.into()
}

/// Bytes and media type from a `PreparedImage`, a `Uint8Array`, an `ArrayBuffer` or a `Blob`.
async fn media(input: JsValue, field: &'static str) -> Result<Media, JsValue> {
    let input = get(&input, "bytes").unwrap_or(input);
    let bytes = super::input_bytes(input)
        .await
        .map_err(super::to_js_error)?;
    let content_type = match Format::sniff(&bytes) {
        Ok(f) => f.mime().to_string(),
        Err(_) => {
            return Err(super::to_js_error(Error::invalid(
                field,
                "not a JPEG, PNG or WebP image",
            )));
        }
    };
    Ok(Media {
        bytes,
        content_type,
    })
}

async fn video(input: JsValue) -> Result<Media, JsValue> {
    let content_type = get(&input, "type")
        .and_then(|t| t.as_string())
        .filter(|t| t.starts_with("video/"))
        .unwrap_or_else(|| "video/mp4".into());
    let bytes = super::input_bytes(input)
        .await
        .map_err(super::to_js_error)?;
    Ok(Media {
        bytes,
        content_type,
    })
}

struct Answer {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// One HTTP call through the page's `fetch` (or the one passed in options),
/// with a timeout. Failures are `TIMEOUT` or `NETWORK`.
async fn http(
    cfg: &ClientConfig,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Answer, JsValue> {
    let global = js_sys::global();
    let fetch = match &cfg.fetch {
        Some(f) => f.clone(),
        None => Reflect::get(&global, &"fetch".into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .ok_or_else(|| {
                super::to_js_error(Error::invalid(
                    "fetch",
                    "no global fetch: pass one in options",
                ))
            })?,
    };
    let init = Object::new();
    let h = Object::new();
    for (k, v) in headers {
        let _ = Reflect::set(&h, &k.into(), &v.into());
    }
    let _ = Reflect::set(&init, &"method".into(), &"POST".into());
    let _ = Reflect::set(&init, &"headers".into(), &h);
    let _ = Reflect::set(&init, &"body".into(), &Uint8Array::from(body));
    let abort = Reflect::get(&global, &"AbortSignal".into()).ok();
    if let Some(timeout) = abort
        .as_ref()
        .and_then(|a| Reflect::get(a, &"timeout".into()).ok())
        .and_then(|f| f.dyn_into::<Function>().ok())
        && let Ok(signal) = timeout.call1(
            abort.as_ref().unwrap_or(&JsValue::NULL),
            &cfg.timeout_ms.into(),
        )
    {
        let _ = Reflect::set(&init, &"signal".into(), &signal);
    }
    let net = |e: JsValue| -> JsValue {
        let name = get(&e, "name")
            .and_then(|n| n.as_string())
            .unwrap_or_default();
        let timeout = name == "TimeoutError" || name == "AbortError";
        let reason = if timeout {
            format!("no answer within {} ms", cfg.timeout_ms)
        } else {
            "the request failed (offline, DNS, CORS or a refused connection)".to_string()
        };
        super::to_js_error(Error::network(timeout, reason))
    };
    let promise = fetch
        .call2(&global, &url.into(), &init)
        .map_err(net)?
        .dyn_into::<Promise>()
        .map_err(|_| super::to_js_error(Error::invalid("fetch", "must return a Promise")))?;
    let resp = JsFuture::from(promise).await.map_err(net)?;
    let status = get(&resp, "status").and_then(|s| s.as_f64()).unwrap_or(0.0) as u16;
    let content_type = get(&resp, "headers")
        .and_then(|h| {
            let f = Reflect::get(&h, &"get".into())
                .ok()?
                .dyn_into::<Function>()
                .ok()?;
            f.call1(&h, &"content-type".into()).ok()
        })
        .and_then(|v| v.as_string());
    let buf = Reflect::get(&resp, &"arrayBuffer".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
        .and_then(|f| f.call0(&resp).ok())
        .and_then(|p| p.dyn_into::<Promise>().ok())
        .ok_or_else(|| super::to_js_error(Error::invalid("fetch", "the answer has no body")))?;
    let buf = JsFuture::from(buf).await.map_err(net)?;
    Ok(Answer {
        status,
        content_type,
        body: Uint8Array::new(&buf).to_vec(),
    })
}

/// Asks the page's `getToken` for a token bound to `body`.
async fn token(
    cfg: &ClientConfig,
    provider: Provider,
    op: &str,
    body: &[u8],
) -> Result<String, JsValue> {
    let get_token = cfg.get_token.as_ref().ok_or_else(|| {
        super::to_js_error(Error::invalid(
            "getToken",
            "pass getToken in the FaceBridge options: it asks your backend for a request token",
        ))
    })?;
    let req = Object::new();
    let _ = Reflect::set(&req, &"provider".into(), &provider.name().into());
    let _ = Reflect::set(&req, &"op".into(), &op.into());
    let _ = Reflect::set(&req, &"digest".into(), &body_digest(body).into());
    let _ = Reflect::set(&req, &"bytes".into(), &(body.len() as f64).into());
    let v = get_token.call1(&JsValue::NULL, &req)?;
    let v = match v.dyn_into::<Promise>() {
        Ok(p) => JsFuture::from(p).await?,
        Err(v) => v,
    };
    let t = v
        .as_string()
        .or_else(|| get(&v, "token").and_then(|t| t.as_string()))
        .filter(|t| !t.is_empty());
    t.ok_or_else(|| {
        super::to_js_error(Error::invalid(
            "getToken",
            "must resolve to {token: string} (or the token string)",
        ))
    })
}

/// POSTs `body` to the edge with a fresh token; once more after `TOKEN_EXPIRED`.
async fn call_edge(
    cfg: &ClientConfig,
    provider: Provider,
    path: &str,
    op: &str,
    body: &[u8],
) -> Result<Answer, JsValue> {
    let endpoint = cfg.endpoint.as_deref().ok_or_else(|| {
        super::to_js_error(Error::invalid(
            "endpoint",
            "pass the edge's URL in the FaceBridge options",
        ))
    })?;
    let url = format!("{endpoint}{path}");
    for attempt in 0..2 {
        let t = token(cfg, provider, op, body).await?;
        let headers = [
            ("content-type".to_string(), "application/json".to_string()),
            ("authorization".to_string(), format!("Bearer {t}")),
        ];
        let a = http(cfg, &url, &headers, body).await?;
        if a.status == 200 {
            return Ok(a);
        }
        let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap_or_default();
        let err = &v["error"];
        let code = err["code"].as_str().unwrap_or("PROTOCOL");
        if code == "TOKEN_EXPIRED" && attempt == 0 {
            continue;
        }
        let message = err["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!("the edge answered HTTP {} without an error body", a.status)
            });
        let extra = super::to_js(err);
        let _ = Reflect::set(&extra, &"status".into(), &a.status.into());
        return Err(remote_error(code, &message, Some(&extra)));
    }
    Err(remote_error(
        "TOKEN_EXPIRED",
        "the token expired twice",
        None,
    ))
}

/// `compare(document, selfie, {video})`: through the edge, or directly to
/// Valify in direct mode.
pub(crate) async fn compare(
    cfg: &ClientConfig,
    document: JsValue,
    selfie: JsValue,
    options: JsValue,
) -> Result<JsValue, JsValue> {
    let provider = cfg.provider.ok_or_else(|| {
        super::to_js_error(Error::invalid(
            "provider",
            "pass provider in the FaceBridge options",
        ))
    })?;
    let req = MatchRequest {
        document: media(document, "document").await?,
        selfie: media(selfie, "selfie").await?,
        video: match get(&options, "video") {
            Some(v) => Some(video(v).await?),
            None => None,
        },
    };
    if cfg.direct {
        return direct(cfg, &req).await;
    }
    let body = wire::encode_body(&req);
    let a = call_edge(
        cfg,
        provider,
        &format!("{}{}", wire::MATCH_PREFIX, provider.name()),
        OP_COMPARE,
        &body,
    )
    .await?;
    let text = String::from_utf8_lossy(&a.body);
    js_sys::JSON::parse(&text)
        .map_err(|_| remote_error("PROTOCOL", "the edge's answer is not JSON", None))
}

/// One call's worth of the direct grant: a Valify credential and where to
/// send. Concurrent calls share one request for a grant; each takes one of
/// its calls.
async fn take_grant(cfg: &ClientConfig) -> Result<(Credential, ProviderConfig), JsValue> {
    let mut asked = false;
    loop {
        let now = now_s();
        if let Some(g) = cfg
            .grant
            .borrow_mut()
            .as_mut()
            .filter(|g| g.calls_left > 0 && now + 15 < g.expires_at)
        {
            g.calls_left -= 1;
            let cred = Credential::Valify {
                access_token: Secret::new(g.access_token.clone()),
                bundle_key: Secret::new(g.bundle_key.clone()),
            };
            let mut pcfg = ProviderConfig::with_base_url(g.base_url.clone());
            pcfg.valify = crate::providers::valify::Options {
                version: g.valify_version.clone(),
                lang: g.lang.clone(),
            };
            return Ok((cred, pcfg));
        }
        if asked {
            return Err(remote_error(
                "PROTOCOL",
                "the edge's direct grant has no call left or has expired",
                None,
            ));
        }
        let pending = cfg.inflight.borrow().clone();
        if let Some(p) = pending {
            // Another call is asking already: use its answer (or ask anew if it failed).
            let _ = JsFuture::from(p).await;
            continue;
        }
        let owned = cfg.detached();
        let p = future_to_promise(async move {
            let a = call_edge(
                &owned,
                Provider::Valify,
                VALIFY_DIRECT_PATH,
                OP_VALIFY_TOKEN,
                b"{}",
            )
            .await?;
            Ok(JsValue::from(String::from_utf8_lossy(&a.body).into_owned()))
        });
        *cfg.inflight.borrow_mut() = Some(p.clone());
        let answer = JsFuture::from(p).await;
        *cfg.inflight.borrow_mut() = None;
        let text = answer?.as_string().unwrap_or_default();
        let g: Grant = serde_json::from_str(&text).map_err(|_| {
            remote_error("PROTOCOL", "the edge's direct grant is not readable", None)
        })?;
        *cfg.grant.borrow_mut() = Some(g);
        asked = true;
    }
}

/// Direct mode: a Valify access token from the edge (reused for its 3 calls
/// and 10 minutes), then the call to Valify from this page.
async fn direct(cfg: &ClientConfig, req: &MatchRequest) -> Result<JsValue, JsValue> {
    let (cred, pcfg) = take_grant(cfg).await?;
    let sreq = Provider::Valify
        .build_request(req, &cred, &pcfg)
        .map_err(super::to_js_error)?;
    let a = http(cfg, &sreq.url, &sreq.headers, &sreq.body).await?;
    let resp = HttpResponse {
        status: a.status,
        content_type: a.content_type.as_deref(),
        body: &a.body,
    };
    match Provider::Valify.parse_response(&resp, &cred) {
        Ok(r) => Ok(super::to_js(&r)),
        Err(e) => {
            if e.code == crate::error::ServiceCode::Unauthorized {
                *cfg.grant.borrow_mut() = None;
            }
            Err(super::to_js_error(e.into()))
        }
    }
}
