// The package's entry in browsers and bundlers (Vite, webpack 5, esbuild):
// ready on import. The wasm is fetched from beside this file (the bundler
// sees `new URL("facebridge_bg.wasm", import.meta.url)` in facebridge.js and
// emits it as an asset); nothing comes from a CDN. Needs top-level await
// (every browser since 2021; bundlers targeting es2022).
//
// For control over when the wasm loads, import "facebridge/manual" and call
// its default export (`init`) yourself.
import init from "./facebridge.js";

await init();

export * from "./facebridge.js";
export { default } from "./facebridge.js";
