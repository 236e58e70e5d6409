// The default entry's types: the package's API, and which wasm build runs.
export * from "./facebridge.js";
export { default } from "./facebridge.js";
/** The wasm build this host runs: "nosimd" where the engine lacks wasm SIMD. */
export declare const wasmBuild: "simd" | "nosimd";

import type { DetectOptions, DetectionReport } from "./facebridge.js";

/** Anything a page has a camera frame in; ImageData-like objects are read as they are. */
export type FrameSource =
  | VideoFrame
  | HTMLVideoElement
  | HTMLCanvasElement
  | OffscreenCanvas
  | ImageBitmap
  | HTMLImageElement
  | ImageData
  | { data: Uint8Array | Uint8ClampedArray; width: number; height: number };

declare module "./facebridge.js" {
  interface FaceBridge {
    /**
     * Detects faces in one camera frame and runs the quality gate (without
     * refusing): `detectPixels` on the frame's pixels, read the cheapest way
     * this engine has (`VideoFrame.copyTo` into a buffer reused frame to
     * frame; a canvas where that is missing). Not in `facebridge/manual`.
     */
    detectFrame(source: FrameSource, options?: DetectOptions): Promise<DetectionReport>;
  }
}
