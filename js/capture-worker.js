// The package's module worker, started by js/capture.js. Messages, answered
// by id: `{ id, frame, options }` detects in a VideoFrame or ImageBitmap
// (closed here); `{ id, prepare: { input, options, setup } }` prepares a
// photo with a FaceBridge made from `setup` (capture.js's `workerSetup(fb)`).
import { FaceBridge } from "./index.js";

const fb = new FaceBridge();
fb.warmUp("short");

/**
 * One FaceBridge per setup the page sent. The detection's own serves the
 * setup it was made with (the defaults: capture.js's `workerSetup` of a
 * plain FaceBridge), so a capture's photo needs no second copy of the
 * networks, nor a second fetch of the full-range one.
 */
const [, maxPixels, maxAlloc] = fb.__workerSetup();
const preparers = new Map([[JSON.stringify({ limits: { maxPixels, maxAlloc } }), fb]]);
function preparer(setup) {
  const key = JSON.stringify(setup);
  let p = preparers.get(key);
  if (!p) preparers.set(key, (p = new FaceBridge(setup)));
  return p;
}

/** The error as plain data, with the fields the wasm gave it. */
function plainError(e) {
  const out = { name: e?.name, code: e?.code, message: String(e?.message ?? e) };
  for (const k of ["failures", "report", "provider", "serviceStatus", "serviceCode"]) {
    if (e?.[k] !== undefined) out[k] = e[k];
  }
  return out;
}

self.onmessage = async ({ data }) => {
  const { id, frame, options, prepare } = data;
  try {
    if (prepare) {
      const prepared = await preparer(prepare.setup).prepare(prepare.input, prepare.options);
      self.postMessage({ id, prepared }, [prepared.bytes.buffer]);
      return;
    }
    const report = options?.role === "document" ? await fb.detectCard(frame) : await fb.detectFrame(frame, options);
    self.postMessage({ id, report });
  } catch (e) {
    self.postMessage({ id, error: plainError(e) });
  } finally {
    frame?.close?.();
  }
};
self.postMessage({ ready: true });
