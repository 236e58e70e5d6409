//! Writes the fixtures and native results that the JS suites (Node,
//! Chromium) compare the wasm build against: tests/fixtures/generated/.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use facebridge::detect::{self, DetectOptions, ModelKind, TileMode};
use facebridge::image::Limits;
use facebridge::prepare::{PrepareOptions, detect_photo, prepare};
use facebridge::quality::Role;
use serde_json::json;

#[test]
fn write_fixtures_for_the_js_suites() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/generated");
    std::fs::create_dir_all(&dir).unwrap();
    let selfie = jpeg(&selfie(), 92);
    std::fs::write(dir.join("selfie.jpg"), &selfie).unwrap();
    std::fs::copy(photo_path("sample1.jpg"), dir.join("sample1.jpg")).unwrap();

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
