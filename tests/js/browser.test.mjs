// The packed wasm in headless Chromium (Debian's, driven by playwright-core):
// on the page and in a module web worker, same results as native.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { blankPage, launchChromium } from "./chromium.mjs";
import { serve } from "./serve.mjs";
import { assertSameFaces, assertSamePrepared } from "./compare.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const expected = JSON.parse(readFileSync(root + "tests/fixtures/generated/expected.json", "utf8"));
let browser, page, origin, server;
const offLoopback = [];

before(async () => {
  ({ server, origin } = await serve(root));
  browser = await launchChromium();
  page = await blankPage(browser, origin, offLoopback);
  await page.evaluate(async () => {
    const m = await import("/pkg/facebridge.js");
    await m.default();
    window.fb = new m.FaceBridge();
    window.fetchBytes = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

test("detect on sample1 in Chromium matches native", async () => {
  const got = await page.evaluate(async (o) => fb.detect(await fetchBytes("/tests/fixtures/generated/sample1.jpg"), o),
    expected.sample1.options);
  assertSameFaces(got, expected.sample1.report, "chromium sample1");
});

test("prepare from a File in Chromium matches native", async () => {
  const got = await page.evaluate(async (o) => {
    const bytes = await fetchBytes("/tests/fixtures/generated/selfie.jpg");
    const file = new File([bytes], "selfie.jpg", { type: "image/jpeg" });
    const r = await fb.prepare(file, o);
    return { report: r.report, bytes: Array.from(r.bytes) };
  }, expected.selfiePrepare.options);
  got.bytes = Uint8Array.from(got.bytes);
  assertSamePrepared(got, expected.selfiePrepare.report, 2_000_000, "chromium selfie");
});

test("PNG and WebP in Chromium: the formats wasm fetched on the first one only, same results as native", async () => {
  const got = await page.evaluate(async (names) => {
    const fetched = () => performance.getEntriesByType("resource").filter((r) => r.name.endsWith("/facebridge_formats_bg.wasm")).length;
    const before = fetched();
    const reports = {};
    for (const n of names) reports[n] = await fb.detect(await fetchBytes(`/tests/fixtures/generated/${n}`), { role: "selfie" });
    return { before, after: fetched(), reports };
  }, Object.keys(expected.others.reports));
  // The JPEG tests before this one did not fetch it.
  assert.equal(got.before, 0);
  assert.equal(got.after, 1);
  for (const [name, report] of Object.entries(expected.others.reports)) {
    assertSameFaces(got.reports[name], report, `chromium ${name}`);
    assert.deepEqual(got.reports[name].source, report.source, name);
  }
});

test("a PNG while the formats wasm cannot be fetched: UNSUPPORTED_FORMAT saying why, then a retry that works", async () => {
  const p = await blankPage(browser, origin, offLoopback);
  try {
    await p.route("**/facebridge_formats_bg.wasm", (r) => r.fulfill({ status: 503, body: "down" }));
    const run = () => p.evaluate(async () => {
      const m = await import("/pkg/facebridge.js");
      await m.default();
      const bytes = new Uint8Array(await (await fetch("/tests/fixtures/generated/selfie.png")).arrayBuffer());
      try {
        const r = await new m.FaceBridge().detect(bytes, { role: "selfie" });
        return { faces: r.faces.length, format: r.source.format };
      } catch (e) {
        return { code: e.code, message: e.message };
      }
    });
    const failed = await run();
    assert.equal(failed.code, "UNSUPPORTED_FORMAT", JSON.stringify(failed));
    assert.match(failed.message, /facebridge_formats_bg\.wasm.*HTTP 503/);
    await p.unroute("**/facebridge_formats_bg.wasm");
    assert.deepEqual(await run(), { faces: 1, format: "png" });
  } finally {
    await p.close();
  }
});

test("detectFrame reads I420, NV12, RGBA and BGRA frames in place: the faces and gate of Chromium's own RGBA", async () => {
  const got = await page.evaluate(async () => {
    const { FaceBridge } = await import("/pkg/index.js");
    const fbx = new FaceBridge();
    // Which path each frame took: the wasm's own-layout reader or RGBA.
    let inPlace = 0;
    const own = fbx.__detectLayout;
    fbx.__detectLayout = function (...a) { inPlace++; return own.apply(this, a); };
    const [w, h] = [640, 480];
    const planes = async (name) => new Uint8Array(await (await fetch(`/tests/fixtures/generated/${name}`)).arrayBuffer());
    const i420 = await planes("camera-selfie.i420");
    const i420Full709 = await planes("camera-selfie-709-full.i420");
    // NV12: the same Y, then U and V interleaved.
    const nv12 = new Uint8Array(i420.length);
    nv12.set(i420.subarray(0, w * h));
    const q = (w / 2) * (h / 2);
    for (let i = 0; i < q; i++) { nv12[w * h + 2 * i] = i420[w * h + i]; nv12[w * h + 2 * i + 1] = i420[w * h + q + i]; }
    const frame = (data, format, colorSpace) => new VideoFrame(data, { format, codedWidth: w, codedHeight: h, timestamp: 0, colorSpace });
    const rgbaOf = async (f) => {
      const rgba = new Uint8Array(w * h * 4);
      await f.copyTo(rgba, { format: "RGBA", layout: [{ offset: 0, stride: w * 4 }] });
      return rgba;
    };
    const webcam = frame(i420, "I420", {});
    const rgba = await rgbaOf(webcam);
    const bgra = rgba.map((v, i) => (i % 4 === 3 ? v : rgba[i - (i % 4) + 2 - (i % 4)]));
    const bitmap = await createImageBitmap(new ImageData(new Uint8ClampedArray(rgba.buffer), w, h));
    const cases = {
      "I420, colour unsaid (a webcam)": webcam,
      "I420, BT.709 full range": frame(i420Full709, "I420", { matrix: "bt709", fullRange: true }),
      "NV12": frame(nv12, "NV12", {}),
      "RGBA": frame(rgba, "RGBA"),
      "BGRA": frame(bgra, "BGRA"),
      "from an ImageBitmap": new VideoFrame(bitmap, { timestamp: 0 }),
      "I420, BT.2020 (through RGBA)": frame(i420, "I420", { matrix: "bt2020-ncl", fullRange: false }),
    };
    const out = {};
    for (const [name, f] of Object.entries(cases)) {
      const before = inPlace;
      const inPlaceReport = await fbx.detectFrame(f, { role: "selfie" });
      const reference = fbx.detectPixels(await rgbaOf(f), w, h, { role: "selfie" });
      out[name] = { format: f.format, inPlace: inPlace - before, report: inPlaceReport, reference };
      f.close();
    }
    // A layout that does not fit its buffer is a typed error, not a trap.
    try { fbx.__detectLayout(new Uint8Array(100), w, h, new Uint32Array([2, 0, 0, w, w * h, w / 2, w * h + q, w / 2]), {}); out.short = "resolved"; }
    catch (e) { out.short = e.code; }
    return out;
  });
  assert.equal(got.short, "INVALID_OPTIONS");
  delete got.short;
  for (const [name, { format, inPlace, report, reference }] of Object.entries(got)) {
    assert.equal(inPlace, name.includes("through RGBA") ? 0 : 1, `${name}: ${format} read in place`);
    assert.equal(reference.faces.length, 1, name);
    assertSameFaces(report, reference, name);
    const [qa, qb] = [report.quality.primary, reference.quality.primary];
    assert.ok(Math.abs(qa.meanLuma - qb.meanLuma) < 1.5, `${name}: luma ${qa.meanLuma} ${qb.meanLuma}`);
    assert.ok(Math.abs(qa.sharpness / qb.sharpness - 1) < 0.1, `${name}: sharpness ${qa.sharpness} ${qb.sharpness}`);
  }
});

test("errors reach the page with their code", async () => {
  const code = await page.evaluate(async () => {
    try { await fb.prepare(new Uint8Array([1, 2, 3]), {}); return "resolved"; } catch (e) { return e.code; }
  });
  assert.equal(code, "UNSUPPORTED_FORMAT");
});

test("works in a module web worker", async () => {
  const got = await page.evaluate((o) => new Promise((resolve) => {
    const w = new Worker("/tests/js/worker.mjs", { type: "module" });
    w.onmessage = (e) => { resolve(e.data); w.terminate(); };
    w.onerror = (e) => resolve({ ok: false, error: e.message });
    w.postMessage({ url: "/tests/fixtures/generated/selfie.jpg", options: o });
  }), expected.selfieDetect.options);
  assert.ok(got.ok, got.error);
  assertSameFaces(got.report, expected.selfieDetect.report, "worker selfie");
});

test("nothing left loopback", () => {
  assert.deepEqual(offLoopback, []);
});
