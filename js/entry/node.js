// The package's entry in Node (20+): the wasm read from the package, no
// setup. The full-range model is read from the package on first use too.
// FB_WASM_BUILD=nosimd loads the no-SIMD build (tests, benchmarks).
import { readFileSync } from "node:fs";
import { initSync } from "./facebridge.js";
import { hasSimd } from "./simd.js";

/** "simd" or "nosimd": the wasm build this process runs. */
export const wasmBuild = hasSimd(process.env.FB_WASM_BUILD === "nosimd") ? "simd" : "nosimd";

const file = wasmBuild === "simd" ? "./facebridge_bg.wasm" : "./facebridge_nosimd_bg.wasm";
initSync({ module: readFileSync(new URL(file, import.meta.url)) });

import { FaceBridge } from "./facebridge.js";
import { installFrame } from "./frame.js";

// fb.detectFrame(videoOrFrame, options): js/frame.js.
installFrame(FaceBridge);

export * from "./facebridge.js";
export { default } from "./facebridge.js";
