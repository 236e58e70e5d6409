// The browser half of the anchors benchmark (benches/anchors.mjs drives it).
// One exported function per library; each runs in a fresh page, so its first
// result is a cold start. Every input is JPEG bytes, decoded the library's
// usual way: ours in wasm, the others through the browser (createImageBitmap).
const NM = "/benches/anchors/node_modules/";

import { time as timeAfter, timeInTurns } from "/benches/wasm-bench.mjs";
import { longestGap } from "/tests/js/main-thread.mjs";

const time = (runs, f) => timeAfter(runs, f, 3);

const get = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
const bitmap = (b) => createImageBitmap(new Blob([b], { type: "image/jpeg" }));

/** Decodes JPEG bytes the browser's way and draws them on `canvas`, resized to fit. */
async function paint(canvas, ctx, bytes) {
  const bmp = await bitmap(bytes);
  canvas.width = bmp.width;
  canvas.height = bmp.height;
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
}

async function inputsOf(spec) {
  const out = { frame: await get(spec.frame), samples: {} };
  for (const s of spec.samples) out.samples[s] = await get(`${spec.dir}/${s}`);
  out.selfies = {};
  for (const s of spec.selfies) out.selfies[s] = await get(`${spec.selfieDir}/${s}`);
  return out;
}

/** Each library's detector made ready: `make(spec)` resolves to `detect(jpegBytes) → boxes`. */
const MAKERS = {};

/** Runs `make()` (load + first detection) for the cold start, then the timed detections and the boxes. */
async function common(spec, make) {
  const input = await inputsOf(spec);
  // With `quietMs`, the library loads that long after the page's navigation
  // began (performance.now() counts from it), once the browser's own work
  // for a fresh context and its first page is over (BENCHMARKS.md, session 9).
  if (spec.quietMs) await new Promise((r) => setTimeout(r, Math.max(0, spec.quietMs - performance.now())));
  const t0 = performance.now();
  const detect = await make();
  await detect(input.frame);
  const coldStartMs = performance.now() - t0;
  const r = { coldStartMs };
  r.detectFrame640 = await time(spec.runs, () => detect(input.frame));
  if (spec.detectOnly) return r;
  r.detectSample1 = await time(spec.runs, () => detect(input.samples["sample1.jpg"]));
  r.boxes = {};
  for (const [name, bytes] of Object.entries(input.samples)) r.boxes[name] = await detect(bytes);
  r.frameBoxes = await detect(input.frame);
  r.selfieBoxes = {};
  for (const [name, bytes] of Object.entries(input.selfies)) r.selfieBoxes[name] = await detect(bytes);
  // The first row again, after the page's other detections: what a camera
  // loop sees once the engine has settled (V8's optimising tier, caches).
  r.detectFrame640Later = await time(spec.runs, () => detect(input.frame));
  return r;
}

/** Our detector on the browser's decoding of the same JPEG (to tell decoder from detector differences). */
export const facebridgePixels = (spec) => common(spec, () => MAKERS.facebridgePixels(spec));
MAKERS.facebridgePixels = async (spec) => {
    const pkg = await import("/pkg/index.js");
    const fb = new pkg.FaceBridge();
    const opts = { role: "selfie", model: "short", tiles: "off", minScore: 0.5 };
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    return async (bytes) => {
      await paint(canvas, ctx, bytes);
      const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
      return fb.detectPixels(px, canvas.width, canvas.height, opts).faces.map((f) => ({ ...f.box, score: f.score }));
    };
};

export const facebridge = (spec) => common(spec, () => MAKERS.facebridge(spec));
MAKERS.facebridge = async (spec) => {
    const pkg = await import("/pkg/index.js");
    const fb = new pkg.FaceBridge();
    // Short range, no tiling, the same 0.5 score floor as the anchors.
    const opts = { role: "selfie", model: "short", tiles: "off", minScore: 0.5 };
    return async (bytes) => (await fb.detect(bytes, opts)).faces.map((f) => ({ ...f.box, score: f.score }));
};

/** tasks-vision's FaceDetector in video mode, CPU, on the short-range model with metadata. */
async function tasksVisionDetector(spec) {
  const vision = await import(`${NM}@mediapipe/tasks-vision/vision_bundle.mjs`);
  const files = await vision.FilesetResolver.forVisionTasks(`${NM}@mediapipe/tasks-vision/wasm`);
  return vision.FaceDetector.createFromOptions(files, {
    baseOptions: { modelAssetPath: spec.tflite, delegate: "CPU" },
    runningMode: "VIDEO",
    minDetectionConfidence: 0.5,
  });
}

export const tasksVision = (spec) => common(spec, () => MAKERS.tasksVision(spec));
MAKERS.tasksVision = async (spec) => {
    const det = await tasksVisionDetector(spec);
    let ts = 0;
    return async (bytes) => {
      const bmp = await bitmap(bytes);
      const r = det.detectForVideo(bmp, ++ts);
      bmp.close();
      return r.detections.map((d) => ({
        x: d.boundingBox.originX, y: d.boundingBox.originY, w: d.boundingBox.width, h: d.boundingBox.height,
        score: d.categories[0].score,
      }));
    };
};

export const legacyMediapipe = (spec) => common(spec, () => MAKERS.legacyMediapipe(spec));
MAKERS.legacyMediapipe = async (spec) => {
    const base = `${NM}@mediapipe/face_detection/`;
    await new Promise((resolve, reject) => {
      const s = document.createElement("script");
      s.src = `${base}face_detection.js`;
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
    const fd = new window.FaceDetection({ locateFile: (f) => base + f });
    fd.setOptions({ model: "short", useCpuInference: true });
    let pending = null;
    fd.onResults((r) => pending?.(r));
    await fd.initialize();
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d");
    return async (bytes) => {
      await paint(canvas, ctx, bytes);
      const done = new Promise((r) => (pending = r));
      await fd.send({ image: canvas });
      const r = await done;
      return r.detections.map((d) => ({
        x: (d.boundingBox.xCenter - d.boundingBox.width / 2) * canvas.width,
        y: (d.boundingBox.yCenter - d.boundingBox.height / 2) * canvas.height,
        w: d.boundingBox.width * canvas.width,
        h: d.boundingBox.height * canvas.height,
        score: d.V?.[0]?.ga ?? null,
      }));
    };
};

export const faceApi = (spec) => common(spec, () => MAKERS.faceApi(spec));
MAKERS.faceApi = async (spec) => {
    const faceapi = await import(`${NM}@vladmandic/face-api/dist/face-api.esm.js`);
    faceapi.tf.setWasmPaths(`${NM}@tensorflow/tfjs-backend-wasm/dist/`);
    await faceapi.tf.setBackend("wasm");
    await faceapi.tf.ready();
    await faceapi.nets.tinyFaceDetector.loadFromUri(`${NM}@vladmandic/face-api/model`);
    const opts = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 });
    const canvas = document.createElement("canvas");
    const ctx = canvas.getContext("2d");
    return async (bytes) => {
      await paint(canvas, ctx, bytes);
      const r = await faceapi.detectAllFaces(canvas, opts);
      return r.map((d) => ({ x: d.box.x, y: d.box.y, w: d.box.width, h: d.box.height, score: d.score }));
    };
};

/** 12 MP JPEG → ≤ 2 MB: ours (decode, detection, crop/resize, JPEG search) vs browser-image-compression. */
export async function compress(spec) {
  const photo = await get(spec.photo12);
  const file = new File([photo], "photo.jpg", { type: "image/jpeg" });
  const pkg = await import("/pkg/index.js");
  const fb = new pkg.FaceBridge();
  const bic = (await import(`${NM}browser-image-compression/dist/browser-image-compression.mjs`)).default;
  // Absolute: their worker (a blob: URL) importScripts it, and a path would not resolve there.
  const libURL = new URL(`${NM}browser-image-compression/dist/browser-image-compression.js`, location.href).href;
  const options = (maxSide, maxBytes = 2_000_000) => ({ role: "document", maxBytes, maxSide, enforceGate: false });
  const ours = (maxSide, maxBytes) => fb.prepare(photo, options(maxSide, maxBytes));
  const theirs = (maxWidthOrHeight, useWebWorker = false) =>
    bic(file, { maxSizeMB: 2_000_000 / 1048576, maxWidthOrHeight, useWebWorker, libURL });
  // Off the main thread: ours in the package's worker (facebridge/capture's
  // prepareInWorker), theirs in the worker it makes itself (useWebWorker).
  const { prepareInWorker } = await import("/pkg/capture.js");
  const oursInWorker = (maxSide) => prepareInWorker(fb, photo, options(maxSide));
  const r = {};
  r.ours2048 = await time(spec.compressRuns, () => ours(2048));
  r.oursNoResize = await time(spec.compressRuns, () => ours(4032));
  r.bic2048 = await time(spec.compressRuns, () => theirs(2048));
  r.bicNoResize = await time(spec.compressRuns, () => theirs(undefined));
  r.outBytes = {
    ours2048: (await ours(2048)).bytes.length,
    oursNoResize: (await ours(4032)).bytes.length,
    bic2048: (await theirs(2048)).size,
    bicNoResize: (await theirs(undefined)).size,
  };
  // At equal bytes: ours given the budget browser-image-compression's output
  // came to (it stops at the first size under its own target).
  r.oursEq2048 = await time(spec.compressRuns, () => ours(2048, r.outBytes.bic2048));
  r.oursEqNoResize = await time(spec.compressRuns, () => ours(4032, r.outBytes.bicNoResize));
  const eq = [await ours(2048, r.outBytes.bic2048), await ours(4032, r.outBytes.bicNoResize)];
  r.outBytes.oursEq2048 = eq[0].bytes.length;
  r.outBytes.oursEqNoResize = eq[1].bytes.length;
  r.oursWorker2048 = await time(spec.compressRuns, () => oursInWorker(2048));
  r.bicWorker2048 = await time(spec.compressRuns, () => theirs(2048, true));
  r.outBytes.oursWorker2048 = (await oursInWorker(2048)).bytes.length;
  r.outBytes.bicWorker2048 = (await theirs(2048, true)).size;
  // The longest the page's main thread went without running a 5 ms timer
  // during one prepare (median of three): what the user feels as a frozen page.
  r.blocked = {};
  for (const [k, f] of [["ours2048", () => ours(2048)], ["oursWorker2048", () => oursInWorker(2048)],
    ["bic2048", () => theirs(2048)], ["bicWorker2048", () => theirs(2048, true)]]) {
    const gaps = [];
    for (let i = 0; i < 3; i++) gaps.push(await longestGap(f));
    r.blocked[k] = gaps.sort((a, b) => a - b)[1];
  }
  r.encodes = { ours2048: (await ours(2048)).report.encodes, oursNoResize: (await ours(4032)).report.encodes,
    oursEq2048: eq[0].report.encodes, oursEqNoResize: eq[1].report.encodes };
  return r;
}

/** One cold start: the library loaded and its first detection on the 640×480 frame (inputs fetched first). */
export async function coldStart(spec, lib, moreRuns = 0, stayMs = 0) {
  const frame = await get(spec.frame);
  const t0 = performance.now();
  const detect = await MAKERS[lib](spec);
  await detect(frame);
  const ms = performance.now() - t0;
  for (let i = 0; i < moreRuns; i++) await detect(frame);
  await new Promise((r) => setTimeout(r, stayMs));
  return ms;
}

/**
 * RGBA pixels as a webcam's I420 VideoFrame: BT.601 studio range, chroma
 * the mean of each 2×2 block, and no colour space said (what Chromium's
 * camera capture gives, read the same way).
 */
export function webcamFrame(rgba, w, h) {
  const [cw, ch] = [w >> 1, h >> 1];
  const out = new Uint8Array(w * h + 2 * cw * ch);
  const at = (x, y, c) => rgba[(y * w + x) * 4 + c];
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      out[y * w + x] = Math.round(16 + 0.257 * at(x, y, 0) + 0.504 * at(x, y, 1) + 0.098 * at(x, y, 2));
    }
  }
  for (let y = 0; y < ch; y++) {
    for (let x = 0; x < cw; x++) {
      const m = [0, 1, 2].map((c) => (at(2 * x, 2 * y, c) + at(2 * x + 1, 2 * y, c) + at(2 * x, 2 * y + 1, c) + at(2 * x + 1, 2 * y + 1, c)) / 4);
      out[w * h + y * cw + x] = Math.round(128 - 0.148 * m[0] - 0.291 * m[1] + 0.439 * m[2]);
      out[w * h + cw * ch + y * cw + x] = Math.round(128 + 0.439 * m[0] - 0.368 * m[1] - 0.071 * m[2]);
    }
  }
  return new VideoFrame(out, { format: "I420", codedWidth: w, codedHeight: h, timestamp: 0, colorSpace: {} });
}

/**
 * The camera-frame path on the 640×480 frame held as a VideoFrame (what a
 * camera track gives): ours through `detectFrame` on the frame made from an
 * ImageBitmap (BGRX) and on the same picture as a webcam's I420 frame,
 * against `detectPixels` on pixels already read ("detection alone"), and
 * tasks-vision's `detectForVideo` on the same frame as an ImageBitmap.
 */
export async function cameraFrame(spec, lib) {
  const bmp = await bitmap(await get(spec.frame));
  const frame = new VideoFrame(bmp, { timestamp: 0 });
  const r = {};
  if (lib === "facebridge") {
    const pkg = await import("/pkg/index.js");
    const fb = new pkg.FaceBridge();
    const opts = { role: "selfie" };
    const canvas = new OffscreenCanvas(frame.displayWidth, frame.displayHeight);
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(frame, 0, 0);
    const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const webcam = webcamFrame(px, canvas.width, canvas.height);
    // In turns, so that the ratio between the paths is not the engine
    // settling between one path's runs and the next's.
    [r.detectionAlone, r.detectFrame, r.detectWebcamFrame, r.viaCanvas] = await timeInTurns(2 * spec.runs, [
      () => fb.detectPixels(px, canvas.width, canvas.height, opts),
      () => fb.detectFrame(frame, opts),
      () => fb.detectFrame(webcam, opts),
      () => {
        ctx.drawImage(frame, 0, 0);
        return fb.detectPixels(ctx.getImageData(0, 0, canvas.width, canvas.height).data, canvas.width, canvas.height, opts);
      },
    ], 3);
    r.frameFormats = [frame.format, webcam.format];
    webcam.close();
  } else {
    const det = await tasksVisionDetector(spec);
    let ts = 0;
    // Its image types have no VideoFrame (it reads `.width`): the frame's ImageBitmap.
    r.detectFrame = await time(spec.runs, () => det.detectForVideo(bmp, ++ts));
  }
  frame.close();
  bmp.close();
  return r;
}
