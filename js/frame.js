// The camera-frame path: any frame the page has (a <video>, a VideoFrame, an
// ImageBitmap, a canvas, ImageData) to detection. detectFrame copies a
// VideoFrame in its own layout (I420 from a webcam, NV12 from most phones,
// RGBA or BGRA) and the wasm reads that in place: 0.1 ms for a 640×480 I420
// frame against 0.5 ms for copyTo's conversion to RGBA (BENCHMARKS.md).
// Frames in other layouts or colours, and detectCard / cropCard, take
// copyTo with format "RGBA"; the canvas is the fallback (2.3 ms).
// Installed on FaceBridge.prototype by the entries; touches no window at import.

/** The layouts the wasm reads (its `__detectLayout` codes). */
const LAYOUTS = { RGBA: 0, RGBX: 0, BGRA: 1, BGRX: 1, I420: 2, I420A: 2, NV12: 3 };

/**
 * A frame's layout code and colour for the wasm, or null for the RGBA path.
 * YUV is converted as Chromium converts it: BT.601 unless the frame says
 * BT.709 (a webcam's frames say nothing, and Chromium takes BT.601 then),
 * limited range unless it says full; any other matrix goes through RGBA.
 */
function layoutOf(frame) {
  if (!Object.hasOwn(LAYOUTS, frame.format ?? "")) return null;
  const format = LAYOUTS[frame.format];
  if (format < 2) return [format, 0];
  const { matrix = null, fullRange = null } = frame.colorSpace ?? {};
  if (matrix !== null && matrix !== "bt709" && matrix !== "smpte170m" && matrix !== "bt470bg") return null;
  return [format, (matrix === "bt709" ? 1 : 0) | (fullRange ? 2 : 0)];
}

/** Per detector: the pixel buffer and the fallback canvas, reused frame to frame. */
const scratch = new WeakMap();

function buffers(owner) {
  let s = scratch.get(owner);
  if (!s) scratch.set(owner, (s = { buf: null, canvas: null, ctx: null, copyTo: true, own: true }));
  return s;
}

/** `n` bytes of the reused buffer (a new one when it is too small). */
function bytesOf(s, n) {
  if (!s.buf || s.buf.length < n) s.buf = new Uint8Array(n);
  return s.buf.subarray(0, n);
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
 * The pixels of `src` and their size: RGBA (`layout` null), or with
 * `ownLayout` the frame's own layout where the wasm reads it (`layout` for
 * `__detectLayout`). The returned array is reused by the next call on the
 * same detector: read it before calling again.
 */
export async function framePixels(owner, src, ownLayout = false) {
  if (isPixels(src)) return { data: src.data, width: src.width, height: src.height, layout: null };
  const [width, height] = sizeOf(src);
  if (!(width > 0 && height > 0)) {
    const e = new Error("the frame has no pixels yet (a <video> before its first frame?)");
    e.name = "FaceBridgeError";
    e.code = "INVALID_OPTIONS";
    throw e;
  }
  const s = buffers(owner);
  if (typeof VideoFrame !== "undefined" && (s.copyTo || (ownLayout && s.own))) {
    const own = !(src instanceof VideoFrame);
    let frame = null;
    try {
      frame = own ? new VideoFrame(src, { timestamp: 0 }) : src;
      const kind = ownLayout && s.own && layoutOf(frame);
      if (kind) {
        try {
          const data = bytesOf(s, frame.allocationSize());
          const planes = await frame.copyTo(data);
          const layout = new Uint32Array(2 + 2 * planes.length);
          layout.set(kind);
          planes.forEach((p, i) => layout.set([p.offset, p.stride], 2 + 2 * i));
          return { data, width: frame.visibleRect.width, height: frame.visibleRect.height, layout };
        } catch (e) {
          // A frame copyTo will not copy as it is (a visible rect at an odd
          // offset): RGBA from now on.
          if (e?.name === "InvalidStateError") throw e;
          s.own = false;
        }
      }
      if (s.copyTo) {
        const rgba = bytesOf(s, width * height * 4);
        await frame.copyTo(rgba, { rect: frame.visibleRect, format: "RGBA", layout: [{ offset: 0, stride: width * 4 }] });
        return { data: rgba, width, height, layout: null };
      }
    } catch (e) {
      // An engine without copyTo's format conversion (Chromium before 127):
      // the canvas from now on. A closed or detached frame is the caller's error.
      if (e?.name === "InvalidStateError") throw e;
      s.copyTo = false;
    } finally {
      if (own) frame?.close();
    }
  }
  return { data: viaCanvas(s, src, width, height), width, height, layout: null };
}

/** Per detector: the full-range model's warm-up, once (document capture needs it). */
const fullRange = new WeakMap();

const METHODS = {
  async detectFrame(src, options) {
    const { data, width, height, layout } = await framePixels(this, src, true);
    return layout
      ? this.__detectLayout(data, width, height, layout, options)
      : this.detectPixels(data, width, height, options);
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
