//! Writes the fixtures and native results that the JS suites (Node,
//! Chromium, workerd), the fuzzers' seeds and the edge benchmarks use, into
//! tests/fixtures/generated/ (ignored by git: the photos derive from the
//! fetched samples). scripts/test.sh runs it after the native tests:
//!
//!     cargo run --profile native --features native --example js_fixtures
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use facebridge::detect::{self, DetectOptions, ModelKind, TileMode};
use facebridge::image::{Limits, RgbImage, YuvColor, YuvMatrix, i420_from_rgb};
use facebridge::prepare::{PrepareOptions, detect_photo, prepare};
use facebridge::quality::Role;
use serde_json::json;

fn main() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generated");
    std::fs::create_dir_all(&dir).unwrap();
    let selfie = jpeg(&selfie(), 92);
    std::fs::write(dir.join("selfie.jpg"), &selfie).unwrap();
    std::fs::copy(photo_path("sample1.jpg"), dir.join("sample1.jpg")).unwrap();
    // For the edge suite: person A on a card and as a selfie, person B on a
    // card, and a short liveness video of A (Biometry).
    let (card_a, selfie_a, card_b) = people();
    std::fs::write(dir.join("card-a.jpg"), &card_a).unwrap();
    std::fs::write(dir.join("selfie-a.jpg"), &selfie_a).unwrap();
    std::fs::write(dir.join("card-b.jpg"), &card_b).unwrap();
    std::fs::write(dir.join("selfie-a.mp4"), video("mp4").bytes).unwrap();
    let wall = RgbImage::from_fn(640, 640, |x, y| {
        ::image::Rgb([(x % 200) as u8, (y % 180) as u8, 90])
    });
    std::fs::write(dir.join("wall.jpg"), jpeg(&wall, 90)).unwrap();
    write_rust_token(&dir);
    write_hostile_jpegs(&dir);
    write_camera_clips(&dir, &wall);

    let tiled = DetectOptions {
        model: ModelKind::Full,
        tiles: TileMode::Auto,
        ..Default::default()
    };
    let sample1 = detect_photo(
        detect::shared(),
        &photo("sample1.jpg"),
        Role::Document,
        &tiled,
        &Limits::default(),
    )
    .unwrap();
    let selfie_detect = detect_photo(
        detect::shared(),
        &selfie,
        Role::Selfie,
        &DetectOptions::default(),
        &Limits::default(),
    )
    .unwrap();
    let valify = PrepareOptions {
        role: Role::Selfie,
        max_bytes: 2_000_000,
        base64: true,
        ..Default::default()
    };
    let prepared = prepare(&selfie, &valify).unwrap();
    // PNG and WebP, which the browser's wasm hands to the formats wasm: the
    // selfie's pixels as an RGB PNG, a lossless WebP, and a PNG stored
    // turned with an eXIf chunk (orientation 6) that turns it back.
    let pixels = decode_full(&selfie).image;
    let png = png_bytes(&pixels.clone().into());
    let webp = encoded(&pixels.clone().into(), ::image::ImageFormat::WebP);
    let png_rot6 = with_png_orientation(png_bytes(&store_for_orientation(&pixels, 6).into()), 6);
    let mut others = serde_json::Map::new();
    for (name, bytes) in [
        ("selfie.png", &png),
        ("selfie.webp", &webp),
        ("selfie-rot6.png", &png_rot6),
    ] {
        std::fs::write(dir.join(name), bytes).unwrap();
        let report = detect_photo(
            detect::shared(),
            bytes,
            Role::Selfie,
            &DetectOptions::default(),
            &Limits::default(),
        )
        .unwrap();
        others.insert(name.into(), json!(report));
    }
    let png_prepared = prepare(&png, &valify).unwrap();
    let expected = json!({
        "others": { "options": {"role": "selfie"}, "reports": others },
        "selfiePngPrepare": { "options": {"role": "selfie", "maxBytes": 2000000, "base64": true}, "report": png_prepared.report },
        "sample1": { "options": {"role": "document", "model": "full", "tiles": "auto"}, "report": sample1 },
        "selfieDetect": { "options": {"role": "selfie"}, "report": selfie_detect },
        "selfiePrepare": { "options": {"role": "selfie", "maxBytes": 2000000, "base64": true}, "report": prepared.report },
    });
    std::fs::write(
        dir.join("expected.json"),
        serde_json::to_vec_pretty(&expected).unwrap(),
    )
    .unwrap();
}

/// `png` with an eXIf chunk holding `orientation`, after IHDR (as the PNG
/// spec allows).
fn with_png_orientation(mut png: Vec<u8>, orientation: u16) -> Vec<u8> {
    let exif = facebridge::image::exif_with_orientation(orientation, true);
    let data = exif.strip_prefix(b"Exif\0\0").unwrap();
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(b"eXIf");
    chunk.extend_from_slice(data);
    let crc = crc32(&chunk[4..]);
    chunk.extend_from_slice(&crc.to_be_bytes());
    // 8 bytes of signature, then IHDR: 4 length + 4 type + 13 data + 4 CRC.
    png.splice(33..33, chunk);
    png
}

/// Fake-camera clips for the capture tests (Chromium's
/// `--use-file-for-fake-video-capture`, which loops the file): 640×480 YUV
/// 4:2:0 at 10 frames/s, made from the test selfie (sample3's middle face).
fn write_camera_clips(dir: &std::path::Path, wall: &RgbImage) {
    const W: u32 = 640;
    const H: u32 = 480;
    let person = selfie();
    let face = detect::shared()
        .detect(
            &person,
            &DetectOptions {
                model: ModelKind::Full,
                ..Default::default()
            },
        )
        .unwrap()[0]
        .clone();
    let face_size = face.bbox.w.max(face.bbox.h);
    let (fx, fy) = face.bbox.center();
    // A frame with the person's face `size` px wide, centred at (cx, cy), on grey.
    let frame = |size: f32, cx: f32, cy: f32| -> RgbImage {
        let k = size / face_size;
        let (pw, ph) = (
            (person.width() as f32 * k).round() as u32,
            (person.height() as f32 * k).round() as u32,
        );
        let scaled = facebridge::image::resize_rgb(&person, pw, ph).unwrap();
        let (ox, oy) = (cx - fx * k, cy - fy * k);
        RgbImage::from_fn(W, H, |x, y| {
            let (sx, sy) = (x as f32 - ox, y as f32 - oy);
            if sx >= 0.0 && sy >= 0.0 && (sx as u32) < pw && (sy as u32) < ph {
                *scaled.get_pixel(sx as u32, sy as u32)
            } else {
                ::image::Rgb([118, 122, 126])
            }
        })
    };
    let good = frame(0.36 * H as f32, W as f32 / 2.0, H as f32 * 0.48);
    let close = frame(0.92 * H as f32, W as f32 / 2.0, H as f32 * 0.5);
    let two = {
        let left = frame(0.3 * H as f32, W as f32 * 0.28, H as f32 * 0.45);
        let right = frame(0.3 * H as f32, W as f32 * 0.72, H as f32 * 0.45);
        RgbImage::from_fn(W, H, |x, y| {
            if x < W / 2 {
                *left.get_pixel(x, y)
            } else {
                *right.get_pixel(x, y)
            }
        })
    };
    let empty = facebridge::image::resize_rgb(wall, W, H).unwrap();
    let mut too_close_then_back = vec![close; 20];
    too_close_then_back.extend(std::iter::repeat_n(good.clone(), 60));
    // One frame looped plays at 30 frames/s; the clip that changes, at 10
    // (2 s too close, then 6 s at a good distance: 37 MB instead of 110).
    // Document capture: the made-up ID card (the selfie's face as its
    // portrait) held at an angle over a table, and the same with glare.
    let card = id_card();
    let held = card_scene(W, H, CARD_CORNERS, &card, false);
    let glare = card_scene(W, H, CARD_CORNERS, &card, true);
    // The good frame as the raw planes of a VideoFrame (Chromium's tests of
    // detectFrame in each layout): I420 as a webcam gives it, and in BT.709
    // full range.
    for (name, color) in [
        ("camera-selfie.i420", BT601_STUDIO),
        (
            "camera-selfie-709-full.i420",
            YuvColor {
                matrix: YuvMatrix::Bt709,
                full_range: true,
            },
        ),
    ] {
        std::fs::write(dir.join(name), i420_from_rgb(&good, color).0).unwrap();
    }
    for (name, frames, fps) in [
        ("camera-card.y4m", vec![held], 30),
        ("camera-card-glare.y4m", vec![glare], 30),
        ("camera-selfie.y4m", vec![good], 30),
        ("camera-too-close.y4m", too_close_then_back, 10),
        ("camera-two-faces.y4m", vec![two], 30),
        ("camera-no-face.y4m", vec![empty], 30),
    ] {
        std::fs::write(dir.join(name), y4m(&frames, fps)).unwrap();
    }
}

/// What Chromium's fake camera reads a y4m file as, and assumes of a frame
/// that says nothing of its colour.
const BT601_STUDIO: YuvColor = YuvColor {
    matrix: YuvMatrix::Bt601,
    full_range: false,
};

/// A YUV4MPEG2 file (4:2:0, BT.601 studio range, as Chromium's fake camera reads it).
fn y4m(frames: &[RgbImage], fps: u32) -> Vec<u8> {
    let (w, h) = frames[0].dimensions();
    let mut out = format!("YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n").into_bytes();
    for img in frames {
        out.extend_from_slice(b"FRAME\n");
        out.extend_from_slice(&i420_from_rgb(img, BT601_STUDIO).0);
    }
    out
}

/// Progressive JPEGs of flat grey for the edge's memory tests: small files
/// whose decode would hold every DCT coefficient of the full image. 40 MP is
/// over the edge's pixel limit (refused from the header); 12 MP is under it
/// but its coefficients alone are 72 MB (refused by the allocation count).
/// Written once: they take seconds to encode.
fn write_hostile_jpegs(dir: &std::path::Path) {
    for (name, w, h) in [
        ("progressive-40mp.jpg", 7304u16, 5476u16),
        ("progressive-12mp.jpg", 4000, 3000),
    ] {
        let path = dir.join(name);
        if path.exists() {
            continue;
        }
        let pixels = vec![128u8; w as usize * h as usize * 3];
        let mut out = Vec::new();
        let mut enc = jpeg_encoder::Encoder::new(&mut out, 50);
        enc.set_progressive(true);
        enc.encode(&pixels, w, h, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        std::fs::write(&path, out).unwrap();
    }
}

/// A token minted by this crate, for the JS suite to verify with `jose`.
fn write_rust_token(dir: &std::path::Path) {
    use facebridge::auth::{self, Claims, KeySet, TokenSpec};
    let secret = "interop-secret-for-jose-0123456789abcdef";
    let body = br#"{"document":{"type":"image/jpeg","data":"AA=="}}"#;
    let now = 1_900_000_000;
    let claims = Claims::new(
        &TokenSpec {
            audience: "https://edge.facebridge.test",
            subject: "session-7",
            provider: "aigen",
            operation: "compare",
            jti: "rust-jti-1",
            now_s: now,
            ttl_s: 120,
        },
        body,
    );
    let token = auth::mint(&claims, &KeySet::single("rust-kid", secret.as_bytes())).unwrap();
    let out = json!({
        "token": token,
        "secret": secret,
        "kid": "rust-kid",
        "now": now,
        "body": String::from_utf8_lossy(body),
        "claims": claims,
    });
    std::fs::write(
        dir.join("rust-token.json"),
        serde_json::to_vec_pretty(&out).unwrap(),
    )
    .unwrap();
}
