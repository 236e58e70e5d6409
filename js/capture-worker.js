// Face detection for the capture controller (js/capture.js), off the page's
// main thread. The page sends one frame at a time (a VideoFrame, or an
// ImageBitmap where VideoFrame is missing) and waits for the answer; the
// frame is closed here. The wasm is loaded by the package's own entry, from
// beside this file, as on the page.
import { FaceBridge } from "./index.js";

const fb = new FaceBridge();
fb.warmUp("short");

self.onmessage = async ({ data }) => {
  const { id, frame, options } = data;
  try {
    const report = options?.role === "document" ? await fb.detectCard(frame) : await fb.detectFrame(frame, options);
    self.postMessage({ id, report });
  } catch (e) {
    self.postMessage({ id, error: { name: e?.name, code: e?.code, message: String(e?.message ?? e) } });
  } finally {
    frame?.close?.();
  }
};
self.postMessage({ ready: true });
