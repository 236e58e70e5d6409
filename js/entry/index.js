// The package's entry in browsers and bundlers (Vite, webpack 5, esbuild):
// ready on import. The wasm is fetched from beside this file; both literal
// URLs below let bundlers emit the two builds as assets, and only the one
// this engine runs is fetched. Nothing comes from a CDN. Needs top-level
// await (every browser since 2021; bundlers targeting es2022).
//
// `?fb-nosimd` in the page's URL loads the no-SIMD build on any engine: a
// way to test the fallback that old Safari gets.
//
// For control over when the wasm loads, import "facebridge/manual" and call
// its default export (`init`) yourself.
import init from "./facebridge.js";
import { hasSimd } from "./simd.js";

const forced = new URLSearchParams(globalThis.location?.search ?? "").has("fb-nosimd");
/** "simd" or "nosimd": the wasm build this page runs. */
export const wasmBuild = hasSimd(forced) ? "simd" : "nosimd";

await init({
  module_or_path:
    wasmBuild === "simd"
      ? new URL("./facebridge_bg.wasm", import.meta.url)
      : new URL("./facebridge_nosimd_bg.wasm", import.meta.url),
});

import { FaceBridge } from "./facebridge.js";
import { installFrame } from "./frame.js";

// fb.detectFrame(videoOrFrame, options): js/frame.js.
installFrame(FaceBridge);

export * from "./facebridge.js";
export { default } from "./facebridge.js";
