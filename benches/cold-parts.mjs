// Where a cold start's time goes, in fresh Chromium contexts (cache cold):
// 1. the import of pkg/index.js as a page does it, with each request's
//    timing relative to the import's start (resource timing), so the
//    browser's own share (module fetches, the wasm's transfer) shows apart
//    from ours;
// 2. the same steps one at a time: fetch the relaxed wasm, compile it,
//    import the glue, instantiate, new FaceBridge + warmUp("short"), the
//    first detection from JPEG bytes and the second (medians);
// 3. the browser's floor: a one-line module's import (asked → evaluated),
//    what any library's first import costs here before its own work;
// 4. the first detection in a Chromium trace: its wall time against the
//    CPU time the page's main thread got, and the optimising compiler's
//    work on the worker threads meanwhile. Wall minus CPU is the time the
//    main thread waited for a core.
// Needs pkg/ and bench-out/anchors/frame-640x480.jpg (scripts/bench-anchors.sh).
//
//   node benches/cold-parts.mjs [contexts=15]
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";
import { detectorPage, inFreshPage, stats } from "./wasm-bench.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const n = Number(process.argv[2] ?? 15);
const { server, origin } = await serve(root, { headers: { "cache-control": "public, max-age=3600" } });
const browser = await launchChromium();

const fresh = (fn) => inFreshPage(browser, origin, fn);

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

  // 3. A module of one line, written where the server serves it.
  mkdirSync(`${root}bench-out`, { recursive: true });
  writeFileSync(`${root}bench-out/one-line.mjs`, "export const at = performance.now();\n");
  const floors = [];
  for (let i = 0; i < n; i++) {
    floors.push(await fresh(async () => {
      const t0 = performance.now();
      const m = await import("/bench-out/one-line.mjs");
      const e = performance.getEntriesByType("resource").find((r) => r.name.endsWith("one-line.mjs"));
      return [e.requestStart - t0, e.responseEnd - t0, m.at - t0];
    }));
  }
  const fl = (k) => median(floors.map((f) => f[k])).toFixed(1);
  console.log(`\nA one-line module's import, medians of ${n} fresh contexts: sent at ${fl(0)} ms, last byte at ${fl(1)}, evaluated at ${fl(2)}.`);

  // 4. Traced first detections (tracing slows every thread: compare the
  // shares, not the times with the untraced ones above).
  const traced = [];
  for (let i = 0; i < Math.min(n, 5); i++) {
    const { ctx, page } = await detectorPage(browser, origin, { warm: true });
    try {
      await browser.startTracing(page, { categories: ["v8", "v8.wasm", "v8.execute", "devtools.timeline"] });
      await page.evaluate(() => fb.detect(frame, opts).then(() => {}));
      const events = JSON.parse((await browser.stopTracing()).toString()).traceEvents;
      traced.push(firstDetection(events));
    } finally {
      await ctx.close();
    }
  }
  const tr = (k) => median(traced.map((t) => t[k])).toFixed(1);
  console.log(`\nThe first detection traced, medians of ${traced.length} fresh contexts (ms): wall ${tr("wall")}, ` +
    `the main thread's CPU ${tr("cpu")}; meanwhile on worker threads ${tr("units")} optimising compiles, ` +
    `${tr("tfWall")} ms wall and ${tr("tfCpu")} ms CPU.`);
} finally {
  await browser.close();
  server.close();
}

/**
 * The longest script run on the main thread of a trace (the detection),
 * its wall and CPU time, and the optimising compiles that overlap it.
 */
function firstDetection(events) {
  // The detection runs as a promise job: within the page's microtask
  // checkpoint, or a function call.
  const calls = events.filter((e) => e.ph === "X" && e.tdur !== undefined &&
    (e.name === "v8.callFunction" || e.name === "RunMicrotasks"));
  const call = calls.reduce((a, b) => (b.dur > a.dur ? b : a));
  const within = events.filter((e) => e.name === "wasm.TopTierCompilation" && e.ph === "X" &&
    e.ts < call.ts + call.dur && e.ts + e.dur > call.ts);
  const sum = (v) => v.reduce((a, b) => a + b, 0) / 1000;
  return { wall: call.dur / 1000, cpu: call.tdur / 1000, units: within.length,
    tfWall: sum(within.map((e) => e.dur)), tfCpu: sum(within.map((e) => e.tdur ?? 0)) };
}
