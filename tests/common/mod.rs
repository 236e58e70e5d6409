//! Fixtures made from the fetched sample photos (scripts/setup.sh) at test time.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use facebridge::detect::{self, DetectOptions, ModelKind, TileMode};
use facebridge::image::{self, RgbImage};
use facebridge::providers::Media;
use std::process::Command;

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

/// The biggest face of a photo, cropped with room around it.
pub fn face_crop(img: &RgbImage, pick: impl Fn(&[detect::Face]) -> usize, widen: f32) -> RgbImage {
    let opts = DetectOptions {
        model: ModelKind::Full,
        ..Default::default()
    };
    let faces = detect::shared().detect(img, &opts).unwrap();
    let f = &faces[pick(&faces)];
    let size = f.bbox.w.max(f.bbox.h);
    let (cx, cy) = f.bbox.center();
    let (w, h) = ((size * widen) as u32, (size * widen * 1.25) as u32);
    image::crop(
        img,
        (cx - w as f32 / 2.0).max(0.0) as u32,
        (cy - h as f32 * 0.45).max(0.0) as u32,
        w,
        h,
    )
}

/// Person A as an ID-card photo (smaller, flatter, recompressed), A as a
/// selfie, and person B as an ID-card photo.
pub fn people() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let selfie = selfie();
    let mut card =
        image::resize_rgb(&selfie, selfie.width() * 7 / 10, selfie.height() * 7 / 10).unwrap();
    card.iter_mut()
        .for_each(|v| *v = (*v as u16 * 9 / 10 + 20).min(255) as u8);
    let s6 = decode_full(&photo("sample6.jpg")).image;
    let other = face_crop(
        &s6,
        |f| {
            f.iter()
                .enumerate()
                .max_by(|a, b| a.1.score.total_cmp(&b.1.score))
                .unwrap()
                .0
        },
        2.2,
    );
    let other = image::resize_rgb(&other, other.width() * 7 / 10, other.height() * 7 / 10).unwrap();
    (jpeg(&card, 75), jpeg(&selfie, 92), jpeg(&other, 75))
}

pub fn video(kind: &str) -> Media {
    // Tests run in parallel in one process: one directory per call.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("fb-video-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let still = dir.join("still.jpg");
    std::fs::write(&still, jpeg(&selfie(), 92)).unwrap();
    let out = dir.join(format!("v.{kind}"));
    let codec: &[&str] = if kind == "webm" {
        &["-c:v", "libvpx", "-b:v", "1M"]
    } else {
        &["-pix_fmt", "yuv420p", "-c:v", "libx264"]
    };
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-loop", "1", "-i"])
        .arg(&still)
        .args([
            "-t",
            "2",
            "-r",
            "5",
            "-vf",
            "scale=trunc(iw/2)*2:trunc(ih/2)*2",
        ])
        .args(codec)
        .arg(&out)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ffmpeg could not make the {kind} video");
    let bytes = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Media {
        bytes,
        content_type: format!("video/{kind}"),
    }
}
