// The package's entry in Node (20+): the wasm read from the package, no
// setup. The full-range model is read from the package on first use too.
// FB_WASM_BUILD=simd (or relaxed, nosimd) loads that build where Node can
// run it (tests, benchmarks); by default the best one (js/entry/simd.js).
import { readFileSync } from "node:fs";
import { initSync } from "./facebridge.js";
import { pickBuild, wasmFile } from "./simd.js";

/** "relaxed", "simd" or "nosimd": the wasm build this process runs. */
export const wasmBuild = pickBuild(process.env.FB_WASM_BUILD);

initSync({ module: readFileSync(new URL(wasmFile(wasmBuild), import.meta.url)) });

import { FaceBridge } from "./facebridge.js";
import { installFrame } from "./frame.js";

// fb.detectFrame(videoOrFrame, options): js/frame.js.
installFrame(FaceBridge);

export * from "./facebridge.js";
export { default } from "./facebridge.js";
