// facebridge against the anchors, in one headless Chromium session:
// MediaPipe tasks-vision FaceDetector, legacy MediaPipe face_detection,
// face-api's tiny face detector (tfjs wasm backend), and
// browser-image-compression. Prints a markdown table, writes
// bench-out/anchors.json and bench-out/anchors.md.
//
//   bash scripts/bench-anchors.sh     (installs the anchors, makes the inputs)
import { readFileSync, writeFileSync, statSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const RUNS = Number(process.env.ANCHOR_RUNS ?? 20);
const spec = {
  runs: RUNS,
  compressRuns: Number(process.env.ANCHOR_COMPRESS_RUNS ?? 5),
  frame: "/bench-out/anchors/frame-640x480.jpg",
  photo12: "/bench-out/anchors/photo-12mp.jpg",
  tflite: "/bench-out/anchors/face_detection_short_range_md.tflite",
  dir: "/tests/fixtures/photos",
  samples: ["sample1.jpg", "sample2.jpg", "sample3.jpg", "sample4.jpg", "sample5.jpg", "sample6.jpg"],
  // Selfie-like 640×480 frames, one per face of the samples (benches/anchors/make_selfies.py).
  selfieDir: "/bench-out/anchors/selfies",
  selfies: JSON.parse(readFileSync(`${root}bench-out/anchors/selfies/index.json`, "utf8")),
};
const INPUTS = (u) => ["/bench-out/anchors/frame", "/bench-out/anchors/photo", "/bench-out/anchors/selfies/", "/tests/fixtures/"]
  .some((p) => u.includes(p));

// Cacheable, as a CDN or a static host serves a release: the warm-cache
// cold starts below then read the wasm and its compiled code from the cache.
const { server, origin } = await serve(root, { headers: { "cache-control": "public, max-age=3600" } });
const COLD_STARTS = Number(process.env.ANCHOR_COLD_STARTS ?? 20);
const THROTTLE = 4;
const browser = await launchChromium();
const offLoopback = [];

/** Runs one exported function of anchors-page.mjs in a fresh page; returns its result and what the page loaded. */
const HARNESS = (u) => ["/benches/anchors-page.mjs", "/benches/wasm-bench.mjs", "/tests/js/main-thread.mjs"].some((h) => u.includes(h));

/**
 * Runs one exported function of anchors-page.mjs in a new page: of `context`
 * when given (the cache it has), else of a fresh context (cache cold). With
 * `throttle`, Chromium's CPU is slowed that many times (DevTools
 * `Emulation.setCPUThrottlingRate`, a low-end phone at 4). Returns the
 * function's result and what the page loaded.
 */
async function inPage(fn, { args = [], context = null, throttle = 1, specOver = {} } = {}) {
  const ctx = context ?? (await browser.newContext());
  const page = await ctx.newPage();
  const loaded = new Set();
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith("data:") && !u.startsWith("blob:")) offLoopback.push(u);
    // The harness's own modules (the page script and its timing helpers) are
    // loaded for every library alike and belong to none: not counted.
    else if (u.startsWith(origin) && !INPUTS(u) && !u.endsWith("/blank.html") && !HARNESS(u)) loaded.add(new URL(u).pathname);
  });
  page.on("pageerror", (e) => console.error(`${fn}: ${e.message}`));
  if (throttle !== 1) {
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: throttle });
  }
  await page.goto(`${origin}/tests/js/blank.html`);
  const result = await page.evaluate(async ([fn, spec, args]) => (await import("/benches/anchors-page.mjs"))[fn](spec, ...args),
    [fn, { ...spec, ...specOver }, args]);
  await page.close();
  if (!context) await ctx.close();
  let raw = 0, gz = 0;
  for (const p of loaded) {
    const f = root + decodeURIComponent(p).slice(1);
    if (!existsSync(f)) continue;
    const b = readFileSync(f);
    raw += b.length;
    gz += gzipSync(b, { level: 9 }).length;
  }
  return typeof result === "object" ? { ...result, bytes: { raw, gzip: gz, files: [...loaded].sort() } } : result;
}

/** Median and 90th percentile (nearest rank) of `v`. */
function pct(v) {
  const s = [...v].sort((a, b) => a - b);
  return { median: s[(s.length - 1) >> 1], p90: s[Math.ceil(0.9 * s.length) - 1], min: s[0], max: s[s.length - 1], n: s.length };
}

/** COLD_STARTS cold starts of `lib`: each in a fresh context (cache cold), or all in one context after a first load (cache warm). */
async function coldStarts(lib, throttle) {
  const cold = [];
  for (let i = 0; i < COLD_STARTS; i++) cold.push(await inPage("coldStart", { args: [lib], throttle }));
  // A returning visitor: one earlier visit that ran 20 detections and stayed
  // 3 s (time for the engine to write its code cache) before leaving.
  const ctx = await browser.newContext();
  await inPage("coldStart", { args: [lib, 20, 3000], context: ctx, throttle });
  const warm = [];
  for (let i = 0; i < COLD_STARTS; i++) warm.push(await inPage("coldStart", { args: [lib], context: ctx, throttle }));
  await ctx.close();
  return { cold: pct(cold), warm: pct(warm) };
}

const results = { date: new Date().toISOString(), runs: RUNS };
for (const lib of ["facebridge", "facebridgePixels", "tasksVision", "legacyMediapipe", "faceApi"]) {
  process.stderr.write(`${lib}… `);
  try {
    results[lib] = await inPage(lib);
  } catch (e) {
    results[lib] = { error: String(e.message ?? e).split("\n")[0] };
  }
  process.stderr.write("done\n");
}
// The detection right after the cold start, over several fresh pages (one
// page's 20 runs move by ±0.1× from run to run): the library loaded at once,
// as above, or once the page is quiet, QUIET_MS after its navigation. A
// fresh context's browser still works for about half a second after its first
// navigation; a library that loads in 0.1 s detects inside that time, one
// that loads in 0.6 s mostly after it (BENCHMARKS.md, session 9). Libraries
// and the two kinds of page take turns.
const EARLY_PAGES = Number(process.env.ANCHOR_EARLY_PAGES ?? 7);
const QUIET_MS = 1000;
results.early = {};
for (let i = 0; i < EARLY_PAGES; i++) {
  process.stderr.write(`early detections, page ${i + 1}/${EARLY_PAGES}… `);
  for (const lib of ["facebridge", "tasksVision", "legacyMediapipe", "faceApi"]) {
    for (const quietMs of [0, QUIET_MS]) {
      const e = ((results.early[lib] ??= { atOnce: [], quiet: [] }));
      try {
        const r = await inPage(lib, { specOver: { detectOnly: true, quietMs } });
        (quietMs ? e.quiet : e.atOnce).push(r.detectFrame640.median);
      } catch (err) {
        e.error = String(err.message ?? err).split("\n")[0];
      }
    }
  }
  process.stderr.write("done\n");
}

process.stderr.write("compression… ");
results.compress = await inPage("compress");
process.stderr.write("done\n");

// Cold starts, camera frames, and the same at 4× CPU throttle.
const COLD_LIBS = ["facebridge", "tasksVision", "legacyMediapipe", "faceApi"];
results.coldStarts = { 1: {}, [THROTTLE]: {} };
results.cameraFrame = { 1: {}, [THROTTLE]: {} };
for (const throttle of [1, THROTTLE]) {
  for (const lib of COLD_LIBS) {
    process.stderr.write(`cold starts ×${throttle}: ${lib}… `);
    try {
      results.coldStarts[throttle][lib] = await coldStarts(lib, throttle);
    } catch (e) {
      results.coldStarts[throttle][lib] = { error: String(e.message ?? e).split("\n")[0] };
    }
    process.stderr.write("done\n");
  }
  for (const lib of ["facebridge", "tasksVision"]) {
    process.stderr.write(`camera frame ×${throttle}: ${lib}… `);
    results.cameraFrame[throttle][lib] = await inPage("cameraFrame", { args: [lib], throttle });
    process.stderr.write("done\n");
  }
}
results.throttled = {};
for (const lib of COLD_LIBS) {
  process.stderr.write(`detection ×${THROTTLE}: ${lib}… `);
  try {
    results.throttled[lib] = await inPage(lib, { throttle: THROTTLE, specOver: { detectOnly: true, runs: Math.min(10, RUNS) } });
  } catch (e) {
    results.throttled[lib] = { error: String(e.message ?? e).split("\n")[0] };
  }
  process.stderr.write("done\n");
}
process.stderr.write(`compression ×${THROTTLE}… `);
results.throttled.compress = await inPage("compress", { throttle: THROTTLE, specOver: { compressRuns: Math.min(3, spec.compressRuns) } });
process.stderr.write("done\n");
results.chromium = browser.version();
await browser.close();
server.close();
if (offLoopback.length) throw new Error(`requests left loopback: ${offLoopback.join(", ")}`);

// ── Box agreement with tasks-vision (the same BlazeFace weights) ────────────
function iou(a, b) {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.w, b.x + b.w), y1 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return inter / (a.w * a.h + b.w * b.h - inter);
}
/** Width and height from a JPEG's first SOF marker. */
function jpegSize(bytes) {
  for (let i = 2; i + 9 < bytes.length; ) {
    const marker = bytes[i + 1], len = (bytes[i + 2] << 8) | bytes[i + 3];
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { w: (bytes[i + 7] << 8) | bytes[i + 8], h: (bytes[i + 5] << 8) | bytes[i + 6] };
    }
    i += 2 + len;
  }
  throw new Error("no SOF marker");
}
const photoFile = (name) => root + (spec.selfies.includes(name) ? `bench-out/anchors/selfies/${name}`
  : name === "frame-640x480.jpg" ? "bench-out/anchors/frame-640x480.jpg" : `tests/fixtures/photos/${name}`);
/** A box cut to the photo: tasks-vision clips its boxes to the image, the others do not. */
function clipped(b, { w, h }) {
  const x0 = Math.max(0, b.x), y0 = Math.max(0, b.y);
  return { x: x0, y: y0, w: Math.min(w, b.x + b.w) - x0, h: Math.min(h, b.y + b.h) - y0 };
}

/** Matches the boxes of two libraries photo by photo: on the group photos and the frame, or on the selfie-like frames. */
function agree(theirsKey, oursKey, photos) {
  const agreement = { perFace: [], oursOnly: 0, theirsOnly: 0 };
  const [o, t] = [results[oursKey], results[theirsKey]];
  if (!o?.boxes || !t?.boxes) return null;
  const sets = photos === "selfies"
    ? spec.selfies.map((s) => [s, o.selfieBoxes[s], t.selfieBoxes[s]])
    : [...spec.samples.map((s) => [s, o.boxes[s], t.boxes[s]]), ["frame-640x480.jpg", o.frameBoxes, t.frameBoxes]];
  for (const [s, rawOurs, rawTheirs] of sets) {
    const size = jpegSize(readFileSync(photoFile(s)));
    const [oursB, theirsB] = [rawOurs, rawTheirs].map((bs) => bs.map((b) => clipped(b, size)));
    // Greedy matching by IoU, best pairs first.
    const pairs = [];
    oursB.forEach((o, i) => theirsB.forEach((t, j) => pairs.push([iou(o, t), i, j])));
    pairs.sort((a, b) => b[0] - a[0]);
    const usedO = new Set(), usedT = new Set();
    for (const [v, i, j] of pairs) {
      if (v <= 0.3 || usedO.has(i) || usedT.has(j)) continue;
      usedO.add(i);
      usedT.add(j);
      agreement.perFace.push({ sample: s, iou: v });
    }
    agreement.oursOnly += oursB.length - usedO.size;
    agreement.theirsOnly += theirsB.length - usedT.size;
  }
  const n = agreement.perFace.length;
  agreement.shareAtLeast08 = n ? agreement.perFace.filter((f) => f.iou >= 0.8).length / n : null;
  return agreement;
}
// [label, first, second]: "ours" is the first side unless it says otherwise.
const PAIRS = [
  ["ours vs tasks-vision", "facebridge", "tasksVision"],
  ["ours vs legacy MediaPipe", "facebridge", "legacyMediapipe"],
  ["ours on the browser's decoding vs tasks-vision", "facebridgePixels", "tasksVision"],
  ["ours on the browser's decoding vs legacy MediaPipe", "facebridgePixels", "legacyMediapipe"],
  // The noise floor: the two MediaPipe builds of the same weights.
  ["legacy MediaPipe vs tasks-vision", "legacyMediapipe", "tasksVision"],
];
const agreement = {};
for (const photos of ["groups", "selfies"]) {
  agreement[photos] = Object.fromEntries(PAIRS.map(([label, a, b]) => [label, agree(b, a, photos)]));
}
results.agreement = agreement;
writeFileSync(root + "bench-out/anchors.json", JSON.stringify(results, null, 2));

// ── The table ───────────────────────────────────────────────────────────────
const ms = (x) => (x?.median === undefined ? "–" : `${x.median.toFixed(1)} (${x.min.toFixed(1)}–${x.max.toFixed(1)})`);
const mb = (n) => (n === undefined ? "–" : (n / 1e6).toFixed(2));
const ratio = (a, b) => (a !== undefined && b !== undefined ? `${(a / b).toFixed(2)}×` : "–");
const libs = [["facebridge (ours)", "facebridge"], ["facebridge on browser-decoded pixels", "facebridgePixels"], ["tasks-vision", "tasksVision"], ["legacy MediaPipe", "legacyMediapipe"], ["face-api tiny", "faceApi"]];
const ours = results.facebridge;
const lines = [];
lines.push(`Chromium ${results.chromium}, ${results.date.slice(0, 10)}; detection: median (min–max) ms of ${RUNS} runs after 3 warm-ups, from JPEG bytes; cold start: the median of ${COLD_STARTS} fresh contexts, cache cold (the table after this one has the rest). Ratio = ours / anchor (below 1 is better for us).`);
lines.push("");
lines.push("| library | loads MB raw | loads MB gzip | cold start → first result (ms) | detect 640×480 (ms) | detect sample1.jpg (ms) | gzip ratio | cold ratio | 640×480 ratio | sample1 ratio |");
lines.push("|---|---|---|---|---|---|---|---|---|---|");
for (const [label, k] of libs) {
  const r = results[k];
  if (!r || r.error) {
    lines.push(`| ${label} | failed: ${r?.error ?? "not run"} |||||||||`);
    continue;
  }
  const own = k.startsWith("facebridge");
  const coldOf = (key) => results.coldStarts[1][key]?.cold?.median ?? results[key].coldStartMs;
  lines.push(`| ${label} | ${mb(r.bytes.raw)} | ${mb(r.bytes.gzip)} | ${coldOf(k).toFixed(0)} | ${ms(r.detectFrame640)} | ${ms(r.detectSample1)} | ${own ? "" : ratio(ours.bytes.gzip, r.bytes.gzip)} | ${own ? "" : ratio(coldOf("facebridge"), coldOf(k))} | ${own ? "" : ratio(ours.detectFrame640.median, r.detectFrame640.median)} | ${own ? "" : ratio(ours.detectSample1.median, r.detectSample1.median)} |`);
}
lines.push("");
lines.push(`The 640×480 row again at the end of each page, after its other detections (sample1 ${RUNS + 3} times, the six samples, the selfies): median (min–max) ms of ${RUNS} runs after 3 warm-ups. The row above starts right after the cold start: for a library that loads in 0.1 s, while Chromium still finishes starting the page (the table after this one).`);
lines.push("");
lines.push("| library | detect 640×480, settled (ms) | ratio |");
lines.push("|---|---|---|");
for (const [label, k] of libs) {
  const r = results[k];
  if (!r || r.error || !r.detectFrame640Later) continue;
  const own = k.startsWith("facebridge");
  lines.push(`| ${label} | ${ms(r.detectFrame640Later)} | ${own ? "" : ratio(ours.detectFrame640Later?.median, r.detectFrame640Later.median)} |`);
}
lines.push("");
lines.push(`The 640×480 row right after the cold start again, over ${EARLY_PAGES} fresh pages per library (each page's median of ${RUNS} runs after 3 warm-ups; the median and range of those over the pages): the library loaded as soon as its page could (as in the first table), or ${QUIET_MS} ms after the page's navigation began, once the browser's work for a fresh context is over. Libraries and kinds of page in turns.`);
lines.push("");
lines.push(`| library | loaded at once (ms) | ratio | loaded after ${QUIET_MS} ms (ms) | ratio |`);
lines.push("|---|---|---|---|---|");
const pages = (v) => (v?.length ? pct(v) : undefined);
for (const [label, k] of libs) {
  const e = results.early?.[k];
  if (!e) continue;
  if (e.error) {
    lines.push(`| ${label} | failed: ${e.error} ||||`);
    continue;
  }
  const own = k === "facebridge";
  const [a, q] = [pages(e.atOnce), pages(e.quiet)];
  const o = results.early.facebridge;
  lines.push(`| ${label} | ${ms(a)} | ${own ? "" : ratio(pages(o.atOnce)?.median, a?.median)} | ${ms(q)} | ${own ? "" : ratio(pages(o.quiet)?.median, q?.median)} |`);
}
const c = results.compress;
lines.push("");
lines.push(`12 MP noisy JPEG (${mb(statSync(root + "bench-out/anchors/photo-12mp.jpg").size)} MB) → ≤ 2 MB, median (min–max) ms of ${spec.compressRuns} runs; ours includes decoding, face detection and the byte-budget search:`);
lines.push("");
lines.push("| job | facebridge prepare | browser-image-compression | ratio | output bytes (ours / theirs) |");
lines.push("|---|---|---|---|---|");
lines.push(`| max side 2048 | ${ms(c.ours2048)} | ${ms(c.bic2048)} | ${ratio(c.ours2048.median, c.bic2048.median)} | ${c.outBytes.ours2048} / ${c.outBytes.bic2048} |`);
lines.push(`| no resize | ${ms(c.oursNoResize)} | ${ms(c.bicNoResize)} | ${ratio(c.oursNoResize.median, c.bicNoResize.median)} | ${c.outBytes.oursNoResize} / ${c.outBytes.bicNoResize} |`);
lines.push(`| max side 2048, ours at their bytes | ${ms(c.oursEq2048)} | ${ms(c.bic2048)} | ${ratio(c.oursEq2048.median, c.bic2048.median)} | ${c.outBytes.oursEq2048} / ${c.outBytes.bic2048} |`);
lines.push(`| no resize, ours at their bytes | ${ms(c.oursEqNoResize)} | ${ms(c.bicNoResize)} | ${ratio(c.oursEqNoResize.median, c.bicNoResize.median)} | ${c.outBytes.oursEqNoResize} / ${c.outBytes.bicNoResize} |`);
lines.push(`| max side 2048, each in a worker | ${ms(c.oursWorker2048)} | ${ms(c.bicWorker2048)} | ${ratio(c.oursWorker2048.median, c.bicWorker2048.median)} | ${c.outBytes.oursWorker2048} / ${c.outBytes.bicWorker2048} |`);
lines.push("");
lines.push(`Our JPEG encodes per prepare: ${Object.entries(c.encodes).map(([k, v]) => `${k} ${v}`).join(", ")}.`);
lines.push("");
lines.push("The page's main thread during one prepare at max side 2048: the longest it went without running a 5 ms timer, median of 3 (ours in a worker is facebridge/capture's `prepareInWorker`; theirs is `useWebWorker: true`). At 4×, DevTools' throttling slows the page's main thread only, not workers: the worker rows' times there are not a phone's.");
lines.push("");
lines.push("| CPU | ours on the page | ours in a worker | theirs on the page | theirs in a worker |");
lines.push("|---|---|---|---|---|");
for (const [cpu, x] of [["1×", c], [`${THROTTLE}×`, results.throttled.compress]]) {
  const b = x.blocked;
  lines.push(`| ${cpu} | ${b.ours2048.toFixed(0)} ms | ${b.oursWorker2048.toFixed(0)} ms | ${b.bic2048.toFixed(0)} ms | ${b.bicWorker2048.toFixed(0)} ms |`);
}

// Cold starts, at 1× and 4× CPU.
const LIBNAME = { facebridge: "facebridge (ours)", tasksVision: "tasks-vision", legacyMediapipe: "legacy MediaPipe", faceApi: "face-api tiny" };
const mp = (x) => (x?.median === undefined ? "–" : `${x.median.toFixed(0)} / ${x.p90.toFixed(0)}`);
lines.push("");
lines.push(`Cold start → first result on the 640×480 frame (import, wasm compile and instantiate, model load, first detection), median / p90 ms of ${COLD_STARTS} page loads: each in a fresh browser context (cache cold), or in one context after a first load (cache warm: the wasm and its compiled code from Chromium's cache; assets served with \`cache-control: max-age=3600\`). Ratio on the medians.`);
lines.push("");
lines.push("| library | CPU | cache cold | cache warm | cold ratio | warm ratio |");
lines.push("|---|---|---|---|---|---|");
for (const throttle of [1, THROTTLE]) {
  const cs = results.coldStarts[throttle];
  for (const lib of Object.keys(cs)) {
    const r = cs[lib], o = cs.facebridge;
    if (r.error) {
      lines.push(`| ${LIBNAME[lib]} | ${throttle}× | failed: ${r.error} ||||`);
      continue;
    }
    const own = lib === "facebridge";
    lines.push(`| ${LIBNAME[lib]} | ${throttle}× | ${mp(r.cold)} | ${mp(r.warm)} | ${own ? "" : ratio(o.cold.median, r.cold.median)} | ${own ? "" : ratio(o.warm.median, r.warm.median)} |`);
  }
}

// Detection and prepare at 4× CPU.
const t = results.throttled;
lines.push("");
lines.push(`At ${THROTTLE}× CPU throttle: detection from JPEG bytes on the 640×480 frame, median (min–max) ms of 10 runs after 3 warm-ups; prepare of the 12 MP photo, 3 runs.`);
lines.push("");
lines.push("| job | facebridge (ours) | anchor | anchor ms | ratio |");
lines.push("|---|---|---|---|---|");
for (const lib of ["tasksVision", "legacyMediapipe", "faceApi"]) {
  const r = t[lib];
  lines.push(`| detect 640×480 | ${ms(t.facebridge.detectFrame640)} | ${LIBNAME[lib]} | ${r.error ? `failed: ${r.error}` : ms(r.detectFrame640)} | ${r.error ? "–" : ratio(t.facebridge.detectFrame640.median, r.detectFrame640.median)} |`);
}
const tc = t.compress;
lines.push(`| prepare 12 MP, max side 2048 | ${ms(tc.ours2048)} | browser-image-compression | ${ms(tc.bic2048)} | ${ratio(tc.ours2048.median, tc.bic2048.median)} |`);
lines.push(`| prepare 12 MP, no resize | ${ms(tc.oursNoResize)} | browser-image-compression | ${ms(tc.bicNoResize)} | ${ratio(tc.oursNoResize.median, tc.bicNoResize.median)} |`);
lines.push(`| prepare 12 MP, no resize, ours at their bytes | ${ms(tc.oursEqNoResize)} | browser-image-compression | ${ms(tc.bicNoResize)} | ${ratio(tc.oursEqNoResize.median, tc.bicNoResize.median)} |`);
lines.push(`| prepare 12 MP, max side 2048, each in a worker (workers not throttled) | ${ms(tc.oursWorker2048)} | browser-image-compression | ${ms(tc.bicWorker2048)} | ${ratio(tc.oursWorker2048.median, tc.bicWorker2048.median)} |`);

// The camera-frame path.
lines.push("");
const formats = results.cameraFrame[1].facebridge.frameFormats ?? [];
lines.push(`The camera-frame path: the 640×480 frame as a VideoFrame (what a camera track gives) to a detection result, median (min–max) ms of ${RUNS} runs, the paths in turns. "Detection alone" is \`detectPixels\` on pixels already read; the frame paths are \`detectFrame(videoFrame)\`, which copies the frame in its own layout into a reused buffer and reads it in place: the frame made from an ImageBitmap (${formats[0]}) and the same picture as a webcam gives it (${formats[1]}, colour unsaid); "via a canvas" is drawImage + getImageData + detectPixels; tasks-vision takes no VideoFrame, so it gets the frame's ImageBitmap.`);
lines.push("");
lines.push("| CPU | ours: detection alone | ours: frame path (bitmap frame) | frame / alone | ours: frame path (webcam I420) | webcam frame / alone | ours via a canvas | tasks-vision detectForVideo | frame path / tasks-vision |");
lines.push("|---|---|---|---|---|---|---|---|---|");
for (const throttle of [1, THROTTLE]) {
  const o = results.cameraFrame[throttle].facebridge, tv = results.cameraFrame[throttle].tasksVision;
  lines.push(`| ${throttle}× | ${ms(o.detectionAlone)} | ${ms(o.detectFrame)} | ${ratio(o.detectFrame.median, o.detectionAlone.median)} | ${ms(o.detectWebcamFrame)} | ${ratio(o.detectWebcamFrame.median, o.detectionAlone.median)} | ${ms(o.viaCanvas)} | ${ms(tv.detectFrame)} | ${ratio(o.detectFrame.median, tv.detectFrame.median)} |`);
}
lines.push("");
lines.push(`Box agreement (same short-range weights, score ≥ 0.5, boxes cut to the photo as tasks-vision does, greedy matching at IoU > 0.3): on sample1–6 and the 640×480 frame ("groups"), and on ${spec.selfies.length} selfie-like 640×480 crops, one per face of sample1–6 ("selfies").`);
lines.push("");
lines.push("| pair | photos | faces matched | IoU median (min) | share ≥ 0.8 | found by one side only (first / second) |");
lines.push("|---|---|---|---|---|---|");
for (const photos of ["groups", "selfies"]) {
  for (const [label] of PAIRS) {
    const ag = agreement[photos][label];
    if (!ag || !ag.perFace.length) {
      lines.push(`| ${label} | ${photos} | not computed |||||`);
      continue;
    }
    const ious = ag.perFace.map((f) => f.iou).sort((a, b) => a - b);
    lines.push(`| ${label} | ${photos} | ${ious.length} | ${ious[ious.length >> 1].toFixed(3)} (${ious[0].toFixed(3)}) | ${(ag.shareAtLeast08 * 100).toFixed(1)} % | ${ag.oursOnly} / ${ag.theirsOnly} |`);
  }
}
lines.push("");
const table = lines.join("\n");
writeFileSync(root + "bench-out/anchors.md", table + "\n");
console.log(table);
