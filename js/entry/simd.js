// Which of the package's three wasm builds this engine runs:
// - "relaxed": wasm SIMD with relaxed SIMD, whose fused multiply-add the
//   detector's kernels use (Chromium 114+, Node 22+);
// - "simd": wasm SIMD (every current browser, Node 20, workerd);
// - "nosimd": neither (Safari before 16.4, some embedded webviews).
// Each probe is the smallest module with one instruction of its kind.
const SIMD = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x11, 0x0b, // i32.const 0; i32x4.splat; end
]);
const ZERO = [0x43, 0x00, 0x00, 0x00, 0x00, 0xfd, 0x13]; // f32.const 0; f32x4.splat
const RELAXED = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b,
  0x03, 0x02, 0x01, 0x00,
  // three zero vectors; f32x4.relaxed_madd (0xfd 0x105); end
  0x0a, 0x1c, 0x01, 0x1a, 0x00, ...ZERO, ...ZERO, ...ZERO, 0xfd, 0x85, 0x02, 0x0b,
]);

const BUILDS = ["relaxed", "simd", "nosimd"];

/**
 * The best build this engine compiles, or `force` ("relaxed", "simd" or
 * "nosimd": a test of another build) when the engine can run that one.
 */
export function pickBuild(force) {
  const validates = (probe) => typeof WebAssembly === "object" && WebAssembly.validate(probe);
  const can = { relaxed: validates(RELAXED), simd: validates(SIMD), nosimd: true };
  if (BUILDS.includes(force) && can[force]) return force;
  return BUILDS.find((b) => can[b]);
}

/** The wasm file of a build, beside this module. */
export function wasmFile(build) {
  return build === "simd" ? "./facebridge_bg.wasm" : `./facebridge_${build}_bg.wasm`;
}
