// The default entry's types: the package's API, and which wasm build runs.
export * from "./facebridge.js";
export { default } from "./facebridge.js";
/**
 * The wasm build this host runs: "relaxed" where the engine has relaxed SIMD
 * (the detector's fused multiply-add), "simd" where it has wasm SIMD, else
 * "nosimd".
 */
export declare const wasmBuild: "relaxed" | "simd" | "nosimd";

import type { CardReport, DetectOptions, DetectionReport } from "./facebridge.js";

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
     * refusing), as `detectPixels` would on the frame's RGBA. A frame in
     * I420, NV12, RGBA or BGRA (what cameras give) is copied in that layout
     * into a buffer reused frame to frame and read in place; other frames
     * through `VideoFrame.copyTo` RGBA, or a canvas where that is missing.
     * Not in `facebridge/manual`.
     */
    detectFrame(source: FrameSource, options?: DetectOptions): Promise<DetectionReport>;
    /**
     * Document capture on one camera frame: the ID card found from its
     * edges, checked (whole, big enough, sharp, no glare over the portrait,
     * the portrait's face found). Loads the full-range model on first use.
     */
    detectCard(source: FrameSource): Promise<CardReport>;
    /**
     * The ID card in one frame, straightened (deskewed) and encoded as a
     * JPEG at the resolution it was seen at, for `prepare(…, { role:
     * "document" })`. Rejects with `CARD_NOT_FOUND` when there is none.
     */
    cropCard(source: FrameSource): Promise<Uint8Array>;
  }
}
