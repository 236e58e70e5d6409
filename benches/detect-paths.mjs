// One Chromium page timing the ways a 640×480 photo or frame reaches a
// detection result, to tell the decoder's share from the detector's:
//   detectBytes   fb.detect(jpegBytes): the wasm's own decode, then detection
//   bitmapOnly    createImageBitmap(blob): the browser's decode alone
//   bitmapFrame   createImageBitmap, then fb.detectFrame(bitmap)
//   frameOnly     fb.detectFrame(bitmap) on a bitmap decoded once
//   pixelsOnly    fb.detectPixels(rgba) on pixels read once ("detection alone")
//   imageDecoder  WebCodecs' ImageDecoder alone, where the browser has it
// Medians (and minima) of 60 after 5 warm-ups, one page, ms.
// Needs pkg/ (scripts/build-wasm.sh) and bench-out/anchors/frame-640x480.jpg
// (scripts/bench-anchors.sh).
//
//   node benches/detect-paths.mjs
import { fileURLToPath } from "node:url";
import { launchChromium } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const { server, origin } = await serve(root);
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${origin}/tests/js/blank.html`);
  const r = await page.evaluate(async () => {
    const pkg = await import("/pkg/index.js");
    const fb = new pkg.FaceBridge();
    const bytes = new Uint8Array(await (await fetch("/bench-out/anchors/frame-640x480.jpg")).arrayBuffer());
    const opts = { role: "selfie", model: "short", tiles: "off", minScore: 0.5 };
    const med = async (n, f) => {
      const t = [];
      for (let i = 0; i < 5; i++) await f();
      for (let i = 0; i < n; i++) {
        const a = performance.now();
        await f();
        t.push(performance.now() - a);
      }
      t.sort((a, b) => a - b);
      return `${t[n >> 1].toFixed(2)} (min ${t[0].toFixed(2)})`;
    };
    const blob = () => new Blob([bytes], { type: "image/jpeg" });
    const out = { build: pkg.wasmBuild };
    out.detectBytes = await med(60, () => fb.detect(bytes, opts));
    out.bitmapOnly = await med(60, async () => (await createImageBitmap(blob())).close());
    out.bitmapFrame = await med(60, async () => {
      const b = await createImageBitmap(blob());
      await fb.detectFrame(b, opts);
      b.close();
    });
    const bmp = await createImageBitmap(blob());
    out.frameOnly = await med(60, () => fb.detectFrame(bmp, opts));
    const canvas = new OffscreenCanvas(bmp.width, bmp.height);
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(bmp, 0, 0);
    const px = ctx.getImageData(0, 0, bmp.width, bmp.height).data;
    out.pixelsOnly = await med(60, () => fb.detectPixels(px, bmp.width, bmp.height, opts));
    if (typeof ImageDecoder !== "undefined") {
      out.imageDecoder = await med(60, async () => {
        const d = new ImageDecoder({ data: bytes, type: "image/jpeg" });
        (await d.decode()).image.close();
        d.close();
      });
    }
    return out;
  });
  console.log(JSON.stringify(r, null, 1));
} finally {
  await browser.close();
  server.close();
}
