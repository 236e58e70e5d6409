//! Image decode under limits: JPEG (full and reduced DCT scale), PNG, WebP,
//! the header-only probe, and the EXIF orientation reader. Any input ends in
//! a typed error or an image within the limits; never a panic, never an
//! allocation past `-rss_limit_mb`.
#![no_main]

use facebridge::image::{self, DecodeTarget, Limits};
use libfuzzer_sys::fuzz_target;

/// Small enough that a hostile header is refused, large enough for real photos.
const LIMITS: Limits = Limits {
    max_pixels: 4_000_000,
    max_alloc: 64 << 20,
};

fuzz_target!(|data: &[u8]| {
    let _ = image::orientation_from_exif(data);
    if let Ok(p) = image::probe(data, &LIMITS) {
        assert!(u64::from(p.width) * u64::from(p.height) <= LIMITS.max_pixels);
    }
    for target in [None, Some(256)] {
        if let Ok(d) = image::decode(data, &LIMITS, DecodeTarget { min_long_side: target }) {
            let (w, h) = d.image.dimensions();
            assert!(u64::from(w) * u64::from(h) <= LIMITS.max_pixels);
        }
    }
});
