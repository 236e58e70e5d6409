// facebridge/element: <facebridge-capture>, the capture controller
// (js/capture.js) as a custom element: the camera view with a guide, the
// guidance in the user's language, a live region for screen readers, and
// the buttons. Shadow DOM, styled by one constructed stylesheet (no inline
// styles or scripts: it runs under `style-src 'self'`), themable through
// CSS custom properties and ::part().
//
//   <script type="module">import "facebridge/element";</script>
//   <facebridge-capture kind="selfie" lang="kk"></facebridge-capture>
//   el.addEventListener("capture", (e) => upload(e.detail.bytes));
//
// Importing this module during server rendering is safe: no window,
// document or navigator is read, and the wasm loads only when the camera
// starts. docs/capture.md has the attributes, the events and the parts.
import { Capture } from "./capture.js";
import { direction, guidance, label, language } from "./words.js";

/** Shortest gap between two announcements of the live region (a screen reader needs time to speak). */
const ANNOUNCE_MS = 2000;

const CSS = `
:host {
  display: block;
  max-inline-size: var(--fb-max-width, 32rem);
  font: var(--fb-font, inherit);
  color: var(--fb-text, #1b1b1f);
}
:host([hidden]) { display: none; }
.root { display: grid; gap: 0.75rem; }
.stage {
  position: relative;
  overflow: hidden;
  aspect-ratio: 4 / 3;
  border-radius: var(--fb-radius, 12px);
  background: var(--fb-stage, #202124);
}
video, canvas {
  position: absolute;
  inset: 0;
  inline-size: 100%;
  block-size: 100%;
  object-fit: cover;
}
:host(:not([kind="document"])) video { transform: scaleX(-1); }
.guide {
  position: absolute;
  inset-block: 12%;
  inset-inline: 30%;
  border: 3px dashed var(--fb-guide, rgb(255 255 255 / 0.8));
  border-radius: 50%;
  pointer-events: none;
}
:host([kind="document"]) .guide { inset-block: 18%; inset-inline: 10%; border-radius: 4%; }
.stage[data-phase="fix"] .guide { border-color: var(--fb-warn, #f9ab00); }
.stage[data-phase="hold"] .guide { border-style: solid; border-color: var(--fb-ok, #1e8e3e); }
.stage[data-phase="idle"] .guide, .stage[data-phase="done"] .guide { display: none; }
.progress {
  position: absolute;
  inset-inline: 0;
  inset-block-end: 0;
  block-size: 6px;
  background: var(--fb-ok, #1e8e3e);
  transform-origin: left;
  transform: scaleX(var(--fb-progress, 0));
  transition: transform 120ms linear;
}
.root[dir="rtl"] .progress { transform-origin: right; }
.message {
  margin: 0;
  min-block-size: 1.5em;
  font-size: 1.125rem;
  font-weight: 600;
  text-align: center;
}
.sr {
  position: absolute;
  inline-size: 1px;
  block-size: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}
.controls { display: flex; gap: 0.5rem; justify-content: center; flex-wrap: wrap; }
button {
  font: inherit;
  font-weight: 600;
  min-block-size: 44px;
  padding: 0.5rem 1.25rem;
  border: 2px solid var(--fb-accent, #0b57d0);
  border-radius: var(--fb-button-radius, 999px);
  background: var(--fb-accent, #0b57d0);
  color: var(--fb-accent-text, #ffffff);
  cursor: pointer;
}
button.secondary { background: transparent; color: var(--fb-accent, #0b57d0); }
button:focus-visible { outline: 3px solid var(--fb-focus, #1b1b1f); outline-offset: 3px; }
button[hidden], video[hidden], canvas[hidden] { display: none; }
@media (prefers-reduced-motion: reduce) {
  .progress { transition: none; }
}
`;

const TEMPLATE = `
<div class="root" part="root">
  <div class="stage" part="stage" data-phase="idle">
    <video part="video" playsinline muted></video>
    <canvas part="photo" role="img" hidden></canvas>
    <div class="guide" part="guide" aria-hidden="true"></div>
    <div class="progress" part="progress" aria-hidden="true"></div>
  </div>
  <p class="message" part="message" aria-hidden="true"></p>
  <div class="sr" role="status" aria-live="polite" aria-atomic="true"></div>
  <div class="controls" part="controls">
    <button type="button" class="start" part="button start-button"></button>
    <button type="button" class="take secondary" part="button capture-button" hidden></button>
    <button type="button" class="retake secondary" part="button retake-button" hidden></button>
  </div>
</div>`;

let sheet = null;
/** One stylesheet for every instance, made on first use (none in Node). */
function styles() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
  }
  return sheet;
}

/** The package's browser entry, loaded (with its wasm) when a camera first starts. */
let entry = null;
function loadEntry() {
  entry ??= import("./index.js");
  return entry;
}

const Base = globalThis.HTMLElement ?? class {};

/**
 * `<facebridge-capture kind="selfie|document">`. Attributes: `kind`, `lang`,
 * `device-id`, `manual` (no auto-capture), `autostart` (open the camera on
 * connect instead of showing the start button), `no-worker`. Properties:
 * `facebridge` (the FaceBridge to use), `prepareOptions`, `controller`
 * (the running Capture), `photo` (the last prepared photo). Events (bubbling,
 * composed): `guidance`, `capture`, `error`.
 */
export class FaceBridgeCaptureElement extends Base {
  static observedAttributes = ["kind", "lang"];

  #cap = null;
  #starting = null;
  #announced = "";
  #announcedAt = -Infinity;
  #announceTimer = 0;
  #shown = undefined;

  constructor() {
    super();
    /** The FaceBridge that prepares the photo (default: a new one from the package entry). */
    this.facebridge = null;
    /** Options passed to `prepare` with the photo (`maxBytes`, `minSide`, …); the role comes from `kind`. */
    this.prepareOptions = undefined;
    /** The last prepared photo, or null. */
    this.photo = null;
    const root = this.attachShadow({ mode: "open" });
    root.adoptedStyleSheets = [styles()];
    root.innerHTML = TEMPLATE;
    const $ = (s) => root.querySelector(s);
    this.parts = {
      root: $(".root"), stage: $(".stage"), video: $("video"), photo: $("canvas"), message: $(".message"),
      live: $(".sr"), start: $(".start"), take: $(".take"), retake: $(".retake"),
    };
    this.parts.start.addEventListener("click", () => this.start().catch(() => {}));
    this.parts.retake.addEventListener("click", () => this.start().catch(() => {}));
    this.parts.take.addEventListener("click", () => this.capture().catch(() => {}));
    this.#labels();
  }

  /** "selfie" (front camera, oval guide) or "document" (back camera, card guide). */
  get kind() {
    return this.getAttribute("kind") === "document" ? "document" : "selfie";
  }
  set kind(v) {
    this.setAttribute("kind", v);
  }

  /** The running capture controller (js/capture.js), or null. */
  get controller() {
    return this.#cap;
  }

  connectedCallback() {
    this.#labels();
    if (this.hasAttribute("autostart")) this.start().catch(() => {});
  }

  disconnectedCallback() {
    this.stop();
  }

  attributeChangedCallback(name, old, value) {
    if (old === value) return;
    if (name === "lang") this.#labels();
    if (name === "kind" && this.#cap) this.start().catch(() => {});
  }

  #lang() {
    return language(this.closest?.("[lang]")?.getAttribute("lang") || undefined);
  }

  /** Words and direction for the current language. */
  #labels() {
    const lang = this.#lang();
    const p = this.parts;
    p.root.setAttribute("dir", direction(lang));
    p.root.setAttribute("lang", lang);
    p.start.textContent = label("START", lang);
    p.take.textContent = label("TAKE", lang);
    p.retake.textContent = label("RETAKE", lang);
    p.photo.setAttribute("aria-label", label("DONE", lang));
  }

  #phase(phase) {
    this.parts.stage.dataset.phase = phase;
  }

  #say(text, { now = false } = {}) {
    this.parts.message.textContent = text;
    this.#announce(text, now);
  }

  /** The live region: the latest guidance, at most once per ANNOUNCE_MS, never the same twice in a row. */
  #announce(text, now) {
    clearTimeout(this.#announceTimer);
    if (text === this.#announced) return;
    const wait = now ? 0 : this.#announcedAt + ANNOUNCE_MS - performance.now();
    const put = () => {
      this.#announced = text;
      // What is said at once (starting, done, an error) does not hold back the guidance after it.
      this.#announcedAt = now ? -Infinity : performance.now();
      this.parts.live.textContent = text;
    };
    if (wait <= 0) put();
    else this.#announceTimer = setTimeout(put, wait);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /** Opens the camera and starts guiding; resolves once frames flow. */
  start() {
    if (this.#starting) return this.#starting;
    this.#starting = this.#start().finally(() => (this.#starting = null));
    return this.#starting;
  }

  async #start() {
    this.#close();
    const p = this.parts;
    const lang = this.#lang();
    this.photo = null;
    this.#shown = undefined;
    p.photo.hidden = true;
    p.video.hidden = false;
    p.start.hidden = true;
    p.retake.hidden = true;
    p.take.hidden = true;
    this.#phase("starting");
    this.#say(label("STARTING", lang), { now: true });
    let cap;
    try {
      const { FaceBridge } = await loadEntry();
      this.facebridge ??= new FaceBridge();
      cap = await new Capture(this.facebridge, {
        role: this.kind,
        video: p.video,
        deviceId: this.getAttribute("device-id") || undefined,
        autoCapture: !this.hasAttribute("manual"),
        worker: !this.hasAttribute("no-worker"),
        lang,
        prepare: this.prepareOptions,
      }).open();
    } catch (e) {
      cap?.close();
      this.#phase("idle");
      p.start.hidden = false;
      const key = e?.code === "CAMERA_DENIED" ? "CAMERA_DENIED" : "CAMERA_UNAVAILABLE";
      this.#say(label(key, lang), { now: true });
      this.#emit("error", e);
      throw e;
    }
    this.#cap = cap;
    p.take.hidden = false;
    cap.addEventListener("state", (e) => this.#state(e.detail));
    cap.addEventListener("capture", (e) => this.#captured(e.detail));
    cap.addEventListener("error", (e) => {
      const err = e.detail;
      // A full-resolution photo that failed the gate: say what to fix.
      if (err?.code) this.#say(guidance(err.code, this.#lang()), { now: true });
      this.#emit("error", err);
    });
  }

  #state(s) {
    if (s.paused) return;
    const lang = this.#lang();
    this.parts.stage.style.setProperty("--fb-progress", String(s.progress));
    this.#phase(s.guidance ? "fix" : "hold");
    const text = s.guidance ? guidance(s.guidance, lang) : label("HOLD", lang);
    if (this.parts.message.textContent !== text) this.#say(text);
    if (s.guidance !== this.#shown) {
      this.#shown = s.guidance;
      this.#emit("guidance", { code: s.guidance, message: text, state: s });
    }
  }

  async #captured(prepared) {
    const p = this.parts;
    const lang = this.#lang();
    this.photo = prepared;
    this.#phase("done");
    p.take.hidden = true;
    p.retake.hidden = false;
    this.parts.stage.style.setProperty("--fb-progress", "0");
    this.#say(label("DONE", lang), { now: true });
    this.#cap = null;
    p.retake.focus?.({ preventScroll: true });
    this.#emit("capture", prepared);
    // The photo as sent, drawn on a canvas (an <img> would need a blob: URL,
    // which a strict img-src refuses).
    try {
      const bitmap = await createImageBitmap(new Blob([prepared.bytes], { type: "image/jpeg" }));
      p.photo.width = bitmap.width;
      p.photo.height = bitmap.height;
      p.photo.getContext("2d").drawImage(bitmap, 0, 0);
      bitmap.close();
      p.photo.hidden = false;
      p.video.hidden = true;
    } catch {
      // A preview is a nicety; the photo itself went out with the event.
    }
  }

  /** Takes the photo now (the capture button); resolves to what `prepare` returns. */
  capture() {
    if (!this.#cap) return Promise.reject(Object.assign(new Error("the camera is not started"), { code: "CAMERA_UNAVAILABLE" }));
    return this.#cap.capture();
  }

  #close() {
    clearTimeout(this.#announceTimer);
    this.#cap?.close();
    this.#cap = null;
  }

  /** Stops the camera; the start button comes back. */
  stop() {
    const wasRunning = !!this.#cap;
    this.#close();
    if (!wasRunning) return;
    const p = this.parts;
    this.#phase("idle");
    p.take.hidden = true;
    p.start.hidden = false;
    p.message.textContent = "";
  }
}

if (globalThis.customElements && !customElements.get("facebridge-capture")) {
  customElements.define("facebridge-capture", FaceBridgeCaptureElement);
}
