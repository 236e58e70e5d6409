//! The `.fbnet` reader: a network file from outside (the wasm fetches the
//! full-range one; a caller may pass any bytes). Loading is bounded and typed;
//! a network that loads must run on a frame without a panic.
#![no_main]

use facebridge::detect::{DetectOptions, Detector, ModelKind};
use facebridge::image::RgbImage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let d = Detector::from_model_bytes(Some(data.to_vec()), None);
    if d.warm_up(ModelKind::Short).is_ok() {
        let frame = RgbImage::new(96, 64);
        let _ = d.detect(&frame, &DetectOptions::default());
    }
});
