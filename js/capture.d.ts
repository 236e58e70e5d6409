// Types of facebridge/capture: the headless capture controller.
import type { CardQuad, CardReport, DetectionReport, Face, FaceBridge, GateCode, ImageInput, Limits, PrepareOptions, PreparedImage, Provider, Role } from "./index.js";

export interface CaptureOptions {
  /** "selfie" (front camera) or "document" (back camera). Default "selfie". */
  role?: Role;
  /** The element that shows the camera; a detached one is made when absent. */
  video?: HTMLVideoElement;
  /** A camera from `navigator.mediaDevices.enumerateDevices()`; default: by role. */
  deviceId?: string;
  /** Take the photo by itself once the gate passes steadily. Default true. */
  autoCapture?: boolean;
  /** How long the gate must pass with the face steady. Default 800 ms. */
  steadyMs?: number;
  /** …over at least this many detected frames. Default 4. */
  steadyFrames?: number;
  /** Frames a new guidance code must last before it is shown. Default 3. */
  holdFrames?: number;
  /** Detection in a module worker where the engine has them. Default true. */
  worker?: boolean;
  /** Stop the camera once the photo is taken. Default true. */
  stopAfterCapture?: boolean;
  /** Language of `message` (default: the page's `lang`, then the browser's). */
  lang?: string;
  /** Passed to `prepare` with the photo (the role is added). */
  prepare?: PrepareOptions;
}

export interface CaptureState {
  /** Faces on this frame (a document: on the straightened card, in its pixels). */
  faces: Face[];
  /** A document: the card on this frame, in frame pixels; null when none was found. */
  card?: CardQuad | null;
  /** The gate's failing codes on this frame, first the one to fix first. */
  gate: GateCode[];
  /** The guidance on screen: a gate code, changed only once it has held for `holdFrames`; null when all is well. */
  guidance: GateCode | null;
  /** `guidance` in words, in the user's language. */
  message: string | null;
  /** The face moved less than 6 % of its size since the last frame. */
  steady: boolean;
  /** 0 → 1 while the gate passes steadily; 1: the photo is being taken. */
  progress: number;
  /** Detected frames per second (moving average). */
  fps: number;
  /** The camera is stopped because the page is hidden. */
  paused: boolean;
  usesWorker: boolean;
  /** This frame's report: `detectFrame`'s for a selfie, `detectCard`'s for a document. */
  report?: DetectionReport | CardReport;
}

export type CaptureErrorCode = "CAMERA_DENIED" | "CAMERA_UNAVAILABLE" | "CAPTURE_CLOSED" | "WORKER_FAILED" | "CAPTURE_FAILED";

export declare class Capture extends EventTarget implements AsyncIterable<CaptureState> {
  readonly video: HTMLVideoElement;
  readonly stream: MediaStream | null;
  readonly state: CaptureState | null;
  readonly usesWorker: boolean;
  /** The prepared photo; rejects with CAPTURE_CLOSED when closed first. */
  readonly result: Promise<PreparedImage>;
  /** Takes the photo now at full camera resolution and prepares it. */
  capture(): Promise<PreparedImage>;
  /** Stops the camera and the detection. */
  close(): void;
  addEventListener(type: "state", listener: (e: CustomEvent<CaptureState>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: "capture", listener: (e: CustomEvent<PreparedImage>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: "error", listener: (e: CustomEvent<Error & { code?: string }>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  [Symbol.asyncIterator](): AsyncIterator<CaptureState>;
}

/** Opens the camera and starts a capture. */
export declare function capture(fb: FaceBridge, options?: CaptureOptions): Promise<Capture>;

/** What `prepareInWorker` sends a worker to build a FaceBridge like `fb`; null when `fb` has networks of its own. */
export declare function workerSetup(fb: FaceBridge): { provider?: Provider; limits: Limits; fullModelUrl?: string } | null;

/**
 * `fb.prepare(input, options)` in a module worker (the package's
 * capture-worker.js): the decode, detection, crop and JPEG search of a
 * full-size photo leave the page's main thread free. Same result, same
 * errors (a FaceBridgeError with the same `code`, `failures`, `report`); the
 * FaceBridge's `provider`, `limits` and `fullModelUrl` apply in the worker
 * (`workerSetup(fb)`). One worker per FaceBridge, started on the first
 * call and closed after 30 s without work. Runs `fb.prepare` on this thread
 * where there are no module workers (Node, workerd, a bundler that does not
 * emit the worker), when the worker cannot start, or when `fb` was given
 * networks of its own (`shortModel`, `fullModel`).
 */
export declare function prepareInWorker(fb: FaceBridge, input: ImageInput, options?: PrepareOptions): Promise<PreparedImage>;

declare module "./facebridge.js" {
  interface FaceBridge {
    /** Opens the camera and starts a capture (after `import "facebridge/capture"`). */
    capture(options?: CaptureOptions): Promise<Capture>;
    /** `prepare` in a module worker (after `import "facebridge/capture"`): see `prepareInWorker`. */
    prepareInWorker(input: ImageInput, options?: PrepareOptions): Promise<PreparedImage>;
  }
}
