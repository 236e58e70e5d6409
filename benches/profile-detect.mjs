// Times detectPixels on the benchmark's 640×480 frame in Node: the loop used
// to profile the detector layer by layer (add node's --cpu-prof for a
// profile; build with FB_WASM_OPT=0 to keep function names).
//   node benches/profile-detect.mjs [short|full]
// Needs pkg/ (scripts/build-wasm.sh) and bench-out/frame-640x480.rgb (scripts/bench.sh).
import { readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const pkg = await import(new URL("pkg/facebridge.js", root));
pkg.initSync({ module: readFileSync(new URL("pkg/facebridge_bg.wasm", root)) });
const rgb = readFileSync(new URL("bench-out/frame-640x480.rgb", root));
const rgba = new Uint8Array(640 * 480 * 4);
for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
  rgba.set(rgb.subarray(i, i + 3), j);
  rgba[j + 3] = 255;
}
const model = process.argv[2] ?? "short";
const fb = new pkg.FaceBridge();
const detect = () => fb.detectPixels(rgba, 640, 480, { model });
for (let i = 0; i < 50; i++) detect();
const runs = 300;
const t = performance.now();
for (let i = 0; i < runs; i++) detect();
console.log(`${model}-range: ${((performance.now() - t) / runs).toFixed(2)} ms per detection (mean of ${runs} after 50)`);
