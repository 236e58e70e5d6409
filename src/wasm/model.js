// Reads the full-range BlazeFace network, which the wasm does not embed.
// wasm-bindgen copies this file to pkg/snippets/<crate>-<hash>/src/wasm/model.js,
// so the package's own copy is four levels up. The URL is a literal so that
// bundlers (Vite, webpack 5, esbuild) see the asset and copy it.
//
// The bytes are checked by the wasm (their SHA-256 is compiled in) before use.

/** @returns {Promise<Uint8Array>} */
export async function fetchModel(url) {
  const u = url
    ? new URL(url, globalThis.location?.href)
    : new URL("../../../../blazeface_back_256.fbnet", import.meta.url);
  if (u.protocol === "file:") {
    // Node: fetch() cannot read files. getBuiltinModule (Node ≥ 20.16) keeps
    // an `import "node:fs"` out of browser bundles.
    const fs = globalThis.process?.getBuiltinModule?.("fs");
    if (!fs) throw new Error(`cannot read ${u.href} here: pass the file's bytes as fullModel`);
    return new Uint8Array(await fs.promises.readFile(u));
  }
  const r = await fetch(u);
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
