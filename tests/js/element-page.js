// The <facebridge-capture> test page's script (tests/js/element.test.mjs),
// a file of its own because the page runs under a CSP without inline
// scripts. The element's attributes come from the query string; what
// happens is recorded on `window.rec` for the test to read.
const rec = (window.rec = { violations: [], events: [], announcements: [] });
document.addEventListener("securitypolicyviolation", (e) =>
  rec.violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));

await import("/pkg/element.js");
const q = new URLSearchParams(location.search);
if (q.has("page-lang")) document.documentElement.lang = q.get("page-lang");
const el = document.createElement("facebridge-capture");
for (const a of ["kind", "lang", "manual", "autostart", "no-worker"]) if (q.has(a)) el.setAttribute(a, q.get(a));
for (const type of ["guidance", "capture", "error"]) {
  el.addEventListener(type, (e) => {
    const d = e.detail ?? {};
    rec.events.push({
      type, t: performance.now(), code: d.code ?? null, message: d.message ?? null,
      bytes: d.bytes?.length ?? null, jpeg: d.bytes ? d.bytes[0] === 0xff && d.bytes[1] === 0xd8 : null,
      width: d.report?.width ?? null,
    });
  });
}
const live = el.shadowRoot.querySelector('[aria-live]');
new MutationObserver(() => rec.announcements.push({ t: performance.now(), text: live.textContent }))
  .observe(live, { childList: true, characterData: true, subtree: true });
document.querySelector("main").append(el);
window.el = el;
rec.ready = true;
