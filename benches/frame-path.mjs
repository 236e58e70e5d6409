// The camera-frame path alone, in several fresh pages: the anchors page's
// `cameraFrame` for ours (detectPixels on pixels already read, detectFrame
// on a VideoFrame, drawImage + getImageData + detectPixels), the three in
// turns within each page. One line per page: the medians and frame ÷ alone.
// Then, in one more page, the frame path's parts in turns: VideoFrame.copyTo
// into RGBA (what detectFrame asks for), in the frame's own layout, and into
// BGRA, next to detectPixels and detectFrame.
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
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${origin}/tests/js/blank.html`);
  const parts = await page.evaluate(async (src) => {
    const { timeInTurns } = await import("/benches/wasm-bench.mjs");
    const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
    const bmp = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
    const frame = new VideoFrame(bmp, { timestamp: 0 });
    const pkg = await import("/pkg/index.js");
    const fb = new pkg.FaceBridge();
    const opts = { role: "selfie" };
    const [w, h] = [frame.displayWidth, frame.displayHeight];
    const rgba = new Uint8Array(w * h * 4);
    const copy = (format) => frame.copyTo(rgba, { rect: frame.visibleRect, ...(format ? { format } : {}), layout: [{ offset: 0, stride: w * 4 }] });
    await copy("RGBA");
    const [pixels, framePath, toRgba, own, toBgra] = await timeInTurns(60, [
      () => fb.detectPixels(rgba, w, h, opts), () => fb.detectFrame(frame, opts),
      () => copy("RGBA"), () => copy(null), () => copy("BGRA"),
    ], 5);
    return { format: frame.format, pixels: pixels.median, framePath: framePath.median, toRgba: toRgba.median, own: own.median, toBgra: toBgra.median };
  }, spec.frame);
  await ctx.close();
  console.log(`\nThe parts, in turns in one page (medians of 60, ms): detectPixels ${parts.pixels.toFixed(1)}, detectFrame ${parts.framePath.toFixed(1)}; ` +
    `copyTo of this ${parts.format} frame into RGBA ${parts.toRgba.toFixed(1)}, in its own layout ${parts.own.toFixed(1)}, into BGRA ${parts.toBgra.toFixed(1)}`);
} finally {
  await browser.close();
  server.close();
}
