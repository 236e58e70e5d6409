// Times a detection on the benchmark's 640×480 frame in Node: the loop used
// to profile the detector layer by layer (add node's --cpu-prof for a
// profile; build with FB_WASM_OPT=0 to keep function names), and to compare
// builds (pass another pkg/ directory or wasm file, alternate the runs).
//   node benches/profile-detect.mjs [short|full] [pixels|bytes] [pkg dir] [wasm file] [runs]
// pixels: detectPixels on the frame's RGBA (bench-out/frame-640x480.rgb,
// scripts/bench.sh); bytes: await detect(jpegBytes), the decode included
// (bench-out/anchors/frame-640x480.jpg, scripts/bench-anchors.sh).
// Defaults: short pixels pkg/ facebridge_bg.wasm 300.
import { readFileSync } from "node:fs";

const root = new URL("../", import.meta.url);
const [model = "short", input = "pixels", dir, wasm = "facebridge_bg.wasm", runsArg] = process.argv.slice(2);
const pkgDir = dir ? new URL(dir.replace(/\/?$/, "/"), `file://${process.cwd()}/`) : new URL("pkg/", root);
const pkg = await import(new URL("facebridge.js", pkgDir));
pkg.initSync({ module: readFileSync(new URL(wasm, pkgDir)) });
const fb = new pkg.FaceBridge();
let detect;
if (input === "bytes") {
  const bytes = new Uint8Array(readFileSync(new URL("bench-out/anchors/frame-640x480.jpg", root)));
  detect = () => fb.detect(bytes, { model });
} else {
  const rgb = readFileSync(new URL("bench-out/frame-640x480.rgb", root));
  const rgba = new Uint8Array(640 * 480 * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba.set(rgb.subarray(i, i + 3), j);
    rgba[j + 3] = 255;
  }
  detect = () => fb.detectPixels(rgba, 640, 480, { model });
}
for (let i = 0; i < 50; i++) await detect();
const runs = +(runsArg ?? 300);
const t = performance.now();
for (let i = 0; i < runs; i++) await detect();
const per = (performance.now() - t) / runs;
console.log(`${model}-range, ${input}, ${wasm}: ${per.toFixed(2)} ms per detection (mean of ${runs} after 50)`);
