// The packed wasm in Node: same faces and same prepared image as native.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
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
  const body = dts.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
  assert.doesNotMatch(body, /\bany\b/);
  for (const t of ["FaceBridgeErrorCode", "PreparedImage", "Promise<DetectionReport>"]) assert.match(dts, new RegExp(t));
});
