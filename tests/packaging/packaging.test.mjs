// The npm package as a user installs it: `npm pack` the built pkg/, install
// the tarball into a throw-away project, and run a real detection on a
// fixture photo in each host, with no glue: Node (ESM), CommonJS (a clear
// refusal), the `manual` entry, a page bundled by Vite, webpack 5 and
// esbuild in Chromium (the default entry, ready on import, each with the
// SIMD and the no-SIMD build), and a Cloudflare Worker (bundled by
// `wrangler deploy --dry-run`, then run in workerd). Each must find the
// faces the native build found.
//
//   node --test tests/packaging/packaging.test.mjs     (after scripts/build-wasm.sh)
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { Miniflare } from "miniflare";
import { assertSameFaces } from "../js/compare.mjs";
import { launchChromium, launchWithCamera } from "../js/chromium.mjs";
import { serve } from "../js/serve.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = (f) => join(root, "tests/fixtures/generated", f);
const expected = JSON.parse(readFileSync(fixture("expected.json"), "utf8"));
let dir, app, installed;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "fb-pack-"));
  const [{ filename, size, unpackedSize, files }] = JSON.parse(
    execFileSync("npm", ["pack", join(root, "pkg"), "--pack-destination", dir, "--json", "--loglevel=error"], { encoding: "utf8" }),
  );
  app = join(dir, "app");
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({
    name: "fb-pack-app", private: true, type: "module",
    dependencies: { facebridge: `file:../${filename}` },
  }));
  // A local tarball with no dependencies: nothing comes from the registry.
  execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: app });
  installed = join(app, "node_modules/facebridge");
  console.log(`# packed ${filename}: ${size} B, ${unpackedSize} B unpacked, ${files.length} files`);
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a script in the throw-away project; its stdout, parsed as JSON. */
function run(name, source, args = [], env = {}) {
  writeFileSync(join(app, name), source);
  return JSON.parse(execFileSync("node", [name, ...args], { cwd: app, encoding: "utf8", env: { ...process.env, ...env } }));
}

test("the browser entry has no static import (the wasm's request goes out first) and re-exports all of the glue", async () => {
  const entry = readFileSync(join(installed, "index.js"), "utf8");
  // Static imports and re-exports arrive before a module runs: none may be left.
  assert.deepEqual(entry.match(/^\s*(import\s*[\w{*"']|export\s*(\*|\{[^}]*\}\s*from))/gm), null);
  assert.match(entry, /fetch\(urls\[wasmBuild\]\(\)\)[\s\S]*import\("\.\/facebridge\.js"\)/);
  const glue = await import(join(installed, "facebridge.js"));
  const listed = entry.match(/^export const \{([^}]*)\} = glue;$/m)?.[1].split(",").map((n) => n.trim()).sort();
  assert.deepEqual(listed, Object.keys(glue).filter((k) => k !== "default").sort());
});

test("Node: `import { FaceBridge } from \"facebridge\"` detects with no setup", () => {
  const got = run("node.mjs", `
    import { readFileSync } from "node:fs";
    import { FaceBridge, wasmBuild } from "facebridge";
    const fb = new FaceBridge();
    const [photo, options] = process.argv.slice(2);
    console.log(JSON.stringify({ wasmBuild, ...(await fb.detect(readFileSync(photo), JSON.parse(options))) }));
  `, [fixture("selfie.jpg"), JSON.stringify(expected.selfieDetect.options)]);
  // The best build this Node runs: relaxed SIMD from Node 22 on.
  const relaxed = execFileSync("node", ["--input-type=module", "-e",
    `import { pickBuild } from ${JSON.stringify(join(installed, "simd.js"))}; console.log(pickBuild())`],
  { encoding: "utf8" }).trim();
  assert.ok(["relaxed", "simd"].includes(relaxed), relaxed);
  assert.equal(got.wasmBuild, relaxed);
  assertSameFaces(got, expected.selfieDetect.report, "Node, selfie");
  // The plain SIMD build, asked for.
  const simd = run("node.mjs", readFileSync(join(app, "node.mjs"), "utf8"),
    [fixture("selfie.jpg"), JSON.stringify(expected.selfieDetect.options)], { FB_WASM_BUILD: "simd" });
  assert.equal(simd.wasmBuild, "simd");
  assertSameFaces(simd, expected.selfieDetect.report, "Node, selfie, SIMD build");
  // The no-SIMD build (what engines without wasm SIMD load): the same faces.
  const plain = run("node.mjs", readFileSync(join(app, "node.mjs"), "utf8"),
    [fixture("selfie.jpg"), JSON.stringify(expected.selfieDetect.options)], { FB_WASM_BUILD: "nosimd" });
  assert.equal(plain.wasmBuild, "nosimd");
  assertSameFaces(plain, expected.selfieDetect.report, "Node, selfie, no-SIMD build");
  // The full-range model is read from the installed package on first use.
  const full = run("node.mjs", readFileSync(join(app, "node.mjs"), "utf8"),
    [fixture("sample1.jpg"), JSON.stringify(expected.sample1.options)]);
  assertSameFaces(full, expected.sample1.report, "Node, sample1 (full range)");
  // PNG: the formats wasm read from the installed package on first use.
  const png = run("node.mjs", readFileSync(join(app, "node.mjs"), "utf8"),
    [fixture("selfie.png"), JSON.stringify(expected.others.options)]);
  assertSameFaces(png, expected.others.reports["selfie.png"], "Node, selfie.png");
});

test("facebridge/words: the guidance catalog, in the page's language", () => {
  const got = run("words.mjs", `
    import { guidance, direction } from "facebridge/words";
    console.log(JSON.stringify({ ru: guidance("FACE_TOO_LARGE", "ru"), ar: direction("ar") }));
  `);
  assert.deepEqual(got, { ru: "Отодвиньтесь дальше", ar: "rtl" });
});

test("CommonJS: require() fails with a message that says what to do", () => {
  const got = run("require.cjs", `
    try { require("facebridge"); console.log(JSON.stringify({ loaded: true })); }
    catch (e) { console.log(JSON.stringify({ message: e.message })); }
  `);
  assert.match(got.message ?? "", /facebridge is an ES module: use `import \{ FaceBridge \} from "facebridge"`/);
  const dynamic = run("dynamic.cjs", `
    import("facebridge").then((m) => console.log(JSON.stringify({ ok: typeof m.FaceBridge })));
  `);
  assert.equal(dynamic.ok, "function");
});

test("facebridge/manual: wasm-bindgen's own entry, initialised by the caller", () => {
  const got = run("manual.mjs", `
    import { readFileSync } from "node:fs";
    import { initSync, FaceBridge } from "facebridge/manual";
    const wasm = new URL(import.meta.resolve("facebridge/facebridge_bg.wasm"));
    initSync({ module: readFileSync(wasm) });
    const [photo, options] = process.argv.slice(2);
    console.log(JSON.stringify(await new FaceBridge().detect(readFileSync(photo), JSON.parse(options))));
  `, [fixture("selfie.jpg"), JSON.stringify(expected.selfieDetect.options)]);
  assertSameFaces(got, expected.selfieDetect.report, "manual");
});

test("a Worker: bundled by `wrangler deploy --dry-run`, run in workerd", async () => {
  writeFileSync(join(app, "worker.js"), `
    import { FaceBridge } from "facebridge";
    const fb = new FaceBridge();
    export default {
      async fetch(request) {
        const options = JSON.parse(request.headers.get("x-options"));
        const report = await fb.detect(new Uint8Array(await request.arrayBuffer()), options);
        return Response.json(report);
      },
    };
  `);
  writeFileSync(join(app, "wrangler.toml"), 'name = "fb-pack"\nmain = "worker.js"\ncompatibility_date = "2025-09-01"\n');
  const out = join(app, "dist-wrangler");
  // wrangler's own bundling (the workerd condition, the .wasm as a module),
  // offline: a dry run needs no account.
  execFileSync(join(root, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out], {
    cwd: app, encoding: "utf8", stdio: "pipe",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", HOME: join(dir, "home") },
  });
  const sizes = readdirSync(out).map((f) => `${f} ${statSync(join(out, f)).size} B (gzip ${gzipSync(readFileSync(join(out, f)), { level: 9 }).length})`);
  console.log(`# wrangler's upload: ${sizes.join(", ")}`);
  const mf = new Miniflare({
    modules: true, modulesRoot: out, scriptPath: join(out, "worker.js"), compatibilityDate: "2025-09-01",
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
  });
  try {
    const r = await mf.dispatchFetch("http://worker.test/", {
      method: "POST", body: readFileSync(fixture("selfie.jpg")),
      headers: { "x-options": JSON.stringify(expected.selfieDetect.options) },
    });
    assert.equal(r.status, 200, await r.clone().text());
    assertSameFaces(await r.json(), expected.selfieDetect.report, "Worker");
    // PNG: the formats wasm imported as a module by the workerd entry.
    const p = await mf.dispatchFetch("http://worker.test/", {
      method: "POST", body: readFileSync(fixture("selfie.webp")),
      headers: { "x-options": JSON.stringify(expected.others.options) },
    });
    assert.equal(p.status, 200, await p.clone().text());
    assertSameFaces(await p.json(), expected.others.reports["selfie.webp"], "Worker, selfie.webp");
  } finally {
    await mf.dispose();
  }
});

/** The page every bundler builds: the package's default entry, no init(). */
const PAGE = `
  import { FaceBridge, wasmBuild } from "facebridge";
  const fb = new FaceBridge();
  window.wasmBuild = wasmBuild;
  window.detectUrl = async (url, options) =>
    fb.detect(new Uint8Array(await (await fetch(url)).arrayBuffer()), options);
`;
const HTML = '<!doctype html><meta charset="utf-8"><script type="module" src="./page.js"></script>';

/**
 * Serves a bundled page from `out` to Chromium, as loaded (the relaxed-SIMD
 * build) and with the SIMD and the no-SIMD builds forced: the selfie with the short-range model and sample1
 * with the full-range one (fetched from the bundle's assets) must give the
 * native faces, with one wasm fetched, the build the page runs.
 */
async function checkPage(out, label) {
  copyFileSync(fixture("selfie.jpg"), join(out, "selfie.jpg"));
  copyFileSync(fixture("sample1.jpg"), join(out, "sample1.jpg"));
  copyFileSync(fixture("selfie.png"), join(out, "selfie.png"));
  const { server, origin } = await serve(out);
  const browser = await launchChromium();
  try {
    // Chromium has relaxed SIMD: it loads that build unless told otherwise.
    for (const [query, build] of [["", "relaxed"], ["?fb-wasm=simd", "simd"], ["?fb-nosimd", "nosimd"]]) {
      const page = await browser.newPage();
      const errors = [];
      const wasm = [];
      page.on("pageerror", (e) => errors.push(e.message));
      // Bundlers rename assets (webpack: a hash): the wasm is known by its size.
      page.on("response", (r) => { if (r.url().endsWith(".wasm")) wasm.push(r.body().then((b) => b.length)); });
      await page.goto(`${origin}/index.html${query}`);
      await page.waitForFunction(() => typeof window.detectUrl === "function", null, { timeout: 20_000 });
      assert.equal(await page.evaluate(() => window.wasmBuild), build, label);
      const selfie = await page.evaluate((o) => window.detectUrl("/selfie.jpg", o), expected.selfieDetect.options);
      assertSameFaces(selfie, expected.selfieDetect.report, `${label}, ${build}, selfie`);
      const doc = await page.evaluate((o) => window.detectUrl("/sample1.jpg", o), expected.sample1.options);
      assertSameFaces(doc, expected.sample1.report, `${label}, ${build}, sample1 (full range)`);
      assert.deepEqual(errors, [], label);
      const want = statSync(join(installed, build === "simd" ? "facebridge_bg.wasm" : `facebridge_${build}_bg.wasm`)).size;
      assert.deepEqual(await Promise.all(wasm), [want], `${label}: one wasm fetched, the ${build} build`);
      if (build === "relaxed") {
        // A PNG: the formats wasm, emitted as an asset too, fetched now and only now.
        const png = await page.evaluate((o) => window.detectUrl("/selfie.png", o), expected.others.options);
        assertSameFaces(png, expected.others.reports["selfie.png"], `${label}, selfie.png`);
        const formats = statSync(join(installed, "facebridge_formats_bg.wasm")).size;
        assert.deepEqual(await Promise.all(wasm), [want, formats], `${label}: the formats wasm on the first PNG`);
        assert.deepEqual(errors, [], label);
      }
      await page.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
}

/** Builds `page` (and HTML) with Vite into `dist-<name>`; its path. */
async function viteBuild(name, page, config = {}) {
  const { build } = await import("vite");
  const src = join(app, name);
  mkdirSync(src);
  writeFileSync(join(src, "page.js"), page);
  writeFileSync(join(src, "index.html"), HTML);
  const out = join(app, `dist-${name}`);
  await build({
    root: src, configFile: false, logLevel: "error",
    build: { outDir: out, target: "es2022", emptyOutDir: true }, ...config,
  });
  return out;
}

test("a page bundled by Vite, in Chromium: the wasm builds and the model emitted as assets", async () => {
  await checkPage(await viteBuild("vite", PAGE), "Vite");
});

test("a page bundled by webpack 5, in Chromium: the wasm builds and the model emitted as assets", async () => {
  const { default: webpack } = await import("webpack");
  const src = join(app, "page.js");
  writeFileSync(src, PAGE);
  const out = join(app, "dist-webpack");
  const stats = await new Promise((resolve, reject) => webpack({
    mode: "production", context: app, entry: src, target: "web",
    output: { path: out, filename: "page.js", module: true, chunkFormat: "module" },
    experiments: { outputModule: true },
  }, (e, st) => (e ? reject(e) : resolve(st))));
  assert.ok(!stats.hasErrors(), stats.toString("errors-only"));
  writeFileSync(join(out, "index.html"), HTML);
  await checkPage(out, "webpack");
});

test("a page bundled by esbuild, in Chromium: ready on import, no init(); the no-SIMD build too", async () => {
  const src = join(app, "page.js");
  writeFileSync(src, PAGE);
  const out = join(app, "dist-esbuild");
  await esbuild.build({
    entryPoints: [src], bundle: true, format: "esm", outdir: out, logLevel: "error",
    platform: "browser", target: "es2022",
  });
  // esbuild keeps \`new URL("facebridge_bg.wasm", import.meta.url)\` as it is
  // (Vite and webpack 5 emit the asset themselves): the wasm builds and the
  // full-range model and the PNG/WebP decoder go beside the bundle, which is
  // what an esbuild user does.
  for (const f of ["facebridge_bg.wasm", "facebridge_relaxed_bg.wasm", "facebridge_nosimd_bg.wasm", "facebridge_formats_bg.wasm",
    "blazeface_back_256.fbnet"]) {
    copyFileSync(join(installed, f), join(out, f));
  }
  writeFileSync(join(out, "index.html"), HTML);
  await checkPage(out, "esbuild");
});

test("facebridge/element and facebridge/capture import in Node from the installed package (server rendering)", () => {
  const got = run("ssr.mjs", `
    const el = await import("facebridge/element");
    const cap = await import("facebridge/capture");
    console.log(JSON.stringify({ el: typeof el.FaceBridgeCaptureElement, cap: typeof cap.capture }));
  `);
  assert.deepEqual(got, { el: "function", cap: "function" });
});

/** A page with <facebridge-capture autostart>: what the capture and the first guidance said. */
const ELEMENT_PAGE = `
  import "facebridge/element";
  const el = document.createElement("facebridge-capture");
  el.setAttribute("autostart", "");
  el.addEventListener("guidance", (e) => { window.usesWorker ??= e.detail.state.usesWorker; });
  el.addEventListener("capture", (e) => { window.captured = { bytes: e.detail.bytes.length, width: e.detail.report.width }; });
  el.addEventListener("error", (e) => { window.errors = [...(window.errors ?? []), e.detail.code]; });
  document.body.append(el);
`;

/** Serves a bundled element page to Chromium with the fake camera on the test selfie. */
async function checkElementPage(out, label) {
  const { server, origin } = await serve(out);
  const browser = await launchWithCamera(fixture("camera-selfie.y4m"));
  try {
    const page = await browser.newPage();
    const errors = [];
    const log = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => log.push(m.text()));
    await page.goto(`${origin}/index.html`);
    await page.waitForFunction(() => window.captured, null, { timeout: 30_000 }).catch(async (e) => {
      const said = await page.evaluate(() => document.querySelector("facebridge-capture")?.shadowRoot.querySelector(".message").textContent);
      throw new Error(`${label}: no capture in 30 s; the element said "${said}"; console: ${log.join(" | ")}; errors: ${errors}`, { cause: e });
    });
    const got = await page.evaluate(() => ({ captured: window.captured, usesWorker: window.usesWorker }));
    assert.ok(got.captured.bytes > 10_000, `${label}: ${JSON.stringify(got)}`);
    assert.deepEqual(errors, [], label);
    return got;
  } finally {
    await browser.close();
    server.close();
  }
}

test("the capture element bundled by Vite (detection in the emitted worker) and by esbuild (on the page): a selfie captured", async () => {
  // The detection worker is an ES module with top-level await: Vite's
  // default worker format (iife) cannot hold it.
  const out = await viteBuild("vite-element", ELEMENT_PAGE, { worker: { format: "es" } });
  assert.equal((await checkElementPage(out, "Vite")).usesWorker, true, "Vite: detection in the worker");

  const esOut = join(app, "dist-esbuild-element");
  mkdirSync(join(app, "esbuild-element"));
  writeFileSync(join(app, "esbuild-element", "page.js"), ELEMENT_PAGE);
  await esbuild.build({
    entryPoints: [join(app, "esbuild-element", "page.js")], bundle: true, format: "esm", outdir: esOut, logLevel: "error",
    platform: "browser", target: "es2022",
  });
  // esbuild leaves `new URL("./capture-worker.js", import.meta.url)` as it
  // is: without the worker's files beside the bundle, detection runs on the page.
  for (const f of ["facebridge_bg.wasm", "facebridge_relaxed_bg.wasm", "facebridge_nosimd_bg.wasm"]) copyFileSync(join(installed, f), join(esOut, f));
  writeFileSync(join(esOut, "index.html"), HTML);
  assert.equal((await checkElementPage(esOut, "esbuild")).usesWorker, false, "esbuild, no worker file: on the page");
});
