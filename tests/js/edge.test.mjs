// The edge Worker (edge/worker.mjs) in real workerd, through Miniflare, with
// the native simulators behind it. The SDK in Node plays the browser: it
// prepares the photos, asks getToken (a jose backend, as in the README) and
// posts to the Worker, which calls the simulator on loopback.
//
// Every secret is random per run, so "no secret in any answer or log line"
// is checked against values that cannot appear by chance.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT, createLocalJWKSet, jwtVerify } from "jose";
import { PROVIDERS, randomSecrets, receiptKeyPair, simulatorBin, startEdge, startSimulator } from "../../scripts/stack.mjs";
import { makeBackend } from "../../scripts/backend.mjs";
import { pngOfZeros as pngBomb } from "./hostile.mjs";

const root = new URL("../../", import.meta.url);
const pkg = await import(new URL("pkg/facebridge.js", root));
pkg.initSync({ module: readFileSync(new URL("pkg/facebridge_bg.wasm", root)) });
const { FaceBridge, bodyDigest, matchRequestBody } = pkg;
// The edge's own wasm (pkg/edge/): EdgeProxy and the receipt signer.
const edgePkg = await import(new URL("pkg/edge/facebridge_edge.js", root));
edgePkg.initSync({ module: readFileSync(new URL("pkg/edge/facebridge_edge_bg.wasm", root)) });
const { EdgeProxy } = edgePkg;

const gen = (f) => new Uint8Array(readFileSync(new URL(`tests/fixtures/generated/${f}`, root)));

const ORIGIN = "http://127.0.0.1:5173";
const AUD = "https://edge.facebridge.test";
const KID = "2026-11";
const KEY = randomBytes(32).toString("base64url");
const secrets = randomSecrets("s-");
// A password with characters that form-encoding and JSON escape: the
// scrubbing must catch every spelling.
secrets.FB_VALIFY_PASSWORD = `p@ss "w" &=${randomBytes(6).toString("hex")}`;
const RECEIPT_AUD = "https://backend.facebridge.test";
const receipts = await receiptKeyPair("r-2026-12");
const receiptEnv = { FB_RECEIPT_KEYS: JSON.stringify(receipts.privateJwk), FB_RECEIPT_AUDIENCE: RECEIPT_AUD };
// The customer's backend as the README shows it; this suite's session is "session-1".
const backend = await makeBackend({
  edgeAudience: AUD,
  kid: KID,
  tokenKey: new TextEncoder().encode(KEY),
  receiptJwk: receipts.publicJwk,
  receiptAudience: RECEIPT_AUD,
  allow: (_s, { provider, op }) => PROVIDERS.includes(provider) && ["compare", "valify-token"].includes(op),
});

let sim, simUrl, mf, edgeUrl;
const logs = [];
const seen = []; // every answer body, checked for secrets at the end

const stats = async () => (await (await fetch(`${simUrl}/__sim/stats`)).json()).requests;
const queueFault = (spec) => fetch(`${simUrl}/__sim/next-fault`, { method: "POST", body: spec });

before(async () => {
  sim = await startSimulator(simulatorBin(), secrets);
  simUrl = sim.url;
  ({ mf, url: edgeUrl } = await startEdge({
    simUrl,
    secrets,
    bindings: {
      FB_EDGE_AUDIENCE: AUD,
      FB_TOKEN_KEYS: JSON.stringify({ [KID]: KEY, "2026-10": randomBytes(32).toString("hex") }),
      FB_ALLOWED_ORIGINS: `${ORIGIN}, https://shop.example`,
      FB_SERVICE_TIMEOUT_MS: "1500",
      FB_MAX_BODY_BYTES: String(4 << 20),
      FB_EDGE_DETECT_FACES: "true",
      FB_VALIFY_DIRECT: "true",
      FB_TEST_TRAP_HOOK: "true",
      ...receiptEnv,
    },
    log: (l) => logs.push(l),
  }));
});

after(async () => {
  await mf?.dispose();
  sim?.child.kill();
});

/** The customer's backend: what README's "Mint tokens in Node" shows. */
async function mintToken({ provider, op, digest }, over = {}) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: "session-1", fbp: provider, fbo: op, fbd: digest, ...over.claims };
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", kid: KID, ...over.header })
    .setAudience(over.aud ?? AUD)
    .setIssuedAt(over.iat ?? now)
    .setExpirationTime(over.exp ?? now + 120)
    .setJti(over.jti ?? randomUUID());
  if (over.nbf) jwt = jwt.setNotBefore(over.nbf);
  return jwt.sign(over.key ?? new TextEncoder().encode(KEY));
}

/**
 * A browser-shaped POST straight to the Worker. `alone`: on a connection of
 * its own, for a body the edge refuses unread (it then closes the
 * connection, and a pooled one would fail the next request).
 */
async function post(path, body, { token, origin = ORIGIN, headers = {}, alone = false } = {}) {
  const h = { "content-type": "application/json", ...headers };
  if (origin) h.origin = origin;
  if (token) h.authorization = `Bearer ${token}`;
  const r = alone
    ? await postAlone(`${edgeUrl}${path}`, h, body)
    : await fetch(`${edgeUrl}${path}`, { method: "POST", headers: h, body });
  const text = await r.text();
  seen.push(text);
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}

function postAlone(url, headers, body) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers: { ...headers, "content-length": body.length }, agent: false });
    let answered = false;
    req.on("response", (res) => {
      answered = true;
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: res.headers }));
        req.destroy();
      });
    });
    req.on("error", (e) => (answered ? null : reject(e)));
    // The headers first: the edge refuses from Content-Length before reading
    // the body, and a body still being written when it closes the
    // connection could reset the answer away. The body follows only if no
    // answer came.
    req.flushHeaders();
    setTimeout(() => { if (!answered) req.end(body); }, 2000);
  });
}

const withOrigin = (input, init = {}) =>
  fetch(input, { ...init, headers: { ...init.headers, origin: ORIGIN } }).then(async (r) => {
    const buf = await r.arrayBuffer();
    seen.push(new TextDecoder().decode(buf));
    return new Response(buf, { status: r.status, headers: r.headers });
  });

function sdk(provider, extra = {}) {
  return new FaceBridge({
    provider,
    endpoint: edgeUrl,
    getToken: (req) => mintToken(req).then((token) => ({ token })),
    fetch: withOrigin,
    ...extra,
  });
}

/** Person A's card and selfie, prepared for AIGEN as the SDK does. */
async function aigenPhotos() {
  const fb = new FaceBridge({ provider: "aigen" });
  const card = await fb.prepare(gen("card-a.jpg"), { role: "document" });
  const selfie = await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" });
  return { card, selfie };
}

/** An SDK whose getToken goes through the backend (scripts/backend.mjs), as a real page's does. */
function sdkViaBackend(provider, session = "session-1") {
  return new FaceBridge({
    provider,
    endpoint: edgeUrl,
    getToken: (req) => backend.mintToken(session, req),
    fetch: withOrigin,
  });
}

test("all five services: same person matches, another person does not, through workerd", async () => {
  for (const provider of PROVIDERS) {
    const fb = sdk(provider);
    const card = await fb.prepare(gen("card-a.jpg"), { role: "document" });
    const selfie = await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" });
    const other = await fb.prepare(gen("card-b.jpg"), { role: "document" });
    const video = provider === "biometry" ? { video: gen("selfie-a.mp4") } : undefined;
    const same = await fb.compare(card, selfie, video);
    assert.equal(same.provider, provider);
    assert.equal(same.decision, "match", `${provider}: ${JSON.stringify(same)}`);
    const diff = await fb.compare(other, selfie, video);
    assert.notEqual(diff.decision, "match", `${provider}: another person`);
    assert.ok(diff.similarity < same.similarity, provider);
  }
});

test("EdgeProxy refuses to start without the full-range model when it must detect faces", () => {
  const env = {
    FB_EDGE_AUDIENCE: AUD,
    FB_TOKEN_KEYS: JSON.stringify({ [KID]: KEY }),
    FB_AIGEN_BASE_URL: "http://127.0.0.1:9",
    FB_EDGE_DETECT_FACES: "true",
    ...receiptEnv,
  };
  const model = new Uint8Array(readFileSync(new URL("pkg/blazeface_back_256.fbnet", root)));
  const other = model.slice();
  other[100] ^= 1;
  for (const [models, why] of [
    [undefined, /needs the full-range model: import the package's blazeface_back_256\.fbnet/],
    [{ fullModel: other }, /models\.fullModel: its SHA-256 is/],
  ]) {
    assert.throws(() => new EdgeProxy(env, models), (e) => {
      assert.equal(e.code, "EDGE_MISCONFIGURED");
      assert.match(e.message, why);
      return true;
    });
  }
  new EdgeProxy(env, { fullModel: model.buffer });
  new EdgeProxy({ ...env, FB_EDGE_DETECT_FACES: "false" });
  // A misconfiguration names the variable in the message (the Worker's log)
  // and nothing in the body an unauthenticated client gets.
  const { FB_RECEIPT_KEYS: _, ...noReceipts } = env;
  for (const bad of [noReceipts, { ...env, FB_AIGEN_BASE_URL: "http://api.example" }, { ...env, FB_TOKEN_KEYS: '{"k": "short"}' }]) {
    assert.throws(() => new EdgeProxy({ ...bad, FB_EDGE_DETECT_FACES: "false" }), (e) => {
      assert.equal(e.code, "EDGE_MISCONFIGURED");
      assert.match(e.message, /FB_/);
      assert.doesNotMatch(e.body, /FB_|short/);
      return true;
    });
  }
});

test("jose tokens verify here and this crate's tokens verify with jose", async () => {
  // jose → Rust (authorize, push, bind: what the Worker runs).
  const edge = new EdgeProxy({
    FB_EDGE_AUDIENCE: AUD,
    FB_TOKEN_KEYS: JSON.stringify({ [KID]: KEY }),
    FB_AIGEN_BASE_URL: "http://127.0.0.1:9",
    ...receiptEnv,
  });
  const body = matchRequestBody(gen("card-a.jpg"), gen("selfie-a.jpg"));
  const digest = bodyDigest(body);
  const token = await mintToken({ provider: "aigen", op: "compare", digest });
  const route = { kind: "match", provider: "aigen" };
  const admission = edge.authorize(route, `Bearer ${token}`, String(body.length), Math.floor(Date.now() / 1000));
  assert.equal(admission.provider, "aigen");
  for (let i = 0; i < body.length; i += 4096) admission.push(body.subarray(i, i + 4096));
  edge.bind(admission);
  assert.equal(admission.received, body.length);
  // The same token for another body: refused at bind, after the stream.
  const other = edge.authorize(route, `Bearer ${token}`, null, Math.floor(Date.now() / 1000));
  other.push(body.subarray(1));
  assert.throws(() => edge.bind(other), (e) => e.code === "TOKEN_REJECTED" && JSON.parse(e.body).error.reason === "digest");
  // Rust → jose: a token minted by auth::mint (examples/js_fixtures.rs).
  const fx = JSON.parse(readFileSync(new URL("tests/fixtures/generated/rust-token.json", root), "utf8"));
  const { payload, protectedHeader } = await jwtVerify(fx.token, new TextEncoder().encode(fx.secret), {
    algorithms: ["HS256"],
    audience: fx.claims.aud,
    currentDate: new Date(fx.now * 1000),
  });
  assert.equal(protectedHeader.kid, fx.kid);
  assert.deepEqual(payload, fx.claims);
  assert.equal(payload.fbd, bodyDigest(new TextEncoder().encode(fx.body)));
});

test("the attack matrix: each refused with its code before reaching a service", async () => {
  const { card, selfie } = await aigenPhotos();
  const body = matchRequestBody(card.bytes, selfie.bytes);
  const digest = bodyDigest(body);
  const good = { provider: "aigen", op: "compare", digest };
  const now = Math.floor(Date.now() / 1000);
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const unsigned = `${enc({ alg: "none", typ: "JWT" })}.${enc({ aud: AUD, sub: "x", iat: now, exp: now + 60, jti: randomUUID(), fbp: "aigen", fbo: "compare", fbd: digest })}.`;
  const replayed = await mintToken(good);
  const first = await post("/v1/match/aigen", body, { token: replayed });
  assert.equal(first.status, 200, JSON.stringify(first.body));

  const cases = [
    ["expired", { token: await mintToken(good, { iat: now - 200, exp: now - 60 }) }, 401, "TOKEN_EXPIRED", "expired"],
    ["not yet valid", { token: await mintToken(good, { nbf: now + 120, exp: now + 200 }) }, 401, "TOKEN_REJECTED", "not_yet_valid"],
    ["lifetime over 300 s", { token: await mintToken(good, { iat: now, exp: now + 301 }) }, 401, "TOKEN_REJECTED", "lifetime"],
    ["bad signature", { token: await mintToken(good, { key: randomBytes(32) }) }, 401, "TOKEN_REJECTED", "signature"],
    ["alg none", { token: unsigned }, 401, "TOKEN_REJECTED", "algorithm"],
    ["algorithm confusion (HS512)", { token: await mintToken(good, { header: { alg: "HS512" } }) }, 401, "TOKEN_REJECTED", "algorithm"],
    ["wrong aud", { token: await mintToken(good, { aud: "https://other.example" }) }, 401, "TOKEN_REJECTED", "audience"],
    ["wrong provider", { token: await mintToken({ ...good, provider: "cvs" }) }, 401, "TOKEN_REJECTED", "provider"],
    ["wrong operation", { token: await mintToken({ ...good, op: "valify-token" }) }, 401, "TOKEN_REJECTED", "operation"],
    ["body changed after signing", { token: await mintToken({ ...good, digest: bodyDigest(new Uint8Array([1])) }) }, 401, "TOKEN_REJECTED", "digest"],
    ["replayed jti", { token: replayed }, 401, "TOKEN_REJECTED", "replayed"],
    ["no token", {}, 401, "TOKEN_REJECTED", "missing"],
    ["empty jti (could never be spent)", { token: await mintToken(good, { jti: "" }) }, 401, "TOKEN_REJECTED", "id"],
    ["a receipt's typ on a token", { token: await mintToken(good, { header: { typ: "fb-receipt+jwt" } }) }, 401, "TOKEN_REJECTED", "type"],
    ["disallowed Origin", { token: await mintToken(good), origin: "https://evil.example" }, 403, "ORIGIN_REJECTED"],
    ["no Origin", { token: await mintToken(good), origin: null }, 403, "ORIGIN_REJECTED"],
  ];
  const before = await stats();
  for (const [name, opts, status, code, reason] of cases) {
    const r = await post("/v1/match/aigen", body, opts);
    assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, code, name);
    if (reason) assert.equal(r.body.error.reason, reason, name);
  }
  // Over the body limit: refused from Content-Length, before the token.
  const big = new Uint8Array((4 << 20) + 1).fill(32);
  const r = await post("/v1/match/aigen", big, { token: await mintToken({ ...good, digest: bodyDigest(big) }), alone: true });
  assert.deepEqual([r.status, r.body.error.code], [413, "BODY_TOO_LARGE"]);
  // Images the profile refuses: a photo with no face (edge detection on), a tiny one for AIGEN.
  const noFace = matchRequestBody(card.bytes, gen("wall.jpg"));
  const nf = await post("/v1/match/aigen", noFace, { token: await mintToken({ ...good, digest: bodyDigest(noFace) }) });
  assert.deepEqual([nf.status, nf.body.error.code], [422, "NO_FACE"], JSON.stringify(nf.body));
  const small = matchRequestBody(gen("card-a.jpg"), selfie.bytes);
  const sm = await post("/v1/match/aigen", small, { token: await mintToken({ ...good, digest: bodyDigest(small) }) });
  assert.deepEqual([sm.status, sm.body.error.code], [422, "IMAGE_TOO_SMALL"], JSON.stringify(sm.body));
  const unknown = await post("/v1/match/nobody", body, { token: await mintToken(good) });
  assert.deepEqual([unknown.status, unknown.body.error.code], [404, "NOT_FOUND"]);
  assert.equal(await stats(), before, "a refused request reached the simulator");
});

test("CORS: preflight answers allowed origins only", async () => {
  const once = (origin) =>
    fetch(`${edgeUrl}/v1/match/aigen`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
  // workerd closes a connection whose request body it refused unread (the
  // attack matrix above), and Node's fetch may hand that pooled socket to the
  // next request. An OPTIONS is idempotent: try it once more on a new socket.
  const pre = (origin) =>
    once(origin).catch((e) => {
      if (e?.cause?.code !== "UND_ERR_SOCKET" && e?.cause?.code !== "ECONNRESET") throw e;
      return once(origin);
    });
  const ok = await pre(ORIGIN);
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get("access-control-allow-origin"), ORIGIN);
  assert.match(ok.headers.get("access-control-allow-headers"), /authorization/);
  const bad = await pre("https://evil.example");
  assert.equal(bad.status, 403);
  assert.equal(bad.headers.get("access-control-allow-origin"), null);
});

test("getToken is asked again once after TOKEN_EXPIRED, and a token is never reused", async () => {
  const asked = [];
  const fb = sdk("aigen", {
    getToken: async (req) => {
      asked.push(req);
      const now = Math.floor(Date.now() / 1000);
      // First answer: a token that already expired (a backend with a slow clock).
      const over = asked.length === 1 ? { iat: now - 200, exp: now - 60 } : {};
      return { token: await mintToken(req, over) };
    },
  });
  const card = await fb.prepare(gen("card-a.jpg"), { role: "document" });
  const selfie = await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" });
  const r = await fb.compare(card, selfie);
  assert.equal(r.decision, "match");
  assert.equal(asked.length, 2);
  assert.deepEqual(Object.keys(asked[0]).sort(), ["bytes", "digest", "op", "provider"]);
  assert.equal(asked[0].digest, asked[1].digest);
  // Rejected twice: the error comes through, no third try.
  let calls = 0;
  const stale = sdk("aigen", {
    getToken: async (req) => {
      calls++;
      const now = Math.floor(Date.now() / 1000);
      return mintToken(req, { iat: now - 200, exp: now - 60 });
    },
  });
  await assert.rejects(stale.compare(card, selfie), { code: "TOKEN_EXPIRED" });
  assert.equal(calls, 2);
  const rejected = sdk("aigen", { getToken: async (req) => mintToken(req, { aud: "https://other.example" }) });
  await assert.rejects(rejected.compare(card, selfie), { code: "TOKEN_REJECTED", status: 401 });
});

test("a service timeout and a 5xx come back typed, and the billed call is not retried", async () => {
  const fb = sdk("aigen");
  const card = await fb.prepare(gen("card-a.jpg"), { role: "document" });
  const selfie = await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" });
  for (const [fault, code, status] of [
    ["hang=4000", "TIMEOUT", 504],
    ["status=503", "SERVICE_UNAVAILABLE", 503],
    ["status=500", "SERVICE_UNAVAILABLE", 503],
    ["html", "SERVICE_UNAVAILABLE", 503],
    ["malformed", "PROTOCOL", 502],
    ["reset", "NETWORK", 502],
    ["error=unauthorized", "UNAUTHORIZED", 502],
    ["error=no_credit", "QUOTA_EXHAUSTED", 502],
  ]) {
    const n = await stats();
    await queueFault(fault);
    await assert.rejects(fb.compare(card, selfie), (e) => {
      assert.equal(e.code, code, `${fault}: ${e.message}`);
      assert.equal(e.status, status, fault);
      return true;
    });
    assert.equal(await stats(), n + 1, `${fault}: exactly one service call`);
  }
});

test("Valify: the edge's access token serves 3 calls; direct mode hands one to the page", async () => {
  const fb = sdk("valify");
  const card = await fb.prepare(gen("card-a.jpg"), { role: "document" });
  const selfie = await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" });
  // A fresh Worker isolate may hold a token from the first test: count from a known state.
  const n0 = await stats();
  for (let i = 0; i < 4; i++) assert.equal((await fb.compare(card, selfie)).decision, "match");
  const calls = (await stats()) - n0;
  assert.ok(calls >= 5 && calls <= 6, `4 matches need 1–2 token requests, saw ${calls - 4}`);
  // Three at once, with two calls left on the cached token (4 = 3 + 1 so
  // far): two take them, the third finds none and refreshes; none is
  // refused for the race.
  const three0 = await Promise.all([0, 1, 2].map(() => fb.compare(card, selfie)));
  assert.deepEqual(three0.map((r) => r.decision), ["match", "match", "match"]);
  // Direct mode: one exchange, then the page calls the service itself.
  const asked = [];
  const d = sdk("valify", {
    direct: true,
    getToken: (req) => { asked.push(req.op); return mintToken(req).then((token) => ({ token })); },
  });
  // Three at once share one exchange (one grant, three calls); the fourth needs a new grant.
  const three = await Promise.all([0, 1, 2].map(() => d.compare(card, selfie)));
  assert.deepEqual(three.map((r) => r.decision), ["match", "match", "match"]);
  assert.deepEqual(asked, ["valify-token"], "one exchange for three concurrent calls");
  assert.equal((await d.compare(card, selfie)).decision, "match");
  assert.deepEqual(asked, ["valify-token", "valify-token"]);
});

test("receipts: the backend trusts the edge's signed verdict, checked with jose, and nothing else", async () => {
  const fb = sdkViaBackend("aigen");
  const card = await fb.prepare(gen("card-a.jpg"), { role: "document" });
  const selfie = await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" });
  const r = await fb.compare(card, selfie);
  assert.equal(r.decision, "match");
  assert.match(r.receipt, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]{86}$/, "an EdDSA compact JWS");
  // The edge publishes the public half only.
  const jwks = await (await fetch(`${edgeUrl}/v1/receipt-keys`)).json();
  assert.deepEqual(jwks.keys.map((k) => [k.kid, k.x]), [[receipts.publicJwk.kid, receipts.publicJwk.x]]);
  assert.ok(!JSON.stringify(jwks).includes(receipts.privateJwk.d), "the private key is published");
  // Plain jose with the published keys: what any backend can run.
  const { payload, protectedHeader } = await jwtVerify(r.receipt, createLocalJWKSet(jwks), {
    algorithms: ["EdDSA"], typ: "fb-receipt+jwt", issuer: AUD, audience: RECEIPT_AUD,
  });
  assert.equal(protectedHeader.kid, receipts.publicJwk.kid);
  assert.equal(payload.decision, "match");
  assert.equal(payload.similarity, r.similarity);
  assert.equal(payload.requestId, r.requestId);
  assert.deepEqual([payload.sub, payload.fbp, payload.fbo], ["session-1", "aigen", "compare"]);
  assert.equal(payload.fbd, bodyDigest(matchRequestBody(card.bytes, selfie.bytes)));
  // The backend (README): the token it minted, this session, this body, once.
  assert.equal((await backend.verifyResult("session-1", r.receipt)).decision, "match");
  await assert.rejects(backend.verifyResult("session-1", r.receipt), /already used/, "replayed receipt");
  const r2 = await fb.compare(card, selfie);
  await assert.rejects(backend.verifyResult("session-2", r2.receipt), /sub|subject/i, "another session's receipt");
  const [h, p, sig] = r2.receipt.split(".");
  const claims = JSON.parse(Buffer.from(p, "base64url"));
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, decision: "match", similarity: 0.99 })).toString("base64url")}.${sig}`;
  await assert.rejects(backend.verifyResult("session-1", forged), /signature/i, "tampered receipt");
  await assert.rejects(backend.verifyResult("session-1", `${h}.${p}.${"A".repeat(86)}`), /signature/i);
  // A receipt for a token minted for another body (the record says another digest).
  backend.minted.get(claims.jti).digest = bodyDigest(new Uint8Array([1]));
  await assert.rejects(backend.verifyResult("session-1", r2.receipt), /another request/, "other-body receipt");
  // What the browser might claim instead is not a receipt at all.
  await assert.rejects(backend.verifyResult("session-1", JSON.stringify({ decision: "match" })));
  // A refusal after the token was accepted is signed too.
  const noFace = matchRequestBody(card.bytes, gen("wall.jpg"));
  const { token } = await backend.mintToken("session-1", { provider: "aigen", op: "compare", digest: bodyDigest(noFace) });
  const nf = await post("/v1/match/aigen", noFace, { token });
  assert.deepEqual([nf.status, nf.body.error.code], [422, "NO_FACE"]);
  const refused = await backend.verifyResult("session-1", nf.body.error.receipt);
  assert.deepEqual([refused.decision, refused.code], ["refused", "NO_FACE"]);
  // The SDK's error carries it as well.
  const fbErr = sdkViaBackend("aigen");
  await queueFault("error=no_credit");
  await assert.rejects(fbErr.compare(card, selfie), (e) => {
    assert.equal(e.code, "QUOTA_EXHAUSTED");
    assert.match(e.receipt, /^eyJ/);
    return true;
  });
  // A refusal before the token was accepted has none: nothing to bind it to.
  const bad = await post("/v1/match/aigen", noFace, { token: await mintToken({ provider: "aigen", op: "compare", digest: "x".repeat(43) }) });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.error.receipt, undefined);
});

test("the backend's policy, not the page, decides the provider and operation", async () => {
  const picky = await makeBackend({
    edgeAudience: AUD, kid: KID, tokenKey: new TextEncoder().encode(KEY),
    receiptJwk: receipts.publicJwk, receiptAudience: RECEIPT_AUD,
    allow: (_s, { provider, op }) => provider === "aigen" && op === "compare",
  });
  const digest = bodyDigest(new Uint8Array([1, 2, 3]));
  await picky.mintToken("s", { provider: "aigen", op: "compare", digest });
  await assert.rejects(picky.mintToken("s", { provider: "cvs", op: "compare", digest }), /not allowed/);
  await assert.rejects(picky.mintToken("s", { provider: "valify", op: "valify-token", digest }), /not allowed/);
  await assert.rejects(picky.mintToken("s", { provider: "aigen", op: "compare", digest: "short" }), /digest/);
});

test("the same token twice at once: one answer, one replay refusal, one service call", async () => {
  const { card, selfie } = await aigenPhotos();
  const body = matchRequestBody(card.bytes, selfie.bytes);
  const token = await mintToken({ provider: "aigen", op: "compare", digest: bodyDigest(body) });
  const n = await stats();
  const both = await Promise.all([post("/v1/match/aigen", body, { token }), post("/v1/match/aigen", body, { token })]);
  const statuses = both.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 401], JSON.stringify(both.map((r) => r.body)));
  assert.equal(both.find((r) => r.status === 401).body.error.reason, "replayed");
  assert.equal(await stats(), n + 1, "exactly one billed call");
});

test("CRLF in a client's media type never reaches a service's multipart body", async () => {
  const { card, selfie } = await aigenPhotos();
  const b64 = (u8) => Buffer.from(u8).toString("base64");
  const n = await stats();
  for (const provider of PROVIDERS) {
    for (const type of [
      "image/jpeg\r\nX-Injected: 1",
      'image/jpeg\r\n\r\n--x\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n',
      'image/jpeg"; filename="x.php',
    ]) {
      const body = new TextEncoder().encode(JSON.stringify({
        document: { type, data: b64(card.bytes) },
        selfie: { type: "image/jpeg", data: b64(selfie.bytes) },
      }));
      const r = await post(`/v1/match/${provider}`, body, { token: await mintToken({ provider, op: "compare", digest: bodyDigest(body) }) });
      assert.deepEqual([r.status, r.body.error.code], [400, "BAD_REQUEST"], `${provider}: ${JSON.stringify(r.body)}`);
      assert.match(r.body.error.receipt, /^eyJ/, "refused after the token: signed");
    }
  }
  assert.equal(await stats(), n, "a smuggling attempt reached a service");
});

test("memory: decompression bombs and oversize bodies are refused before any pixel buffer, and the Worker lives on", async () => {
  const { card, selfie } = await aigenPhotos();
  const good = matchRequestBody(card.bytes, selfie.bytes);
  const bombs = [
    // Over the edge's 24 MP from the header alone.
    ["PNG 6324² 8-bit RGB (120 MB decoded)", pngBomb(6324, 6324)],
    ["PNG 6324² 16-bit RGBA (320 MB decoded)", pngBomb(6324, 6324, { bitDepth: 16, colorType: 6 })],
    ["progressive JPEG 40 MP", gen("progressive-40mp.jpg")],
    // Under the pixel limit, over the 24 MiB a decode may take.
    ["PNG 4000×3000 8-bit RGB", pngBomb(4000, 3000)],
    ["PNG 2000² 16-bit RGBA", pngBomb(2000, 2000, { bitDepth: 16, colorType: 6 })],
    ["progressive JPEG 12 MP (72 MB of coefficients)", gen("progressive-12mp.jpg")],
  ];
  const n = await stats();
  for (const [name, bomb] of bombs) {
    const body = matchRequestBody(card.bytes, bomb);
    const r = await post("/v1/match/aigen", body, { token: await mintToken({ provider: "aigen", op: "compare", digest: bodyDigest(body) }) });
    assert.deepEqual([r.status, r.body.error.code], [422, "IMAGE_TOO_LARGE"], `${name}: ${JSON.stringify(r.body)}`);
  }
  assert.equal(await stats(), n, "a bomb reached the service");
  // Unauthenticated, chunked, no Content-Length, 24 MiB: refused from the
  // header; the Worker reads none of it.
  // Each stream counts its own bytes: a refused one may still be drained.
  const stream = () => {
    let pulled = 0;
    return new ReadableStream({
      pull(c) {
        if (pulled >= 24 << 20) return c.close();
        pulled += 1 << 20;
        c.enqueue(new Uint8Array(1 << 20).fill(0x20));
      },
    });
  };
  // The edge answers while the client still uploads, then closes: the
  // client may see the answer, or a reset before or while reading it (a
  // transport error either way; the edge's log below is what must hold).
  const transport = (e) => ({ transport: String(e.cause?.code ?? e) });
  const unauth = await fetch(`${edgeUrl}/v1/match/cvs`, {
    method: "POST", headers: { origin: ORIGIN }, body: stream(), duplex: "half",
  }).then((r) => r.json()).catch(transport);
  if (!unauth.transport) assert.equal(unauth.error.code, "TOKEN_REJECTED");
  // Authenticated but past the route's limit (Valify: two 2 MB images as
  // base64): refused as soon as the stream passes it.
  const token = await mintToken({ provider: "valify", op: "compare", digest: bodyDigest(good) });
  const over = await fetch(`${edgeUrl}/v1/match/valify`, {
    method: "POST", headers: { origin: ORIGIN, authorization: `Bearer ${token}` }, body: stream(), duplex: "half",
  }).then((r) => r.json()).catch(transport);
  if (!over.transport) assert.equal(over.error.code, "BODY_TOO_LARGE");
  await new Promise((r) => setTimeout(r, 200));
  const lines = logs.join("").split("\n").filter((l) => l.includes('"facebridge":"edge"'));
  assert.ok(lines.some((l) => l.includes('"/v1/match/cvs"') && l.includes('"TOKEN_REJECTED"')), "the unauthenticated stream was refused");
  assert.ok(lines.some((l) => l.includes('"/v1/match/valify"') && l.includes('"BODY_TOO_LARGE"')), "the oversize stream was refused");
  // And the Worker still answers.
  const ok = await post("/v1/match/aigen", good, { token: await mintToken({ provider: "aigen", op: "compare", digest: bodyDigest(good) }) });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
});

test("a trap inside the wasm does not poison the isolate", async () => {
  const { card, selfie } = await aigenPhotos();
  const body = matchRequestBody(card.bytes, selfie.bytes);
  const good = { provider: "aigen", op: "compare", digest: bodyDigest(body) };
  const n = await stats();
  // FB_TEST_TRAP_HOOK: validate aborts, borrow held, for sub "trap".
  const t = await post("/v1/match/aigen", body, { token: await mintToken(good, { claims: { sub: "trap" } }) });
  assert.deepEqual([t.status, t.body.error.code], [500, "SERVICE_ERROR"]);
  for (let i = 0; i < 3; i++) {
    const r = await post("/v1/match/aigen", body, { token: await mintToken(good) });
    assert.equal(r.status, 200, `request ${i + 1} after the trap: ${JSON.stringify(r.body)}`);
    assert.match(r.body.receipt, /^eyJ/);
  }
  assert.equal(await stats(), n + 3);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(logs.join("").includes('"event":"wasm-trap"'), "the trap is logged once");
});

test("secrets a service echoes back, in any spelling, never reach the browser", async () => {
  for (const provider of PROVIDERS) {
    const fb = sdk(provider);
    const card = await fb.prepare(gen("card-a.jpg"), { role: "document" });
    const selfie = await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" });
    const video = provider === "biometry" ? { video: gen("selfie-a.mp4") } : undefined;
    if (provider === "valify") await fb.compare(card, selfie); // an access token in the cache first
    await queueFault("echo");
    await assert.rejects(fb.compare(card, selfie, video), (e) => {
      seen.push(JSON.stringify({ message: e.message, ...e }));
      return true;
    });
  }
});

test("the jti ledger failing: no service call, no receipt, a typed answer", async () => {
  const failing = await startEdge({
    simUrl,
    secrets,
    main: "tests/js/failing-ledger.mjs",
    bindings: {
      FB_EDGE_AUDIENCE: AUD,
      FB_TOKEN_KEYS: JSON.stringify({ [KID]: KEY }),
      FB_ALLOWED_ORIGINS: ORIGIN,
      ...receiptEnv,
    },
  });
  try {
    const fb = new FaceBridge({ provider: "aigen" });
    const card = await fb.prepare(gen("card-a.jpg"), { role: "document" });
    const selfie = await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" });
    const body = matchRequestBody(card.bytes, selfie.bytes);
    const token = await mintToken({ provider: "aigen", op: "compare", digest: bodyDigest(body) });
    const n = await stats();
    const r = await fetch(`${failing.url}/v1/match/aigen`, {
      method: "POST", headers: { origin: ORIGIN, authorization: `Bearer ${token}` }, body,
    });
    const out = await r.json();
    seen.push(JSON.stringify(out));
    assert.deepEqual([r.status, out.error.code], [500, "SERVICE_ERROR"]);
    assert.equal(out.error.receipt, undefined, "a request whose jti was not recorded gets no receipt");
    assert.equal(await stats(), n, "the service was called without single use");
  } finally {
    await failing.mf.dispose();
  }
});

test("the shipped wrangler.toml enables no service and says what each line is", () => {
  const toml = readFileSync(new URL("edge/wrangler.toml", root), "utf8");
  const enabled = toml.split("\n").filter((l) => /^\s*FB_\w+_BASE_URL\s*=/.test(l));
  assert.deepEqual(enabled, [], "a provider is enabled by default");
  assert.ok(!/valifystage/i.test(toml), "a staging host in the default settings");
  for (const p of PROVIDERS) assert.match(toml, new RegExp(`# FB_${p.toUpperCase()}_BASE_URL`), p);
});

test("no secret in any answer or log line", async () => {
  // Let workerd flush its stdout.
  await new Promise((r) => setTimeout(r, 200));
  const all = seen.join("\n") + logs.join("");
  assert.ok(logs.join("").includes('"facebridge":"edge"'), "the Worker logs one line per request");
  // Every spelling a service could echo (the simulator's `echo` fault sends them all).
  const spellings = (v) => [
    v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v), new URLSearchParams({ v }).toString().slice(2),
    Buffer.from(v).toString("base64"), Buffer.from(v).toString("base64").replace(/=+$/, ""),
  ];
  for (const [name, value] of Object.entries(secrets)) {
    // Direct mode hands the page the bundle key by design (see README).
    if (name === "FB_VALIFY_BUNDLE_KEY") continue;
    for (const form of spellings(value)) assert.ok(!all.includes(form), `${name} leaked as ${form}`);
  }
  const basic = Buffer.from(`${secrets.FB_CVS_API_KEY}:${secrets.FB_CVS_API_SECRET}`).toString("base64");
  assert.ok(!all.includes(basic.slice(0, 24)), "CVS's Basic credential leaked");
  assert.ok(!all.includes(receipts.privateJwk.d), "the receipt key leaked");
  assert.ok(!all.includes(KEY), "the token key leaked");
  assert.ok(!logs.join("").includes(secrets.FB_VALIFY_BUNDLE_KEY), "the bundle key is in a log");
  assert.ok(!logs.join("").match(/eyJ[\w-]+\.eyJ/), "a token is in a log");
});
