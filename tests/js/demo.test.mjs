// The demo page (www/) end to end in headless Chromium: the page as served
// by scripts/stack.mjs (strict CSP), the edge Worker in workerd, the five
// simulators. Screenshots of every flow go to test-out/screens/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { launchChromium } from "./chromium.mjs";
import { startStack, PROVIDERS } from "../../scripts/stack.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = (f) => join(root, "tests/fixtures/generated", f);
const shots = join(root, "test-out/screens");
mkdirSync(shots, { recursive: true });

let stack, browser, context, tmp;
const offLoopback = [];
const cspViolations = [];

before(async () => {
  stack = await startStack({ port: 0 });
  // A fake camera that shows person A (the selfie fixture) in a 640×480 frame.
  tmp = mkdtempSync(join(tmpdir(), "fb-demo-"));
  const cam = join(tmp, "camera.y4m");
  execFileSync("ffmpeg", ["-v", "error", "-y", "-loop", "1", "-i", fixture("selfie-a.jpg"), "-t", "2", "-r", "10",
    "-vf", "scale=-2:440,pad=640:480:(ow-iw)/2:20:gray", "-pix_fmt", "yuv420p", cam]);
  browser = await launchChromium(["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
    `--use-file-for-fake-video-capture=${cam}`]);
  context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.grantPermissions(["camera"], { origin: new URL(stack.pageUrl).origin });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__csp = (window.__csp || []).concat(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
});

after(async () => {
  await browser?.close();
  await stack?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A fresh page, with every request recorded. */
async function open() {
  const page = await context.newPage();
  const requests = [];
  page.on("request", (r) => {
    requests.push(r.url());
    if (!r.url().startsWith("http://127.0.0.1") && !r.url().match(/^(data|blob):/)) offLoopback.push(r.url());
  });
  page.on("console", (m) => {
    if (m.type() === "error") console.error("page:", m.text());
    if (m.text().includes("Content Security Policy")) cspViolations.push(m.text());
  });
  await page.goto(stack.pageUrl);
  await page.waitForSelector("body[data-ready=true]");
  return { page, edgeCalls: () => requests.filter((u) => u.startsWith(stack.edgeUrl)).length };
}

async function checkCsp(page) {
  const v = await page.evaluate(() => window.__csp || []);
  assert.deepEqual(v.concat(cspViolations), [], "CSP violations");
}

test("the page is served with a strict CSP", async () => {
  assert.match(stack.csp, /script-src 'self' 'wasm-unsafe-eval'/);
  const r = await fetch(stack.pageUrl);
  assert.equal(r.headers.get("content-security-policy"), stack.csp);
});

test("file flow: each of the five services says 'same person' through the Worker", async () => {
  const { page } = await open();
  for (const provider of PROVIDERS) {
    await page.selectOption("#provider", provider);
    await page.setInputFiles("#document-file", fixture("card-a.jpg"));
    await page.setInputFiles("#selfie-file", fixture("selfie-a.jpg"));
    if (provider === "biometry") await page.setInputFiles("#video-file", fixture("selfie-a.mp4"));
    await page.waitForFunction(() => !document.getElementById("compare").disabled);
    const info = await page.textContent("#selfie-info");
    assert.match(info, /\d+×\d+ px · [\d.]+ kB JPEG/, provider);
    await page.click("#compare");
    await page.waitForFunction(() => document.getElementById("decision").dataset.decision || document.getElementById("compare-hint").textContent);
    const hint = await page.textContent("#compare-hint");
    assert.equal(hint, "", `${provider}: ${hint}`);
    assert.equal(await page.getAttribute("#decision", "data-decision"), "match", provider);
    // The backend (POST /kyc/result) verified the edge's receipt for this very token and body.
    assert.equal(await page.getAttribute("#decision", "data-verified"), "true", provider);
    await page.screenshot({ path: join(shots, `file-${provider}.png`), fullPage: true });
    await page.evaluate(() => { document.getElementById("decision").dataset.decision = ""; });
  }
  await checkCsp(page);
  await page.close();
});

test("a photo with no face says so and nothing reaches the Worker", async () => {
  const { page, edgeCalls } = await open();
  const before = await stack.stats();
  await page.setInputFiles("#document-file", fixture("card-a.jpg"));
  await page.setInputFiles("#selfie-file", fixture("wall.jpg"));
  await page.waitForFunction(() => document.getElementById("selfie-hint").dataset.code);
  assert.equal(await page.getAttribute("#selfie-hint", "data-code"), "NO_FACE");
  assert.match(await page.textContent("#selfie-hint"), /No face found/);
  assert.equal(await page.isDisabled("#compare"), true);
  await page.screenshot({ path: join(shots, "no-face.png"), fullPage: true });
  assert.equal(edgeCalls(), 0);
  assert.equal(await stack.stats(), before);
  await page.close();
});

test("a photo of several people asks for one person only", async () => {
  const { page, edgeCalls } = await open();
  await page.setInputFiles("#selfie-file", fixture("sample1.jpg"));
  await page.waitForFunction(() => document.getElementById("selfie-hint").dataset.code);
  assert.equal(await page.getAttribute("#selfie-hint", "data-code"), "MULTIPLE_FACES");
  assert.match(await page.textContent("#selfie-hint"), /One person only/);
  await page.screenshot({ path: join(shots, "multiple-faces.png"), fullPage: true });
  assert.equal(edgeCalls(), 0);
  await page.close();
});

test("camera flow (<facebridge-capture>): guidance, auto-capture, comparison", async () => {
  const { page } = await open();
  await page.selectOption("#provider", "aigen");
  await page.setInputFiles("#document-file", fixture("card-a.jpg"));
  await page.waitForFunction(() => document.getElementById("document-info").textContent.includes("px"));
  // <facebridge-capture>: its start button, then its guidance (Playwright's CSS goes into its shadow root).
  await page.locator("#selfie-camera button.start").click();
  await page.locator("#selfie-camera .message", { hasText: "Hold still" }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(shots, "camera-live.png"), fullPage: true });
  await page.waitForFunction(() => document.getElementById("decision").dataset.decision || document.getElementById("compare-hint").textContent,
    null, { timeout: 60_000 });
  assert.equal(await page.textContent("#compare-hint"), "");
  assert.equal(await page.getAttribute("#decision", "data-decision"), "match");
  const fps = await page.evaluate(() => window.demo.cameraFps);
  console.log(`camera loop: ${fps} frames/s of detection in the worker`);
  await page.screenshot({ path: join(shots, "camera-result.png"), fullPage: true });
  await checkCsp(page);
  await page.close();
});

test("nothing left loopback", () => {
  assert.deepEqual(offLoopback, []);
});
