// Runs in a module web worker: the package must work without a window.
import init, { FaceBridge } from "../../pkg/facebridge.js";

self.onmessage = async ({ data }) => {
  try {
    await init();
    const fb = new FaceBridge();
    const bytes = new Uint8Array(await (await fetch(data.url)).arrayBuffer());
    self.postMessage({ ok: true, report: await fb.detect(bytes, data.options) });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e), code: e.code });
  }
};
