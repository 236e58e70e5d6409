// The edge's memory per request, measured in workerd (Miniflare): each case
// runs on a fresh Worker isolate, so the wasm's linear memory after the
// request (it only grows) is that request's high-water mark in the wasm. The
// Worker logs it on every line (`wasmMiB`) with the size of the service
// request it sent (`sentBytes`, the one large buffer JS holds besides).
//
//   node benches/edge-memory.mjs            (after bash scripts/test.sh built everything)
//
// Prints a Markdown table for BENCHMARKS.md.
import { padJpeg, pngOfZeros } from "../tests/js/hostile.mjs";
import { ORIGIN, benchEdge, gen, logLines, pkg, preparedAigen, simulators, token } from "./edge-bench.mjs";

const { bodyDigest } = pkg;

/** A black PNG, 6 bytes a pixel to decode, a few KB on the wire (or `pad` more in a tEXt chunk). */
const blackPng = (w, h, pad = 0) => pngOfZeros(w, h, { pad });

const services = await simulators("m-");

async function measure(name, { provider, document, selfie, video, detect = true }) {
  const { mf, url, lines } = await benchEdge(services, {
    FB_EDGE_DETECT_FACES: String(detect),
    FB_MAX_BODY_BYTES: String(64 << 20),
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
    const line = logLines(lines).pop();
    const mib = (n) => (n / 1048576).toFixed(1);
    const sent = line?.sentBytes ?? 0;
    return `| ${name} | ${mib(bodyBytes)} | ${status} ${code} | ${line?.wasmMiB ?? "?"} | ${mib(sent)} | ${(line?.wasmMiB ?? 0) + Number(mib(sent))} |`;
  } finally {
    await mf.dispose();
  }
}

// Prepared as the SDK does for AIGEN, then padded where a case needs bytes.
const { card, selfie } = await preparedAigen();
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
services.sim.child.kill();
console.log("| request (fresh isolate) | body MiB | answer | wasm memory after, MiB | service request JS holds, MiB | sum, MiB |");
console.log("|---|---|---|---|---|---|");
for (const r of rows) console.log(r);
process.exit(0);
