// facebridge/capture in headless Chromium with a fake camera: Chromium plays
// a y4m clip (made by examples/js_fixtures.rs from the test selfie) as the
// camera. One browser per clip: the clip is a launch flag.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { launchWithCamera } from "./chromium.mjs";
import { serve } from "./serve.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const clips = root + "tests/fixtures/generated/";
const { server, origin } = await serve(root);
after(() => server.close());

/**
 * Opens a capture on the clip and watches it for `ms` (or until the photo):
 * which guidance it showed, whether and what it captured, the track's state.
 */
async function run(clip, { ms = 15000, options = {}, closeAfter = false } = {}) {
  const browser = await launchWithCamera(clips + clip);
  try {
    const page = await browser.newPage();
    const offLoopback = [];
    page.on("request", (r) => { if (!r.url().startsWith(origin) && !r.url().startsWith("data:") && !r.url().startsWith("blob:")) offLoopback.push(r.url()); });
    page.on("pageerror", (e) => console.error("page:", e.message));
    await page.goto(`${origin}/tests/js/blank.html`);
    const out = await page.evaluate(async ([ms, options, closeAfter]) => {
      // Photos sent to the worker to be prepared.
      let preparedInWorker = 0;
      const post = Worker.prototype.postMessage;
      Worker.prototype.postMessage = function (m, transfer) {
        if (m?.prepare) preparedInWorker++;
        return post.call(this, m, transfer);
      };
      const { FaceBridge } = await import("/pkg/index.js");
      await import("/pkg/capture.js");
      const fb = new FaceBridge();
      const video = document.createElement("video");
      document.body.append(video);
      const t0 = performance.now();
      const cap = await fb.capture({ role: "selfie", video, ...options });
      const track = cap.stream.getVideoTracks()[0];
      const shown = [];
      const gates = new Set();
      let states = 0, lastFps = 0;
      const errors = [];
      cap.addEventListener("error", (e) => errors.push(`${e.detail?.code}: ${e.detail?.message}`));
      cap.addEventListener("state", (e) => {
        states++;
        lastFps = e.detail.fps;
        for (const g of e.detail.gate) gates.add(g);
        if (shown.at(-1) !== e.detail.guidance) shown.push(e.detail.guidance);
      });
      const iterated = (async () => { let n = 0; for await (const _ of cap) n++; return n; })();
      const outcome = await Promise.race([
        cap.result.then((p) => ({ captured: true, width: p.report.width, height: p.report.height, bytes: p.bytes.length, jpeg: p.bytes[0] === 0xff && p.bytes[1] === 0xd8 })),
        new Promise((r) => setTimeout(() => r({ captured: false }), ms)),
      ]);
      const ms_ = performance.now() - t0;
      let closed = null;
      if (closeAfter) {
        cap.close();
        closed = await cap.result.then(() => "resolved", (e) => e.code);
      }
      return { ...outcome, preparedInWorker, errors, shown, gates: [...gates], states, fps: lastFps, usesWorker: cap.usesWorker, trackState: track.readyState,
        iterated: await Promise.race([iterated, new Promise((r) => setTimeout(() => r(-1), 1000))]), ms: ms_, closed,
        video: [video.videoWidth, video.videoHeight] };
    }, [ms, options, closeAfter]);
    assert.deepEqual(offLoopback, [], "requests left loopback");
    return out;
  } finally {
    await browser.close();
  }
}

test("a steady selfie is captured by itself, prepared, and the camera stopped", async () => {
  const r = await run("camera-selfie.y4m");
  assert.ok(r.captured, `not captured: ${JSON.stringify(r)}`);
  assert.ok(r.jpeg && r.bytes > 10_000, JSON.stringify(r));
  assert.equal(r.shown.at(-1), null, `guidance at the end: ${r.shown}`);
  assert.equal(r.trackState, "ended");
  assert.equal(r.usesWorker, true);
  assert.equal(r.preparedInWorker, 1, "the photo was prepared in the detection's worker");
  assert.ok(r.iterated > 0, "the async iterator yielded states and ended");
  console.log(`selfie: captured in ${r.ms.toFixed(0)} ms after ${r.states} frames, ${r.fps} frames/s, ${r.width}×${r.height} JPEG ${r.bytes} B`);
});

test("too close: 'move back' first, then the capture once the person moved back", async () => {
  const r = await run("camera-too-close.y4m", { ms: 20000 });
  assert.ok(r.shown.includes("FACE_TOO_LARGE"), `shown: ${r.shown}`);
  assert.ok(!r.shown.includes("FACE_TOO_SMALL"), `never 'move closer' when too close: ${r.shown}`);
  assert.ok(r.captured, `not captured: ${JSON.stringify(r)}`);
  assert.equal(r.trackState, "ended");
});

test("no face: no capture, 'look at the camera'; close() stops the camera and rejects the result", async () => {
  const r = await run("camera-no-face.y4m", { ms: 3000, closeAfter: true });
  assert.equal(r.captured, false);
  assert.deepEqual(r.shown, ["NO_FACE"]);
  assert.equal(r.closed, "CAPTURE_CLOSED");
  assert.equal(r.trackState, "ended");
});

test("two faces: no capture, 'one person only'", async () => {
  const r = await run("camera-two-faces.y4m", { ms: 3000, closeAfter: true });
  assert.equal(r.captured, false);
  assert.ok(r.gates.includes("MULTIPLE_FACES"), `gates: ${r.gates}`);
  assert.ok(r.shown.includes("MULTIPLE_FACES"), `shown: ${r.shown}`);
});

test("without a worker, detection runs on the page and the selfie is still captured", async () => {
  const r = await run("camera-selfie.y4m", { options: { worker: false } });
  assert.ok(r.captured, JSON.stringify(r));
  assert.equal(r.usesWorker, false);
  assert.equal(r.preparedInWorker, 0);
});

test("facebridge/capture and facebridge/words import in Node without a DOM (server rendering)", () => {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e",
    `const c = await import(${JSON.stringify(root + "pkg/capture.js")}); await import(${JSON.stringify(root + "pkg/words.js")});
     console.log(typeof c.capture, typeof c.Capture)`], { encoding: "utf8" });
  assert.equal(out.trim(), "function function");
});

test("a card held in view (back camera, document): found, auto-captured, straightened to ID-1, the portrait's face found", async () => {
  const r = await run("camera-card.y4m", { options: { role: "document" } });
  assert.ok(r.captured, `not captured: ${JSON.stringify(r)}`);
  const aspect = r.width / r.height;
  assert.ok(Math.abs(aspect - 85.6 / 53.98) < 0.02, `straightened to the card's shape: ${r.width}×${r.height}`);
  assert.equal(r.trackState, "ended");
  assert.equal(r.usesWorker, true);
  assert.equal(r.shown.at(-1), null, `guidance at the end: ${r.shown}`);
  console.log(`card: captured in ${r.ms.toFixed(0)} ms after ${r.states} frames, ${r.fps} frames/s, ${r.width}×${r.height} JPEG ${r.bytes} B`);
});

test("glare over the card's portrait: 'tilt the card away from the light', never captured", async () => {
  const r = await run("camera-card-glare.y4m", { ms: 4000, options: { role: "document" }, closeAfter: true });
  assert.equal(r.captured, false);
  assert.ok(r.gates.includes("GLARE"), `gates: ${r.gates}`);
  assert.equal(r.shown.at(-1), "GLARE", `shown: ${r.shown}`);
  assert.equal(r.trackState, "ended");
});

test("a selfie shown to the document capture: no card found, nothing taken", async () => {
  const r = await run("camera-selfie.y4m", { ms: 3000, options: { role: "document" }, closeAfter: true });
  assert.equal(r.captured, false);
  assert.deepEqual(r.shown, ["CARD_NOT_FOUND"]);
});
