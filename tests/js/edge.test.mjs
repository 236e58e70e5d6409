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
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT, jwtVerify } from "jose";
import { PROVIDERS, randomSecrets, simulatorBin, startEdge, startSimulator } from "../../scripts/stack.mjs";

const root = new URL("../../", import.meta.url);
const pkg = await import(new URL("pkg/facebridge.js", root));
pkg.initSync({ module: readFileSync(new URL("pkg/facebridge_bg.wasm", root)) });
const { FaceBridge, EdgeProxy, bodyDigest, matchRequestBody } = pkg;

const gen = (f) => new Uint8Array(readFileSync(new URL(`tests/fixtures/generated/${f}`, root)));

const ORIGIN = "http://127.0.0.1:5173";
const AUD = "https://edge.facebridge.test";
const KID = "2026-11";
const KEY = randomBytes(32).toString("base64url");
const secrets = randomSecrets("s-");

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

/** A browser-shaped POST straight to the Worker. */
async function post(path, body, { token, origin = ORIGIN, headers = {} } = {}) {
  const h = { "content-type": "application/json", ...headers };
  if (origin) h.origin = origin;
  if (token) h.authorization = `Bearer ${token}`;
  const r = await fetch(`${edgeUrl}${path}`, { method: "POST", headers: h, body });
  const text = await r.text();
  seen.push(text);
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
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
});

test("jose tokens verify here and this crate's tokens verify with jose", async () => {
  // jose → Rust (EdgeProxy.admit is what the Worker runs).
  const edge = new EdgeProxy({
    FB_EDGE_AUDIENCE: AUD,
    FB_TOKEN_KEYS: JSON.stringify({ [KID]: KEY }),
    FB_AIGEN_BASE_URL: "http://127.0.0.1:9",
  });
  const body = matchRequestBody(gen("card-a.jpg"), gen("selfie-a.jpg"));
  const digest = bodyDigest(body);
  const token = await mintToken({ provider: "aigen", op: "compare", digest });
  const admitted = edge.admit({ kind: "match", provider: "aigen" }, `Bearer ${token}`, body, Math.floor(Date.now() / 1000));
  assert.equal(admitted.provider, "aigen");
  assert.equal(admitted.sub, "session-1");
  // Rust → jose: a token minted by auth::mint (tests/js_fixtures.rs).
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
  const fb = new FaceBridge({ provider: "aigen" });
  const card = await fb.prepare(gen("card-a.jpg"), { role: "document" });
  const selfie = await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" });
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
  const r = await post("/v1/match/aigen", big, { token: await mintToken({ ...good, digest: bodyDigest(big) }) });
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

test("no secret in any answer or log line", async () => {
  // Let workerd flush its stdout.
  await new Promise((r) => setTimeout(r, 200));
  const all = seen.join("\n") + logs.join("");
  assert.ok(logs.join("").includes('"facebridge":"edge"'), "the Worker logs one line per request");
  for (const [name, value] of Object.entries(secrets)) {
    // Direct mode hands the page the bundle key by design (see README).
    if (name === "FB_VALIFY_BUNDLE_KEY") continue;
    assert.ok(!all.includes(value), `${name} leaked`);
  }
  assert.ok(!all.includes(KEY), "the token key leaked");
  assert.ok(!logs.join("").includes(secrets.FB_VALIFY_BUNDLE_KEY), "the bundle key is in a log");
  assert.ok(!logs.join("").match(/eyJ[\w-]+\.eyJ/), "a token is in a log");
});
