// Headless Chromium as the tests and benchmarks start it: the machine's own
// binary (CHROMIUM overrides it), no background traffic of Chromium's own,
// and every host name but loopback unresolvable, so nothing leaves the machine.
import { chromium } from "playwright-core";

const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run",
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"];

/** Launches Chromium with the flags above and `extraArgs` after them. */
export function launchChromium(extraArgs = []) {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", args: [...ARGS, ...extraArgs] });
}

/** Chromium whose camera plays `clip` (a y4m file) and grants it; `grant: false` leaves the prompt to refuse it. */
export function launchWithCamera(clip, { grant = true } = {}) {
  return launchChromium(["--use-fake-device-for-media-stream", ...(grant ? ["--use-fake-ui-for-media-stream"] : []),
    `--use-file-for-fake-video-capture=${clip}`]);
}

/**
 * A new page of `browser` on the blank test page of `origin`, recording in
 * `offLoopback` every request that leaves it (data: and blob: URLs aside) and
 * printing the page's errors.
 */
export async function blankPage(browser, origin, offLoopback) {
  const page = await browser.newPage();
  page.on("request", (r) => { if (!r.url().startsWith(origin) && !/^(data|blob):/.test(r.url())) offLoopback.push(r.url()); });
  page.on("console", (m) => { if (m.type() === "error") console.error("page:", m.text()); });
  page.on("pageerror", (e) => console.error("page:", e.message));
  await page.goto(`${origin}/tests/js/blank.html`);
  return page;
}
