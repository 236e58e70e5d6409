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
use facebridge::image::{Limits, RgbImage};
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
    let expected = json!({
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
