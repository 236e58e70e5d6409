// Cargo's runner for wasm32-wasip1 test binaries (scripts/test-wasm-units.sh):
// runs libtest's harness in Node's WASI, so the crate's own unit tests run
// where the simd128 code paths are compiled in (resize passes, detection
// kernels), not only on the host.
//
//   node scripts/wasi-run.mjs <test.wasm> [libtest args ...]
//
// The lib also carries the browser's wasm-bindgen exports; their imports are
// never called by a unit test, so each gets a function that throws if one is.
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";

const [file, ...args] = process.argv.slice(2);
const wasi = new WASI({
  version: "preview1",
  args: [file, ...args],
  env: { RUST_BACKTRACE: "0" },
  preopens: { "/": "/" },
  returnOnExit: true,
});
const module = await WebAssembly.compile(readFileSync(file));
const imports = { wasi_snapshot_preview1: wasi.wasiImport };
for (const i of WebAssembly.Module.imports(module)) {
  if (i.module === "wasi_snapshot_preview1") continue;
  if (i.kind !== "function") throw new Error(`the test binary imports a ${i.kind} ${i.module}.${i.name}`);
  imports[i.module] ??= {};
  imports[i.module][i.name] = () => {
    throw new Error(`${i.module}.${i.name} is a wasm-bindgen import; unit tests cannot call it`);
  };
}
const instance = await WebAssembly.instantiate(module, imports);
process.exitCode = wasi.start(instance);
