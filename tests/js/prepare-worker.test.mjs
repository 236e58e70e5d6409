// facebridge/capture's prepareInWorker in headless Chromium: the same bytes,
// report and errors as `fb.prepare` on the page, the page's FaceBridge
// options carried into the worker, and the page's main thread left free
// while a 12 MP photo is prepared.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { blankPage, launchChromium } from "./chromium.mjs";
import { serve } from "./serve.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
let browser, page, origin, server;
const offLoopback = [];

before(async () => {
  ({ server, origin } = await serve(root));
  browser = await launchChromium();
  page = await blankPage(browser, origin, offLoopback);
  await page.evaluate(async () => {
    // The setups sent to a worker with a photo to prepare: proof that the
    // worker, not the page, did it.
    window.posted = [];
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (m, transfer) {
      if (m?.prepare) posted.push(m.prepare.setup);
      return post.call(this, m, transfer);
    };
    window.fbm = await import("/pkg/index.js");
    window.cap = await import("/pkg/capture.js");
    window.fileOf = async (name) => {
      const bytes = new Uint8Array(await (await fetch(`/tests/fixtures/generated/${name}`)).arrayBuffer());
      return new File([bytes], name, { type: "image/jpeg" });
    };
    // Both ways, one after the other: what each resolved or rejected with.
    window.bothWays = async (fb, input, options) => {
      const settle = (p) => p.then(
        (r) => ({ ok: true, bytes: Array.from(r.bytes), report: r.report }),
        (e) => ({ ok: false, name: e.name, code: e.code, message: e.message, failures: e.failures, report: e.report }));
      const page = await settle(fb.prepare(input, options));
      const sent = posted.length;
      const worker = await settle(fb.prepareInWorker(input, options));
      return { page, worker, inWorker: posted.length > sent };
    };
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test("a selfie prepared in the worker is the page's, byte for byte", async () => {
  const r = await page.evaluate(async () => bothWays(new fbm.FaceBridge(), await fileOf("selfie.jpg"), { role: "selfie", maxBytes: 300_000 }));
  assert.ok(r.page.ok, JSON.stringify(r.page).slice(0, 300));
  assert.ok(r.inWorker);
  assert.deepEqual(r.worker, r.page);
  assert.ok(r.worker.bytes.length <= 300_000 && r.worker.bytes[0] === 0xff);
});

test("the FaceBridge's provider and limits apply in the worker", async () => {
  const r = await page.evaluate(async () => {
    // AIGEN's profile: at least 480 px a side. A 1 MP limit refuses the 12 MP photo.
    const aigen = await bothWays(new fbm.FaceBridge({ provider: "aigen" }), await fileOf("selfie.jpg"), { role: "selfie" });
    const limited = await bothWays(new fbm.FaceBridge({ limits: { maxPixels: 1_000_000 } }), await fileOf("progressive-12mp.jpg"), { role: "selfie" });
    return { aigen, limited, posted, setup: cap.workerSetup(new fbm.FaceBridge({ provider: "aigen", limits: { maxPixels: 1_000_000 } })) };
  });
  assert.deepEqual(r.setup, { provider: "aigen", limits: { maxPixels: 1_000_000, maxAlloc: 512 * 1024 * 1024 } });
  assert.ok(r.aigen.page.ok);
  assert.ok(Math.min(r.aigen.page.report.width, r.aigen.page.report.height) >= 480, `${r.aigen.page.report.width}×${r.aigen.page.report.height}`);
  assert.ok(r.aigen.inWorker && r.limited.inWorker);
  assert.deepEqual(r.posted.slice(-2), [{ provider: "aigen", limits: { maxPixels: 40_000_000, maxAlloc: 512 * 1024 * 1024 } }, { limits: { maxPixels: 1_000_000, maxAlloc: 512 * 1024 * 1024 } }]);
  assert.deepEqual(r.aigen.worker, r.aigen.page);
  assert.equal(r.limited.page.code, "IMAGE_TOO_LARGE");
  assert.deepEqual(r.limited.worker, r.limited.page);
});

test("an ID card prepared in the worker (the full-range network fetched there) is the page's", async () => {
  const r = await page.evaluate(async () => bothWays(new fbm.FaceBridge(), await fileOf("card-a.jpg"), { role: "document", maxBytes: 500_000 }));
  assert.ok(r.page.ok, JSON.stringify(r.page).slice(0, 300));
  assert.ok(r.inWorker);
  assert.deepEqual(r.worker, r.page);
});

test("a relative fullModelUrl is resolved against the page, as the page's FaceBridge resolves it", async () => {
  const setup = await page.evaluate(() => cap.workerSetup(new fbm.FaceBridge({ fullModelUrl: "models/back.fbnet" })));
  assert.deepEqual(setup, { limits: { maxPixels: 40_000_000, maxAlloc: 512 * 1024 * 1024 }, fullModelUrl: `${origin}/tests/js/models/back.fbnet` });
});

test("errors from the worker are the page's: name, code, message, the gate's failures and report", async () => {
  const r = await page.evaluate(async () => {
    const fb = new fbm.FaceBridge();
    return {
      noFace: await bothWays(fb, await fileOf("wall.jpg"), { role: "selfie" }),
      garbage: await bothWays(fb, new Uint8Array([1, 2, 3]), {}),
      badOption: await bothWays(fb, await fileOf("selfie.jpg"), { role: "selfie", maxBytes: -1 }),
      notBytes: await bothWays(fb, "selfie.jpg", {}),
    };
  });
  assert.ok(r.noFace.page.failures.length > 0 && r.noFace.page.report, JSON.stringify(r.noFace.page).slice(0, 300));
  assert.equal(r.noFace.page.code, r.noFace.page.failures[0].code);
  assert.ok(r.noFace.inWorker && r.garbage.inWorker && r.badOption.inWorker);
  assert.equal(r.notBytes.inWorker, false, "a string is refused on the page");
  for (const [what, { page: p, worker: w }] of Object.entries(r)) {
    assert.equal(p.ok, false, what);
    assert.equal(p.name, "FaceBridgeError", what);
    assert.deepEqual(w, p, what);
  }
});

test("a FaceBridge with networks of its own prepares on the page", async () => {
  const r = await page.evaluate(async () => {
    const full = new Uint8Array(await (await fetch("/pkg/blazeface_back_256.fbnet")).arrayBuffer());
    const fb = new fbm.FaceBridge({ fullModel: full });
    return { setup: cap.workerSetup(fb), both: await bothWays(fb, await fileOf("selfie.jpg"), { role: "selfie", maxBytes: 300_000 }) };
  });
  assert.equal(r.setup, null);
  assert.equal(r.both.inWorker, false);
  assert.ok(r.both.page.ok);
  assert.deepEqual(r.both.worker, r.both.page);
});

test("the page's main thread stays free while the worker prepares a 12 MP photo", async () => {
  const r = await page.evaluate(async () => {
    const fb = new fbm.FaceBridge();
    const file = await fileOf("progressive-12mp.jpg");
    const options = { role: "selfie", enforceGate: false, maxBytes: 500_000 };
    const { longestGap } = await import("/tests/js/main-thread.mjs");
    // The longest the main thread went without running a 5 ms timer, and how long the work took.
    const timed = async (work) => {
      const t0 = performance.now();
      const gap = await longestGap(work);
      return { gap, ms: performance.now() - t0 };
    };
    await fb.prepareInWorker(file, options); // the worker started and warm
    await fb.prepare(file, options); // the page's wasm warm
    return { page: await timed(() => fb.prepare(file, options)), worker: await timed(() => fb.prepareInWorker(file, options)) };
  });
  console.log(`12 MP prepare: on the page ${r.page.ms.toFixed(0)} ms, main thread blocked up to ${r.page.gap.toFixed(0)} ms; ` +
    `in the worker ${r.worker.ms.toFixed(0)} ms, main thread blocked up to ${r.worker.gap.toFixed(0)} ms`);
  assert.ok(r.page.gap > 0.8 * r.page.ms, "on the page, prepare holds the main thread throughout");
  assert.ok(r.worker.gap < 0.25 * r.page.gap, "in the worker, the main thread keeps running its timers");
});

test("nothing left loopback", () => {
  assert.deepEqual(offLoopback, []);
});
