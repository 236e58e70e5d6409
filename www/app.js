// The demo page: the npm package (pkg/) as an onboarding page would use it.
import init, { FaceBridge } from "../pkg/facebridge.js";

const $ = (id) => document.getElementById(id);

/** Plain words for the person in front of the screen, by error code. */
const WORDS = {
  NO_FACE: "No face found: look straight at the camera, or choose a photo that shows a face.",
  MULTIPLE_FACES: "One person only, please.",
  FACE_TOO_SMALL: "Move closer: the face is too small.",
  FACE_TOO_LARGE: "Move back: the face is too close.",
  FACE_AT_EDGE: "Centre your face in the frame.",
  BLURRY: "Hold still: the photo is blurred.",
  TOO_DARK: "More light, please.",
  TOO_BRIGHT: "Too bright: move away from the light.",
  TILTED: "Hold your head straight.",
  TURNED: "Look straight at the camera.",
  IMAGE_EMPTY: "The file is empty.",
  IMAGE_UNREADABLE: "This file could not be read as a photo.",
  UNSUPPORTED_FORMAT: "Use a JPEG, PNG or WebP photo.",
  IMAGE_TOO_LARGE: "This photo is too large.",
  IMAGE_TOO_SMALL: "This photo is too small for this service.",
  BUDGET_UNREACHABLE: "This photo cannot be made small enough for this service.",
  TOKEN_EXPIRED: "The session expired: try again.",
  TOKEN_REJECTED: "The request was not authorised.",
  ORIGIN_REJECTED: "This page is not allowed to use the edge.",
  UNAUTHORIZED: "The service refused the edge's credentials.",
  QUOTA_EXHAUSTED: "The service's quota is used up.",
  SUBSCRIPTION_INACTIVE: "The subscription to this service is not active.",
  IMAGE_REJECTED: "The service rejected a photo.",
  SERVICE_UNAVAILABLE: "The service is unavailable: try again later.",
  TIMEOUT: "The service did not answer in time: try again.",
  NETWORK: "The edge could not be reached.",
};
const CAMERA_HINTS = {
  NO_FACE: "Look at the camera",
  MULTIPLE_FACES: "One person only",
  FACE_TOO_SMALL: "Move closer",
  FACE_TOO_LARGE: "Move back",
  FACE_AT_EDGE: "Centre your face",
  BLURRY: "Hold still",
  TOO_DARK: "More light, please",
  TOO_BRIGHT: "Too bright",
  TILTED: "Hold your head straight",
  TURNED: "Look at the camera",
};
/** The selfie is taken after this many consecutive passing frames, spanning at least STEADY_MS. */
const PASSES_TO_CAPTURE = 5;
const STEADY_MS = 1000;

const say = (e) => `${WORDS[e.code] ?? e.message} (${e.code ?? "ERROR"})`;
const kb = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} MB` : `${(n / 1e3).toFixed(1)} kB`);

const state = { files: { document: null, selfie: null }, prepared: { document: null, selfie: null }, video: null };
let fb = null;
let config = null;
window.demo = state; // for the browser tests and the curious

function makeClient() {
  fb = new FaceBridge({
    provider: $("provider").value,
    endpoint: config.endpoint,
    // The customer's backend mints a token for exactly this request.
    getToken: async (req) => {
      const r = await fetch("/kyc/token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(req),
      });
      if (!r.ok) throw new Error(`the token endpoint answered ${r.status}`);
      return r.json();
    },
  });
  // The full-range model (documents) is fetched on first use: start now, while
  // the user picks a file. A failure here comes back on the first document.
  fb.warmUp("full").catch(() => {});
  $("video-label").hidden = $("provider").value !== "biometry";
}

function refresh() {
  const ok = state.prepared.document && state.prepared.selfie &&
    ($("provider").value !== "biometry" || state.video);
  $("compare").disabled = !ok;
}

async function prepareSlot(role, file) {
  state.files[role] = file;
  state.prepared[role] = null;
  $(`${role}-hint`).textContent = "";
  $(`${role}-info`).textContent = "checking…";
  $(`${role}-img`).hidden = true;
  refresh();
  try {
    const p = await fb.prepare(file, { role });
    state.prepared[role] = p;
    const img = $(`${role}-img`);
    URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(new Blob([p.bytes], { type: "image/jpeg" }));
    img.hidden = false;
    const r = p.report;
    $(`${role}-info`).textContent =
      `${r.width}×${r.height} px · ${kb(r.bytes)} JPEG (quality ${r.jpegQuality}) · from ${r.source.width}×${r.source.height}`;
  } catch (e) {
    $(`${role}-info`).textContent = "";
    $(`${role}-hint`).textContent = say(e);
    $(`${role}-hint`).dataset.code = e.code ?? "";
  }
  refresh();
}

async function backendVerdict(receipt) {
  try {
    const r = await fetch("/kyc/result", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ receipt }),
    });
    return await r.json();
  } catch (e) {
    return { verified: false, message: String(e.message) };
  }
}

async function compare() {
  $("compare").disabled = true;
  $("compare-hint").textContent = "";
  $("result").hidden = true;
  $("status").textContent = "comparing…";
  try {
    const opts = $("provider").value === "biometry" ? { video: state.video } : undefined;
    const r = await fb.compare(state.prepared.document, state.prepared.selfie, opts);
    state.result = r;
    // What the page shows is untrusted: the backend decides on the edge's
    // signed receipt (POST /kyc/result verifies it; scripts/backend.mjs).
    const v = await backendVerdict(r.receipt);
    const d = $("decision");
    d.textContent = { match: "Same person", refer: "Unsure: a person should look", no_match: "Different people" }[r.decision];
    d.className = `decision ${r.decision}`;
    d.dataset.decision = r.decision;
    d.dataset.verified = String(v.verified);
    const rows = [
      ["service", r.provider],
      ["similarity", r.similarity.toFixed(3)],
      ["service's score", JSON.stringify(r.providerScore)],
      ["request id", r.requestId ?? "–"],
      ["your backend", v.verified ? `verified the edge's receipt: ${v.decision}` : `did not verify: ${v.message}`],
    ];
    $("result-details").replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      return [dt, dd];
    }));
    $("warnings").replaceChildren(...r.warnings.map((w) => {
      const li = document.createElement("li");
      li.textContent = `${w.code}: ${w.message}`;
      return li;
    }));
    $("result").hidden = false;
  } catch (e) {
    state.error = { code: e.code, message: e.message };
    $("compare-hint").textContent = say(e);
    $("compare-hint").dataset.code = e.code ?? "";
  }
  $("status").textContent = "ready";
  refresh();
}

// ── Camera: detection in a module worker, auto-capture after steady passes ──

const camera = { stream: null, worker: null, running: false, passes: 0, times: [], recorder: null, chunks: [] };

function drawFaces(msg) {
  const canvas = $("overlay");
  if (canvas.width !== msg.width || canvas.height !== msg.height) {
    canvas.width = msg.width;
    canvas.height = msg.height;
  }
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = Math.max(2, canvas.width / 200);
  ctx.strokeStyle = msg.gate.length ? "#f5a623" : "#2ecc71";
  ctx.fillStyle = ctx.strokeStyle;
  for (const f of msg.faces) {
    ctx.strokeRect(f.box.x, f.box.y, f.box.w, f.box.h);
    for (const [x, y] of f.landmarks) ctx.fillRect(x - 2, y - 2, 4, 4);
  }
}

async function nextFrame() {
  if (!camera.running) return;
  const video = $("video");
  if (video.readyState < 2) {
    setTimeout(nextFrame, 50);
    return;
  }
  const frame = await createImageBitmap(video);
  camera.worker.postMessage({ frame }, [frame]);
}

function onDetection(msg) {
  if (msg.loading || msg.ready) {
    if (msg.ready) nextFrame();
    return;
  }
  if (!camera.running) return;
  if (!msg.ok) {
    $("guidance").textContent = say(msg);
    return;
  }
  // Frames per second over the last second (or since the first frame).
  const now = performance.now();
  camera.times.push(now);
  while (camera.times.length > 2 && now - camera.times[0] > 1000) camera.times.shift();
  if (camera.times.length >= 2) {
    const fps = ((camera.times.length - 1) * 1000) / (now - camera.times[0]);
    $("fps").textContent = `${fps.toFixed(1)} fps`;
    $("fps").dataset.fps = String(fps);
  }
  drawFaces(msg);
  const g = $("guidance");
  if (msg.gate.length) {
    camera.passes = 0;
    g.textContent = CAMERA_HINTS[msg.gate[0].code] ?? msg.gate[0].hint;
    g.dataset.code = msg.gate[0].code;
    g.classList.remove("ok");
  } else {
    if (camera.passes++ === 0) camera.steadySince = now;
    g.textContent = "Hold still…";
    g.dataset.code = "";
    g.classList.add("ok");
  }
  if (camera.passes >= PASSES_TO_CAPTURE && now - camera.steadySince >= STEADY_MS) {
    capture();
    return;
  }
  requestAnimationFrame(nextFrame);
}

async function startCamera() {
  $("selfie-hint").textContent = "";
  try {
    camera.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" },
      audio: false,
    });
  } catch (e) {
    $("selfie-hint").textContent = `The camera could not start (${e.name}). Choose a photo instead.`;
    return;
  }
  const video = $("video");
  video.srcObject = camera.stream;
  await video.play();
  $("camera").hidden = false;
  $("camera-start").hidden = true;
  $("camera-stop").hidden = false;
  $("guidance").textContent = "Loading the face detector…";
  camera.running = true;
  camera.passes = 0;
  camera.times = [];
  if ($("provider").value === "biometry" && typeof MediaRecorder !== "undefined") {
    // Biometry wants a short liveness video: record while the person lines up.
    camera.chunks = [];
    camera.recorder = new MediaRecorder(camera.stream, { mimeType: "video/webm" });
    camera.recorder.ondataavailable = (e) => camera.chunks.push(e.data);
    camera.recorder.start(250);
  }
  if (!camera.worker) {
    camera.worker = new Worker(new URL("camera-worker.js", import.meta.url), { type: "module" });
    camera.worker.onmessage = (e) => onDetection(e.data);
  } else {
    nextFrame();
  }
}

function stopCamera() {
  camera.running = false;
  camera.stream?.getTracks().forEach((t) => t.stop());
  camera.stream = null;
  $("camera").hidden = true;
  $("camera-start").hidden = false;
  $("camera-stop").hidden = true;
}

async function capture() {
  const video = $("video");
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.95));
  if (camera.recorder && camera.recorder.state === "recording") {
    await new Promise((r) => {
      camera.recorder.onstop = r;
      camera.recorder.stop();
    });
    state.video = new Blob(camera.chunks, { type: "video/webm" });
  }
  stopCamera();
  await prepareSlot("selfie", blob);
  if (!$("compare").disabled) compare();
}

// ── Wiring ──────────────────────────────────────────────────────────────────

async function main() {
  await init();
  config = await (await fetch("/config.json")).json();
  makeClient();
  $("provider").addEventListener("change", () => {
    makeClient();
    for (const role of ["document", "selfie"]) if (state.files[role]) prepareSlot(role, state.files[role]);
  });
  $("document-file").addEventListener("change", (e) => e.target.files[0] && prepareSlot("document", e.target.files[0]));
  $("selfie-file").addEventListener("change", (e) => e.target.files[0] && prepareSlot("selfie", e.target.files[0]));
  $("video-file").addEventListener("change", (e) => {
    state.video = e.target.files[0] ?? null;
    refresh();
  });
  $("camera-start").addEventListener("click", startCamera);
  $("camera-stop").addEventListener("click", stopCamera);
  $("compare").addEventListener("click", compare);
  $("status").textContent = "ready";
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  $("status").textContent = `could not start: ${e.message}`;
});
