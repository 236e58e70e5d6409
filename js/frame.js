// The camera-frame path: any frame the page has (a <video>, a VideoFrame, an
// ImageBitmap, a canvas, ImageData) to detection. VideoFrame.copyTo with
// format "RGBA" first (0.4 ms for 640×480, against 2.3 ms for drawImage +
// getImageData: BENCHMARKS.md); the canvas is the fallback. Installed on
// FaceBridge.prototype by the entries; touches no window at import.

/** Per detector: the RGBA buffer and the fallback canvas, reused frame to frame. */
const scratch = new WeakMap();

function buffers(owner) {
  let s = scratch.get(owner);
  if (!s) scratch.set(owner, (s = { rgba: null, canvas: null, ctx: null, copyTo: true }));
  return s;
}

function rgbaOf(s, n) {
  if (!s.rgba || s.rgba.length !== n) s.rgba = new Uint8Array(n);
  return s.rgba;
}

function isPixels(src) {
  return src && typeof src === "object" && "data" in src && "width" in src && "height" in src &&
    !(typeof HTMLCanvasElement !== "undefined" && src instanceof HTMLCanvasElement);
}

function sizeOf(src) {
  if (typeof VideoFrame !== "undefined" && src instanceof VideoFrame) {
    return [src.visibleRect?.width ?? src.displayWidth, src.visibleRect?.height ?? src.displayHeight];
  }
  if (typeof HTMLVideoElement !== "undefined" && src instanceof HTMLVideoElement) return [src.videoWidth, src.videoHeight];
  if (typeof HTMLImageElement !== "undefined" && src instanceof HTMLImageElement) return [src.naturalWidth, src.naturalHeight];
  return [src.width, src.height];
}

/** Pixels through a 2D canvas: the path every engine has. */
function viaCanvas(s, src, w, h) {
  if (!s.canvas || s.canvas.width !== w || s.canvas.height !== h) {
    s.canvas = typeof OffscreenCanvas !== "undefined"
      ? new OffscreenCanvas(w, h)
      : Object.assign(document.createElement("canvas"), { width: w, height: h });
    s.ctx = s.canvas.getContext("2d", { willReadFrequently: true });
  }
  s.ctx.drawImage(src, 0, 0, w, h);
  return s.ctx.getImageData(0, 0, w, h).data;
}

/**
 * RGBA pixels of `src` and their size. The returned array is reused by the
 * next call on the same detector: read it before calling again.
 */
export async function framePixels(owner, src) {
  if (isPixels(src)) return { data: src.data, width: src.width, height: src.height };
  const [width, height] = sizeOf(src);
  if (!(width > 0 && height > 0)) {
    const e = new Error("the frame has no pixels yet (a <video> before its first frame?)");
    e.name = "FaceBridgeError";
    e.code = "INVALID_OPTIONS";
    throw e;
  }
  const s = buffers(owner);
  if (s.copyTo && typeof VideoFrame !== "undefined") {
    const own = !(src instanceof VideoFrame);
    let frame = null;
    try {
      frame = own ? new VideoFrame(src, { timestamp: 0 }) : src;
      const rgba = rgbaOf(s, width * height * 4);
      await frame.copyTo(rgba, { rect: frame.visibleRect, format: "RGBA", layout: [{ offset: 0, stride: width * 4 }] });
      return { data: rgba, width, height };
    } catch (e) {
      // An engine without copyTo's format conversion (Chromium before 127):
      // the canvas from now on. A closed or detached frame is the caller's error.
      if (e?.name === "InvalidStateError") throw e;
      s.copyTo = false;
    } finally {
      if (own) frame?.close();
    }
  }
  return { data: viaCanvas(s, src, width, height), width, height };
}

/** Per detector: the full-range model's warm-up, once (document capture needs it). */
const fullRange = new WeakMap();

const METHODS = {
  async detectFrame(src, options) {
    const { data, width, height } = await framePixels(this, src);
    return this.detectPixels(data, width, height, options);
  },
  async detectCard(src) {
    if (!fullRange.has(this)) {
      const ready = this.warmUp("full");
      ready.catch(() => fullRange.delete(this)); // a failed fetch is tried again on the next frame
      fullRange.set(this, ready);
    }
    await fullRange.get(this);
    const { data, width, height } = await framePixels(this, src);
    return this.detectCardPixels(data, width, height);
  },
  async cropCard(src) {
    const { data, width, height } = await framePixels(this, src);
    return this.cropCardPixels(data, width, height);
  },
};

/** Adds `detectFrame`, `detectCard` and `cropCard` to the wasm-bindgen class. */
export function installFrame(FaceBridge) {
  for (const [name, value] of Object.entries(METHODS)) {
    if (FaceBridge.prototype[name]) continue;
    Object.defineProperty(FaceBridge.prototype, name, { configurable: true, writable: true, value });
  }
}
