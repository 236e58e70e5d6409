// Types of facebridge/element: the <facebridge-capture> custom element.
import type { Capture, CaptureState } from "./capture.js";
import type { FaceBridge, GateCode, PrepareOptions, PreparedImage } from "./index.js";

export interface GuidanceDetail {
  /** The gate code on screen, or null when all is well (the photo is being held for). */
  code: GateCode | null;
  /** The words shown, in the element's language. */
  message: string;
  state: CaptureState;
}

/**
 * `<facebridge-capture kind="selfie|document">`: attributes `kind`, `lang`,
 * `device-id`, `manual`, `autostart`, `no-worker`. Parts: root, stage, video,
 * photo, guide, progress, message, controls, button, start-button,
 * capture-button, retake-button. Custom properties: --fb-accent,
 * --fb-accent-text, --fb-ok, --fb-warn, --fb-guide, --fb-stage, --fb-text,
 * --fb-focus, --fb-radius, --fb-button-radius, --fb-font, --fb-max-width.
 */
export declare class FaceBridgeCaptureElement extends HTMLElement {
  kind: "selfie" | "document";
  /** The FaceBridge that prepares the photo; a new one from the package entry when unset. */
  facebridge: FaceBridge | null;
  /** Passed to `prepare` with the photo; the role comes from `kind`. */
  prepareOptions: PrepareOptions | undefined;
  /** The last prepared photo. */
  readonly photo: PreparedImage | null;
  /** The running controller, or null. */
  readonly controller: Capture | null;
  /** Opens the camera (what the start button does). */
  start(): Promise<void>;
  /** Takes the photo now (what the capture button does). */
  capture(): Promise<PreparedImage>;
  /** Stops the camera. */
  stop(): void;
  addEventListener(type: "guidance", listener: (e: CustomEvent<GuidanceDetail>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: "capture", listener: (e: CustomEvent<PreparedImage>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: "error", listener: (e: CustomEvent<Error & { code?: string }>) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "facebridge-capture": FaceBridgeCaptureElement;
  }
}
