// The two wasm builds side by side in Node (V8, as in Chromium): detection
// and prepare with the SIMD build and with the no-SIMD one that engines
// without wasm SIMD load. Each build runs in a process of its own.
//
//   node benches/simd-builds.mjs [runs]      (default 30; needs pkg/ and the fixtures)
//
// Prints a Markdown table of medians (ms).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

const runs = Number(process.argv[2] ?? 30);
const root = new URL("../", import.meta.url);

if (process.env.FB_BENCH_BUILD) {
  const pkg = await import(new URL("pkg/facebridge.js", root));
  const file = process.env.FB_BENCH_BUILD === "simd" ? "facebridge_bg.wasm" : "facebridge_nosimd_bg.wasm";
  pkg.initSync({ module: readFileSync(new URL(`pkg/${file}`, root)) });
  const gen = (f) => new Uint8Array(readFileSync(new URL(`tests/fixtures/generated/${f}`, root)));
  const fb = new pkg.FaceBridge();
  await fb.warmUp("full");
  const selfie = gen("selfie.jpg");
  const sample1 = gen("sample1.jpg");
  const frame = new Uint8Array(640 * 480 * 4).fill(128);
  const median = async (f) => {
    for (let i = 0; i < 3; i++) await f();
    const t = [];
    for (let i = 0; i < runs; i++) {
      const s = performance.now();
      await f();
      t.push(performance.now() - s);
    }
    return t.sort((a, b) => a - b)[t.length >> 1];
  };
  const out = {
    "detectPixels 640×480 (short range)": await median(() => fb.detectPixels(frame, 640, 480, {})),
    "detect selfie.jpg (decode + short range)": await median(() => fb.detect(selfie, { role: "selfie" })),
    "detect sample1.jpg 1920 px (full range, tiled)": await median(() => fb.detect(sample1, { role: "document", model: "full", tiles: "auto" })),
    "prepare selfie.jpg for Valify (2 MB as base64)": await median(() => fb.prepare(selfie, { role: "selfie", maxBytes: 2_000_000, base64: true })),
  };
  console.log(JSON.stringify(out));
} else {
  const run = (build) => JSON.parse(execFileSync("node", [new URL(import.meta.url).pathname, String(runs)], {
    env: { ...process.env, FB_BENCH_BUILD: build }, encoding: "utf8",
  }));
  const simd = run("simd");
  const plain = run("nosimd");
  console.log(`Node ${process.version}, median of ${runs} runs after 3 warm-ups, ms`);
  console.log("| call | SIMD build | no-SIMD build | no-SIMD / SIMD |");
  console.log("|---|---|---|---|");
  for (const k of Object.keys(simd)) {
    console.log(`| ${k} | ${simd[k].toFixed(1)} | ${plain[k].toFixed(1)} | ${(plain[k] / simd[k]).toFixed(2)}× |`);
  }
}
