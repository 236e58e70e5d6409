// The edge's memory per request, measured in workerd (Miniflare): each case
// runs on a fresh Worker isolate, so the wasm's linear memory after the
// request (it only grows) is that request's high-water mark in the wasm. The
// Worker logs it on every line (`wasmMiB`) with the size of the service
// request it sent (`sentBytes`, the one large buffer JS holds besides).
//
//   node benches/edge-memory.mjs            (after bash scripts/test.sh built everything)
//
// Prints a Markdown table for BENCHMARKS.md.
import { readFileSync } from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import { randomSecrets, receiptKeyPair, simulatorBin, startEdge, startSimulator } from "../scripts/stack.mjs";
import { padJpeg, pngOfZeros } from "../tests/js/hostile.mjs";

const root = new URL("../", import.meta.url);
const pkg = await import(new URL("pkg/facebridge.js", root));
pkg.initSync({ module: readFileSync(new URL("pkg/facebridge_bg.wasm", root)) });
const { bodyDigest } = pkg;
const gen = (f) => new Uint8Array(readFileSync(new URL(`tests/fixtures/generated/${f}`, root)));

const AUD = "https://edge.memory.test";
const KEY = randomBytes(32).toString("base64url");
const ORIGIN = "https://page.memory.test";

/** A black PNG, 6 bytes a pixel to decode, a few KB on the wire (or `pad` more in a tEXt chunk). */
const blackPng = (w, h, pad = 0) => pngOfZeros(w, h, { pad });

async function token(provider, digest) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: "memory", fbp: provider, fbo: "compare", fbd: digest })
    .setProtectedHeader({ alg: "HS256", kid: "k" })
    .setAudience(AUD).setIssuedAt(now).setExpirationTime(now + 120).setJti(randomUUID())
    .sign(new TextEncoder().encode(KEY));
}

const secrets = randomSecrets("m-");
const sim = await startSimulator(simulatorBin(), secrets);
const receipts = await receiptKeyPair();

async function measure(name, { provider, document, selfie, video, detect = true }) {
  const lines = [];
  const { mf, url } = await startEdge({
    simUrl: sim.url,
    secrets,
    bindings: {
      FB_EDGE_AUDIENCE: AUD,
      FB_TOKEN_KEYS: JSON.stringify({ k: KEY }),
      FB_RECEIPT_KEYS: JSON.stringify(receipts.privateJwk),
      FB_RECEIPT_AUDIENCE: "https://backend.memory.test",
      FB_ALLOWED_ORIGINS: ORIGIN,
      FB_EDGE_DETECT_FACES: String(detect),
      FB_MAX_BODY_BYTES: String(64 << 20),
    },
    log: (l) => lines.push(l),
  });
  try {
    let status = 204;
    let code = "-";
    let bodyBytes = 0;
    if (provider) {
      // The SDK's wire body (src/edge: encode_body), written here to add a video.
      const media = (bytes, type) => ({ type, data: Buffer.from(bytes).toString("base64") });
      const type = (b) => (b[0] === 0x89 ? "image/png" : "image/jpeg");
      const body = new TextEncoder().encode(JSON.stringify({
        document: media(document, type(document)),
        selfie: media(selfie, type(selfie)),
        ...(video ? { video: media(video.bytes, video.type) } : {}),
      }));
      bodyBytes = body.length;
      const r = await fetch(`${url}/v1/match/${provider}`, {
        method: "POST",
        headers: { origin: ORIGIN, authorization: `Bearer ${await token(provider, bodyDigest(body))}` },
        body,
      });
      status = r.status;
      const out = await r.json();
      code = out.error?.code ?? out.decision;
    } else {
      await fetch(`${url}/v1/match/aigen`, { method: "OPTIONS", headers: { origin: ORIGIN } });
    }
    await new Promise((r) => setTimeout(r, 150));
    const line = lines.join("").split("\n").filter((l) => l.includes('"facebridge":"edge"')).map((l) => JSON.parse(l.slice(l.indexOf("{")))).pop();
    const mib = (n) => (n / 1048576).toFixed(1);
    const sent = line?.sentBytes ?? 0;
    return `| ${name} | ${mib(bodyBytes)} | ${status} ${code} | ${line?.wasmMiB ?? "?"} | ${mib(sent)} | ${(line?.wasmMiB ?? 0) + Number(mib(sent))} |`;
  } finally {
    await mf.dispose();
  }
}

// Prepared as the SDK does for AIGEN (over 480 px a side), then padded where a case needs bytes.
const fb = new pkg.FaceBridge({ provider: "aigen" });
const card = (await fb.prepare(gen("card-a.jpg"), { role: "document" })).bytes;
const selfie = (await fb.prepare(gen("selfie-a.jpg"), { role: "selfie" })).bytes;
const rows = [
  await measure("idle: instantiated, one preflight", {}),
  await measure("AIGEN, prepared photos (SDK defaults), faces found", { provider: "aigen", document: card, selfie }),
  await measure("AIGEN, two 3.7 MB JPEGs (its 5 MB base64 limit each), faces found", {
    provider: "aigen", document: padJpeg(card, 3_700_000), selfie: padJpeg(selfie, 3_700_000),
  }),
  await measure("AIGEN, a 2000×2000 PNG selfie (the largest decode the 24 MiB limit lets in)", {
    provider: "aigen", document: card, selfie: blackPng(2000, 2000),
  }),
  await measure("AIGEN, a 3.7 MB JPEG card and a 2000×2000 PNG selfie padded to 3.7 MB (both limits at once)", {
    provider: "aigen", document: padJpeg(card, 3_700_000), selfie: blackPng(2000, 2000, 3_690_000),
  }),
  await measure("Biometry, a 5 MB JPEG and an 8 MB video (its limits)", {
    provider: "biometry", document: padJpeg(card, 5_000_000), selfie,
    video: { bytes: new Uint8Array(Buffer.concat([gen("selfie-a.mp4"), Buffer.alloc(8_000_000 - gen("selfie-a.mp4").length)])), type: "video/mp4" },
  }),
  await measure("Valify, detection off, two 1.45 MB JPEGs (its 2 MB base64 limit)", {
    provider: "valify", document: padJpeg(card, 1_450_000), selfie: padJpeg(selfie, 1_450_000), detect: false,
  }),
];
sim.child.kill();
console.log("| request (fresh isolate) | body MiB | answer | wasm memory after, MiB | service request JS holds, MiB | sum, MiB |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
process.exit(0);
