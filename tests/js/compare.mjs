// Shared checks: the wasm build must find what the native build found.
import assert from "node:assert/strict";

function iou(a, b) {
  const x0 = Math.max(a.x, b.x), y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.w, b.x + b.w), y1 = Math.min(a.y + a.h, b.y + b.h);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/** Same faces (count, boxes within IoU 0.98, scores within 0.01) as native. */
export function assertSameFaces(got, want, label) {
  assert.equal(got.faces.length, want.faces.length, `${label}: face count`);
  assert.equal(got.width, want.width, `${label}: width`);
  assert.equal(got.height, want.height, `${label}: height`);
  for (const w of want.faces) {
    const best = got.faces.reduce((m, g) => Math.max(m, iou(g.box, w.box)), 0);
    assert.ok(best > 0.98, `${label}: a native face has IoU ${best.toFixed(3)} with the wasm faces`);
    const match = got.faces.find((g) => iou(g.box, w.box) === best);
    assert.ok(Math.abs(match.score - w.score) < 0.01, `${label}: score ${match.score} vs ${w.score}`);
  }
  assert.deepEqual(got.gate.map((g) => g.code), want.gate.map((g) => g.code), `${label}: gate`);
}

/** Same prepared image (size within 2 px, bytes within 3 %, budget met). */
export function assertSamePrepared(got, want, maxBytes, label) {
  assert.ok(Math.abs(got.report.width - want.width) <= 2, `${label}: width ${got.report.width} vs ${want.width}`);
  assert.ok(Math.abs(got.report.height - want.height) <= 2, `${label}: height`);
  assert.ok(Math.abs(got.report.bytes - want.bytes) <= want.bytes * 0.03, `${label}: ${got.report.bytes} vs ${want.bytes} bytes`);
  assert.equal(got.bytes.length, got.report.bytes);
  assert.ok(got.report.base64Bytes <= maxBytes, `${label}: budget`);
  assert.equal(got.bytes[0], 0xff);
  assert.equal(got.bytes[1], 0xd8);
}
