// facebridge/capture: the capture controller: camera, detection loop,
// guidance, auto-capture. Headless: it draws nothing; the page shows the
// video and the words. Importing it adds `capture` and `prepareInWorker`
// to FaceBridge; nothing here touches window or navigator at import.
//
//   import { FaceBridge } from "facebridge";
//   import "facebridge/capture";
//   const cap = await new FaceBridge().capture({ role: "selfie", video: document.querySelector("video") });
//   cap.addEventListener("state", (e) => hint.textContent = e.detail.message ?? "");
//   const photo = await cap.result;      // what prepare() returns, at full camera resolution
//
// docs/capture.md has the states, the options and the steadiness rule.
// The class from wasm-bindgen's glue, which every entry re-exports: importing
// it loads no wasm, so this module imports anywhere (Node, server rendering).
import { FaceBridge } from "./facebridge.js";
import { guidance as wordsFor } from "./words.js";

const DEFAULTS = {
  role: "selfie",
  /** The gate must pass, with the face steady, this long before the photo is taken. */
  steadyMs: 800,
  /** …and over at least this many detected frames. */
  steadyFrames: 4,
  /** A new guidance code is shown only after this many frames in a row (no flicker). */
  holdFrames: 3,
  /** Take the photo by itself once steady; false: only `cap.capture()` takes it. */
  autoCapture: true,
  /** Detection in a module worker when the engine has them; false: on this thread. */
  worker: true,
  /** Stop the camera once the photo is taken. */
  stopAfterCapture: true,
};

/** Face movement between two frames that still counts as steady, relative to the face's size. */
const STEADY_MOVE = 0.06;
const STEADY_RESIZE = 0.08;

class CaptureError extends Error {
  constructor(code, message, cause) {
    super(message, cause ? { cause } : undefined);
    this.name = "FaceBridgeError";
    this.code = code;
  }
}

/** The package's module worker (capture-worker.js): detection and `prepare`, answers matched by id. */
class FaceBridgeWorker {
  static async start() {
    const w = new Worker(new URL("./capture-worker.js", import.meta.url), { type: "module" });
    try {
      await new Promise((resolve, reject) => {
        w.onmessage = (e) => (e.data?.ready ? resolve() : undefined);
        w.onerror = (e) => reject(new CaptureError("WORKER_FAILED", e.message || "the worker did not start"));
        setTimeout(() => reject(new CaptureError("WORKER_FAILED", "the worker did not start in 10 s")), 10_000);
      });
    } catch (e) {
      w.terminate();
      throw e;
    }
    return new FaceBridgeWorker(w);
  }
  constructor(w) {
    this.w = w;
    this.next = 0;
    this.pending = new Map();
    this.failed = false;
    w.onmessage = ({ data }) => {
      const p = this.pending.get(data.id);
      if (!p) return;
      this.pending.delete(data.id);
      if (data.error) p.reject(workerError(data.error));
      else p.resolve(data.report ?? data.prepared);
    };
    w.onerror = (e) => {
      this.failed = true;
      for (const p of this.pending.values()) p.reject(new CaptureError("WORKER_FAILED", e.message || "the worker failed"));
      this.pending.clear();
    };
  }
  _send(message, transfer = []) {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.w.postMessage({ id, ...message }, transfer);
    });
  }
  async detect(video, options) {
    const frame = typeof VideoFrame !== "undefined"
      ? new VideoFrame(video, { timestamp: Math.round(performance.now() * 1000) })
      : await createImageBitmap(video);
    return this._send({ frame, options }, [frame]);
  }
  /** `fb.prepare(input, options)` in the worker, by a FaceBridge made from `setup` (`workerSetup(fb)`). */
  prepare(input, options, setup) {
    return this._send({ prepare: { input, options, setup } });
  }
  close() {
    this.w.terminate();
  }
}

/** The worker's error as the page's would be: a FaceBridgeError with the same code and fields. */
function workerError(plain) {
  const e = new CaptureError(plain.code, plain.message);
  for (const [k, v] of Object.entries(plain)) {
    if (k !== "message" && k !== "name") e[k] = v;
  }
  return e;
}

/**
 * The options a worker's FaceBridge needs to prepare as `fb` does, or null
 * (networks of fb's own). `fullModelUrl` resolved against the page, as fb
 * resolves it (a worker would resolve it against its own script).
 */
export function workerSetup(fb) {
  const s = fb.__workerSetup?.();
  if (!s) return null;
  const [provider, maxPixels, maxAlloc, url] = s;
  const setup = { limits: { maxPixels, maxAlloc } };
  if (provider) setup.provider = provider;
  if (url) setup.fullModelUrl = typeof document === "undefined" ? url : new URL(url, document.baseURI).href;
  return setup;
}

/** Per FaceBridge: prepareInWorker's worker, closed after 30 s idle (its memory returned). */
const prepareWorkers = new WeakMap();
const PREPARE_WORKER_IDLE_MS = 30_000;

/** `fb.prepare` in a module worker (capture.d.ts). No workers, or networks of fb's own: on this thread. */
export async function prepareInWorker(fb, input, options) {
  if (typeof Worker === "undefined") return fb.prepare(input, options);
  const setup = workerSetup(fb);
  // Not bytes: the wasm's own INVALID_OPTION, from this thread.
  const bytes = input instanceof Blob || input instanceof ArrayBuffer || ArrayBuffer.isView(input);
  if (!setup || !bytes) return fb.prepare(input, options);
  let entry = prepareWorkers.get(fb);
  if (!entry) {
    entry = { worker: FaceBridgeWorker.start(), calls: 0, idle: null };
    prepareWorkers.set(fb, entry);
  }
  clearTimeout(entry.idle);
  entry.calls++;
  let worker = null;
  try {
    worker = await entry.worker;
    return await worker.prepare(input, options, setup);
  } catch (e) {
    if (e?.code !== "WORKER_FAILED") throw e;
    // The worker did not start, or died (it is not used again): this thread.
    if (prepareWorkers.get(fb) === entry) prepareWorkers.delete(fb);
    worker?.close();
    return fb.prepare(input, options);
  } finally {
    if (--entry.calls === 0 && prepareWorkers.get(fb) === entry) {
      entry.idle = setTimeout(() => {
        if (entry.calls > 0 || prepareWorkers.get(fb) !== entry) return;
        prepareWorkers.delete(fb);
        entry.worker.then((w) => w.close(), () => {});
      }, PREPARE_WORKER_IDLE_MS);
    }
  }
}

/** Detection on this thread (no module workers, or `worker: false`). */
class InlineDetector {
  constructor(fb) {
    this.fb = fb;
  }
  detect(video, options) {
    return options.role === "document" ? this.fb.detectCard(video) : this.fb.detectFrame(video, options);
  }
  close() {}
}

/**
 * The frames `video` presents, counted as they come: one callback is always
 * registered, so a detection that runs past a frame's period takes the frame
 * already waiting rather than waiting for the one after it (which halved the
 * rate whenever a detection overran 33 ms on a slow phone).
 */
class FrameClock {
  constructor(video) {
    this.video = video;
    this.shown = 0; // frames presented
    this.taken = 0; // frames handed to the loop
    this.wake = null;
    this.stopped = false;
    this.handle = null;
    this._arm();
  }
  _arm() {
    if (this.stopped) return;
    const tick = () => {
      this.shown++;
      const wake = this.wake;
      this.wake = null;
      wake?.();
      this._arm();
    };
    const v = this.video;
    if (typeof v.requestVideoFrameCallback === "function") this.handle = { video: v.requestVideoFrameCallback(tick) };
    else if (typeof requestAnimationFrame === "function") this.handle = { raf: requestAnimationFrame(tick) };
    else this.handle = { timer: setTimeout(tick, 33) };
  }
  /** Resolves at once if a frame came since the last call, else with the next one. */
  next() {
    if (this.shown > this.taken) {
      this.taken = this.shown;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.wake = () => {
        this.taken = this.shown;
        resolve();
      };
    });
  }
  stop() {
    this.stopped = true;
    const h = this.handle ?? {};
    if (h.video !== undefined) this.video.cancelVideoFrameCallback?.(h.video);
    if (h.raf !== undefined) cancelAnimationFrame(h.raf);
    if (h.timer !== undefined) clearTimeout(h.timer);
    this.wake?.();
  }
}

/**
 * A capture session. Events: `state` (every detected frame), `capture`
 * (the prepared photo), `error`. Also an async iterator of states.
 */
export class Capture extends EventTarget {
  constructor(fb, options) {
    super();
    this.fb = fb;
    this.options = { ...DEFAULTS, ...options };
    this.video = null;
    this.stream = null;
    this.closed = false;
    this.capturing = false;
    this.state = null;
    this._shown = null; // guidance code on screen
    this._candidate = { code: undefined, frames: 0 };
    this._passSince = null;
    this._passFrames = 0;
    this._prev = null;
    this._fps = 0;
    this._last = 0;
    this._waiters = [];
    this.result = new Promise((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    this.result.catch(() => {}); // rejected on close(); an unobserved rejection is not an error
    this._onVisibility = () => this._visibility();
  }

  /** Opens the camera and starts detection; resolves once frames flow. */
  async open() {
    const o = this.options;
    if (typeof navigator === "undefined" || !navigator.mediaDevices?.getUserMedia) {
      throw new CaptureError("CAMERA_UNAVAILABLE", "this page has no camera access (no navigator.mediaDevices: not a secure context?)");
    }
    this.video = o.video ?? Object.assign(document.createElement("video"), { muted: true, playsInline: true });
    this.video.muted = true;
    this.video.playsInline = true;
    await this._startCamera();
    const workers = o.worker && typeof Worker !== "undefined";
    try {
      this.detector = workers ? await FaceBridgeWorker.start() : new InlineDetector(this.fb);
    } catch {
      // No module workers (or the worker could not load): this thread.
      this.detector = new InlineDetector(this.fb);
    }
    this.usesWorker = this.detector instanceof FaceBridgeWorker;
    document.addEventListener?.("visibilitychange", this._onVisibility);
    this._loop();
    return this;
  }

  async _startCamera() {
    const o = this.options;
    const video = o.deviceId
      ? { deviceId: { exact: o.deviceId } }
      : { facingMode: o.role === "document" ? "environment" : "user" };
    // The photo is taken from the camera's frames: ask for more than the
    // detection needs (prepare scales it to the service's limits).
    Object.assign(video, { width: { ideal: o.role === "document" ? 1920 : 1280 }, height: { ideal: o.role === "document" ? 1080 : 720 } });
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
    } catch (e) {
      const code = e?.name === "NotAllowedError" ? "CAMERA_DENIED" : "CAMERA_UNAVAILABLE";
      throw new CaptureError(code, `the camera could not be opened: ${e?.message ?? e}`, e);
    }
    this.video.srcObject = this.stream;
    await this.video.play();
  }

  _stopCamera() {
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = null;
    if (this.video) this.video.srcObject = null;
  }

  async _visibility() {
    if (this.closed || this.capturing) return;
    if (document.visibilityState === "hidden") {
      this._stopCamera();
      this._emitState({ paused: true });
    } else if (!this.stream && !this._done) {
      try {
        await this._startCamera();
        this._loop();
      } catch (e) {
        this._fail(e);
      }
    }
  }

  async _loop() {
    if (this._looping) return;
    this._looping = true;
    const clock = new FrameClock(this.video);
    try {
      while (!this.closed && this.stream && !this._done) {
        await clock.next();
        if (this.closed || !this.stream || this.capturing || !(this.video.videoWidth > 0)) continue;
        let report;
        try {
          report = await this.detector.detect(this.video, { role: this.options.role });
        } catch (e) {
          if (this.closed || !this.stream) break;
          this._fail(e);
          break;
        }
        this._frame(report);
      }
    } finally {
      clock.stop();
      this._looping = false;
    }
  }

  _frame(report) {
    const now = performance.now();
    if (this._last) {
      const inst = 1000 / Math.max(1, now - this._last);
      this._fps = this._fps ? this._fps * 0.8 + inst * 0.2 : inst;
    }
    this._last = now;
    // What must hold still: the face, or for a document the card (its
    // corners' bounding box, in frame pixels).
    const isDocument = this.options.role === "document";
    const target = isDocument ? (report.card ? quadBox(report.card.corners) : null) : report.faces[0]?.box ?? null;
    const steady = !!target && !!this._prev && isSteady(this._prev, target);
    this._prev = target;
    const gate = report.gate.map((g) => g.code);
    // What the person should do now: the gate's first failure, or "hold
    // still" while the face (card) still moves; null when all is well.
    const raw = gate[0] ?? (steady ? null : target ? "BLURRY" : isDocument ? "CARD_NOT_FOUND" : "NO_FACE");
    if (raw === this._candidate.code) this._candidate.frames++;
    else this._candidate = { code: raw, frames: 1 };
    if (this._shown === undefined || this._candidate.frames >= this.options.holdFrames || this.state === null) {
      this._shown = this._candidate.code;
    }
    const passing = gate.length === 0 && steady;
    if (passing) {
      this._passSince ??= now;
      this._passFrames++;
    } else {
      this._passSince = null;
      this._passFrames = 0;
    }
    const heldMs = this._passSince === null ? 0 : now - this._passSince;
    const progress = passing ? Math.min(1, heldMs / this.options.steadyMs) : 0;
    this._emitState({ report, faces: report.faces, card: report.card ?? null, gate, steady, progress });
    if (this.options.autoCapture && passing && heldMs >= this.options.steadyMs && this._passFrames >= this.options.steadyFrames) {
      this.capture().catch(() => {});
    }
  }

  _emitState(extra) {
    const code = this._shown ?? null;
    this.state = {
      faces: [],
      gate: [],
      steady: false,
      progress: 0,
      paused: false,
      ...extra,
      guidance: code,
      message: code ? wordsFor(code, this.options.lang) : null,
      fps: Math.round(this._fps * 10) / 10,
      usesWorker: !!this.usesWorker,
    };
    this.dispatchEvent(new CustomEvent("state", { detail: this.state }));
    for (const w of this._waiters.splice(0)) w(this.state);
  }

  _fail(e) {
    const err = e instanceof Error ? e : new CaptureError("CAPTURE_FAILED", String(e));
    this.dispatchEvent(new CustomEvent("error", { detail: err }));
  }

  /**
   * Takes the photo now, at the camera's full resolution, and prepares it
   * (`prepare(photo, { role, ...options.prepare })`). Rejects with the
   * gate's error when the full-resolution photo fails it; detection goes on.
   */
  async capture() {
    if (this.capturing) return this.result;
    if (this.closed || !this.stream) throw new CaptureError("CAMERA_UNAVAILABLE", "the camera is not open");
    this.capturing = true;
    try {
      // A document: the card found again in this full-resolution frame,
      // straightened (wasm, `cropCard`); a selfie: the whole frame.
      const isDocument = this.options.role === "document";
      const photo = isDocument ? await this.fb.cropCard(this.video) : await frameJpeg(this.video);
      // A card's focus was judged on its whole print (detectCard's
      // sharpness); the printed portrait alone, often under 100 px, reads
      // soft by nature and is not judged again.
      const gate = isDocument ? { minSharpness: 0, ...this.options.prepare?.gate } : this.options.prepare?.gate;
      const options = { role: this.options.role, ...this.options.prepare, gate };
      // In the detection's worker: a full-size prepare holds a phone's main thread for a second.
      const setup = this.usesWorker && !this.detector.failed ? workerSetup(this.fb) : null;
      const prepared = setup ? await this.detector.prepare(photo, options, setup) : await this.fb.prepare(photo, options);
      this._done = true;
      if (this.options.stopAfterCapture) this._stopCamera();
      this._resolve(prepared);
      this.dispatchEvent(new CustomEvent("capture", { detail: prepared }));
      for (const w of this._waiters.splice(0)) w(null); // the iterator ends
      return prepared;
    } catch (e) {
      // The full-resolution photo failed the gate (or could not be read):
      // start the steadiness count again.
      this._passSince = null;
      this._passFrames = 0;
      this._fail(e);
      throw e;
    } finally {
      this.capturing = false;
    }
  }

  /** Stops the camera and the detection; `result` rejects if no photo was taken. */
  close() {
    if (this.closed) return;
    this.closed = true;
    this._stopCamera();
    this.detector?.close();
    document.removeEventListener?.("visibilitychange", this._onVisibility);
    this._reject(new CaptureError("CAPTURE_CLOSED", "the capture was closed before a photo was taken"));
    for (const w of this._waiters.splice(0)) w(null);
  }

  /** The states, one per detected frame, until the photo is taken or the capture closed. */
  async *[Symbol.asyncIterator]() {
    while (!this.closed && !this._done) {
      const s = await new Promise((r) => this._waiters.push(r));
      if (s === null) return;
      yield s;
    }
  }
}

/** Boxes `a` then `b` ({x, y, w, h}): moved and resized less than STEADY_MOVE / STEADY_RESIZE of the size. */
function isSteady(a, b) {
  const size = Math.max(a.w, a.h, 1);
  const dx = a.x + a.w / 2 - (b.x + b.w / 2);
  const dy = a.y + a.h / 2 - (b.y + b.h / 2);
  return Math.hypot(dx, dy) < STEADY_MOVE * size && Math.abs(Math.max(b.w, b.h) - size) < STEADY_RESIZE * size;
}

function quadBox(corners) {
  const xs = corners.map((c) => c[0]), ys = corners.map((c) => c[1]);
  const x = Math.min(...xs), y = Math.min(...ys);
  return { x, y, w: Math.max(...xs) - x, h: Math.max(...ys) - y };
}

/** The video's current frame at full resolution, as a JPEG at quality 0.95. */
async function frameJpeg(v) {
  const w = v.videoWidth, h = v.videoHeight;
  const canvas = typeof OffscreenCanvas !== "undefined"
    ? new OffscreenCanvas(w, h)
    : Object.assign(document.createElement("canvas"), { width: w, height: h });
  canvas.getContext("2d").drawImage(v, 0, 0, w, h);
  return canvas.convertToBlob
    ? canvas.convertToBlob({ type: "image/jpeg", quality: 0.95 })
    : new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.95));
}

/** Opens the camera and starts a capture with `fb` (also `fb.capture(options)`). */
export function capture(fb, options) {
  return new Capture(fb, options).open();
}

// fb.capture(options) and fb.prepareInWorker(input, options).
for (const [name, f] of [["capture", capture], ["prepareInWorker", prepareInWorker]]) {
  if (!FaceBridge.prototype[name]) {
    Object.defineProperty(FaceBridge.prototype, name, {
      configurable: true,
      writable: true,
      value: function (...args) {
        return f(this, ...args);
      },
    });
  }
}
