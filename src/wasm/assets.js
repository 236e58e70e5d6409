// What the wasm fetches from beside the package, on first use: the
// full-range BlazeFace network (which the wasm does not embed) and, for the
// browser's wasm, which leaves PNG and WebP out, the package's second wasm
// that decodes them (facebridge_formats_bg.wasm, built from formats/). One
// file for both: wasm-bindgen makes each snippet a module of its own, and a
// page's import waits for every one (docs/design-decisions.md, "PNG and WebP
// on demand").
//
// wasm-bindgen copies this file to pkg/snippets/<crate>-<hash>/src/wasm/assets.js,
// so the package's own files are four levels up. The URLs are literals so
// that bundlers (Vite, webpack 5, esbuild) see the assets and copy them.
// The network's bytes are checked by the wasm (their SHA-256 is compiled in)
// before use; the formats wasm's exports are formats/src/lib.rs, `abi`.

/** The bytes at `u`; Node reads `file:` URLs from disk. `pass` says what to do where neither works. */
async function bytesOf(u, pass) {
  if (u.protocol === "file:") {
    // Node: fetch() cannot read files. getBuiltinModule (Node ≥ 20.16) keeps
    // an `import "node:fs"` out of browser bundles.
    const fs = globalThis.process?.getBuiltinModule?.("fs");
    if (!fs) throw new Error(`cannot read ${u.href} here: ${pass}`);
    return new Uint8Array(await fs.promises.readFile(u));
  }
  const r = await fetch(u);
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** The package's full-range network (or the one at `url`). @returns {Promise<Uint8Array>} */
export function fetchModel(url) {
  const u = url
    ? new URL(url, globalThis.location?.href)
    : new URL("../../../../blazeface_back_256.fbnet", import.meta.url);
  return bytesOf(u, "pass the file's bytes as fullModel");
}

// The formats wasm, compiled once; each decode gets a fresh instance, so the
// memory a large file needed goes with it (wasm memory never shrinks) and a
// trap cannot leave a broken instance behind.
let formats = null;

/** Workers that cannot fetch from the package: the formats wasm as a WebAssembly.Module (or its bytes). */
export function provideFormats(module) {
  formats = module instanceof WebAssembly.Module ? Promise.resolve(module) : WebAssembly.compile(module);
}

async function loadFormats() {
  const u = new URL("../../../../facebridge_formats_bg.wasm", import.meta.url);
  if (u.protocol !== "file:" && typeof WebAssembly.compileStreaming === "function") {
    const r = await fetch(u);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    if (r.headers.get("content-type") === "application/wasm") return WebAssembly.compileStreaming(r);
    return WebAssembly.compile(await r.arrayBuffer());
  }
  return WebAssembly.compile(await bytesOf(u, "import facebridge_formats_bg.wasm and pass it to provideFormats"));
}

/**
 * Decodes one PNG (kind 0) or WebP (kind 1) file with the formats wasm.
 * Resolves to `{ status, width, height, bytesPerPixel, orientation, rgb,
 * message }` (src/wasm/formats.rs reads it); rejects when the module cannot
 * be loaded (the next call tries again), or trapped.
 */
export async function decodeFormat(bytes, kind, maxPixels, maxAlloc) {
  if (!formats) {
    formats = loadFormats();
    formats.catch(() => { formats = null; });
  }
  const x = (await WebAssembly.instantiate(await formats, {})).exports;
  const ptr = x.fb_input(bytes.length);
  if (ptr === 0 && bytes.length > 0) {
    return { status: 2, width: 0, height: 0, bytesPerPixel: 0, orientation: 1, rgb: null, message: "" };
  }
  new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
  const status = x.fb_decode(kind, maxPixels, maxAlloc);
  const out = {
    status, width: x.fb_width(), height: x.fb_height(), bytesPerPixel: x.fb_bytes_per_pixel(),
    orientation: x.fb_orientation(), rgb: null, message: "",
  };
  const view = (ptr, len) => new Uint8Array(x.memory.buffer, ptr, len);
  // The pixels stay in this instance's memory: the caller copies them into
  // its own before the instance is gone (one copy instead of two).
  if (status === 0) out.rgb = view(x.fb_output(), x.fb_output_len());
  else out.message = new TextDecoder().decode(view(x.fb_message(), x.fb_message_len()));
  return out;
}
