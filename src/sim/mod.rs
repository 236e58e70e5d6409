//! Strict local simulators of the five services, on one loopback listener.
//!
//! `facebridge simulate --listen 127.0.0.1:8787` serves every service at its
//! documented path. Requests are checked the way `docs/services.md` reads at
//! its strictest (credentials, content types, field names, file extensions,
//! sizes, dimensions), and every documented success shape and error can come
//! back. Scores come from the submitted images (see [`similarity`]); every
//! response says in `x-facebridge-simulator` that it is not a biometric result.
//!
//! Fault injection, per request, with the header `x-facebridge-sim-fault`:
//! `latency=<ms>` (then answer normally), `status=<code>` (an empty error
//! with that status), `malformed` (truncated JSON), `html` (a 502 HTML page),
//! `reset` (bytes that are not HTTP: a transport failure, as on a reset;
//! tiny_http cannot abort the TCP connection itself), `hang=<ms>` (say
//! nothing, then close), `error=<name>` (one of the service's documented
//! errors, as the documentation shows it: see `services::documented_error`),
//! `echo` (a 400 that echoes the credentials in every spelling, for the
//! edge's scrubbing tests).
//!
//! A client that cannot set headers on the service request (the edge Worker
//! builds that request itself) queues a fault with `POST /__sim/next-fault`
//! and the fault as the body; it applies to the next service request.
//!
//! For soak tests, `POST /__sim/fault-mix` with a body such as
//! `none*6,latency=800,reset,status=503,hang=5000` sets a mix drawn in turn
//! (each entry as often as its `*weight`, 1 by default) by every service
//! request that has no fault of its own; an empty body clears it.
//!
//! `GET /__sim/stats` returns `{"requests": N, "faults": {"none": n, ...}}`:
//! how many service requests arrived, and how many met each fault, so tests
//! can prove that a refused request never reached a service and load tests
//! can match every answer to what the service did.

mod multipart;
mod services;
pub mod similarity;

use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::detect::Detector;
use crate::providers::secrets::{NAMES, env_or_dev};
use crate::providers::valify::TokenBudget;

/// Says what the simulator is, on every response.
pub const NOTICE: &str =
    "simulator: scores are image similarity of eye-aligned face crops, not a biometric result";
/// Largest request body the simulators read (a service would refuse more).
const MAX_BODY: u64 = 64 << 20;
/// The longest a `hang` or `latency` fault may last.
const MAX_FAULT_MS: u64 = 60_000;

/// What the simulators accept.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Secret values by their `FB_*` names.
    pub secrets: HashMap<String, String>,
    /// CVS URL mode fetches only URLs starting with one of these.
    pub url_allow_list: Vec<String>,
    /// Valify access tokens' lifetime (600 s documented; tests shorten it).
    pub valify_token_lifetime_s: u64,
}

impl SimConfig {
    /// Secrets from the environment, or their development values.
    pub fn from_env() -> Self {
        let secrets = NAMES
            .iter()
            .flat_map(|(_, names)| names.iter())
            .filter_map(|n| env_or_dev(n).map(|v| (n.to_string(), v)))
            .collect();
        SimConfig {
            secrets,
            url_allow_list: Vec::new(),
            valify_token_lifetime_s: 600,
        }
    }
    fn secret(&self, name: &str) -> &str {
        self.secrets.get(name).map(String::as_str).unwrap_or("")
    }
}

pub(crate) struct State {
    cfg: SimConfig,
    detector: &'static Detector,
    requests: AtomicU64,
    valify_tokens: Mutex<HashMap<String, TokenBudget>>,
    next_id: AtomicU64,
    next_faults: Mutex<std::collections::VecDeque<String>>,
    /// The soak mix, drawn in turn: (entries, next index).
    fault_mix: Mutex<(Vec<String>, usize)>,
    /// Service requests by the fault they met (`none` for none).
    fault_counts: Mutex<HashMap<String, u64>>,
}

impl State {
    fn id(&self, prefix: &str) -> String {
        format!(
            "{prefix}-{:08}",
            self.next_id.fetch_add(1, Ordering::Relaxed)
        )
    }
}

/// A running simulator.
pub struct Simulator {
    pub addr: SocketAddr,
    state: Arc<State>,
    server: Arc<tiny_http::Server>,
}

impl Simulator {
    /// Service requests received so far.
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::Relaxed)
    }
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// Stops accepting; worker threads end.
    pub fn stop(&self) {
        self.server.unblock();
    }
}

/// Starts the simulators on `listen` with `threads` worker threads.
pub fn start(listen: &str, cfg: SimConfig, threads: usize) -> std::io::Result<Simulator> {
    let server =
        tiny_http::Server::http(listen).map_err(|e| std::io::Error::other(e.to_string()))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| std::io::Error::other("not an IP listener"))?;
    let server = Arc::new(server);
    let state = Arc::new(State {
        cfg,
        detector: crate::detect::shared(),
        requests: AtomicU64::new(0),
        valify_tokens: Mutex::new(HashMap::new()),
        next_id: AtomicU64::new(1),
        next_faults: Mutex::new(std::collections::VecDeque::new()),
        fault_mix: Mutex::new((Vec::new(), 0)),
        fault_counts: Mutex::new(HashMap::new()),
    });
    for _ in 0..threads.max(1) {
        let (server, state) = (server.clone(), state.clone());
        std::thread::spawn(move || {
            while let Ok(req) = server.recv() {
                handle(&state, req);
            }
        });
    }
    Ok(Simulator {
        addr,
        state,
        server,
    })
}

/// A request as the handlers see it.
pub(crate) struct Req {
    pub method: String,
    pub path: String,
    pub query: HashMap<String, String>,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn content_type(&self) -> &str {
        self.header("content-type")
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
    }
}

/// An answer.
pub(crate) struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, v: serde_json::Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: v.to_string().into_bytes(),
        }
    }
}

fn parse_query(q: &str) -> HashMap<String, String> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
                {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

enum Fault {
    None,
    Latency(u64),
    Status(u16),
    Malformed,
    Html,
    Reset,
    Hang(u64),
    Documented(String),
    Echo,
}

/// The mix's entries from `spec*weight,...` (at most 1000 entries).
fn parse_mix(body: &str) -> Vec<String> {
    let mut mix = Vec::new();
    for part in body.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (spec, weight) = part.rsplit_once('*').unwrap_or((part, "1"));
        let weight = weight.trim().parse::<usize>().unwrap_or(1).min(1000);
        for _ in 0..weight {
            if mix.len() < 1000 {
                mix.push(spec.trim().to_string());
            }
        }
    }
    mix
}

fn fault(state: &State, req: &Req) -> Fault {
    let queued = || state.next_faults.lock().ok()?.pop_front();
    let mixed = || {
        let mut m = state.fault_mix.lock().ok()?;
        let (mix, next) = &mut *m;
        let f = mix.get(*next % mix.len().max(1)).cloned()?;
        *next = next.wrapping_add(1);
        Some(f)
    };
    let f = req
        .header("x-facebridge-sim-fault")
        .map(str::to_string)
        .or_else(queued)
        .or_else(mixed)
        .unwrap_or_else(|| "none".to_string());
    if let Ok(mut counts) = state.fault_counts.lock() {
        *counts.entry(f.clone()).or_insert(0) += 1;
    }
    let f = f.as_str();
    let (kind, arg) = f.split_once('=').unwrap_or((f, ""));
    let ms = || arg.parse::<u64>().unwrap_or(1000).min(MAX_FAULT_MS);
    match kind.trim() {
        "latency" => Fault::Latency(ms()),
        "status" => Fault::Status(arg.parse().unwrap_or(500)),
        "malformed" => Fault::Malformed,
        "html" => Fault::Html,
        "reset" => Fault::Reset,
        "hang" => Fault::Hang(ms()),
        "error" => Fault::Documented(arg.trim().to_string()),
        "echo" => Fault::Echo,
        _ => Fault::None,
    }
}

fn handle(state: &State, mut raw: tiny_http::Request) {
    let url = raw.url().to_string();
    let (path, query) = url.split_once('?').unwrap_or((&url, ""));
    let mut body = Vec::new();
    let too_big = raw
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body)
        .is_err()
        || body.len() as u64 > MAX_BODY;
    let req = Req {
        method: raw.method().as_str().to_uppercase(),
        path: path.to_string(),
        query: parse_query(query),
        headers: raw
            .headers()
            .iter()
            .map(|h| {
                (
                    h.field.as_str().as_str().to_string(),
                    h.value.as_str().to_string(),
                )
            })
            .collect(),
        body,
    };
    if req.path == "/__sim/stats" {
        let n = state.requests.load(Ordering::Relaxed);
        let faults = state
            .fault_counts
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        return respond(
            raw,
            Reply::json(200, serde_json::json!({"requests": n, "faults": faults})),
        );
    }
    if req.path == "/__sim/fault-mix" && req.method == "POST" {
        let mix = parse_mix(&String::from_utf8_lossy(&req.body));
        let n = mix.len();
        if let Ok(mut m) = state.fault_mix.lock() {
            *m = (mix, 0);
        }
        return respond(raw, Reply::json(200, serde_json::json!({"entries": n})));
    }
    if req.path == "/__sim/next-fault" && req.method == "POST" {
        let spec = String::from_utf8_lossy(&req.body).trim().to_string();
        if let Ok(mut q) = state.next_faults.lock() {
            q.push_back(spec);
        }
        return respond(raw, Reply::json(200, serde_json::json!({"queued": true})));
    }
    state.requests.fetch_add(1, Ordering::Relaxed);
    let reply = match fault(state, &req) {
        Fault::Reset => {
            // tiny_http cannot abort a TCP connection, so this writes bytes
            // that are not HTTP: the client's read fails at once, as it does
            // on a reset (a transport error, not a timeout).
            let mut w = raw.into_writer();
            let _ = std::io::Write::write_all(&mut w, b"\x00\x15RST\r\n\r\n");
            let _ = std::io::Write::flush(&mut w);
            return;
        }
        Fault::Hang(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            drop(raw.into_writer());
            return;
        }
        Fault::Status(s) => Reply { status: s, content_type: "text/plain", body: Vec::new() },
        Fault::Html => Reply {
            status: 502,
            content_type: "text/html",
            body: b"<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>".to_vec(),
        },
        Fault::Malformed => Reply { status: 200, content_type: "application/json", body: br#"{"result": {"is_simil"#.to_vec() },
        Fault::Documented(name) => services::documented_error(&req.path, &name).unwrap_or_else(|| {
            Reply::json(400, serde_json::json!({"error": format!("the simulator has no documented error `{name}` here")}))
        }),
        Fault::Echo => echo_credentials(state, &req),
        Fault::Latency(ms) => {
            std::thread::sleep(Duration::from_millis(ms));
            route(state, &req, too_big)
        }
        Fault::None => route(state, &req, too_big),
    };
    respond(raw, reply);
}

/// The `echo` fault: a 400 whose every message field carries the service's
/// credentials back in each spelling a careless service (or a proxy's error
/// page) might use: as sent, JSON-escaped, form-encoded, base64, and CVS's
/// `Basic base64(key:secret)`; plus the request's own headers and the start
/// of its body. A long prefix puts the first secret across a 300-character
/// cut. Whatever reads this must not pass any of it on.
fn echo_credentials(state: &State, req: &Req) -> Reply {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut forms = Vec::new();
    for v in state.cfg.secrets.values() {
        forms.push(v.clone());
        let j = serde_json::to_string(v).unwrap_or_default();
        forms.push(j.trim_matches('"').to_string());
        // Form-encoded as Valify's token request sends it.
        forms.push(crate::providers::secrets::form_encode(v));
        forms.push(b64.encode(v));
    }
    forms.push(b64.encode(format!(
        "{}:{}",
        state.cfg.secret("FB_CVS_API_KEY"),
        state.cfg.secret("FB_CVS_API_SECRET")
    )));
    let headers: Vec<String> = req
        .headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}"))
        .collect();
    let message = format!("{} {}", "x".repeat(290), forms.join(" "));
    let body = String::from_utf8_lossy(&req.body[..req.body.len().min(4096)]).into_owned();
    Reply::json(
        400,
        serde_json::json!({
            "error": message, "message": message, "detail": message,
            "errorMessage": message, "error_description": message,
            "code": 400, "errorCode": 400, "status": 400,
            "request_headers": headers, "request_body": body,
        }),
    )
}

fn route(state: &State, req: &Req, too_big: bool) -> Reply {
    if too_big {
        return Reply::json(413, serde_json::json!({"error": "request body too large"}));
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/api/v1/backend/face2face/compare/") => services::biometric_kz(state, req),
        ("POST", "/api/v1/face/match/") | ("POST", "/api/v1.1/face/match/") => {
            services::valify(state, req)
        }
        ("POST", "/api/o/token/") => services::valify_token(state, req),
        ("POST", "/api-gateway/match-faces") => services::biometry(state, req),
        ("GET" | "POST", "/api/v2/ekyc/face_matching") => services::cvs(state, req),
        ("POST", "/aiface/face-compare/v1") => services::aigen(state, req),
        _ => Reply::json(404, serde_json::json!({"detail": "Not found."})),
    }
}

fn respond(raw: tiny_http::Request, reply: Reply) {
    let mut r = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
    for (k, v) in [
        ("content-type", reply.content_type),
        ("x-facebridge-simulator", NOTICE),
    ] {
        if let Ok(h) = tiny_http::Header::from_bytes(k.as_bytes(), v.as_bytes()) {
            r.add_header(h);
        }
    }
    let _ = raw.respond(r);
}
