//! The JavaScript API. The only module that knows about `wasm_bindgen`,
//! `js_sys` and `web_sys`; everything it calls is plain Rust, tested natively.
//!
//! Works the same on a page, in a module web worker, in Node and in a
//! Cloudflare Worker: nothing here touches `window` or the DOM.

mod client;
#[cfg(feature = "edge")]
mod edge;
mod formats;

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Object, Promise, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::detect::{DetectOptions, Detector, ModelKind};
use crate::error::{DetectError, Error};
use crate::image::{ImageView, Limits, RgbImage, YuvColor, YuvMatrix};
use crate::prepare::{
    PrepareOptions, detect_decoded, detect_image, detect_options_from_json, detect_photo,
    prepare_decoded, prepare_with,
};

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = include_str!("types.d.ts");

/// Turns a crate error into a JS `Error` with a stable `code` (and, for the
/// quality gate, the failed checks and the report, so a UI can explain).
fn to_js_error(e: Error) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("FaceBridgeError");
    let _ = Reflect::set(&err, &"code".into(), &e.code().into());
    if let Error::Quality(q) = &e {
        let _ = Reflect::set(&err, &"failures".into(), &to_js(&q.failures));
        let _ = Reflect::set(&err, &"report".into(), &to_js(&q.report));
    }
    if let Error::Service(x) = &e {
        let _ = Reflect::set(&err, &"provider".into(), &x.provider.into());
        let _ = Reflect::set(&err, &"serviceStatus".into(), &x.status.into());
        if let Some(c) = &x.service_code {
            let _ = Reflect::set(&err, &"serviceCode".into(), &c.as_str().into());
        }
    }
    err.into()
}

fn to_js<T: Serialize + ?Sized>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap_or(JsValue::NULL)
}

/// Camera-frame pixels (RGBA, as a canvas or `VideoFrame.copyTo` gives
/// them), checked against their size and read in place.
fn rgba_view(rgba: &[u8], width: u32, height: u32) -> Result<ImageView<'_>, Error> {
    ImageView::rgba(rgba, width, height)
        .filter(|_| width > 0 && height > 0)
        .ok_or_else(|| Error::invalid("rgba", "length must be width × height × 4"))
}

/// A frame in one of the layouts of [`FaceBridge::detect_layout`], checked
/// against its size.
fn frame_view<'a>(
    data: &'a [u8],
    width: u32,
    height: u32,
    layout: &[u32],
) -> Result<ImageView<'a>, Error> {
    let at = |i: usize| layout.get(i).copied().unwrap_or(0);
    let (format, color) = (at(0), at(1));
    let planes = |i: usize| (at(2 + 2 * i) as usize, at(3 + 2 * i) as usize);
    let color = YuvColor {
        matrix: if color & 1 == 1 {
            YuvMatrix::Bt709
        } else {
            YuvMatrix::Bt601
        },
        full_range: color & 2 == 2,
    };
    let view = match format {
        // detectPixels: its own message, which names no layout.
        0 => return rgba_view(data, width, height),
        1 => ImageView::bgra(data, width, height),
        2 => ImageView::i420(
            data,
            width,
            height,
            [planes(0), planes(1), planes(2)],
            color,
        ),
        3 => ImageView::nv12(data, width, height, [planes(0), planes(1)], color),
        _ => None,
    };
    view.filter(|_| width > 0 && height > 0).ok_or_else(|| {
        Error::invalid(
            "layout",
            "a frame of RGBA, BGRA, I420 or NV12 pixels whose planes fit its buffer",
        )
    })
}

/// The same pixels copied to RGB, for the document capture's card finder,
/// which works on an RGB image.
fn rgba_image(rgba: &[u8], width: u32, height: u32) -> Result<RgbImage, Error> {
    rgba_view(rgba, width, height)?;
    RgbImage::from_raw(width, height, crate::image::rgba_to_rgb(rgba))
        .ok_or_else(|| Error::invalid("rgba", "size mismatch"))
}

fn options_json(v: &Option<JsValue>) -> Result<serde_json::Value, Error> {
    let Some(v) = v else {
        return Ok(serde_json::Value::Null);
    };
    if v.is_undefined() || v.is_null() {
        return Ok(serde_json::Value::Null);
    }
    serde_wasm_bindgen::from_value(v.clone()).map_err(|e| Error::invalid("options", e.to_string()))
}

/// Reads a `Uint8Array`, `ArrayBuffer`, or `Blob`/`File` into bytes.
async fn input_bytes(input: JsValue) -> Result<Vec<u8>, Error> {
    if let Some(a) = input.dyn_ref::<Uint8Array>() {
        return Ok(a.to_vec());
    }
    if let Some(b) = input.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(Uint8Array::new(b).to_vec());
    }
    if let Some(blob) = input.dyn_ref::<web_sys::Blob>() {
        let buf = JsFuture::from(blob.array_buffer())
            .await
            .map_err(|_| Error::invalid("input", "the Blob could not be read"))?;
        return Ok(Uint8Array::new(&buf).to_vec());
    }
    Err(Error::invalid(
        "input",
        "pass a Uint8Array, an ArrayBuffer, a Blob or a File",
    ))
}

#[wasm_bindgen(module = "/src/wasm/assets.js")]
extern "C" {
    /// The package's full-range network (or the one at `url`), as a Uint8Array.
    #[wasm_bindgen(js_name = fetchModel)]
    fn fetch_model(url: Option<String>) -> Promise;
}

struct Inner {
    detector: Detector,
    limits: Limits,
    client: client::ClientConfig,
    /// `fullModelUrl`, when the page serves the network itself.
    full_model_url: Option<String>,
    /// Networks were passed in (`shortModel`, `fullModel`): a worker, which
    /// only has the package's, cannot stand in for this instance.
    custom_models: bool,
    /// The fetch in flight: calls that need the model meanwhile await the same one.
    fetching: RefCell<Option<Promise>>,
}

impl Inner {
    /// Makes every model in `kinds` ready to run: one this build does not
    /// embed and that was not passed in is fetched from the package, once,
    /// and used only if its SHA-256 is the one this build was made with.
    async fn ensure_models(&self, kinds: &[ModelKind]) -> Result<(), Error> {
        for &kind in kinds {
            if self.detector.has_model(kind) {
                continue;
            }
            if crate::detect::published_model_sha256(kind).is_none() {
                // Neither embedded nor shipped beside the wasm: only bytes passed in would do.
                return Err(DetectError::NotEmbedded { which: kind.name() }.into());
            }
            let promise = self
                .fetching
                .borrow_mut()
                .get_or_insert_with(|| fetch_model(self.full_model_url.clone()))
                .clone();
            let fetched = JsFuture::from(promise.clone()).await;
            // Done, either way: a failed fetch is tried again by the next call
            // (unless that call already started a new one: leave that in place).
            let mut in_flight = self.fetching.borrow_mut();
            if in_flight
                .as_ref()
                .is_some_and(|p| Object::is(p.as_ref(), promise.as_ref()))
            {
                *in_flight = None;
            }
            drop(in_flight);
            let fail = |reason: String| DetectError::ModelFetch {
                which: kind.name(),
                url: self.full_model_url.clone().unwrap_or_else(|| {
                    format!("the package's {}", crate::detect::model_file_name(kind))
                }),
                reason,
            };
            let bytes = match fetched {
                Ok(b) => Uint8Array::new(&b).to_vec(),
                Err(e) => {
                    let why = e
                        .dyn_ref::<js_sys::Error>()
                        .map(|e| String::from(e.message()))
                        .unwrap_or_else(|| "the fetch failed".into());
                    return Err(fail(why).into());
                }
            };
            crate::detect::check_published_model(kind, &bytes).map_err(|e| fail(e.to_string()))?;
            self.detector.supply_model(kind, &bytes)?;
        }
        Ok(())
    }

    async fn ensure_for(&self, opts: &DetectOptions) -> Result<(), Error> {
        self.ensure_models(&Detector::models_for(opts)).await
    }
}

/// `options[key]` as a string: a string, or an object's `toString()` (a `URL`).
fn string_option(options: &JsValue, key: &str) -> Option<String> {
    if !options.is_object() {
        return None;
    }
    let v = Reflect::get(options, &key.into()).ok()?;
    if v.is_undefined() || v.is_null() {
        return None;
    }
    v.as_string()
        .or_else(|| v.dyn_ref::<Object>().map(|o| String::from(o.to_string())))
}

/// Detects faces, checks photo quality and prepares photos for a face-match
/// service. Create one and reuse it: the models load once, on first use.
#[wasm_bindgen]
pub struct FaceBridge {
    inner: Rc<Inner>,
}

#[wasm_bindgen]
impl FaceBridge {
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "FaceBridgeOptions")] options: JsValue,
    ) -> Result<FaceBridge, JsValue> {
        let get_bytes = |key: &str| -> Option<Vec<u8>> {
            if options.is_object() {
                Reflect::get(&options, &key.into())
                    .ok()?
                    .dyn_into::<Uint8Array>()
                    .ok()
                    .map(|a| a.to_vec())
            } else {
                None
            }
        };
        let limits = if options.is_object() {
            match Reflect::get(&options, &"limits".into()) {
                Ok(l) if !l.is_undefined() && !l.is_null() => serde_wasm_bindgen::from_value(l)
                    .map_err(|e| to_js_error(Error::invalid("limits", e.to_string())))?,
                _ => Limits::default(),
            }
        } else {
            Limits::default()
        };
        let (short, full) = (get_bytes("shortModel"), get_bytes("fullModel"));
        let custom_models = short.is_some() || full.is_some();
        let detector = Detector::from_model_bytes(short, full);
        let client = client::ClientConfig::from_options(&options).map_err(to_js_error)?;
        Ok(FaceBridge {
            inner: Rc::new(Inner {
                detector,
                limits,
                client,
                full_model_url: string_option(&options, "fullModelUrl"),
                custom_models,
                fetching: RefCell::new(None),
            }),
        })
    }

    /// What a worker needs to build a FaceBridge that prepares photos as
    /// this one does, for facebridge/capture's `prepareInWorker`:
    /// `[provider, maxPixels, maxAlloc, fullModelUrl]` (undefined where not
    /// set), or nothing (`undefined`) when this one was given networks of its own
    /// (`shortModel`, `fullModel`), which a worker does not have. Plain
    /// values, the fewest bytes of wasm; capture.js makes the options object.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __workerSetup, skip_typescript)]
    pub fn worker_setup(&self) -> Option<js_sys::Array> {
        if self.inner.custom_models {
            return None;
        }
        let text = |s: Option<&str>| s.map_or(JsValue::UNDEFINED, JsValue::from_str);
        let l = &self.inner.limits;
        Some(js_sys::Array::of4(
            &text(self.inner.client.provider.map(|p| p.name())),
            &JsValue::from_f64(l.max_pixels as f64),
            &JsValue::from_f64(l.max_alloc as f64),
            &text(self.inner.full_model_url.as_deref()),
        ))
    }

    /// Loads a model now ("short" or "full") instead of at the first
    /// detection; for the full-range one, that includes fetching it. Resolves
    /// once `detectPixels` can use it.
    #[wasm_bindgen(js_name = warmUp, unchecked_return_type = "Promise<void>")]
    pub fn warm_up(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ModelKind")] model: JsValue,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            let run = async {
                let kind: ModelKind = serde_wasm_bindgen::from_value(model)
                    .map_err(|e| Error::invalid("model", e.to_string()))?;
                inner.ensure_models(&[kind]).await?;
                inner.detector.warm_up(kind).map_err(Error::from)
            };
            run.await.map(|()| JsValue::UNDEFINED).map_err(to_js_error)
        })
    }

    /// Finds faces in a photo and runs the quality gate without refusing.
    #[wasm_bindgen(unchecked_return_type = "Promise<DetectionReport>")]
    pub fn detect(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageInput")] input: JsValue,
        #[wasm_bindgen(unchecked_param_type = "DetectOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let options = options_json(&options);
        future_to_promise(async move {
            let run = async {
                let (role, detect, limits) = detect_options_from_json(options?)?;
                let limits = if limits == Limits::default() {
                    inner.limits
                } else {
                    limits
                };
                let bytes = input_bytes(input).await?;
                // PNG and WebP: decoded by the formats wasm first (src/wasm/formats.rs).
                let decoded = formats::predecode(&bytes, &limits).await?;
                inner.ensure_for(&detect).await?;
                match decoded {
                    Some(d) => detect_decoded(&inner.detector, &d, role, &detect),
                    None => detect_photo(&inner.detector, &bytes, role, &detect, &limits),
                }
            };
            run.await.map(|r| to_js(&r)).map_err(to_js_error)
        })
    }

    /// Detects faces in raw RGBA pixels (an `ImageData` from a canvas or a
    /// camera frame). Synchronous: meant for a detection loop in a worker. It
    /// cannot fetch: with the full-range model, `await warmUp("full")` first.
    #[wasm_bindgen(js_name = detectPixels, unchecked_return_type = "DetectionReport")]
    pub fn detect_pixels(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
        #[wasm_bindgen(unchecked_param_type = "DetectOptions")] options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        // Read in place: no RGB copy of the frame (BENCHMARKS.md).
        self.detect_layout(rgba, width, height, &[0], options)
    }

    /// `detectPixels` on a camera frame in the layout `VideoFrame.copyTo`
    /// gave it without converting. `layout`: the format (0 RGBA/RGBX, 1
    /// BGRA/BGRX, 2 I420, 3 NV12), the colour (YUV only: bit 0 BT.709 rather
    /// than BT.601, bit 1 full range), then each plane's offset and stride
    /// (Y, U, V for I420; Y, UV for NV12). Called by `detectFrame`
    /// (js/frame.js).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __detectLayout, skip_typescript)]
    pub fn detect_layout(
        &self,
        data: &[u8],
        width: u32,
        height: u32,
        layout: &[u32],
        options: Option<JsValue>,
    ) -> Result<JsValue, JsValue> {
        let run = || -> Result<JsValue, Error> {
            let (role, detect, _) = detect_options_from_json(options_json(&options)?)?;
            let img = frame_view(data, width, height, layout)?;
            let r = detect_image(&self.inner.detector, img, 1.0, None, role, &detect)?;
            Ok(to_js(&r))
        };
        run().map_err(to_js_error)
    }

    /// Document capture on one camera frame (RGBA): finds the ID card,
    /// checks it is whole, big enough, sharp and free of glare over the
    /// portrait, and that the full-range detector finds the portrait's face
    /// (`await warmUp("full")` first: this call cannot fetch).
    #[wasm_bindgen(js_name = detectCardPixels, unchecked_return_type = "CardReport")]
    pub fn detect_card_pixels(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
    ) -> Result<JsValue, JsValue> {
        let run = || -> Result<JsValue, Error> {
            let img = rgba_image(rgba, width, height)?;
            let r = crate::card::check_card(&self.inner.detector, &img, &Default::default())?;
            Ok(to_js(&r))
        };
        run().map_err(to_js_error)
    }

    /// The ID card in one camera frame (RGBA), straightened and encoded as
    /// a JPEG at the resolution it was seen at; rejects with
    /// `CARD_NOT_FOUND` when there is none. Pass it to
    /// `prepare(…, { role: "document" })`.
    #[wasm_bindgen(js_name = cropCardPixels)]
    pub fn crop_card_pixels(
        &self,
        rgba: &[u8],
        width: u32,
        height: u32,
    ) -> Result<Uint8Array, JsValue> {
        let run = || -> Result<Uint8Array, Error> {
            let img = rgba_image(rgba, width, height)?;
            let jpeg = crate::card::crop_card(&img)?;
            Ok(Uint8Array::from(jpeg.as_slice()))
        };
        run().map_err(to_js_error)
    }

    /// Decodes, checks and re-encodes one photo for sending. Rejects with
    /// `code` set when the photo fails the quality gate or cannot be read.
    #[wasm_bindgen(unchecked_return_type = "Promise<PreparedImage>")]
    pub fn prepare(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ImageInput")] input: JsValue,
        #[wasm_bindgen(unchecked_param_type = "PrepareOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        let options = options_json(&options);
        future_to_promise(async move {
            let run = async {
                // With a provider in the constructor, its limits are the defaults.
                let profile = inner.client.provider.map(|p| p.profile());
                let base = profile.map(|p| move |role| p.prepare_options(role));
                let mut opts = PrepareOptions::from_json_over(
                    base.as_ref().map(|b| b as &dyn Fn(_) -> _),
                    options?,
                )?;
                if opts.limits == Limits::default() {
                    opts.limits = inner.limits;
                }
                let bytes = input_bytes(input).await?;
                let decoded = formats::predecode(&bytes, &opts.limits).await?;
                inner.ensure_for(&opts.detect_options()).await?;
                match decoded {
                    Some(d) => prepare_decoded(&inner.detector, d, &opts),
                    None => prepare_with(&inner.detector, &bytes, &opts),
                }
            };
            match run.await {
                Ok(p) => {
                    let out = Object::new();
                    let bytes = Uint8Array::from(p.bytes.as_slice());
                    let _ = Reflect::set(&out, &"bytes".into(), &bytes);
                    let _ = Reflect::set(&out, &"report".into(), &to_js(&p.report));
                    Ok(out.into())
                }
                Err(e) => Err(to_js_error(e)),
            }
        })
    }

    /// Compares two photos (prepared ones, or image bytes) through the edge
    /// named by `endpoint`, with a token from `getToken` for this exact
    /// request; retries once with a new token after `TOKEN_EXPIRED`.
    /// Resolves with the result and the edge's signed `receipt`: hand the
    /// receipt to your backend, which trusts it, not the result.
    #[wasm_bindgen(unchecked_return_type = "Promise<MatchResult & { receipt?: string }>")]
    pub fn compare(
        &self,
        #[wasm_bindgen(unchecked_param_type = "PreparedImage | ImageInput")] document: JsValue,
        #[wasm_bindgen(unchecked_param_type = "PreparedImage | ImageInput")] selfie: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CompareOptions")] options: Option<JsValue>,
    ) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            client::compare(
                &inner.client,
                document,
                selfie,
                options.unwrap_or(JsValue::UNDEFINED),
            )
            .await
        })
    }

    /// Every error code this package can produce.
    #[wasm_bindgen(js_name = errorCodes, unchecked_return_type = "FaceBridgeErrorCode[]")]
    pub fn error_codes() -> JsValue {
        to_js(crate::error::CODES)
    }
}

/// SHA-256 of a request body, base64url: the token's `fbd` claim.
#[wasm_bindgen(js_name = bodyDigest)]
pub fn body_digest(body: &[u8]) -> String {
    crate::auth::body_digest(body)
}

/// The body `compare` sends to `POST /v1/match/{provider}`, for a client of
/// your own: `{"document": {"type", "data"}, "selfie": {…}}` as bytes.
#[wasm_bindgen(js_name = matchRequestBody)]
pub fn match_request_body(document: &[u8], selfie: &[u8]) -> Result<Uint8Array, JsValue> {
    let media = |b: &[u8]| -> Result<crate::providers::Media, JsValue> {
        let f = crate::image::Format::sniff(b).map_err(|e| to_js_error(e.into()))?;
        Ok(crate::providers::Media {
            bytes: b.to_vec(),
            content_type: f.mime().to_string(),
        })
    };
    let req = crate::providers::MatchRequest {
        document: media(document)?,
        selfie: media(selfie)?,
        video: None,
    };
    Ok(Uint8Array::from(crate::wire::encode_body(&req).as_slice()))
}
