// Steady-state detection from JPEG bytes in Node: fb.detect(bytes) on the
// anchors' 640×480 frame, mean of `runs` after 50 warm-ups.
//   node benches/detect-bytes.mjs [pkg dir] [wasm file] [runs]
// Needs pkg/ (scripts/build-wasm.sh) and bench-out/frame-640x480.jpg
// (scripts/bench-anchors.sh makes it).
import { readFileSync } from "node:fs";
const here = new URL("../", import.meta.url);
const root = process.argv[2] ? new URL(process.argv[2].replace(/\/?$/, "/"), `file://${process.cwd()}/`) : new URL("pkg/", here);
const wasm = process.argv[3] ?? "facebridge_bg.wasm";
const pkg = await import(new URL("facebridge.js", root));
pkg.initSync({ module: readFileSync(new URL(wasm, root)) });
const bytes = new Uint8Array(readFileSync(new URL("bench-out/frame-640x480.jpg", here)));
const fb = new pkg.FaceBridge();
const detect = () => fb.detect(bytes, { model: "short" });
for (let i = 0; i < 50; i++) await detect();
const runs = +(process.argv[4] ?? 300);
const t = performance.now();
for (let i = 0; i < runs; i++) await detect();
console.log(`${wasm}: ${((performance.now() - t) / runs).toFixed(3)} ms per detect(bytes)`);
