//! `prepare` end to end on hostile bytes, with a small byte budget: decode,
//! orient, detect, gate, crop, resize, encode. A typed error or a JPEG
//! within the budget.
#![no_main]

use facebridge::image::Limits;
use facebridge::prepare::{PrepareOptions, prepare};
use facebridge::quality::Role;
use libfuzzer_sys::fuzz_target;

fuzz_target!(init: {
    // Both networks loaded once, not inside the first input's time.
    let d = facebridge::detect::shared();
    let _ = d.warm_up(facebridge::detect::ModelKind::Short);
    let _ = d.warm_up(facebridge::detect::ModelKind::Full);
}, |data: &[u8]| {
    let role = if data.first().is_some_and(|b| b & 1 == 1) {
        Role::Document
    } else {
        Role::Selfie
    };
    let opts = PrepareOptions {
        role,
        max_bytes: 60_000,
        max_side: 640,
        enforce_gate: false,
        limits: Limits {
            max_pixels: 4_000_000,
            max_alloc: 64 << 20,
        },
        ..PrepareOptions::default()
    };
    if let Ok(p) = prepare(data, &opts) {
        assert!(p.bytes.len() <= opts.max_bytes);
    }
});
