// The camera-frame path alone, in several fresh pages: the anchors page's
// `cameraFrame` for ours (detectPixels on pixels already read, detectFrame
// on a VideoFrame, drawImage + getImageData + detectPixels), the three in
// turns within each page. One line per page: the medians and frame ÷ alone.
// Needs pkg/ and bench-out/anchors/frame-640x480.jpg (scripts/bench-anchors.sh).
//
//   node benches/frame-path.mjs [pages=6] [runs per path=40]
import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const pages = Number(process.argv[2] ?? 6);
const spec = { frame: "/bench-out/anchors/frame-640x480.jpg", runs: Number(process.argv[3] ?? 40) / 2 };
const { server, origin } = await serve(root);
const browser = await launchChromium();
try {
  console.log("| page | detection alone | frame path | frame ÷ alone | via a canvas |\n|---|---|---|---|---|");
  for (let i = 1; i <= pages; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${origin}/tests/js/blank.html`);
    const r = await page.evaluate(async (spec) => (await import("/benches/anchors-page.mjs")).cameraFrame(spec, "facebridge"), spec);
    const [a, f, c] = [r.detectionAlone.median, r.detectFrame.median, r.viaCanvas.median];
    console.log(`| ${i} | ${a.toFixed(1)} | ${f.toFixed(1)} | ${(f / a).toFixed(2)}× | ${c.toFixed(1)} |`);
    await ctx.close();
  }
} finally {
  await browser.close();
  server.close();
}
