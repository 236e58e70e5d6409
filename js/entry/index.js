// The package's entry in browsers and bundlers (Vite, webpack 5, esbuild):
// ready on import. The wasm is fetched from beside this file; the literal
// URLs below let bundlers emit the three builds as assets, and only the one
// this engine runs is fetched (js/entry/simd.js picks it). Nothing comes
// from a CDN. Needs top-level await (every browser since 2021; bundlers
// targeting es2022).
//
// `?fb-wasm=simd` (or `relaxed`, `nosimd`) in the page's URL loads that
// build where the engine can run it: a way to test the others on one
// browser. `?fb-nosimd` is `?fb-wasm=nosimd`.
//
// For control over when the wasm loads, import "facebridge/manual" and call
// its default export (`init`) yourself.
import init from "./facebridge.js";
import { pickBuild } from "./simd.js";
// The glue's own imports (wasm-bindgen's snippets), imported here as well:
// they then load beside the glue instead of after it, one round trip less
// before the wasm's fetch can start. scripts/build-wasm.sh writes them in.
/* snippets */

const query = new URLSearchParams(globalThis.location?.search ?? "");
/** "relaxed", "simd" or "nosimd": the wasm build this page runs. */
export const wasmBuild = pickBuild(query.has("fb-nosimd") ? "nosimd" : query.get("fb-wasm"));

const urls = {
  relaxed: () => new URL("./facebridge_relaxed_bg.wasm", import.meta.url),
  simd: () => new URL("./facebridge_bg.wasm", import.meta.url),
  nosimd: () => new URL("./facebridge_nosimd_bg.wasm", import.meta.url),
};
await init({ module_or_path: urls[wasmBuild]() });

import { FaceBridge } from "./facebridge.js";
import { installFrame } from "./frame.js";

// fb.detectFrame(videoOrFrame, options): js/frame.js.
installFrame(FaceBridge);

export * from "./facebridge.js";
export { default } from "./facebridge.js";
