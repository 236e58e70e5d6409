//! Image decode under limits: JPEG (full and reduced DCT scale), PNG, WebP,
//! the header-only probe, and the EXIF orientation reader. The reduced
//! scales: a long side of 256 (1/2 to 1/8 of a large image), and half the
//! probed long side, which sends every baseline JPEG through our decoder's
//! half-size path (`src/image/baseline.rs`) whatever its size. Any input
//! ends in a typed error or an image within the limits; never a panic, never
//! an allocation past `-rss_limit_mb`.
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
    let mut half = None;
    if let Ok(p) = image::probe(data, &LIMITS) {
        assert!(u64::from(p.width) * u64::from(p.height) <= LIMITS.max_pixels);
        half = Some(p.width.max(p.height).div_ceil(2)).filter(|&s| s != 256);
    }
    for target in [None, Some(256)].into_iter().chain(half.map(Some)) {
        if let Ok(d) = image::decode(
            data,
            &LIMITS,
            DecodeTarget {
                min_long_side: target,
            },
        ) {
            let (w, h) = d.image.dimensions();
            assert!(u64::from(w) * u64::from(h) <= LIMITS.max_pixels);
        }
    }
});
