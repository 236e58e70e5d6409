//! PNG and WebP in the browser's wasm, which is built without their decoders
//! (feature `png-webp` off: they were a quarter of its code). The package's
//! second wasm decodes them (formats/, loaded on first use by
//! src/wasm/assets.js); the pixels come back here and go through the same
//! size check, orientation and errors as every other decode
//! ([`crate::image::decode_external`]).

/// `Some` for a PNG or WebP file when this build leaves their decoding to the
/// formats wasm; `None` for anything the crate decodes itself.
#[cfg(feature = "png-webp")]
pub(super) async fn predecode(
    _bytes: &[u8],
    _limits: &crate::image::Limits,
) -> Result<Option<crate::image::Decoded>, crate::error::Error> {
    Ok(None)
}

#[cfg(not(feature = "png-webp"))]
pub(super) use outside::predecode;

#[cfg(not(feature = "png-webp"))]
mod outside {
    use js_sys::{Promise, Reflect, Uint8Array};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen_futures::JsFuture;

    use crate::error::{Error, ImageError};
    use crate::image::{Decoded, External, Format, Limits, decode_external};

    #[wasm_bindgen(module = "/src/wasm/assets.js")]
    extern "C" {
        /// Resolves to the formats wasm's answer for one file (kind 0 = PNG, 1 = WebP).
        #[wasm_bindgen(js_name = decodeFormat)]
        fn decode_format(bytes: &[u8], kind: u32, max_pixels: f64, max_alloc: f64) -> Promise;
    }

    pub async fn predecode(bytes: &[u8], limits: &Limits) -> Result<Option<Decoded>, Error> {
        let format = match Format::sniff(bytes) {
            Ok(f @ (Format::Png | Format::Webp)) => f,
            _ => return Ok(None),
        };
        let kind = if format == Format::Png { 0 } else { 1 };
        // Limits above 2^53 (none that make sense) lose precision, upwards.
        let promise = decode_format(
            bytes,
            kind,
            limits.max_pixels as f64,
            limits.max_alloc as f64,
        );
        let answer = JsFuture::from(promise).await.map_err(|e| {
            let why = e
                .dyn_ref::<js_sys::Error>()
                .map(|e| String::from(e.message()))
                .unwrap_or_else(|| "it could not be loaded".into());
            if e.is_instance_of::<js_sys::WebAssembly::RuntimeError>() {
                // A trap inside the decoder: out of memory (or a bug). The
                // instance is gone with it; the next file gets a fresh one.
                return ImageError::unreadable(format!(
                    "the {} decoder stopped ({why}): out of memory for this file?",
                    format.mime()
                ));
            }
            // Not fetched or not compiled: the next PNG or WebP tries again.
            ImageError::UnsupportedFormat {
                what: format!(
                    "{}: the package's decoder for it (facebridge_formats_bg.wasm) could not be loaded ({why})",
                    format.mime()
                ),
            }
        })?;
        let get = |key: &str| Reflect::get(&answer, &key.into()).unwrap_or(JsValue::UNDEFINED);
        let num = |key: &str| get(key).as_f64().unwrap_or(0.0) as u32;
        let message = || get("message").as_string().unwrap_or_default();
        let external = match num("status") {
            0 => External::Pixels {
                width: num("width"),
                height: num("height"),
                orientation: num("orientation").min(255) as u8,
                rgb: get("rgb")
                    .dyn_into::<Uint8Array>()
                    .map(|a| a.to_vec())
                    .unwrap_or_default(),
            },
            1 => External::Refused {
                width: num("width"),
                height: num("height"),
                bytes_per_pixel: num("bytesPerPixel") as u64,
            },
            2 => External::Limits,
            3 => External::Unsupported(message()),
            _ => External::Unreadable(message()),
        };
        Ok(Some(decode_external(format, external, limits)?))
    }
}
