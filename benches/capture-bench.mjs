// The capture loop in headless Chromium with the fake camera: detected
// frames per second, and the time from the first steady, passing frame to
// the prepared photo, for the selfie and the ID card, with Chromium's CPU
// at full speed and throttled 4× (DevTools `Emulation.setCPUThrottlingRate`
// on the page and, through the page's DevTools session, on the detection
// worker too). Needs pkg/ (scripts/build-wasm.sh) and the clips
// (`cargo run --profile native --features native --example js_fixtures`).
//
//   node benches/capture-bench.mjs [runs=5]    → bench-out/capture.md, bench-out/capture.json
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launchWithCamera } from "../tests/js/chromium.mjs";
import { serve } from "../tests/js/serve.mjs";

const root = fileURLToPath(new URL("../", import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const { server, origin } = await serve(root);

/**
 * Throttles the page, and asks each worker it starts to be throttled too;
 * resolves the workers' answers. Chromium refuses the latter ("Operation
 * is only supported for pages, not workers"), so the 4× rows run the
 * detection on the page, where the throttle applies: the worst case.
 */
async function throttle(page, rate) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate });
  const answers = [];
  cdp.on("Target.receivedMessageFromTarget", ({ message }) => {
    const m = JSON.parse(message);
    if (m.id === 1) answers.push(m.error?.message ?? "throttled");
  });
  cdp.on("Target.attachedToTarget", ({ sessionId, targetInfo }) => {
    if (targetInfo.type !== "worker") return;
    const send = (id, method, params) => cdp.send("Target.sendMessageToTarget", {
      sessionId, message: JSON.stringify({ id, method, params }),
    }).catch(() => {});
    send(1, "Emulation.setCPUThrottlingRate", { rate });
    send(2, "Runtime.runIfWaitingForDebugger", {});
  });
  await cdp.send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: true, flatten: false });
  return answers;
}

async function once(clip, role, rate, worker, build) {
  const browser = await launchWithCamera(`${root}tests/fixtures/generated/${clip}`);
  try {
    const page = await browser.newPage();
    // `?fb-wasm=`: a build other than the one the entry picks (js/entry/index.js).
    await page.goto(`${origin}/tests/js/blank.html${build ? `?fb-wasm=${build}` : ""}`);
    const workerAnswers = rate > 1 ? await throttle(page, rate) : [];
    const r = await page.evaluate(async ([role, worker]) => {
      const { FaceBridge, wasmBuild } = await import("/pkg/index.js");
      await import("/pkg/capture.js");
      const fb = new FaceBridge();
      const video = document.createElement("video");
      document.body.append(video);
      const t0 = performance.now();
      const cap = await fb.capture({ role, video, worker });
      const opened = performance.now();
      let frames = 0, firstFrame = null, steadySince = null, lastState = null;
      cap.addEventListener("state", (e) => {
        const now = performance.now();
        frames++;
        firstFrame ??= now;
        lastState = now;
        if (e.detail.gate.length === 0 && e.detail.steady) steadySince ??= now;
        else if (e.detail.progress === 0) steadySince = null;
      });
      const photo = await Promise.race([cap.result, new Promise((r) => setTimeout(() => r(null), 60_000))]);
      const done = performance.now();
      cap.close();
      return {
        captured: !!photo, usesWorker: cap.usesWorker, openMs: opened - t0, build: wasmBuild,
        fps: frames > 1 ? (frames - 1) / ((lastState - firstFrame) / 1000) : 0,
        steadyToPhotoMs: steadySince === null ? null : done - steadySince, totalMs: done - t0,
      };
    }, [role, worker]);
    return { ...r, workerAnswers };
  } finally {
    await browser.close();
  }
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const rows = [];
// [CPU slowdown, detection in the worker, wasm build (none: the entry's pick)]
const CASES = [[1, true], [1, false], [4, false], [4, false, "simd"], [4, true]];
for (const [clip, role] of [["camera-selfie.y4m", "selfie"], ["camera-card.y4m", "document"]]) {
  for (const [rate, worker, build] of CASES) {
    const rs = [];
    for (let i = 0; i < runs; i++) rs.push(await once(clip, role, rate, worker, build));
    const ok = rs.filter((r) => r.captured);
    const row = {
      role, rate, worker, build: [...new Set(rs.map((r) => r.build))].join(", "), runs, captured: ok.length, detectionWhereAsked: rs.every((r) => r.usesWorker === worker),
      workerAnswer: worker && rate > 1 ? [...new Set(rs.flatMap((r) => r.workerAnswers))].join("; ") : null,
      fps: median(ok.map((r) => r.fps)), steadyToPhotoMs: median(ok.map((r) => r.steadyToPhotoMs)),
      totalMs: median(ok.map((r) => r.totalMs)), openMs: median(rs.map((r) => r.openMs)),
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
}
server.close();
mkdirSync(root + "bench-out", { recursive: true });
writeFileSync(root + "bench-out/capture.json", JSON.stringify(rows, null, 2));
const f = (v, d = 0) => (v == null ? "–" : v.toFixed(d));
const md = ["| role | CPU | detection | wasm | captured | frames/s | steady → prepared photo, ms | camera open → photo, ms |", "|---|---|---|---|---|---|---|---|",
  ...rows.map((r) => `| ${r.role} | ${r.rate}× | ${r.worker ? "worker" + (r.rate > 1 ? ` (the page throttled; the worker: "${r.workerAnswer}")` : "") : "page"} | ${r.build} | ${r.captured}/${r.runs} | ${f(r.fps, 1)} | ${f(r.steadyToPhotoMs)} | ${f(r.totalMs)} |`)].join("\n");
writeFileSync(root + "bench-out/capture.md", md + "\n");
console.log(md);
