// `require("facebridge")`: the package is ES modules only (its wasm loads
// with top-level await in browsers). Say so instead of a resolution error.
throw new Error(
  'facebridge is an ES module: use `import { FaceBridge } from "facebridge"`, or from CommonJS `const { FaceBridge } = await import("facebridge")`',
);
