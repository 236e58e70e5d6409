//! Fixtures made from the fetched sample photos (scripts/setup.sh) at test time.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use facebridge::detect::{self, DetectOptions, ModelKind, TileMode};
use facebridge::image::{self, RgbImage};

pub fn photo_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/photos")
        .join(name)
}

pub fn photo(name: &str) -> Vec<u8> {
    let p = photo_path(name);
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("{}: {e} — run scripts/setup.sh first", p.display()))
}

pub fn decode_full(bytes: &[u8]) -> image::Decoded {
    image::decode(bytes, &Default::default(), Default::default()).unwrap()
}

pub fn jpeg(img: &RgbImage, q: u8) -> Vec<u8> {
    image::encode_jpeg(img, q).unwrap()
}

/// Inserts an APP1 EXIF segment right after SOI.
pub fn with_exif(jpeg: &[u8], exif: &[u8]) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A single-face selfie-like photo: the middle person of sample3, cropped
/// with room around the face and no other face in the frame.
pub fn selfie() -> RgbImage {
    let d = decode_full(&photo("sample3.jpg"));
    let opts = DetectOptions {
        model: ModelKind::Full,
        tiles: TileMode::Off,
        ..Default::default()
    };
    let faces = detect::shared().detect(&d.image, &opts).unwrap();
    // The middle face: the one whose centre is closest to the image centre.
    let cx = d.image.width() as f32 / 2.0;
    let f = faces
        .iter()
        .min_by(|a, b| {
            (a.bbox.center().0 - cx)
                .abs()
                .total_cmp(&(b.bbox.center().0 - cx).abs())
        })
        .unwrap();
    let size = f.bbox.w.max(f.bbox.h);
    let (fx, fy) = f.bbox.center();
    let w = (size * 2.2) as u32;
    let h = (size * 2.9) as u32;
    let x = (fx - w as f32 / 2.0).max(0.0) as u32;
    let y = (fy - h as f32 * 0.42).max(0.0) as u32;
    image::crop(&d.image, x, y, w, h)
}

/// The eight EXIF orientations: the stored pixels for orientation `o` are the
/// upright image put through the inverse transform.
pub fn store_for_orientation(upright: &RgbImage, o: u8) -> RgbImage {
    use ::image::imageops::{flip_horizontal, flip_vertical, rotate90, rotate180, rotate270};
    match o {
        1 => upright.clone(),
        2 => flip_horizontal(upright),
        3 => rotate180(upright),
        4 => flip_vertical(upright),
        5 => flip_horizontal(&rotate90(upright)), // transpose, its own inverse
        6 => rotate270(upright),
        7 => flip_horizontal(&rotate270(upright)), // transverse, its own inverse
        8 => rotate90(upright),
        _ => unreachable!(),
    }
}

pub fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let s: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| (*x as i32 - *y as i32).unsigned_abs() as u64)
        .sum();
    s as f64 / a.as_raw().len() as f64
}

/// Deterministic noise, to make photos that compress badly.
pub fn add_noise(img: &mut RgbImage, amplitude: i32, seed: u32) {
    let mut s = seed.max(1);
    for v in img.iter_mut() {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        let n = (s % (2 * amplitude as u32 + 1)) as i32 - amplitude;
        *v = (*v as i32 + n).clamp(0, 255) as u8;
    }
}
