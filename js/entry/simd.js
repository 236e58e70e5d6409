// Which of the package's two wasm builds this engine runs: the SIMD one
// (wasm SIMD: every current browser, Node, workerd) or the no-SIMD one
// (Safari before 16.4, some embedded webviews). The probe is the smallest
// module with a SIMD instruction: `() -> v128 { i32x4.splat(0) }`.
const PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b, // i32.const 0; i32x4.splat; end
]);

/**
 * `true` when this engine compiles wasm SIMD. `forceNoSimd` (a test of the
 * fallback on an engine that has SIMD) says no.
 */
export function hasSimd(forceNoSimd = false) {
  return !forceNoSimd && typeof WebAssembly === "object" && WebAssembly.validate(PROBE);
}
