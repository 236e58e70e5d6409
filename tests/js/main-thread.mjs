// Runs in the page (imported by tests/js/prepare-worker.test.mjs and
// benches/anchors-page.mjs): how long the page's main thread stays blocked.

/** The longest the main thread went without running a 5 ms interval timer while `work()` ran, in ms. */
export async function longestGap(work) {
  let last = performance.now(), gap = 0;
  const t = setInterval(() => {
    const now = performance.now();
    gap = Math.max(gap, now - last);
    last = now;
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(t);
  }
  return Math.max(gap, performance.now() - last);
}
