//! Native half of the benchmark (scripts/bench.sh runs it; the wasm half is
//! benches/wasm.mjs). Writes the shared inputs to bench-out/ and prints one
//! JSON object of timings.
//!
//!   cargo bench --profile native --features native --bench native
//!   (or: scripts/bench.sh, which also runs the wasm side)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use facebridge::detect::{DetectOptions, Detector, ModelKind};
use facebridge::image::{self, DecodeTarget, Limits, RgbImage};
use facebridge::prepare::{PrepareOptions, prepare_with};
use facebridge::quality::Role;
use serde_json::json;

const RUNS: usize = 30;

fn stats(mut v: Vec<f64>) -> serde_json::Value {
    v.sort_by(f64::total_cmp);
    json!({"median": v[v.len() / 2], "min": v[0], "max": v[v.len() - 1], "runs": v.len()})
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> serde_json::Value {
    f(); // warm-up
    stats(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    )
}

fn noise(img: &mut RgbImage, amplitude: i32) {
    let mut s = 12345u32;
    for v in img.iter_mut() {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        *v = (*v as i32 + (s % (2 * amplitude as u32 + 1)) as i32 - amplitude).clamp(0, 255) as u8;
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("bench-out");
    std::fs::create_dir_all(&out).unwrap();
    let photo = |n: &str| std::fs::read(root.join("tests/fixtures/photos").join(n)).unwrap();

    // `--peak-12mp`: a separate process that only prepares the 12 MP photo, so
    // its peak RSS is that job's and not the whole benchmark's.
    if std::env::args().any(|a| a == "--peak-12mp") {
        let base = peak_rss_kib();
        let bytes = std::fs::read(out.join("photo-12mp.jpg")).unwrap();
        let d = Detector::embedded();
        let opts = PrepareOptions {
            role: Role::Document,
            max_bytes: 2_000_000,
            max_side: 4032,
            enforce_gate: false,
            ..Default::default()
        };
        prepare_with(&d, &bytes, &opts).unwrap();
        println!(
            "{}",
            json!({"peakRssKiB": peak_rss_kib(), "baseRssKiB": base})
        );
        return;
    }

    // Inputs shared with the wasm side.
    let s1 = image::decode(
        &photo("sample1.jpg"),
        &Limits::default(),
        DecodeTarget::default(),
    )
    .unwrap();
    let one_mp = image::resize_rgb(&s1.image, 1224, 816).unwrap();
    std::fs::write(
        out.join("photo-1mp.jpg"),
        image::encode_jpeg(&one_mp, 90).unwrap(),
    )
    .unwrap();
    let mut twelve = image::resize_rgb(&s1.image, 4032, 3024).unwrap();
    noise(&mut twelve, 14);
    std::fs::write(
        out.join("photo-12mp.jpg"),
        image::encode_jpeg(&twelve, 92).unwrap(),
    )
    .unwrap();
    drop(twelve);
    let frame = image::resize_rgb(&one_mp, 640, 480).unwrap();
    std::fs::write(out.join("frame-640x480.rgb"), frame.as_raw()).unwrap();

    let mut r = serde_json::Map::new();
    // Model load: a new detector each time, built into a plan.
    for kind in [ModelKind::Short, ModelKind::Full] {
        r.insert(
            format!("modelLoad_{}", kind.name()),
            time(10, || Detector::embedded().warm_up(kind).unwrap()),
        );
    }
    let d = Detector::embedded();
    // Inference per frame: a 640×480 frame through each model (letterbox + run + decode + NMS).
    for kind in [ModelKind::Short, ModelKind::Full] {
        let o = DetectOptions {
            model: kind,
            ..Default::default()
        };
        r.insert(
            format!("detectFrame640_{}", kind.name()),
            time(RUNS, || d.detect(&frame, &o).unwrap()),
        );
    }
    let bytes_1 = std::fs::read(out.join("photo-1mp.jpg")).unwrap();
    let bytes_12 = std::fs::read(out.join("photo-12mp.jpg")).unwrap();
    // Reduced-scale JPEG decode: the gain of decoding 12 MP at 1/4 for detection.
    r.insert(
        "decode12mp_full".into(),
        time(10, || {
            image::decode(&bytes_12, &Limits::default(), DecodeTarget::default()).unwrap()
        }),
    );
    r.insert(
        "decode12mp_for1024".into(),
        time(10, || {
            image::decode(
                &bytes_12,
                &Limits::default(),
                DecodeTarget {
                    min_long_side: Some(1024),
                },
            )
            .unwrap()
        }),
    );
    let doc = |max_side| PrepareOptions {
        role: Role::Document,
        max_bytes: 2_000_000,
        max_side,
        enforce_gate: false,
        ..Default::default()
    };
    r.insert(
        "prepare1mp_2MB".into(),
        time(RUNS, || prepare_with(&d, &bytes_1, &doc(2048)).unwrap()),
    );
    r.insert(
        "prepare12mp_2MB_side2048".into(),
        time(10, || prepare_with(&d, &bytes_12, &doc(2048)).unwrap()),
    );
    r.insert(
        "prepare12mp_2MB_noresize".into(),
        time(5, || prepare_with(&d, &bytes_12, &doc(4032)).unwrap()),
    );
    println!("{}", serde_json::Value::Object(r));
}
