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
//
// Round trips before the wasm's request goes out: one, this file's. A
// module's static imports all arrive before it runs, so this file has none
// that the build leaves: scripts/build-wasm.sh writes simd.js and frame.js
// in place of their imports below, and the glue (wasm-bindgen's
// facebridge.js) with its snippets is imported dynamically, beside the wasm's
// fetch and compilation (BENCHMARKS.md has the cold start before and after).
import { pickBuild } from "./simd.js";
import { installFrame } from "./frame.js";

const query = new URLSearchParams(globalThis.location?.search ?? "");
/** "relaxed", "simd" or "nosimd": the wasm build this page runs. */
export const wasmBuild = pickBuild(query.has("fb-nosimd") ? "nosimd" : query.get("fb-wasm"));

const urls = {
  relaxed: () => new URL("./facebridge_relaxed_bg.wasm", import.meta.url),
  simd: () => new URL("./facebridge_bg.wasm", import.meta.url),
  nosimd: () => new URL("./facebridge_nosimd_bg.wasm", import.meta.url),
};

// The wasm's request goes out now; the glue's init awaits the response
// (and streams it into the compiler). Compiling here with
// WebAssembly.compileStreaming, before the glue arrives, measured no faster.
const wasm = fetch(urls[wasmBuild]());
// Awaited by the glue's init below; a failure is reported there, not as an
// unhandled rejection while the glue is still on its way.
wasm.catch(() => {});
// The glue and its snippets (which the glue imports itself, one round trip
// later): scripts/build-wasm.sh writes the snippets' imports in.
const [glue] = await Promise.all([import("./facebridge.js") /* snippets */]);
await glue.default({ module_or_path: wasm });

// fb.detectFrame(videoOrFrame, options): js/frame.js.
installFrame(glue.FaceBridge);

// The glue's exports, listed by scripts/build-wasm.sh (`export *` would be a
// static import).
/* glue exports */
export default glue.default;
