// The package's entry in Cloudflare Workers (the `workerd` condition, which
// wrangler's bundler uses): the wasm imported as a module, compiled by the
// runtime at upload; no fetch, no eval. The full-range model cannot be
// fetched from the package here: import it as data too and pass its bytes,
// `new FaceBridge({ fullModel })`.
import module from "./facebridge_bg.wasm";
import { initSync } from "./facebridge.js";
// PNG and WebP: the formats wasm, imported the same way (the page's loader
// would fetch it from the package, which a Worker cannot). The snippet's
// path is written in by scripts/build-wasm.sh.
import formats from "./facebridge_formats_bg.wasm";
import { provideFormats } from "/* assets snippet */";

initSync({ module });
provideFormats(formats);

/** Workers always run the SIMD build. */
export const wasmBuild = "simd";

import { FaceBridge } from "./facebridge.js";
import { installFrame } from "./frame.js";

// fb.detectFrame(videoOrFrame, options): js/frame.js.
installFrame(FaceBridge);

export * from "./facebridge.js";
export { default } from "./facebridge.js";
