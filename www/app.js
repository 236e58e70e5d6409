// The demo page: the npm package (pkg/) as an onboarding page would use it:
// the default entry (ready on import) and <facebridge-capture> for the camera.
import { FaceBridge } from "../pkg/index.js";
import "../pkg/element.js";

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
  // The capture components prepare their photos with this client (the
  // service's limits).
  for (const role of ["document", "selfie"]) $(`${role}-camera`).facebridge = fb;
}

function refresh() {
  const ok = state.prepared.document && state.prepared.selfie &&
    ($("provider").value !== "biometry" || state.video);
  $("compare").disabled = !ok;
}

/** A prepared photo in its slot; `preview`: show it (the camera component shows its own). */
function showPrepared(role, p, preview) {
  state.prepared[role] = p;
  const img = $(`${role}-img`);
  URL.revokeObjectURL(img.src);
  if (preview) img.src = URL.createObjectURL(new Blob([p.bytes], { type: "image/jpeg" }));
  img.hidden = !preview;
  const r = p.report;
  $(`${role}-info`).textContent =
    `${r.width}×${r.height} px · ${kb(r.bytes)} JPEG (quality ${r.jpegQuality}) · from ${r.source.width}×${r.source.height}`;
}

async function prepareSlot(role, file) {
  state.files[role] = file;
  state.prepared[role] = null;
  $(`${role}-hint`).textContent = "";
  $(`${role}-info`).textContent = "checking…";
  $(`${role}-img`).hidden = true;
  refresh();
  try {
    // Off the main thread (facebridge/capture, imported by element.js): a
    // 12 MP photo would otherwise freeze the page for a second on a phone.
    showPrepared(role, await fb.prepareInWorker(file, { role }), true);
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

// ── Camera: <facebridge-capture> (facebridge/element) in each slot ────────

/** Biometry wants a short liveness video: recorded from the selfie camera while the person lines up. */
const liveness = { recorder: null, chunks: [] };

function wireCamera(role) {
  const el = $(`${role}-camera`);
  el.addEventListener("guidance", (e) => {
    state.cameraFps = e.detail.state.fps; // for the browser tests
    const stream = el.controller?.stream;
    if (role === "selfie" && !liveness.recorder && stream && $("provider").value === "biometry" &&
        typeof MediaRecorder !== "undefined") {
      liveness.chunks = [];
      liveness.recorder = new MediaRecorder(stream, { mimeType: "video/webm" });
      liveness.recorder.ondataavailable = (ev) => liveness.chunks.push(ev.data);
      liveness.recorder.start(250);
    }
  });
  el.addEventListener("capture", async (e) => {
    state.files[role] = null;
    $(`${role}-hint`).textContent = "";
    showPrepared(role, e.detail, false);
    const rec = liveness.recorder;
    if (role === "selfie" && rec) {
      // The camera stopped with the photo, which ends the recording.
      if (rec.state !== "inactive") await new Promise((r) => { rec.onstop = r; rec.stop(); });
      state.video = new Blob(liveness.chunks, { type: "video/webm" });
      liveness.recorder = null;
    }
    refresh();
    if (!$("compare").disabled) compare();
  });
}

// ── Wiring ──────────────────────────────────────────────────────────────────

async function main() {
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
  wireCamera("document");
  wireCamera("selfie");
  $("compare").addEventListener("click", compare);
  $("status").textContent = "ready";
  document.body.dataset.ready = "true";
}

main().catch((e) => {
  $("status").textContent = `could not start: ${e.message}`;
});
