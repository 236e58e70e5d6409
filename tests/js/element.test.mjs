// <facebridge-capture> (facebridge/element) in headless Chromium with a fake
// camera, served under the strict CSP of issue 15 on every response:
//   default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'
// It checks that nothing is refused, that the selfie is auto-captured and the
// camera stopped, the keyboard path, the live region's pace, right-to-left
// Arabic, reduced motion, axe-core in each state, a refused camera, and the
// import in Node without a DOM.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { launchWithCamera } from "./chromium.mjs";
import { serve } from "./serve.mjs";

const root = fileURLToPath(new URL("../../", import.meta.url));
const clips = root + "tests/fixtures/generated/";
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
const { server, origin } = await serve(root, { headers: { "content-security-policy": CSP } });
after(() => server.close());
const AXE = readFileSync(root + "node_modules/axe-core/axe.min.js", "utf8");

/** A page with the element on `clip`; `camera: false` leaves the permission prompt to refuse it. */
async function open(clip, query, { camera = true, reducedMotion } = {}) {
  const browser = await launchWithCamera(clips + clip, { grant: camera });
  const context = await browser.newContext(reducedMotion ? { reducedMotion } : {});
  const page = await context.newPage();
  const refused = [];
  const offLoopback = [];
  page.on("console", (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) refused.push(m.text()); });
  page.on("pageerror", (e) => refused.push(`pageerror: ${e.message}`));
  page.on("request", (r) => { if (!r.url().startsWith(origin)) offLoopback.push(r.url()); });
  await page.goto(`${origin}/tests/js/element.html?${query}`);
  await page.waitForFunction(() => window.rec?.ready);
  return { browser, page, refused, offLoopback };
}

const rec = (page) => page.evaluate(() => window.rec);
const waitFor = (page, type, ms = 20000) => page.waitForFunction((t) => window.rec.events.some((e) => e.type === t), type, { timeout: ms });

async function axe(page) {
  await page.evaluate(AXE); // CDP evaluation: the page's CSP does not apply to the test's own script
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}

function shadow(page, fn, arg) {
  return page.evaluate(([src, a]) => new Function("root", "el", "a", `return (${src})(root, el, a)`)(window.el.shadowRoot, window.el, a), [fn.toString(), arg]);
}

test("under the strict CSP: styled, a selfie auto-captured, the camera stopped, nothing refused, axe clean in each state", async () => {
  const { browser, page, refused, offLoopback } = await open("camera-selfie.y4m", "kind=selfie");
  try {
    // Idle: the start button, styled by the constructed stylesheet.
    const idle = await shadow(page, (root) => {
      const b = root.querySelector(".start");
      return { text: b.textContent, hidden: b.hidden, bg: getComputedStyle(b).backgroundColor, minH: getComputedStyle(b).minHeight };
    });
    assert.deepEqual(idle, { text: "Start the camera", hidden: false, bg: "rgb(11, 87, 208)", minH: "44px" }, "styles applied under style-src 'self'");
    assert.deepEqual(await axe(page), [], "axe: idle");

    await page.evaluate(() => window.el.start());
    await page.waitForFunction(() => window.rec.events.some((e) => e.type === "guidance"));
    assert.deepEqual(await axe(page), [], "axe: camera running");
    await waitFor(page, "capture");
    // The preview is drawn once the JPEG is decoded, just after the event.
    await page.waitForFunction(() => !window.el.shadowRoot.querySelector("canvas").hidden);
    const r = await rec(page);
    const cap = r.events.find((e) => e.type === "capture");
    assert.ok(cap.jpeg && cap.bytes > 10_000, JSON.stringify(cap));
    const after = await shadow(page, (root, el) => ({
      tracks: el.parts.video.srcObject, photoShown: !root.querySelector("canvas").hidden,
      retake: !root.querySelector(".retake").hidden, focused: root.activeElement?.className ?? null,
      live: root.querySelector("[aria-live]").textContent, phase: root.querySelector(".stage").dataset.phase,
    }));
    assert.equal(after.tracks, null, "the camera is released");
    assert.ok(after.photoShown && after.retake, JSON.stringify(after));
    assert.equal(after.focused, "retake secondary", "focus moves to the retake button");
    assert.equal(after.live, "Photo taken");
    assert.deepEqual(await axe(page), [], "axe: captured");
    assert.deepEqual(r.violations, [], "securitypolicyviolation events");
    assert.deepEqual(refused, [], "console: refused by CSP");
    assert.deepEqual(offLoopback, [], "requests left loopback");
  } finally {
    await browser.close();
  }
});

test("the keyboard alone: Tab to the start button, Enter; Tab to the capture button, Space; visible focus", async () => {
  const { browser, page } = await open("camera-selfie.y4m", "kind=selfie&manual");
  try {
    await page.keyboard.press("Tab");
    const focus = await shadow(page, (root) => {
      const b = root.activeElement;
      return { cls: b?.className, outline: b ? getComputedStyle(b).outlineStyle : null };
    });
    assert.deepEqual(focus, { cls: "start", outline: "solid" }, "the start button has visible focus");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => window.rec.events.some((e) => e.type === "guidance" && e.code === null), null, { timeout: 20000 });
    // Manual: nothing is taken by itself while the face is held.
    await page.waitForTimeout(1500);
    assert.equal((await rec(page)).events.filter((e) => e.type === "capture").length, 0, "manual: no auto-capture");
    await page.keyboard.press("Tab"); // the start button is hidden now: focus goes to the capture button
    assert.equal(await shadow(page, (root) => root.activeElement?.className), "take secondary");
    await page.keyboard.press("Space");
    await waitFor(page, "capture");
  } finally {
    await browser.close();
  }
});

test("too close: 'Move back' is shown and announced; the live region speaks at most every 2 s", async () => {
  const { browser, page } = await open("camera-too-close.y4m", "kind=selfie&autostart");
  try {
    await waitFor(page, "capture", 30000);
    const r = await rec(page);
    const texts = r.announcements.map((a) => a.text);
    assert.ok(texts.includes("Move back"), `announced: ${texts}`);
    assert.ok(!texts.includes("Move closer"), `announced: ${texts}`);
    const paced = r.announcements.filter((a) => a.text !== "Photo taken" && a.text !== "Starting the camera…");
    for (let i = 1; i < paced.length; i++) {
      assert.ok(paced[i].t - paced[i - 1].t >= 1900, `guidance announced too often: ${JSON.stringify(r.announcements)}`);
    }
    const guidance = r.events.filter((e) => e.type === "guidance").map((e) => e.code);
    assert.ok(guidance.includes("FACE_TOO_LARGE"), `guidance events: ${guidance}`);
  } finally {
    await browser.close();
  }
});

test("Arabic: right to left, its words, axe clean; reduced motion turns the progress animation off", async () => {
  const { browser, page } = await open("camera-no-face.y4m", "kind=selfie&lang=ar&autostart", { reducedMotion: "reduce" });
  try {
    await page.waitForFunction(() => window.rec.events.some((e) => e.type === "guidance"), null, { timeout: 20000 });
    const s = await shadow(page, (root) => ({
      dir: root.querySelector(".root").getAttribute("dir"), take: root.querySelector(".take").textContent,
      message: root.querySelector(".message").textContent,
      transition: getComputedStyle(root.querySelector(".progress")).transitionDuration,
    }));
    assert.deepEqual(s, { dir: "rtl", take: "التقط الصورة", message: "انظر إلى الكاميرا", transition: "0s" });
    assert.deepEqual(await axe(page), [], "axe: Arabic, running");
    await page.evaluate(() => window.el.stop());
    assert.equal(await shadow(page, (root) => root.querySelector(".start").hidden), false, "stop() brings the start button back");
  } finally {
    await browser.close();
  }
});

test("a refused camera: an error event with CAMERA_DENIED, the words to fix it, the start button back", async () => {
  const { browser, page } = await open("camera-selfie.y4m", "kind=selfie", { camera: false });
  try {
    const code = await page.evaluate(() => window.el.start().then(() => "started", (e) => e.code));
    assert.equal(code, "CAMERA_DENIED");
    const s = await shadow(page, (root) => ({ start: !root.querySelector(".start").hidden, message: root.querySelector(".message").textContent }));
    assert.deepEqual(s, { start: true, message: "The camera is blocked. Allow it in the browser's settings." });
    assert.equal((await rec(page)).events.find((e) => e.type === "error")?.code, "CAMERA_DENIED");
  } finally {
    await browser.close();
  }
});

test("facebridge/element imports in Node without a DOM (server rendering)", () => {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e",
    `const m = await import(${JSON.stringify(root + "pkg/element.js")}); console.log(typeof m.FaceBridgeCaptureElement)`], { encoding: "utf8" });
  assert.equal(out.trim(), "function");
});

test("kind=document: the card guide, the card captured and straightened, axe clean", async () => {
  const { browser, page, refused } = await open("camera-card.y4m", "kind=document&autostart");
  try {
    await page.waitForFunction(() => window.rec.events.some((e) => e.type === "guidance"), null, { timeout: 20000 });
    assert.deepEqual(await axe(page), [], "axe: document, running");
    await waitFor(page, "capture");
    const cap = (await rec(page)).events.find((e) => e.type === "capture");
    assert.ok(cap.jpeg && cap.bytes > 5_000, JSON.stringify(cap));
    const mirrored = await shadow(page, (root) => getComputedStyle(root.querySelector("video")).transform);
    assert.equal(mirrored, "none", "the back camera is not mirrored");
    assert.deepEqual(refused, []);
  } finally {
    await browser.close();
  }
});
