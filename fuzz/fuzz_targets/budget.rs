//! The byte budget's search (`encode_to_budget`) on images made from the
//! input: 16–320 px wide and 16–1400 px tall (tall enough for the search on
//! bands, which starts at 1024 rows), any pixels, any budget and qualities.
//! A JPEG within the budget, or a typed error.
#![no_main]

use facebridge::image::{Budget, RgbImage, encode_to_budget};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, pixels)) = data.split_first_chunk::<9>() else {
        return;
    };
    let w = 16 + u32::from(u16::from_le_bytes([head[0], head[1]])) % 305;
    let h = 16 + u32::from(u16::from_le_bytes([head[2], head[3]])) % 1385;
    let max_bytes = 200 + u32::from_le_bytes([head[4], head[5], head[6], 0]) as usize % 400_000;
    let (a, b) = (1 + head[7] % 100, 1 + head[8] % 100);
    let budget = Budget {
        max_bytes,
        base64: head[7] & 0x80 != 0,
        max_quality: a.max(b),
        min_quality: a.min(b),
        min_side: 16 + u32::from(head[8] % 64),
    };
    // The input's bytes tile the image, each row shifted, so that a short
    // input still gives rows that differ (what the bands sample).
    let row = w as usize * 3;
    let raw: Vec<u8> = (0..row * h as usize)
        .map(|i| match pixels.len() {
            0 => 128,
            n => pixels[(i + i / row * 7) % n],
        })
        .collect();
    let Some(img) = RgbImage::from_raw(w, h, raw) else {
        return;
    };
    match encode_to_budget(&img, &budget) {
        Ok(e) => assert!(budget.counted(e.bytes.len()) <= max_bytes),
        Err(e) => assert_eq!(e.code(), "BUDGET_UNREACHABLE", "{e}"),
    }
});
