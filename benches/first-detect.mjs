// Where the first detection's time goes: the package's entry imported in a
// fresh Chromium context, then one detection from JPEG bytes on the 640×480
// frame (the anchors' cold start, cut in two), with V8 as it ships and with
// V8's optimising tier held back (`--wasm-tiering-budget`, so the whole run
// stays in baseline code). The gap between the two is what compiling hot
// functions on background threads costs the page's main thread. Node adds
// the optimising compiler's own account of the first detection
// (`--trace-wasm-compilation-times`): functions, milliseconds, wasm bytes.
// Needs pkg/ (scripts/build-wasm.sh) and bench-out/anchors/frame-640x480.jpg
// (scripts/bench-anchors.sh).
//
//   node benches/first-detect.mjs [contexts=15]
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const contexts = Number(process.argv[2] ?? 15);
const NO_TIER_UP = "--wasm-tiering-budget=1000000000";
const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** In the page: import, then the first and second detections (ms each). */
async function inPage() {
  const frame = new Uint8Array(await (await fetch("/bench-out/anchors/frame-640x480.jpg")).arrayBuffer());
  const opts = { role: "selfie", model: "short", tiles: "off", minScore: 0.5 };
  const t0 = performance.now();
  const pkg = await import("/pkg/index.js");
  const t1 = performance.now();
  const fb = new pkg.FaceBridge();
  await fb.detect(frame, opts);
  const t2 = performance.now();
  await fb.detect(frame, opts);
  return [t1 - t0, t2 - t1, performance.now() - t2, pkg.wasmBuild];
}

async function chromium(jsFlags) {
  const { server, origin } = await serve(root, { headers: { "cache-control": "public, max-age=3600" } });
  const browser = await launchChromium(jsFlags ? [`--js-flags=${jsFlags}`] : []);
  const rows = [];
  try {
    for (let i = 0; i < contexts; i++) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${origin}/tests/js/blank.html`);
      rows.push(await page.evaluate(inPage));
      await ctx.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  const col = (k) => median(rows.map((r) => r[k])).toFixed(1);
  return { build: rows[0][3], import: col(0), first: col(1), second: col(2) };
}

/** Node: the first detection, and what V8's optimising compiler did during it. */
function node(flags) {
  const script = `
    import { readFileSync } from "node:fs";
    const pkg = await import(${JSON.stringify(new URL("pkg/facebridge.js", `file://${root}`).href)});
    pkg.initSync({ module: readFileSync(${JSON.stringify(`${root}pkg/facebridge_bg.wasm`)}) });
    const jpg = readFileSync(${JSON.stringify(`${root}bench-out/anchors/frame-640x480.jpg`)});
    const fb = new pkg.FaceBridge();
    await fb.warmUp("short");
    const t = performance.now();
    await fb.detect(jpg, { role: "selfie", model: "short", tiles: "off", minScore: 0.5 });
    console.log("FIRST " + (performance.now() - t));`;
  const out = execFileSync(process.execPath, [...flags, "--input-type=module", "-e", script], { encoding: "utf8" });
  const first = Number(out.match(/FIRST ([\d.]+)/)[1]);
  const tf = [...out.matchAll(/using TurboFan, took (\d+) ms.*bodysize (\d+)/g)];
  return { first, tfFunctions: tf.length, tfMs: tf.reduce((a, m) => a + Number(m[1]), 0), tfBytes: tf.reduce((a, m) => a + Number(m[2]), 0) };
}

const lines = [];
for (const [name, flags] of [["as shipped", ""], ["no optimising tier", NO_TIER_UP]]) {
  const r = await chromium(flags);
  lines.push(`| Chromium, ${name} (${r.build}) | ${r.import} | ${r.first} | ${r.second} |`);
}
console.log(`Median of ${contexts} fresh contexts, ms:\n\n| V8 | import | first detection | second |\n|---|---|---|---|\n${lines.join("\n")}\n`);
const runs = [];
for (let i = 0; i < 7; i++) runs.push(node(["--trace-wasm-compilation-times"]));
const m = (k) => median(runs.map((r) => r[k]));
const still = median([0, 1, 2, 3, 4, 5, 6].map(() => node([NO_TIER_UP]).first));
console.log(`Node ${process.version}, SIMD build, median of 7: first detection ${m("first").toFixed(1)} ms (${still.toFixed(1)} ms with no optimising tier); ` +
  `during it V8 optimised ${m("tfFunctions")} functions, ${m("tfBytes")} bytes of wasm, in ${m("tfMs")} ms of compile time.`);
