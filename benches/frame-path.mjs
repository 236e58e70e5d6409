// The camera-frame path alone, in several fresh pages: the anchors page's
// `cameraFrame` for ours (detectPixels on pixels already read; detectFrame on
// a VideoFrame made from an ImageBitmap and on the same picture as a
// webcam's I420 frame; drawImage + getImageData + detectPixels), the paths
// in turns within each page. One line per page: the medians and frame ÷
// alone. Then, in one more page, the frame path's parts in turns:
// VideoFrame.copyTo into RGBA (what detectFrame asked for before it read
// frames in place) and in the frame's own layout, for both frames, next to
// detectPixels and detectFrame.
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
  console.log("| page | detection alone | frame path (bitmap frame) | ÷ alone | frame path (webcam I420) | ÷ alone | via a canvas |\n|---|---|---|---|---|---|---|");
  for (let i = 1; i <= pages; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${origin}/tests/js/blank.html`);
    const r = await page.evaluate(async (spec) => (await import("/benches/anchors-page.mjs")).cameraFrame(spec, "facebridge"), spec);
    const [a, f, y, c] = [r.detectionAlone.median, r.detectFrame.median, r.detectWebcamFrame.median, r.viaCanvas.median];
    console.log(`| ${i} | ${a.toFixed(1)} | ${f.toFixed(1)} | ${(f / a).toFixed(2)}× | ${y.toFixed(1)} | ${(y / a).toFixed(2)}× | ${c.toFixed(1)} |`);
    await ctx.close();
  }
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${origin}/tests/js/blank.html`);
  const parts = await page.evaluate(async (src) => {
    const { timeInTurns } = await import("/benches/wasm-bench.mjs");
    const { webcamFrame } = await import("/benches/anchors-page.mjs");
    const bytes = new Uint8Array(await (await fetch(src)).arrayBuffer());
    const bmp = await createImageBitmap(new Blob([bytes], { type: "image/jpeg" }));
    const frame = new VideoFrame(bmp, { timestamp: 0 });
    const pkg = await import("/pkg/index.js");
    const fb = new pkg.FaceBridge();
    const opts = { role: "selfie" };
    const [w, h] = [frame.displayWidth, frame.displayHeight];
    const rgba = new Uint8Array(w * h * 4);
    const own = new Uint8Array(w * h * 4);
    const toRgba = (f) => f.copyTo(rgba, { rect: f.visibleRect, format: "RGBA", layout: [{ offset: 0, stride: w * 4 }] });
    await toRgba(frame);
    const webcam = webcamFrame(rgba, w, h);
    const t = await timeInTurns(60, [
      () => fb.detectPixels(rgba, w, h, opts), () => fb.detectFrame(frame, opts), () => fb.detectFrame(webcam, opts),
      () => toRgba(frame), () => frame.copyTo(own), () => toRgba(webcam), () => webcam.copyTo(own),
    ], 5);
    const m = t.map((x) => x.median.toFixed(1));
    return `detectPixels ${m[0]}, detectFrame ${m[1]} (${frame.format} frame), ${m[2]} (${webcam.format}); ` +
      `copyTo of the ${frame.format} frame into RGBA ${m[3]}, in its own layout ${m[4]}; of the ${webcam.format} frame into RGBA ${m[5]}, in its own layout ${m[6]}`;
  }, spec.frame);
  await ctx.close();
  console.log(`\nThe parts, in turns in one page (medians of 60, ms): ${parts}`);
} finally {
  await browser.close();
  server.close();
}
