// facebridge edge proxy: a Cloudflare module Worker.
//
// The browser SDK posts both images to POST /v1/match/{provider} with a token
// its page got from the customer's backend (getToken). This Worker holds the
// services' secrets (Worker secrets, FB_* names), and every decision it takes
// is made by the crate's own code (EdgeProxy, src/edge): route, Origin, body
// size, token, image re-validation, the service request and the answer. The
// Worker itself only moves bytes, consumes each token's jti in a Durable
// Object, and calls the service once, with a timeout.
//
// workerd rules: the wasm is imported as a compiled module (no compiling from
// bytes at run time) and instantiated inside the first request, not at top
// level; nothing random happens at top level either.

import wasmModule from "../pkg/facebridge_bg.wasm";
// The full-range face model, which the wasm does not embed: a Data module
// (ArrayBuffer) for FB_EDGE_DETECT_FACES; EdgeProxy checks its SHA-256.
import fullModel from "../pkg/blazeface_back_256.fbnet";
import { initSync, EdgeProxy } from "../pkg/facebridge.js";

let proxy = null;

function edgeFor(env) {
  if (proxy === null) {
    initSync({ module: wasmModule });
    proxy = new EdgeProxy(env, { fullModel }); // throws EDGE_MISCONFIGURED (naming the variable) until env is right
  }
  return proxy;
}

const nowS = () => Math.floor(Date.now() / 1000);

function answer(status, body, headers) {
  const h = new Headers(headers);
  h.set("content-type", "application/json; charset=utf-8");
  h.set("cache-control", "no-store");
  return new Response(body, { status, headers: h });
}

function failure(err, cors) {
  if (err && typeof err.body === "string" && typeof err.status === "number") {
    return { response: answer(err.status, err.body, cors), code: err.code, status: err.status };
  }
  // Not one of ours: say nothing about it but that it happened.
  const body = JSON.stringify({ error: { code: "SERVICE_ERROR", message: "the edge failed unexpectedly", status: 500 } });
  return { response: answer(500, body, cors), code: "SERVICE_ERROR", status: 500 };
}

/** Reads the body, refusing it as soon as it passes `max` bytes. */
async function readLimited(request, edge) {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > edge.maxBodyBytes) {
      await reader.cancel();
      edge.checkLength(String(total)); // throws BODY_TOO_LARGE
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
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

async function valifyToken(edge, fresh) {
  const req = edge.valifyTokenRequest();
  const r = await send(req, edge.timeoutMs);
  if (fresh) return edge.directGrant(r.status, r.contentType, r.body, nowS());
  edge.acceptValifyToken(r.status, r.contentType, r.body, nowS());
  return null;
}

async function handle(request, env, log) {
  let edge;
  try {
    edge = edgeFor(env);
  } catch (e) {
    return failure(e, []);
  }
  const origin = request.headers.get("origin");
  const cors = edge.corsHeaders(origin);
  try {
    const url = new URL(request.url);
    const route = edge.route(request.method, url.pathname);
    edge.checkOrigin(origin);
    if (route.kind === "preflight") {
      return { response: new Response(null, { status: 204, headers: cors }), status: 204 };
    }
    edge.checkLength(request.headers.get("content-length"));
    const body = await readLimited(request, edge);
    const admitted = edge.admit(route, request.headers.get("authorization"), body, nowS());
    log.provider = admitted.provider;
    await consumeJti(env, admitted.jti, admitted.exp);
    if (route.kind === "valifyDirect") {
      const grant = await valifyToken(edge, true);
      return { response: answer(200, grant, cors), status: 200 };
    }
    const checked = edge.validate(admitted.provider, body);
    if (admitted.provider === "valify" && edge.valifyTokenNeeded(nowS())) {
      await valifyToken(edge, false);
    }
    const r = await send(edge.serviceRequest(checked, nowS()), edge.timeoutMs);
    const result = edge.finish(admitted.provider, r.status, r.contentType, r.body);
    return { response: answer(200, result, cors), status: 200 };
  } catch (e) {
    return failure(e, cors);
  }
}

export default {
  async fetch(request, env) {
    const started = Date.now();
    const log = { method: request.method, path: new URL(request.url).pathname };
    const out = await handle(request, env, log);
    // One line per request: no token, no body, no secret, no service message.
    console.log(JSON.stringify({ facebridge: "edge", ...log, status: out.status, code: out.code ?? null, ms: Date.now() - started }));
    return out.response;
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
