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

/// A made-up ID-1 card, 856×540 (10 px/mm): a pale printed ground, a blue
/// band with a title, the test selfie's face as the portrait on the left,
/// lines of "text" on the right, rounded corners. `None` outside the card
/// (the rounded corners), so a scene shows the table there.
pub fn id_card() -> Vec<Option<::image::Rgb<u8>>> {
    let person = face_crop(&selfie(), |_| 0, 1.9);
    let portrait = image::resize_rgb(&person, 250, 320).unwrap();
    let (w, h) = (856i32, 540i32);
    let r = 28i32;
    let mut out = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            // Rounded corners: outside the quarter circles is not card.
            let (cx, cy) = (x.clamp(r, w - 1 - r), y.clamp(r, h - 1 - r));
            if (x - cx).pow(2) + (y - cy).pow(2) > r * r {
                out.push(None);
                continue;
            }
            let px = if (40..290).contains(&x) && (150..470).contains(&y) {
                *portrait.get_pixel((x - 40) as u32, (y - 150) as u32)
            } else if y < 90 {
                let title = (120..520).contains(&x) && (32..58).contains(&y) && (x / 9) % 4 != 3;
                if title {
                    ::image::Rgb([236, 240, 246])
                } else {
                    ::image::Rgb([32, 72, 130])
                }
            } else {
                let line = (y - 170) / 44;
                let len = [380, 300, 420, 260, 340, 200][(line.rem_euclid(6)) as usize];
                let text = (170..440).contains(&y)
                    && (y - 170) % 44 < 16
                    && (330..330 + len).contains(&x)
                    && (x / 11) % 5 != 4;
                if text {
                    ::image::Rgb([52, 56, 64])
                } else {
                    // A faint guilloche-like wave in the ground.
                    let wave = (((x as f32) * 0.05).sin() * ((y as f32) * 0.07).cos() * 6.0) as i32;
                    ::image::Rgb([(214 + wave) as u8, (228 + wave) as u8, (222 + wave) as u8])
                }
            };
            out.push(Some(px));
        }
    }
    out
}

/// The card seen by a camera: `card` (from [`id_card`]) with its corners at
/// `corners` (top-left, top-right, bottom-right, bottom-left) on a wooden
/// table, 2×2 supersampled; `glare` puts a clipped highlight over the portrait.
pub fn card_scene(
    w: u32,
    h: u32,
    corners: [[f32; 2]; 4],
    card: &[Option<::image::Rgb<u8>>],
    glare: bool,
) -> RgbImage {
    use facebridge::card::Homography;
    let inv = Homography::rect_to_quad(856.0, 540.0, &corners)
        .unwrap()
        .inverse()
        .unwrap();
    let table = |x: f64, y: f64| -> [f64; 3] {
        let grain = (y * 0.15 + (x * 0.01).sin() * 3.0).sin() * 12.0;
        [96.0 + grain, 70.0 + grain * 0.8, 48.0 + grain * 0.5]
    };
    RgbImage::from_fn(w, h, |x, y| {
        let mut acc = [0f64; 3];
        for (dx, dy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
            let (fx, fy) = (x as f64 + dx, y as f64 + dy);
            let (u, v) = inv.apply(fx, fy);
            let px = if (0.0..856.0).contains(&u) && (0.0..540.0).contains(&v) {
                card[v as usize * 856 + u as usize].map(|p| {
                    let mut c = p.0.map(f64::from);
                    if glare {
                        // A specular highlight over the portrait's upper half.
                        let d = ((u - 165.0) / 95.0).powi(2) + ((v - 260.0) / 70.0).powi(2);
                        if d < 1.0 {
                            c = [255.0; 3];
                        } else if d < 1.6 {
                            let k = (1.6 - d) / 0.6;
                            c = c.map(|v| v + (255.0 - v) * k);
                        }
                    }
                    c
                })
            } else {
                None
            };
            let c = px.unwrap_or_else(|| table(fx, fy));
            for i in 0..3 {
                acc[i] += c[i] / 4.0;
            }
        }
        ::image::Rgb(acc.map(|v| v.round().clamp(0.0, 255.0) as u8))
    })
}

/// Where the card is held in the 640×480 test frames: about 70 % of the
/// width, tilted a little away at the top.
pub const CARD_CORNERS: [[f32; 2]; 4] = [
    [118.0, 96.0],
    [528.0, 108.0],
    [546.0, 372.0],
    [102.0, 384.0],
];

/// CRC-32 (PNG chunks, IEEE polynomial), for tests that write PNG chunks.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `img` written as `format` by image's own encoders (PNG, lossless WebP).
pub fn encoded(img: &::image::DynamicImage, format: ::image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

pub fn png_bytes(img: &::image::DynamicImage) -> Vec<u8> {
    encoded(img, ::image::ImageFormat::Png)
}
