//! A camera frame in each layout `detectFrame` hands the wasm (RGBA, BGRA,
//! I420, NV12), 1–320 px each way, its planes at any offset and stride in a
//! buffer of any length: the view refuses it (None), or every pixel
//! converts, the letterbox's resample reads any region of it, and the
//! quality report measures any face box on it. One input in sixteen runs
//! the detector too (40 ms under ASan: the rest go 30× faster). Never a
//! panic, never a read outside the buffer.
//!
//! The 20-byte head: width, height (2 bytes each), the format and colour,
//! a byte for the region, the face box and whether to detect, the buffer's
//! length (2), then three planes' offset and stride (2 + 2 each). The rest
//! of the input tiles the buffer.
#![no_main]

use facebridge::detect::{self, DetectOptions, Face};
use facebridge::image::{Filter, ImageView, Rect, YuvColor, YuvMatrix, resize_region};
use facebridge::prepare::detect_image;
use facebridge::quality::{Role, assess};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, fill)) = data.split_first_chunk::<20>() else {
        return;
    };
    let u16_at = |i: usize| usize::from(u16::from_le_bytes([head[i], head[i + 1]]));
    let (w, h) = (1 + (u16_at(0) % 320) as u32, 1 + (u16_at(2) % 320) as u32);
    let color = YuvColor {
        matrix: if head[4] & 4 != 0 {
            YuvMatrix::Bt709
        } else {
            YuvMatrix::Bt601
        },
        full_range: head[4] & 8 != 0,
    };
    // Up to 4 × 320 × 320 bytes: every layout at full size, and short ones.
    let len = u16_at(6) * 8 % (4 * 320 * 320 + 1);
    let buf: Vec<u8> = (0..len)
        .map(|i| match fill.len() {
            0 => 128,
            n => fill[(i * 7 + i / 97) % n],
        })
        .collect();
    let plane = |k: usize| (u16_at(8 + 4 * k) * 4, u16_at(10 + 4 * k));
    let view = match head[4] & 3 {
        0 => ImageView::rgba(&buf, w, h),
        1 => ImageView::bgra(&buf, w, h),
        2 => ImageView::i420(&buf, w, h, [plane(0), plane(1), plane(2)], color),
        _ => ImageView::nv12(&buf, w, h, [plane(0), plane(1)], color),
    };
    let Some(view) = view else {
        return;
    };
    assert_eq!(view.to_rgb().dimensions(), (w, h));
    // A region from the head's sixth byte, anywhere (clamped by the resize).
    let k = u32::from(head[5]);
    let region = (k % 7 * w / 5, k / 7 % 5 * h / 4, w - k % 3, h / (1 + k % 4));
    for filter in [Filter::Bilinear, Filter::CatmullRom] {
        if let Ok(out) = resize_region(view, region, 1 + k % 128, 1 + k % 96, filter) {
            assert_eq!(out.dimensions(), (1 + k % 128, 1 + k % 96));
        }
    }
    let (x, y) = (
        (k % 11) as f32 * w as f32 / 8.0 - 4.0,
        (k % 13) as f32 * h as f32 / 9.0 - 4.0,
    );
    let face = Face {
        bbox: Rect {
            x,
            y,
            w: w as f32 / (1.0 + (k % 5) as f32),
            h: h as f32 * 0.7,
        },
        score: 0.9,
        landmarks: [[x, y]; 6],
    };
    let q = assess(view, 1.0, w, h, &[face]);
    assert!(
        q.primary
            .is_some_and(|p| (0.0..=255.0).contains(&p.mean_luma))
    );
    if k % 16 != 0 {
        return;
    }
    let report = detect_image(
        detect::shared(),
        view,
        1.0,
        None,
        Role::Selfie,
        &DetectOptions::default(),
    )
    .expect("detection on a frame the view took");
    assert_eq!((report.width, report.height), (w, h));
});
