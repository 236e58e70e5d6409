//! The data behind the simulators' MATCH_AT / REFER_AT: the simulator score
//! of every sample face against a card-like copy of itself (70 % size,
//! flatter, JPEG q75) and against every other face.
//! `cargo run --profile native --features native --example measure_similarity`
#![allow(clippy::unwrap_used)]
use facebridge::detect::{self, DetectOptions, ModelKind, TileMode};
use facebridge::image;
use facebridge::sim::similarity::{analyse, patch, similarity};

fn main() {
    let opts = DetectOptions {
        model: ModelKind::Full,
        tiles: TileMode::Auto,
        ..Default::default()
    };
    let mut patches = Vec::new();
    let mut same = Vec::new();
    for i in 1..=6 {
        let bytes = std::fs::read(format!("tests/fixtures/photos/sample{i}.jpg")).unwrap();
        let d = image::decode(&bytes, &Default::default(), Default::default()).unwrap();
        for f in detect::shared().detect(&d.image, &opts).unwrap() {
            let s = f.bbox.w.max(f.bbox.h);
            let (cx, cy) = f.bbox.center();
            let (w, h) = ((s * 2.2) as u32, (s * 2.75) as u32);
            let crop = image::crop(
                &d.image,
                (cx - w as f32 / 2.0).max(0.0) as u32,
                (cy - h as f32 * 0.45).max(0.0) as u32,
                w,
                h,
            );
            let a = analyse(detect::shared(), &image::encode_jpeg(&crop, 92).unwrap()).unwrap();
            let mut card =
                image::resize_rgb(&crop, crop.width() * 7 / 10, crop.height() * 7 / 10).unwrap();
            card.iter_mut()
                .for_each(|v| *v = (*v as u16 * 9 / 10 + 20).min(255) as u8);
            let b = analyse(detect::shared(), &image::encode_jpeg(&card, 75).unwrap()).unwrap();
            let (Some(fa), Some(fb)) = (a.faces.first(), b.faces.first()) else {
                continue;
            };
            let pa = patch(&a.image, fa);
            same.push(similarity(&pa, &patch(&b.image, fb)));
            patches.push(pa);
        }
    }
    let mut diff = Vec::new();
    for i in 0..patches.len() {
        for j in i + 1..patches.len() {
            diff.push(similarity(&patches[i], &patches[j]));
        }
    }
    let show = |name: &str, v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        println!(
            "{name}: n={} min={:.3} median={:.3} max={:.3}",
            v.len(),
            v[0],
            v[v.len() / 2],
            v[v.len() - 1]
        );
    };
    show("same face, card-like copy", &mut same);
    show("different faces", &mut diff);
    let over = |t: f64, v: &[f64]| v.iter().filter(|x| **x >= t).count();
    for t in [0.65, 0.75] {
        println!(
            "at {t}: same ≥ {}/{}, different ≥ {}/{}",
            over(t, &same),
            same.len(),
            over(t, &diff),
            diff.len()
        );
    }
}
