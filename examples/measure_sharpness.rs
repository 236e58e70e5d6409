//! Prints the gate's sharpness measure for every face of the sample photos,
//! as taken and after Gaussian blurs of growing sigma: the data behind
//! `GateConfig::min_sharpness`. `cargo run --profile native --example measure_sharpness`
#![allow(clippy::unwrap_used)]
use facebridge::detect::{self, DetectOptions, ModelKind, TileMode};
use facebridge::quality::assess;

fn main() {
    let opts = DetectOptions {
        model: ModelKind::Full,
        tiles: TileMode::Auto,
        ..Default::default()
    };
    println!("photo face size_px sharp blur1 blur2 blur3");
    for i in 1..=6 {
        let bytes = std::fs::read(format!("tests/fixtures/photos/sample{i}.jpg")).unwrap();
        let d = facebridge::image::decode(&bytes, &Default::default(), Default::default()).unwrap();
        let faces = detect::shared().detect(&d.image, &opts).unwrap();
        for (n, f) in faces.iter().enumerate() {
            let mut row = format!("sample{i} {n} {:.0}", f.bbox.w);
            for sigma in [0.0f32, 1.0, 2.0, 3.0] {
                // Blur relative to the face: sigma in pixels of a 128 px wide face.
                let s = sigma * f.bbox.w / 128.0;
                let img = if sigma == 0.0 {
                    d.image.clone()
                } else {
                    image::imageops::blur(&d.image, s)
                };
                let q = assess(&img, 1.0, d.width, d.height, std::slice::from_ref(f));
                row += &format!(" {:.1}", q.primary.unwrap().sharpness);
            }
            println!("{row}");
        }
    }
}
