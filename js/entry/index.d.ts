// The default entry's types: the package's API, and which wasm build runs.
export * from "./facebridge.js";
export { default } from "./facebridge.js";
/** The wasm build this host runs: "nosimd" where the engine lacks wasm SIMD. */
export declare const wasmBuild: "simd" | "nosimd";
