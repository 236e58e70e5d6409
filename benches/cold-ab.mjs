// Cold start of several builds of the package, side by side: each run is a
// fresh Chromium context (cache cold) that imports <dir>/index.js and runs
// one detection from JPEG bytes on the anchors' 640×480 frame, the builds
// taking turns, so a machine that slows down slows them all. Prints the
// medians of the import, the first detection and the two together, and the
// p90 of the total. To compare a change: copy pkg/ of each build under
// bench-out/ (served from the repository's root) and pass the directories.
// Needs bench-out/anchors/frame-640x480.jpg (scripts/bench-anchors.sh).
//
//   node benches/cold-ab.mjs <contexts per build> <dir> [<dir> ...]
//   e.g. node benches/cold-ab.mjs 30 bench-out/pkg-before pkg
import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const [n, ...dirs] = process.argv.slice(2);
if (!(Number(n) > 0) || dirs.length === 0) {
  console.error("usage: node benches/cold-ab.mjs <contexts per build> <pkg dir> [<pkg dir> ...]");
  process.exit(2);
}
const { server, origin } = await serve(root, { headers: { "cache-control": "public, max-age=3600" } });
const browser = await launchChromium();
const runs = Object.fromEntries(dirs.map((d) => [d, []]));
try {
  for (let i = 0; i < Number(n); i++) {
    for (const dir of dirs) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${origin}/tests/js/blank.html`);
      runs[dir].push(await page.evaluate(async (dir) => {
        const frame = new Uint8Array(await (await fetch("/bench-out/anchors/frame-640x480.jpg")).arrayBuffer());
        const t0 = performance.now();
        const pkg = await import(`/${dir}/index.js`);
        const t1 = performance.now();
        await new pkg.FaceBridge().detect(frame, { role: "selfie", model: "short", tiles: "off", minScore: 0.5 });
        const t2 = performance.now();
        return [t1 - t0, t2 - t1, t2 - t0];
      }, dir.replace(/\/$/, "")));
      await ctx.close();
    }
  }
} finally {
  await browser.close();
  server.close();
}
const sorted = (v) => [...v].sort((a, b) => a - b);
const median = (v) => sorted(v)[(v.length - 1) >> 1];
const p90 = (v) => sorted(v)[Math.ceil(0.9 * v.length) - 1];
console.log(`Median ms of ${n} fresh contexts per build, builds in turns:\n`);
console.log("| build | import | first detection | total | total p90 |\n|---|---|---|---|---|");
for (const dir of dirs) {
  const col = (k) => runs[dir].map((r) => r[k]);
  console.log(`| ${dir} | ${median(col(0)).toFixed(1)} | ${median(col(1)).toFixed(1)} | ${median(col(2)).toFixed(1)} | ${p90(col(2)).toFixed(1)} |`);
}
