// Runs the wasm benchmark in Node and in headless Chromium, and joins it with
// the native figures (bench-out/native.json, written by scripts/bench.sh).
// Prints a markdown table and writes bench-out/results.json.
import { readFileSync, writeFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { execFileSync } from "node:child_process";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const out = (f) => root + "bench-out/" + f;
const native = JSON.parse(readFileSync(out("native.json"), "utf8"));
const nativePeak = JSON.parse(readFileSync(out("native-peak.json"), "utf8"));

// ── Node: a fresh process for the peak measure, this one for the rest.
const nodeEnv = async () => {
  const pkg = await import(root + "pkg/facebridge.js");
  return {
    init: async () => pkg.initSync({ module: readFileSync(root + "pkg/facebridge_bg.wasm") }),
    FaceBridge: pkg.FaceBridge,
    bytes: async (n) => new Uint8Array(readFileSync(out(n))),
  };
};
const { runWasmBench } = await import("./wasm-bench.mjs");
let node;
if (process.argv[2] === "--node-peak") {
  const { runPeak12mp } = await import("./wasm-bench.mjs");
  console.log(JSON.stringify(await runPeak12mp(await nodeEnv())));
  process.exit(0);
}
node = await runWasmBench(await nodeEnv());
const nodePeak = JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), "--node-peak"]).toString());

// ── Chromium: one page for the benchmark, a fresh page for the peak measure.
const { server, origin } = await serve(root);
const browser = await launchChromium();
const offLoopback = [];
const inPage = async (fn) => {
  const page = await browser.newPage();
  page.on("request", (r) => { if (!r.url().startsWith(origin)) offLoopback.push(r.url()); });
  await page.goto(`${origin}/tests/js/blank.html`);
  const r = await page.evaluate(async (fn) => {
    const b = await import("/benches/wasm-bench.mjs");
    const pkg = await import("/pkg/facebridge.js");
    const env = {
      init: () => pkg.default(),
      FaceBridge: pkg.FaceBridge,
      bytes: async (n) => new Uint8Array(await (await fetch(`/bench-out/${n}`)).arrayBuffer()),
    };
    return b[fn](env);
  }, fn);
  await page.close();
  return r;
};
const chrome = await inPage("runWasmBench");
const chromePeak = await inPage("runPeak12mp");
const version = browser.version();
await browser.close();
server.close();
if (offLoopback.length) throw new Error(`requests left loopback: ${offLoopback.join(", ")}`);

const wasmPath = root + "pkg/facebridge_bg.wasm";
const wasmBytes = readFileSync(wasmPath);
const js = readFileSync(root + "pkg/facebridge.js");
const size = {
  wasmRaw: statSync(wasmPath).size, wasmGzip: gzipSync(wasmBytes, { level: 9 }).length,
  jsRaw: js.length, jsGzip: gzipSync(js, { level: 9 }).length,
};
const results = { date: new Date().toISOString(), chromium: version, node: process.version, size, native, nativePeak, node_: node, nodePeak, chrome, chromePeak };
writeFileSync(out("results.json"), JSON.stringify(results, null, 2));

const f = (x) => (x === undefined ? "–" : typeof x === "number" ? x.toFixed(1) : `${x.median.toFixed(1)} (${x.min.toFixed(1)}–${x.max.toFixed(1)})`);
const ratio = (a, b) => (a && b ? (a.median / b.median).toFixed(2) + "×" : "–");
const rows = [
  ["model load, short-range (ms)", "modelLoad_short-range"],
  ["model load, full-range: read from the package, SHA-256, load (ms)", "modelLoad_full-range"],
  ["detect 640×480 frame, short-range (ms)", "detectFrame640_short-range"],
  ["detect 640×480 frame, full-range (ms)", "detectFrame640_full-range"],
  ["prepare 1 MP JPEG → ≤ 2 MB (ms)", "prepare1mp_2MB"],
  ["prepare 12 MP JPEG → ≤ 2 MB, max side 2048 (ms)", "prepare12mp_2MB_side2048"],
  ["prepare 12 MP JPEG → ≤ 2 MB, no resize (ms)", "prepare12mp_2MB_noresize"],
];
let md = `Chromium ${version}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; median (min–max) in ms.\n\n`;
md += "| step | native | wasm in Node | wasm in Chromium | Node/native | Chromium/native |\n|---|---|---|---|---|---|\n";
for (const [label, k] of rows) md += `| ${label} | ${f(native[k])} | ${f(node[k])} | ${f(chrome[k])} | ${ratio(node[k], native[k])} | ${ratio(chrome[k], native[k])} |\n`;
md += `| cold start → first detection (ms) | – | ${f(node.coldStartToFirstDetection)} | ${f(chrome.coldStartToFirstDetection)} | | |\n`;
md += `| … of which fetch, compile and instantiate (ms) | – | ${f(node.coldStartInstantiate)} | ${f(chrome.coldStartInstantiate)} | | |\n`;
md += `\nDecode of the 12 MP JPEG, native: full ${f(native.decode12mp_full)} ms; at reduced DCT scale for a 1024 px target ${f(native.decode12mp_for1024)} ms.\n`;
md += `\nPeak memory of one 12 MP prepare (no resize): native RSS ${(nativePeak.peakRssKiB / 1024).toFixed(0)} MiB (process base ${(nativePeak.baseRssKiB / 1024).toFixed(0)} MiB); wasm linear memory ${(nodePeak.wasmMemoryPeak / 2 ** 20).toFixed(0)} MiB in Node, ${(chromePeak.wasmMemoryPeak / 2 ** 20).toFixed(0)} MiB in Chromium.\n`;
md += `\nSize: wasm ${(size.wasmRaw / 1e6).toFixed(2)} MB raw, ${(size.wasmGzip / 1e6).toFixed(2)} MB gzip -9; JS glue ${(size.jsRaw / 1e3).toFixed(1)} kB raw, ${(size.jsGzip / 1e3).toFixed(1)} kB gzip.\n`;
console.log(md);
writeFileSync(out("table.md"), md);
