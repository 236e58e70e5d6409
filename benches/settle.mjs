// How a page's detections settle after its cold start: each fresh Chromium
// context imports pkg/index.js and runs <detections> detections from JPEG
// bytes on the anchors' 640×480 frame, back to back; printed are the
// medians over the contexts, ten detections at a time. The anchors' row
// "right after the cold start" is detections 5–24 of such a page (3
// warm-ups after the first, then 20 timed); its "settled" row comes after
// about 60 more. On Linux it then runs one more page in windows of
// detections and reads from /proc the CPU time each of the renderer's
// threads used in each window: what V8 still compiles on its worker
// threads while the page detects.
// With quietMs, every other context waits until quietMs after its page's
// navigation before it imports the package: the same detections on a page
// whose browser has finished the work of a fresh context (BENCHMARKS.md,
// session 9), the two kinds of context in turns, side by side.
// Needs pkg/ and bench-out/anchors/frame-640x480.jpg (scripts/bench-anchors.sh).
//
//   node benches/settle.mjs [contexts=6] [detections=200] [quietMs=0]
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";
import { detectorPage, inFreshPage, stats } from "./wasm-bench.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const contexts = Number(process.argv[2] ?? 6);
const count = Number(process.argv[3] ?? 200);
const quietMs = Number(process.argv[4] ?? 0);
const kinds = quietMs > 0 ? [0, quietMs] : [0];
const { server, origin } = await serve(root, { headers: { "cache-control": "public, max-age=3600" } });
const browser = await launchChromium();
try {
  const pages = kinds.map(() => []);
  for (let i = 0; i < contexts; i++) {
    for (const [j, quiet] of kinds.entries()) {
      pages[j].push(await inFreshPage(browser, origin, async ([count, quiet]) => {
        await new Promise((r) => setTimeout(r, Math.max(0, quiet - performance.now())));
        const frame = new Uint8Array(await (await fetch("/bench-out/anchors/frame-640x480.jpg")).arrayBuffer());
        const fb = new (await import("/pkg/index.js")).FaceBridge();
        const opts = { role: "selfie", model: "short", tiles: "off", minScore: 0.5 };
        const ms = [];
        for (let k = 0; k < count; k++) {
          const t = performance.now();
          await fb.detect(frame, opts);
          ms.push(performance.now() - t);
        }
        return ms;
      }, [count, quiet]));
    }
  }
  // Per context, the mean of each ten; then the median of those over contexts.
  const rows = [];
  for (let k = 0; k < count; k += 10) {
    const cells = pages.map((p) => stats(p.map((ms) => {
      const ten = ms.slice(k, k + 10);
      return ten.reduce((a, b) => a + b, 0) / ten.length;
    })).median.toFixed(2));
    rows.push(`| ${k + 1}–${Math.min(k + 10, count)} | ${cells.join(" | ")} |`);
  }
  const label = (q) => (q ? `imported ${q} ms after navigation` : "imported at once");
  console.log(`Detections from JPEG bytes on the 640×480 frame, ${contexts} fresh contexts${kinds.length > 1 ? " of each kind, in turns" : ""}: the median over contexts of each ten's mean (ms).\n`);
  console.log(`| detections | ${kinds.map(label).join(" | ")} |\n|---|${kinds.map(() => "---|").join("")}\n${rows.join("\n")}\n`);
  for (const [j, q] of kinds.entries()) {
    const first = stats(pages[j].map((ms) => ms[0])).median;
    const window = stats(pages[j].map((ms) => stats(ms.slice(4, 24)).median)).median;
    console.log(`${label(q)}: the first detection ${first.toFixed(1)} ms; the anchors' window (detections 5–24), median of each context's median, ${window.toFixed(2)} ms.`);
  }
  console.log("");
  if (existsSync("/proc/self/task")) {
    if (quietMs > 0) await afterNavigation();
    await threadWindows();
  }
} finally {
  await browser.close();
  server.close();
}

/**
 * CPU time (ms) of every thread of every Chromium renderer, by thread name
 * (numbers dropped, so a pool's workers add up), from /proc.
 */
function rendererThreads() {
  const out = {};
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmd;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (!cmd.includes("--type=renderer")) continue;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
        const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim().replace(/\d+$/, "");
        // utime + stime, in clock ticks of 10 ms.
        out[name] = (out[name] ?? 0) + (Number(f[11]) + Number(f[12])) * 10;
      } catch {
        // The thread ended meanwhile.
      }
    }
  }
  return out;
}

/** CPU time (ms) of every Chromium process, summed by its type (browser, renderer, gpu-process, utility), from /proc. */
function processTypes() {
  const out = {};
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmd.includes("chrom")) continue;
      const type = cmd.match(/--type=([a-z-]+)/)?.[1] ?? "browser";
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[type] = (out[type] ?? 0) + (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      // Not ours, or it ended meanwhile.
    }
  }
  return out;
}

/**
 * What Chromium itself does after a fresh context's first navigation, the
 * page blank and nothing imported: the CPU each kind of process used in
 * the half seconds after it, medians of 5 contexts.
 */
async function afterNavigation() {
  const spans = [[0, 500], [500, 1000], [1000, 1500]];
  const used = spans.map(() => ({}));
  for (let i = 0; i < 5; i++) {
    const ctx = await browser.newContext();
    try {
      const page = await ctx.newPage();
      await page.goto(`${origin}/tests/js/blank.html`);
      const t0 = performance.now();
      let before = processTypes();
      for (const [j, [, to]] of spans.entries()) {
        await new Promise((r) => setTimeout(r, Math.max(0, to - (performance.now() - t0))));
        const now = processTypes();
        for (const [k, v] of Object.entries(now)) (used[j][k] ??= []).push(v - (before[k] ?? 0));
        before = now;
      }
    } finally {
      await ctx.close();
    }
  }
  const types = [...new Set(used.flatMap((u) => Object.keys(u)))].sort();
  console.log("After a fresh context's first navigation to a blank page (nothing imported), the CPU time each kind of Chromium process used, medians of 5 contexts (/proc, ms):\n");
  console.log(`| after navigation | ${types.join(" | ")} |\n|---|${types.map(() => "---|").join("")}`);
  for (const [j, [from, to]] of spans.entries()) {
    console.log(`| ${from}–${to} ms | ${types.map((t) => (used[j][t] ? stats(used[j][t]).median : 0)).join(" | ")} |`);
  }
  console.log("");
}

/** One more page: detections in windows, and the renderer threads' CPU in each. */
async function threadWindows() {
  const { ctx, page } = await detectorPage(browser, origin);
  try {
    console.log("One more fresh context, its detections in windows, and the CPU time each of the renderer's threads used in each window (/proc):\n");
    console.log("| detections | ms each | renderer threads' CPU in the window (ms) |\n|---|---|---|");
    for (const [from, to] of [[0, 20], [20, 60], [60, 150], [150, 190]]) {
      const before = rendererThreads();
      const ms = await page.evaluate(async (n) => {
        const t = performance.now();
        for (let k = 0; k < n; k++) await fb.detect(frame, opts);
        return (performance.now() - t) / n;
      }, to - from);
      const after = rendererThreads();
      const used = Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v > 0)
        .sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
      console.log(`| ${from + 1}–${to} | ${ms.toFixed(2)} | ${used} |`);
    }
  } finally {
    await ctx.close();
  }
}
