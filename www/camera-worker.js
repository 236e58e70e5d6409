// Face detection for the camera loop, off the page's main thread: the page
// sends an ImageBitmap per frame, this worker answers with the faces and the
// quality gate's verdict. One frame in flight at a time (the page waits).
import init, { FaceBridge } from "../pkg/facebridge.js";

const ready = init().then(() => {
  const fb = new FaceBridge();
  fb.warmUp("short");
  return fb;
});
let canvas = null;
let ctx = null;

self.onmessage = async (e) => {
  const fb = await ready;
  const frame = e.data.frame;
  const { width, height } = frame;
  if (!canvas || canvas.width !== width || canvas.height !== height) {
    canvas = new OffscreenCanvas(width, height);
    ctx = canvas.getContext("2d", { willReadFrequently: true });
  }
  ctx.drawImage(frame, 0, 0);
  frame.close();
  const started = performance.now();
  try {
    const pixels = ctx.getImageData(0, 0, width, height).data;
    const r = fb.detectPixels(pixels, width, height, { role: "selfie" });
    self.postMessage({ ok: true, width, height, faces: r.faces, gate: r.gate, ms: performance.now() - started });
  } catch (err) {
    self.postMessage({ ok: false, code: err.code, message: err.message });
  }
};
self.postMessage({ loading: true });
ready.then(() => self.postMessage({ ready: true }));
