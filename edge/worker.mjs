// facebridge edge proxy: a Cloudflare module Worker.
//
// The browser SDK posts both images to POST /v1/match/{provider} with a token
// its page got from the customer's backend (getToken). This Worker holds the
// services' secrets (Worker secrets, FB_* names), and every decision it takes
// is made by the crate's own code (EdgeProxy, src/edge): route, Origin, the
// token (from the header, before the body is read), body size and digest,
// image re-validation, the service request, the answer and its signed
// receipt. The Worker itself only moves bytes, consumes each token's jti in a
// Durable Object, and calls the service once, with a timeout.
//
// workerd rules: the wasm is imported as a compiled module (no compiling from
// bytes at run time) and instantiated inside the first request, not at top
// level; nothing random happens at top level either.

import wasmModule from "../pkg/edge/facebridge_edge_bg.wasm";
// The full-range face model, which the wasm does not embed: a Data module
// (ArrayBuffer) for FB_EDGE_DETECT_FACES; EdgeProxy checks its SHA-256.
import fullModel from "../pkg/blazeface_back_256.fbnet";
import { initSync, EdgeProxy, __wbg_reset_state } from "../pkg/edge/facebridge_edge.js";

/** GET: the public JWK set receipts verify with (Ed25519 keys only). */
const RECEIPT_KEYS_PATH = "/v1/receipt-keys";

let proxy = null;
let initialised = false;

function edgeFor(env) {
  if (proxy === null) {
    if (!initialised) {
      initSync({ module: wasmModule });
      initialised = true;
    }
    proxy = new EdgeProxy(env, { fullModel }); // throws EDGE_MISCONFIGURED until env is right
  }
  return proxy;
}

/**
 * A trap (out of memory, an abort) leaves the instance's memory and the
 * proxy's borrow state undefined: drop both and start the next request on a
 * fresh instance. Valify's cached access token is lost with it; nothing else
 * lives there.
 */
function recover(e) {
  proxy = null;
  try {
    __wbg_reset_state();
  } catch {
    initialised = false;
  }
  console.error(JSON.stringify({ facebridge: "edge", event: "wasm-trap", reset: true, error: String(e && e.message).slice(0, 200) }));
}

/** The wasm's linear memory in MiB: it only grows, so after a request it is the isolate's high-water mark for the wasm heap (docs/security.md). */
function wasmMiB() {
  if (!initialised) return null;
  try {
    return Math.round((initSync({ module: wasmModule }).memory.buffer.byteLength / 1048576) * 10) / 10;
  } catch {
    return null;
  }
}

const isTrap = (e) => e instanceof WebAssembly.RuntimeError || e instanceof RangeError;

const nowS = () => Math.floor(Date.now() / 1000);

function answer(status, body, headers) {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  h.set("cache-control", "no-store");
  return new Response(body, { status, headers: h });
}

const UNEXPECTED = JSON.stringify({ error: { code: "SERVICE_ERROR", message: "the edge failed unexpectedly", status: 500 } });

/** {status, body, code} of an error: ours carry them; anything else says only that it happened. */
function failure(err, log) {
  if (err && typeof err.body === "string" && typeof err.status === "number") {
    // The client gets `body` (a bare code where the edge is misconfigured);
    // the operator's log gets the message, which names the variable.
    if (err.code === "EDGE_MISCONFIGURED") log.detail = String(err.message).slice(0, 300);
    return { status: err.status, body: err.body, code: err.code };
  }
  if (isTrap(err)) recover(err);
  return { status: 500, body: UNEXPECTED, code: "SERVICE_ERROR" };
}

/**
 * Streams the body into the admission (hashed in the wasm as it arrives),
 * stopping as soon as it passes the route's limit: no copy held in JS.
 */
async function readInto(request, admission) {
  if (!request.body) return;
  const reader = request.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      admission.push(value); // throws BODY_TOO_LARGE past the limit
    }
  } catch (e) {
    reader.cancel().catch(() => {});
    throw e;
  }
}

/**
 * Reads and drops a body the edge refused without reading, when its declared
 * length is within what the route would have accepted anyway: an HTTP client
 * still writing its body when the answer and the connection close gets a
 * reset instead of the answer, and the SDK would see a network error where
 * the edge said TOKEN_EXPIRED (worth a retry). Nothing is kept or hashed;
 * bodies with no Content-Length, or over the limit, are not read at all.
 */
async function drainRefused(request, limit) {
  const declared = Number(request.headers.get("content-length"));
  if (!request.body || request.bodyUsed || !Number.isFinite(declared) || declared <= 0 || declared > limit) return;
  const reader = request.body.getReader();
  let seen = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      seen += value.byteLength;
      if (seen > limit) return reader.cancel().catch(() => {});
    }
  } catch {
    /* the client went away */
  }
}

/** One service call, never retried: it may be billed. */
async function send(req, timeoutMs) {
  let r;
  try {
    r = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = new Uint8Array(await r.arrayBuffer());
    return { status: r.status, contentType: r.headers.get("content-type"), body };
  } catch (e) {
    const timeout = e && (e.name === "TimeoutError" || e.name === "AbortError");
    throw EdgeProxy.transportError(
      timeout ? "timeout" : "network",
      timeout ? `no answer within ${timeoutMs} ms` : "the service could not be reached",
    );
  }
}

/** Single use: the first request with a jti wins; the record lives until the token is dead. */
async function consumeJti(env, jti, exp) {
  const stub = env.JTI.get(env.JTI.idFromName(jti));
  const r = await stub.fetch("https://jti.internal/consume", {
    method: "POST",
    body: JSON.stringify({ exp }),
  });
  if (r.status === 409) throw EdgeProxy.transportError("replayed", "");
  if (!r.ok) throw new Error("jti ledger failed");
}

/**
 * A new Valify access token into the proxy's cache. Not shared between
 * concurrent requests: a promise one request's I/O settles cannot be awaited
 * safely by another in workerd (the waiting request stalled until its own
 * timeout in the suite), and a spare token costs one unbilled call.
 */
async function refreshValifyToken(edge) {
  const r = await send(edge.valifyTokenRequest(), edge.timeoutMs);
  edge.acceptValifyToken(r.status, r.contentType, r.body, nowS());
}

/**
 * The service's request. For Valify, `serviceRequest` takes a call from the
 * cached access token in the same synchronous step that checks it, so a
 * concurrent request can never spend it in between; `null` means "get a
 * token first".
 */
async function serviceRequest(edge, checked) {
  for (let attempt = 0; attempt < 3; attempt++) {
    const req = edge.serviceRequest(checked, nowS());
    if (req !== null) return req;
    await refreshValifyToken(edge);
  }
  throw EdgeProxy.transportError("network", "no usable Valify access token after refreshing it");
}

async function handle(request, env, log) {
  let edge;
  try {
    edge = edgeFor(env);
  } catch (e) {
    return { ...failure(e, log), cors: [] };
  }
  const origin = request.headers.get("origin");
  let cors = [];
  let admission = null;
  let checked = null; // both hold wasm memory: freed in `finally`, every path
  let sealed = false; // from the token's acceptance on, every answer carries a receipt
  let limit = 0; // what the route accepts: a refused body within it is drained
  try {
    cors = edge.corsHeaders(origin);
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === RECEIPT_KEYS_PATH) {
      return { status: 200, body: edge.receiptKeys(), cors: [["access-control-allow-origin", "*"]] };
    }
    const route = edge.route(request.method, url.pathname);
    limit = edge.bodyLimit(route);
    edge.checkOrigin(origin);
    if (route.kind === "preflight") return { status: 204, body: null, cors };
    // The token, from the header alone: a client without one costs no body read.
    admission = edge.authorize(route, request.headers.get("authorization"), request.headers.get("content-length"), nowS());
    log.provider = admission.provider;
    await readInto(request, admission);
    edge.bind(admission); // the body the token was minted for, or TOKEN_REJECTED
    await consumeJti(env, admission.jti, admission.exp);
    if (route.kind === "valifyDirect") {
      const r = await send(edge.valifyTokenRequest(), edge.timeoutMs);
      return { status: 200, body: edge.directGrant(r.status, r.contentType, r.body, nowS()), cors };
    }
    sealed = true;
    checked = edge.validate(admission);
    const req = await serviceRequest(edge, checked);
    log.sentBytes = req.body.byteLength;
    const r = await send(req, edge.timeoutMs);
    const result = edge.finish(admission.provider, r.status, r.contentType, r.body);
    return { status: 200, body: edge.seal(admission, result, nowS()), cors };
  } catch (e) {
    const f = failure(e, log);
    await drainRefused(request, limit); // a no-op once the body was read
    if (sealed && proxy !== null) {
      try {
        f.body = edge.seal(admission, f.body, nowS());
      } catch (e2) {
        // No receipt: the backend treats the answer as unproven.
        if (isTrap(e2)) recover(e2);
        log.receipt = "failed";
      }
    }
    return { ...f, cors };
  } finally {
    for (const o of [checked, admission]) {
      if (o === null || proxy === null) continue;
      try {
        o.free();
      } catch {
        /* a reset instance already dropped it */
      }
    }
  }
}

export default {
  async fetch(request, env) {
    const started = Date.now();
    const log = { method: request.method, path: new URL(request.url).pathname };
    const out = await handle(request, env, log);
    // One line per request: no token, no body, no secret, no service message.
    console.log(JSON.stringify({ facebridge: "edge", ...log, status: out.status, code: out.code ?? null, ms: Date.now() - started, wasmMiB: wasmMiB() }));
    if (out.body === null) return new Response(null, { status: out.status, headers: out.cors });
    return answer(out.status, out.body, out.cors);
  },
};

/** The jti ledger: one object per jti (idFromName), so single use is strongly consistent. */
export class JtiLedger {
  constructor(state) {
    this.state = state;
  }
  async fetch(request) {
    const { exp } = await request.json();
    if ((await this.state.storage.get("exp")) !== undefined) {
      return new Response("replayed", { status: 409 });
    }
    await this.state.storage.put("exp", exp);
    // Forget it once no clock could still accept the token (exp + skew).
    await this.state.storage.setAlarm((Number(exp) + 60) * 1000);
    return new Response("ok");
  }
  async alarm() {
    await this.state.storage.deleteAll();
  }
}
