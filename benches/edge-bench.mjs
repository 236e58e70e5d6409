// What the edge benchmarks (edge-memory.mjs, edge-load.mjs) share: the
// package, initialised; the fixtures; the simulators; an edge Worker in
// workerd with the bench's settings; and request tokens it accepts.
import { readFileSync } from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { randomSecrets, receiptKeyPair, simulatorBin, startEdge, startSimulator } from "../scripts/stack.mjs";

export const root = new URL("../", import.meta.url);
export const pkg = await import(new URL("pkg/facebridge.js", root));
pkg.initSync({ module: readFileSync(new URL("pkg/facebridge_bg.wasm", root)) });
export const gen = (f) => new Uint8Array(readFileSync(new URL(`tests/fixtures/generated/${f}`, root)));

export const AUD = "https://edge.bench.test";
export const ORIGIN = "https://page.bench.test";
const KEY = new TextEncoder().encode(randomBytes(32).toString("base64url"));
const receipts = await receiptKeyPair();

/** Person A's card and selfie as the SDK prepares them for AIGEN (over 480 px a side): bytes. */
export async function preparedAigen() {
  const fb = new pkg.FaceBridge({ provider: "aigen" });
  return {
    card: (await fb.prepare(gen("card-a.jpg"), { role: "document" })).bytes,
    selfie: (await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" })).bytes,
  };
}

/** The five simulators with random secrets: {sim, secrets, stats()}. */
export async function simulators(prefix) {
  const secrets = randomSecrets(prefix);
  const sim = await startSimulator(simulatorBin(), secrets);
  const stats = async () => (await (await fetch(`${sim.url}/__sim/stats`)).json()).requests;
  return { sim, secrets, stats };
}

/** A fresh edge Worker (a fresh isolate) in front of `sim`: {mf, url, lines}. */
export async function benchEdge({ sim, secrets }, bindings = {}) {
  const lines = [];
  const { mf, url } = await startEdge({
    simUrl: sim.url,
    secrets,
    bindings: {
      FB_EDGE_AUDIENCE: AUD,
      FB_TOKEN_KEYS: JSON.stringify({ k: new TextDecoder().decode(KEY) }),
      FB_RECEIPT_KEYS: JSON.stringify(receipts.privateJwk),
      FB_RECEIPT_AUDIENCE: "https://backend.bench.test",
      FB_ALLOWED_ORIGINS: ORIGIN,
      ...bindings,
    },
    log: (l) => lines.push(l),
  });
  return { mf, url, lines };
}

/** The Worker's log lines (JSON), newest last. */
export const logLines = (lines) =>
  lines.join("").split("\n").filter((l) => l.includes('"facebridge":"edge"')).map((l) => JSON.parse(l.slice(l.indexOf("{"))));

/** A request token for one compare of the body with `digest`, valid `ttl` seconds. */
export function token(provider, digest, ttl = 120) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: "bench", fbp: provider, fbo: "compare", fbd: digest })
    .setProtectedHeader({ alg: "HS256", kid: "k" })
    .setAudience(AUD).setIssuedAt(now).setExpirationTime(now + ttl).setJti(randomUUID())
    .sign(KEY);
}
