// The 12 MP photo prepared at max side 2048 (the anchors' prepare job) in
// Node, through a package's Node glue: one warm-up, then the median of
// `runs`. Two package directories alternated compare two builds.
//
//   node benches/prepare-loop.mjs [pkgDir=pkg] [wasm=facebridge_bg.wasm] [runs=10] [maxSide=2048] [maxBytes=2000000]
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const dir = resolve(process.argv[2] ?? "pkg");
const glue = await import(pathToFileURL(`${dir}/facebridge.js`).href);
const wasm = glue.initSync({ module: readFileSync(`${dir}/${process.argv[3] ?? "facebridge_bg.wasm"}`) });
const fb = new glue.FaceBridge();
const photo = readFileSync(new URL("../bench-out/anchors/photo-12mp.jpg", import.meta.url));
const maxSide = Number(process.argv[5] ?? 2048);
const options = { role: "document", maxBytes: Number(process.argv[6] ?? 2_000_000), maxSide, enforceGate: false };
const first = await fb.prepare(photo, options);
const runs = Number(process.argv[4] ?? 10);
const ms = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await fb.prepare(photo, options);
  ms.push(performance.now() - t);
}
ms.sort((a, b) => a - b);
const r = first.report;
console.log(`${dir}, max side ${maxSide}: ${r.width}×${r.height} (decoded at ${r.source.decodeScale}), ${first.bytes.length} B, ` +
  `${r.encodes} encode(s); median ${ms[runs >> 1].toFixed(1)} ms of ${runs}; wasm memory ${(wasm.memory.buffer.byteLength / 1e6).toFixed(0)} MB`);
