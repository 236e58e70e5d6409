// Where a cold start's time goes, in fresh Chromium contexts (cache cold):
// 1. the import of pkg/index.js as a page does it, with each request's
//    timing relative to the import's start (resource timing), so the
//    browser's own share (module fetches, the wasm's transfer) shows apart
//    from ours;
// 2. the same steps one at a time: fetch the relaxed wasm, compile it,
//    import the glue, instantiate, new FaceBridge + warmUp("short"), the
//    first detection from JPEG bytes and the second (medians).
// Needs pkg/ and bench-out/anchors/frame-640x480.jpg (scripts/bench-anchors.sh).
//
//   node benches/cold-parts.mjs [contexts=15]
import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";
import { stats } from "./wasm-bench.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const n = Number(process.argv[2] ?? 15);
const { server, origin } = await serve(root, { headers: { "cache-control": "public, max-age=3600" } });
const browser = await launchChromium();

/** `fn` in a fresh context's blank page; its result. */
async function fresh(fn) {
  const ctx = await browser.newContext();
  try {
    const page = await ctx.newPage();
    await page.goto(`${origin}/tests/js/blank.html`);
    return await page.evaluate(fn);
  } finally {
    await ctx.close();
  }
}

const median = (v) => stats(v).median;
try {
  const imports = [];
  for (let i = 0; i < n; i++) {
    imports.push(await fresh(async () => {
      const t0 = performance.now();
      await import("/pkg/index.js");
      const total = performance.now() - t0;
      const at = (e) => Object.fromEntries(["startTime", "requestStart", "responseEnd"].map((k) => [k, e[k] - t0]));
      const res = Object.fromEntries(performance.getEntriesByType("resource").filter((e) => e.startTime >= t0 - 1)
        .map((e) => [e.name.split("/").pop(), at(e)]));
      return { total, res };
    }));
  }
  const files = Object.keys(imports[0].res);
  console.log(`The import of pkg/index.js, medians of ${n} fresh contexts: ${median(imports.map((r) => r.total)).toFixed(1)} ms in all.\n`);
  console.log("| request | asked at | sent at | last byte at |\n|---|---|---|---|");
  for (const f of files) {
    const col = (k) => median(imports.filter((r) => r.res[f]).map((r) => r.res[f][k])).toFixed(1);
    console.log(`| ${f} | ${col("startTime")} | ${col("requestStart")} | ${col("responseEnd")} |`);
  }
  const steps = [];
  for (let i = 0; i < n; i++) {
    steps.push(await fresh(async () => {
      const frame = new Uint8Array(await (await fetch("/bench-out/anchors/frame-640x480.jpg")).arrayBuffer());
      const t = [performance.now()];
      const bytes = await (await fetch("/pkg/facebridge_relaxed_bg.wasm")).arrayBuffer();
      t.push(performance.now());
      const mod = await WebAssembly.compile(bytes);
      t.push(performance.now());
      const glue = await import("/pkg/facebridge.js");
      t.push(performance.now());
      await glue.default({ module_or_path: mod });
      t.push(performance.now());
      const fb = new glue.FaceBridge();
      await fb.warmUp("short");
      t.push(performance.now());
      await fb.detect(frame, { role: "selfie" });
      t.push(performance.now());
      await fb.detect(frame, { role: "selfie" });
      t.push(performance.now());
      return t.slice(1).map((v, k) => v - t[k]);
    }));
  }
  const names = ["fetch the wasm", "compile", "import the glue", "instantiate", "new FaceBridge + warmUp(\"short\")", "first detection", "second"];
  console.log(`\nThe steps one at a time, medians of ${n} fresh contexts (ms):\n`);
  console.log(`| ${names.join(" | ")} |\n|${names.map(() => "---").join("|")}|`);
  console.log(`| ${names.map((_, k) => median(steps.map((s) => s[k])).toFixed(1)).join(" | ")} |`);
} finally {
  await browser.close();
  server.close();
}
