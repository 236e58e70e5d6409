// The packed wasm in Node: same faces and same prepared image as native.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { assertSameFaces, assertSamePrepared } from "./compare.mjs";

const root = new URL("../../", import.meta.url);
const pkg = await import(new URL("pkg/facebridge.js", root));
pkg.initSync({ module: readFileSync(new URL("pkg/facebridge_bg.wasm", root)) });
const { FaceBridge } = pkg;

const gen = (f) => new Uint8Array(readFileSync(new URL(`tests/fixtures/generated/${f}`, root)));
const expected = JSON.parse(readFileSync(new URL("tests/fixtures/generated/expected.json", root), "utf8"));
const fb = new FaceBridge();

test("detect on sample1 (full range, tiled) matches native", async () => {
  const got = await fb.detect(gen("sample1.jpg"), expected.sample1.options);
  assertSameFaces(got, expected.sample1.report, "sample1");
});

test("detect on a selfie from a Blob matches native", async () => {
  const blob = new Blob([gen("selfie.jpg")], { type: "image/jpeg" });
  const got = await fb.detect(blob, expected.selfieDetect.options);
  assertSameFaces(got, expected.selfieDetect.report, "selfie");
});

test("prepare for Valify (2 MB as base64) matches native", async () => {
  const got = await fb.prepare(gen("selfie.jpg").buffer, expected.selfiePrepare.options);
  assertSamePrepared(got, expected.selfiePrepare.report, 2_000_000, "selfie");
  assert.deepEqual(got.report.gate, []);
});

test("PNG and WebP: decoded by the package's formats wasm, same faces, orientation and prepared image as native", async () => {
  for (const [name, report] of Object.entries(expected.others.reports)) {
    const got = await fb.detect(gen(name), expected.others.options);
    assertSameFaces(got, report, name);
    assert.deepEqual(got.source, report.source, name);
  }
  const got = await fb.prepare(gen("selfie.png"), expected.selfiePngPrepare.options);
  assertSamePrepared(got, expected.selfiePngPrepare.report, 2_000_000, "selfie.png");
});

test("PNG and WebP refusals keep their codes through the formats wasm", async () => {
  const { pngOfZeros } = await import("./hostile.mjs");
  const truncated = gen("selfie.png").slice(0, 5000);
  const cases = [
    // The header's size, refused before any pixel buffer (64 MP over 40).
    [pngOfZeros(8000, 8000), {}, "IMAGE_TOO_LARGE", /8000×8000/],
    [gen("selfie.webp"), { limits: { maxPixels: 100_000 } }, "IMAGE_TOO_LARGE", /556×733/],
    // 16-bit RGBA: 8 + 3 + 4 bytes a pixel, 60 MB, against a 50 MB allocation limit.
    [pngOfZeros(2000, 2000, { bitDepth: 16, colorType: 6 }), { limits: { maxAlloc: 50_000_000 } }, "IMAGE_TOO_LARGE", /./],
    [truncated, {}, "IMAGE_UNREADABLE", /./],
  ];
  for (const [bytes, options, code, words] of cases) {
    await assert.rejects(fb.detect(bytes, { role: "selfie", ...options }), (e) => {
      assert.equal(e.code, code, e.message);
      assert.match(e.message, words);
      return true;
    });
  }
  // The next file decodes in a fresh instance: nothing is left of the refusals.
  assertSameFaces(await fb.detect(gen("selfie.png"), expected.others.options), expected.others.reports["selfie.png"], "after");
});

test("the full-range model: fetched from the package on first use, checked, shared", async () => {
  // The wasm embeds the short-range network only.
  const rgb = new Uint8Array(64 * 48 * 4).fill(128);
  const fresh = new FaceBridge();
  assert.throws(() => fresh.detectPixels(rgb, 64, 48, { model: "full" }), (e) => {
    assert.equal(e.code, "MODEL_ERROR");
    assert.match(e.message, /warmUp\("full"\)/);
    return true;
  });
  assert.deepEqual(fresh.detectPixels(rgb, 64, 48, { model: "short" }).faces, []);
  // Two calls in flight share one read of the package's file (pkg/blazeface_back_256.fbnet).
  await Promise.all([fresh.warmUp("full"), fresh.warmUp("full")]);
  assert.deepEqual(fresh.detectPixels(rgb, 64, 48, { model: "full" }).faces, []);

  const file = new URL("pkg/blazeface_back_256.fbnet", root);
  const tampered = new URL("test-out/tampered.fbnet", root);
  mkdirSync(new URL("test-out/", root), { recursive: true });
  const bytes = readFileSync(file);
  bytes[bytes.length - 1] ^= 1;
  writeFileSync(tampered, bytes);
  const refusals = [
    [tampered, /SHA-256 is [0-9a-f]{64}, not the [0-9a-f]{64}/],
    [new URL("test-out/missing.fbnet", root), /could not be fetched from .*missing\.fbnet/],
  ];
  for (const [url, why] of refusals) {
    const other = new FaceBridge({ fullModelUrl: url });
    await assert.rejects(other.detect(gen("sample1.jpg"), { role: "document" }), (e) => {
      assert.equal(e.code, "MODEL_ERROR");
      assert.match(e.message, why);
      return true;
    });
    // A failed fetch is not kept: the next call tries again (and fails again here).
    await assert.rejects(other.warmUp("full"), /MODEL|model/);
  }
  // Bytes passed in are used as given, with no fetch.
  const given = new FaceBridge({ fullModel: new Uint8Array(readFileSync(file)), fullModelUrl: tampered });
  await given.warmUp("full");
});

test("errors are Errors with a stable code", async () => {
  const cases = [
    [new Uint8Array(0), "IMAGE_EMPTY"],
    [new TextEncoder().encode("not a photo"), "UNSUPPORTED_FORMAT"],
    [gen("sample1.jpg"), "MULTIPLE_FACES"],
  ];
  for (const [bytes, code] of cases) {
    await assert.rejects(fb.prepare(bytes, { role: "selfie" }), (e) => {
      assert.ok(e instanceof Error);
      assert.equal(e.name, "FaceBridgeError");
      assert.equal(e.code, code);
      if (code === "MULTIPLE_FACES") assert.equal(e.failures[0].code, code);
      return true;
    });
  }
  await assert.rejects(fb.prepare(gen("selfie.jpg"), { maxbytes: 1 }), { code: "INVALID_OPTIONS" });
  await assert.rejects(fb.detect("a string", {}), { code: "INVALID_OPTIONS" });
  assert.ok(FaceBridge.errorCodes().includes("TOO_DARK"));
});

test("detectPixels takes RGBA frames", () => {
  const r = fb.detectPixels(new Uint8Array(64 * 48 * 4), 64, 48, {});
  assert.equal(r.faces.length, 0);
  assert.equal(r.gate[0].code, "NO_FACE");
  assert.throws(() => fb.detectPixels(new Uint8Array(10), 64, 48, {}), { code: "INVALID_OPTIONS" });
});

test("the TypeScript declarations have no any", () => {
  const dts = readFileSync(new URL("pkg/facebridge.d.ts", root), "utf8");
  const edge = readFileSync(new URL("pkg/edge/facebridge_edge.d.ts", root), "utf8");
  for (const d of [dts, edge]) {
    const body = d.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
    assert.doesNotMatch(body, /\bany\b/);
  }
  for (const t of ["FaceBridgeErrorCode", "PreparedImage", "Promise<DetectionReport>", "receipt?: string"]) assert.ok(dts.includes(t), t);
  // Options objects may be left out, as the calls above do.
  for (const t of ["constructor(options?: FaceBridgeOptions)", "detect(input: ImageInput, options?: DetectOptions)",
    "prepare(input: ImageInput, options?: PrepareOptions)", "warmUp(model: ModelKind): Promise<void>"]) {
    assert.ok(dts.includes(t), t);
  }
  // The page's package has no proxy in it; the edge's has, with its models optional.
  assert.ok(!dts.includes("class EdgeProxy"), "EdgeProxy in the page's wasm");
  for (const t of ["class EdgeProxy", "models?: EdgeModels)", "seal(admission: Admission", "class Admission"]) assert.ok(edge.includes(t), t);
});
