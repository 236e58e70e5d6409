// The package's entry in browsers and bundlers: ready on import (top-level
// await: bundlers target es2022). The wasm is fetched from beside this file through literal URLs
// that bundlers emit as assets; only the build this engine runs is fetched
// (simd.js picks it; `?fb-wasm=simd|relaxed|nosimd` forces one). Nothing
// comes from a CDN. `facebridge/manual` gives control over when it loads.
// No static import is left after scripts/build-wasm.sh, so the wasm's
// request goes out first (docs/design-decisions.md, "One round trip before
// the wasm's request").
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
