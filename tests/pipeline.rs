//! The photo pipeline on real photos: detection counts, EXIF orientation,
//! byte budgets, the quality gate, and hostile inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use facebridge::detect::{self, DetectOptions, ModelKind, TileMode};
use facebridge::image::{self, Budget, DecodeTarget, Limits, RgbImage, exif_with_orientation};
use facebridge::prepare::{PrepareOptions, detect_photo, prepare};
use facebridge::quality::Role;

/// Counted by eye on the annotated output of `facebridge detect --annotate`.
const SAMPLE_FACES: [(&str, usize); 6] = [
    ("sample1.jpg", 3),
    ("sample2.jpg", 3),
    ("sample3.jpg", 3),
    ("sample4.jpg", 4),
    ("sample5.jpg", 5),
    ("sample6.jpg", 4),
];

#[test]
fn sample_face_counts_match_the_eye() {
    let opts = DetectOptions {
        model: ModelKind::Full,
        tiles: TileMode::Auto,
        ..Default::default()
    };
    for (name, want) in SAMPLE_FACES {
        let r = detect_photo(
            detect::shared(),
            &photo(name),
            Role::Document,
            &opts,
            &Limits::default(),
        )
        .unwrap();
        assert_eq!(
            r.faces.len(),
            want,
            "{name}: {:?}",
            r.faces
                .iter()
                .map(|f| (f.bbox, f.score))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            r.gate.first().map(|g| g.code.as_str()),
            Some("MULTIPLE_FACES"),
            "{name}"
        );
        for f in &r.faces {
            // Boxes are in the original's pixels, inside the frame, eyes inside the box.
            assert!(f.bbox.x > -f.bbox.w * 0.2 && f.bbox.right() < r.width as f32 + f.bbox.w * 0.2);
            for [x, y] in &f.landmarks[..2] {
                assert!(
                    *x > f.bbox.x && *x < f.bbox.right() && *y > f.bbox.y && *y < f.bbox.bottom(),
                    "{name}"
                );
            }
        }
    }
}

#[test]
fn reduced_scale_decode_finds_the_same_faces() {
    let bytes = photo("sample4.jpg");
    let full = decode_full(&bytes);
    let half = image::decode(
        &bytes,
        &Limits::default(),
        DecodeTarget {
            min_long_side: Some(900),
        },
    )
    .unwrap();
    assert_eq!(half.scale, 0.5);
    assert_eq!((half.width, half.height), (full.width, full.height));
    assert_eq!(half.image.width(), full.image.width() / 2);
    let opts = DetectOptions {
        model: ModelKind::Full,
        ..Default::default()
    };
    let a = detect::shared().detect(&full.image, &opts).unwrap();
    let b = detect::shared().detect(&half.image, &opts).unwrap();
    assert_eq!(a.len(), b.len());
    for fa in &a {
        let best = b
            .iter()
            .map(|fb| fa.bbox.iou(&fb.scaled(2.0).bbox))
            .fold(0.0, f32::max);
        assert!(best > 0.8, "IoU {best}");
    }
}

/// A camera frame's report, as `detectPixels` makes it.
fn detect_frame(
    img: image::ImageView,
    opts: &DetectOptions,
) -> facebridge::prepare::DetectionReport {
    facebridge::prepare::detect_image(detect::shared(), img, 1.0, None, Role::Selfie, opts).unwrap()
}

#[test]
fn rgba_frames_read_in_place_give_the_rgb_result() {
    // A camera frame's RGBA is read in place (no RGB copy): the same faces,
    // to the bit, and the same quality report.
    for name in ["sample1.jpg", "sample4.jpg"] {
        let rgb = decode_full(&photo(name)).image;
        let mut rgba = Vec::with_capacity(rgb.as_raw().len() / 3 * 4);
        for (i, p) in rgb.as_raw().chunks_exact(3).enumerate() {
            rgba.extend_from_slice(p);
            rgba.push((i % 251) as u8);
        }
        let view = image::ImageView::rgba(&rgba, rgb.width(), rgb.height()).unwrap();
        for model in [ModelKind::Short, ModelKind::Full] {
            let opts = DetectOptions {
                model,
                ..Default::default()
            };
            let (a, b) = (
                detect_frame((&rgb).into(), &opts),
                detect_frame(view, &opts),
            );
            assert!(!a.faces.is_empty(), "{name} {model:?}");
            assert_eq!(a, b, "{name} {model:?}");
        }
    }
}

#[test]
fn yuv_frames_read_in_place_give_their_rgb_result() {
    // A webcam's I420 (or a phone's NV12) frame is read in its own layout:
    // the faces and the gate's figures are those of the frame's RGB as the
    // browser would convert it, to the rounding of one resize.
    use image::{YuvColor, YuvMatrix};
    for name in ["sample1.jpg", "sample4.jpg"] {
        let rgb = decode_full(&photo(name)).image;
        let (w, h) = rgb.dimensions();
        for color in [
            YuvColor {
                matrix: YuvMatrix::Bt601,
                full_range: false,
            },
            YuvColor {
                matrix: YuvMatrix::Bt709,
                full_range: true,
            },
        ] {
            let (data, planes) = image::i420_from_rgb(&rgb, color);
            let view = image::ImageView::i420(&data, w, h, planes, color).unwrap();
            let converted = view.to_rgb();
            let opts = DetectOptions::default();
            let (a, b) = (
                detect_frame((&converted).into(), &opts),
                detect_frame(view, &opts),
            );
            assert!(!a.faces.is_empty(), "{name}");
            assert_eq!(a.faces.len(), b.faces.len(), "{name} {color:?}");
            for (fa, fb) in a.faces.iter().zip(&b.faces) {
                assert!(
                    fa.bbox.iou(&fb.bbox) > 0.98,
                    "{name} {color:?}: {fa:?} {fb:?}"
                );
                assert!((fa.score - fb.score).abs() < 0.01, "{name} {color:?}");
            }
            let (qa, qb) = (a.quality.primary.unwrap(), b.quality.primary.unwrap());
            assert!(
                (qa.mean_luma - qb.mean_luma).abs() < 0.5,
                "{name} {color:?}"
            );
            assert!(
                (qa.sharpness / qb.sharpness - 1.0).abs() < 0.05,
                "{name} {color:?}"
            );
            assert_eq!(a.gate, b.gate, "{name} {color:?}");
            // And the conversion is the photo's, within chroma subsampling.
            assert!(mean_abs_diff(&converted, &rgb) < 3.0, "{name} {color:?}");
        }
    }
}

#[test]
fn every_exif_orientation_comes_out_upright() {
    let upright = selfie();
    let opts = DetectOptions::default();
    let reference = detect::shared().detect(&upright, &opts).unwrap();
    assert_eq!(reference.len(), 1);
    for o in 1..=8u8 {
        let stored = store_for_orientation(&upright, o);
        for big_endian in [true, false] {
            let bytes = with_exif(
                &jpeg(&stored, 95),
                &exif_with_orientation(o as u16, big_endian),
            );
            let d = decode_full(&bytes);
            assert_eq!(d.orientation, o);
            assert_eq!(
                d.image.dimensions(),
                upright.dimensions(),
                "orientation {o}"
            );
            let diff = mean_abs_diff(&d.image, &upright);
            assert!(diff < 4.0, "orientation {o}: mean abs diff {diff}");
            let faces = detect::shared().detect(&d.image, &opts).unwrap();
            assert_eq!(faces.len(), 1, "orientation {o}");
            assert!(
                faces[0].bbox.iou(&reference[0].bbox) > 0.85,
                "orientation {o}"
            );
        }
    }
}

#[test]
fn byte_budgets_are_always_met() {
    // A 12 MP phone-like photo: sample1 upscaled with sensor-like noise.
    let d = decode_full(&photo("sample1.jpg"));
    let mut big = image::resize_rgb(&d.image, 4032, 3024).unwrap();
    add_noise(&mut big, 12, 42);
    for max_bytes in [50_000, 200_000, 1_000_000, 2_000_000, 5_000_000] {
        for base64 in [false, true] {
            let b = Budget {
                max_bytes,
                base64,
                ..Budget::default()
            };
            let e = image::encode_to_budget(&big, &b).unwrap();
            let counted = if base64 {
                image::base64_len(e.bytes.len())
            } else {
                e.bytes.len()
            };
            assert!(
                counted <= max_bytes,
                "{max_bytes} base64={base64}: {counted}"
            );
            // Not wastefully small either: within the budget's top half, or at full quality.
            assert!(
                counted * 2 > max_bytes || e.quality == b.max_quality,
                "{max_bytes}: only {counted}"
            );
            assert!(e.encodes <= 20, "{} encodes", e.encodes);
        }
    }
}

#[test]
fn the_band_search_finds_the_best_quality_on_real_photos() {
    // Budgets between quality 60 and 92 of 1920-px photos: searched on
    // bands, then at most two encodes of the whole photo.
    for name in ["sample1.jpg", "sample4.jpg", "sample6.jpg"] {
        let img = decode_full(&photo(name)).image;
        let top = image::encode_jpeg(&img, 92).unwrap().len();
        let floor = image::encode_jpeg(&img, 60).unwrap().len();
        for k in [0.2, 0.5, 0.8] {
            let b = Budget {
                max_bytes: floor + ((top - floor) as f64 * k) as usize,
                ..Budget::default()
            };
            let e = image::encode_to_budget(&img, &b).unwrap();
            assert!(e.bytes.len() <= b.max_bytes);
            assert_eq!(e.width, img.width(), "{name}: no downscale");
            let next = image::encode_jpeg(&img, e.quality + 1).unwrap().len();
            assert!(
                next > b.max_bytes || e.bytes.len() as f64 >= 0.97 * b.max_bytes as f64,
                "{name} {k}: q{} ({} B), but q+1 ({next} B) fits {}",
                e.quality,
                e.bytes.len(),
                b.max_bytes
            );
            assert!(e.encodes <= 2, "{name} {k}: {} encodes", e.encodes);
        }
    }
}

#[test]
fn prepare_selfie_fits_valify_and_strips_metadata() {
    let s = selfie();
    let with_gps_exif = with_exif(&jpeg(&s, 95), &exif_with_orientation(1, true));
    for (max_bytes, base64) in [(2_000_000, true), (60_000, false), (60_000, true)] {
        let opts = PrepareOptions {
            role: Role::Selfie,
            max_bytes,
            base64,
            ..Default::default()
        };
        let p = prepare(&with_gps_exif, &opts).unwrap();
        let counted = if base64 {
            p.report.base64_bytes
        } else {
            p.report.bytes
        };
        assert!(counted <= max_bytes);
        assert_eq!(p.bytes.len(), p.report.bytes);
        assert!(
            !p.bytes.windows(2).any(|w| w == [0xFF, 0xE1]),
            "an APP1 (EXIF/XMP) segment survived"
        );
        assert!(!p.bytes.windows(4).any(|w| w == b"Exif"));
        let out = decode_full(&p.bytes);
        assert_eq!((out.width, out.height), (p.report.width, p.report.height));
        let face = p.report.face.as_ref().unwrap();
        assert!(face.bbox.w > 112.0, "face {}px", face.bbox.w);
        assert!(p.report.gate.is_empty());
        // The face is still found in the output, where the report says it is.
        let again = detect::shared()
            .detect(&out.image, &DetectOptions::default())
            .unwrap();
        assert_eq!(again.len(), 1);
        assert!(again[0].bbox.iou(&face.bbox) > 0.7);
    }
}

#[test]
fn aigen_minimum_side_is_reached() {
    let opts = PrepareOptions {
        role: Role::Selfie,
        min_side: 481,
        max_side: 1024,
        ..Default::default()
    };
    let p = prepare(&jpeg(&selfie(), 92), &opts).unwrap();
    assert!(
        p.report.width.min(p.report.height) >= 481,
        "{}x{}",
        p.report.width,
        p.report.height
    );
}

#[test]
fn document_keeps_the_whole_photo() {
    let opts = PrepareOptions {
        role: Role::Document,
        max_side: 1600,
        enforce_gate: false,
        ..Default::default()
    };
    let p = prepare(&photo("sample6.jpg"), &opts).unwrap();
    assert_eq!(p.report.crop.w, 1920.0);
    assert_eq!(p.report.width, 1600);
}

#[test]
fn a_limit_within_a_32nd_of_a_reduced_decode_takes_it() {
    // sample6 is 1920 px wide: at 1/2 scale, 960.
    let bytes = photo("sample6.jpg");
    let doc = |max_side, min_side, min_face_px_out| PrepareOptions {
        role: Role::Document,
        max_side,
        min_side,
        min_face_px_out,
        enforce_gate: false,
        ..Default::default()
    };
    let run = |o: &PrepareOptions| {
        let r = prepare(&bytes, o).unwrap().report;
        (r.source.decode_scale, r.width, r.height, r.quality.primary)
    };
    // 960 is 8 px (under 1/32) short of 968: decoded at 1/2, out at 960.
    let (scale, w, _, face) = run(&doc(968, 0, 0.0));
    assert_eq!((scale, w), (0.5, 960));
    // 1000 would be 40 px short (over 1/32): decoded in full, out at 1000.
    assert_eq!(run(&doc(1000, 0, 0.0)).0, 1.0);
    assert_eq!(run(&doc(1000, 0, 0.0)).1, 1000);
    // The short side is never bent: the half decode's 768 is under 770.
    let (scale, w, h, _) = run(&doc(968, 770, 0.0));
    assert_eq!((scale, w), (1.0, 968));
    assert!(h >= 770, "{h}");
    // Nor is the service's face size: the face at 1/2 is 1 px under it.
    let half_face = face.expect("sample6 has a face").size_px * 0.5;
    assert_eq!(run(&doc(968, 0, half_face + 1.0)).0, 1.0);
    assert_eq!(run(&doc(968, 0, half_face - 1.0)).0, 0.5);
}

fn gate_codes(bytes: &[u8], role: Role) -> Vec<String> {
    match prepare(
        bytes,
        &PrepareOptions {
            role,
            ..Default::default()
        },
    ) {
        Ok(_) => vec![],
        Err(facebridge::Error::Quality(q)) => {
            q.failures.iter().map(|f| f.code.to_string()).collect()
        }
        Err(e) => panic!("not a gate failure: {e}"),
    }
}

#[test]
fn gate_refuses_bad_photos_with_their_codes() {
    let s = selfie();
    assert_eq!(
        gate_codes(&jpeg(&s, 92), Role::Selfie),
        Vec::<String>::new()
    );

    let blurred = ::image::imageops::blur(&s, 6.0);
    assert!(gate_codes(&jpeg(&blurred, 92), Role::Selfie).contains(&"BLURRY".to_string()));

    let mut dark = s.clone();
    dark.iter_mut().for_each(|v| *v /= 5);
    let codes = gate_codes(&jpeg(&dark, 92), Role::Selfie);
    assert!(
        codes.contains(&"TOO_DARK".to_string()) || codes == ["NO_FACE"],
        "{codes:?}"
    );

    let mut bright = s.clone();
    bright
        .iter_mut()
        .for_each(|v| *v = (*v as u16 * 2 + 90).min(255) as u8);
    let codes = gate_codes(&jpeg(&bright, 92), Role::Selfie);
    assert!(
        codes.contains(&"TOO_BRIGHT".to_string()) || codes == ["NO_FACE"],
        "{codes:?}"
    );

    let wall = RgbImage::from_fn(640, 480, |x, y| {
        ::image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    assert_eq!(gate_codes(&jpeg(&wall, 90), Role::Selfie), ["NO_FACE"]);

    assert_eq!(
        gate_codes(&photo("sample6.jpg"), Role::Selfie)[0],
        "MULTIPLE_FACES"
    );

    // The selfie shrunk to a thumbnail: the face is under 112 px.
    let small = image::resize_rgb(&s, s.width() / 4, s.height() / 4).unwrap();
    assert!(gate_codes(&jpeg(&small, 92), Role::Selfie).contains(&"FACE_TOO_SMALL".to_string()));

    // The face pushed against the left edge.
    let (w, h) = s.dimensions();
    let cut = image::crop(&s, w / 3, 0, w - w / 3, h);
    let codes = gate_codes(&jpeg(&cut, 92), Role::Selfie);
    assert!(
        codes.contains(&"FACE_AT_EDGE".to_string()) || codes == ["NO_FACE"],
        "{codes:?}"
    );
}

#[test]
fn gate_sees_a_tilted_head() {
    let s = selfie();
    let tilted = rotate_about_centre(&s, 32.0);
    let codes = gate_codes(&jpeg(&tilted, 92), Role::Selfie);
    assert!(codes.contains(&"TILTED".to_string()), "{codes:?}");
}

fn rotate_about_centre(img: &RgbImage, degrees: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let (s, c) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    RgbImage::from_fn(w, h, |x, y| {
        let (dx, dy) = (x as f32 - cx, y as f32 - cy);
        let sx = c * dx + s * dy + cx;
        let sy = -s * dx + c * dy + cy;
        if sx >= 0.0 && sy >= 0.0 && (sx as u32) < w && (sy as u32) < h {
            *img.get_pixel(sx as u32, sy as u32)
        } else {
            ::image::Rgb([128, 128, 128])
        }
    })
}

// ── Hostile input: a typed error, never a panic ─────────────────────────────

/// A PNG whose IHDR claims `w`×`h`, with a valid CRC.
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut p = png_bytes(&::image::DynamicImage::new_rgb8(8, 8));
    p[16..20].copy_from_slice(&w.to_be_bytes());
    p[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&p[12..29]);
    p[29..33].copy_from_slice(&crc.to_be_bytes());
    p
}

/// A JPEG whose frame header claims `w`×`h`.
fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut j = jpeg(&RgbImage::new(16, 16), 80);
    let sof = j.windows(2).position(|m| m == [0xFF, 0xC0]).unwrap();
    j[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    j[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    j
}

fn code_of(bytes: &[u8], limits: &Limits) -> &'static str {
    match image::decode(bytes, limits, DecodeTarget::default()) {
        Ok(_) => "OK",
        Err(e) => e.code(),
    }
}

#[test]
fn hostile_inputs_get_typed_errors() {
    let real = photo("sample2.jpg");
    let png = png_bytes(&::image::DynamicImage::ImageRgb8(selfie()));
    let d = Limits::default();
    let mut random = vec![0u8; 4096];
    let mut s = 7u32;
    random.iter_mut().for_each(|b| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        *b = s as u8;
    });
    let mut jpeg_then_noise = vec![0xFF, 0xD8, 0xFF, 0xE0];
    jpeg_then_noise.extend_from_slice(&random);

    let rows: Vec<(&str, Vec<u8>, Limits, &[&str])> = vec![
        ("empty", vec![], d, &["IMAGE_EMPTY"]),
        (
            "truncated JPEG",
            real[..real.len() / 3].to_vec(),
            d,
            &["IMAGE_UNREADABLE"],
        ),
        (
            "JPEG header only",
            real[..600].to_vec(),
            d,
            &["IMAGE_UNREADABLE"],
        ),
        (
            "truncated PNG",
            png[..png.len() / 2].to_vec(),
            d,
            &["IMAGE_UNREADABLE"],
        ),
        (
            "PNG signature only",
            png[..8].to_vec(),
            d,
            &["IMAGE_UNREADABLE"],
        ),
        (
            "PNG claiming 65535×65535",
            png_claiming(65535, 65535),
            d,
            &["IMAGE_TOO_LARGE"],
        ),
        (
            "JPEG claiming 65535×65535",
            jpeg_claiming(65535, 65535),
            d,
            &["IMAGE_TOO_LARGE"],
        ),
        // Height 0 means "see the DNL marker", a JPEG feature the decoder does not support.
        (
            "JPEG claiming 0×0",
            jpeg_claiming(0, 0),
            d,
            &["IMAGE_UNREADABLE", "UNSUPPORTED_FORMAT"],
        ),
        ("random bytes", random.clone(), d, &["UNSUPPORTED_FORMAT"]),
        (
            "JPEG magic then noise",
            jpeg_then_noise,
            d,
            &["IMAGE_UNREADABLE", "UNSUPPORTED_FORMAT"],
        ),
        (
            "text file",
            b"name,dob\nAlice,1990-01-01\n".to_vec(),
            d,
            &["UNSUPPORTED_FORMAT"],
        ),
        (
            "GIF",
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            d,
            &["UNSUPPORTED_FORMAT"],
        ),
        // 40 MB of pixels from a few KB of file, under a 16 MiB allocation limit.
        (
            "PNG decompression bomb",
            png_bytes(&::image::DynamicImage::new_rgba8(3200, 3200)),
            Limits {
                max_alloc: 16 << 20,
                ..d
            },
            &["IMAGE_TOO_LARGE"],
        ),
    ];
    for (name, bytes, limits, want) in rows {
        let got = code_of(&bytes, &limits);
        assert!(
            want.contains(&got),
            "{name}: got {got}, want one of {want:?}"
        );
        // The whole pipeline too, not just the decoder.
        if let Err(e) = prepare(
            &bytes,
            &PrepareOptions {
                limits,
                ..Default::default()
            },
        ) {
            assert!(facebridge::error::CODES.contains(&e.code()), "{name}");
        }
    }
}

#[test]
fn every_truncation_of_a_jpeg_and_a_png_is_a_typed_error() {
    // Every prefix of a small JPEG and PNG, byte by byte: each is refused
    // with the code for a damaged file (an empty one for the empty prefix,
    // an unknown format while the signature is incomplete), never a panic
    // and never an image made up from what is missing. Only the end marker
    // may be cut (JPEG's 2-byte EOI, PNG's 12-byte IEND chunk): every pixel
    // is there, and the image must be exactly the whole file's.
    let small = image::resize_rgb(&selfie(), 40, 50).unwrap();
    let j = jpeg(&small, 85);
    let p = png_bytes(&::image::DynamicImage::ImageRgb8(small));
    for (name, bytes, signature, trailer) in [("JPEG", &j, 3, 2), ("PNG", &p, 4, 12)] {
        let whole = image::decode(bytes, &Limits::default(), DecodeTarget::default()).unwrap();
        assert_eq!(whole.image.dimensions(), (40, 50), "{name}");
        for cut in 0..bytes.len() {
            match image::decode(&bytes[..cut], &Limits::default(), DecodeTarget::default()) {
                Ok(d) => {
                    assert!(
                        cut >= bytes.len() - trailer,
                        "{name} cut at {cut} of {} bytes decoded",
                        bytes.len()
                    );
                    assert!(d.image == whole.image, "{name} cut at {cut}: other pixels");
                }
                Err(e) => {
                    let want = match cut {
                        0 => "IMAGE_EMPTY",
                        _ if cut < signature => "UNSUPPORTED_FORMAT",
                        _ => "IMAGE_UNREADABLE",
                    };
                    assert_eq!(e.code(), want, "{name} cut at {cut}: {e}");
                }
            }
        }
    }
}

#[test]
fn colour_variants_come_out_as_rgb() {
    use ::image::{DynamicImage, ImageBuffer, Luma, LumaA, Rgb, Rgba};
    let check = |name: &str, bytes: Vec<u8>, want: [u8; 3], tol: i32| {
        let d = image::decode(&bytes, &Limits::default(), DecodeTarget::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let p = d
            .image
            .get_pixel(d.image.width() / 2, d.image.height() / 2)
            .0;
        for c in 0..3 {
            assert!(
                (p[c] as i32 - want[c] as i32).abs() <= tol,
                "{name}: got {p:?}, want {want:?}"
            );
        }
    };
    check(
        "grey PNG",
        png_bytes(&DynamicImage::ImageLuma8(ImageBuffer::from_pixel(
            16,
            16,
            Luma([77]),
        ))),
        [77, 77, 77],
        0,
    );
    check(
        "16-bit grey PNG",
        png_bytes(&DynamicImage::ImageLuma16(ImageBuffer::from_pixel(
            16,
            16,
            Luma([0x8080]),
        ))),
        [128, 128, 128],
        1,
    );
    check(
        "16-bit RGB PNG",
        png_bytes(&DynamicImage::ImageRgb16(ImageBuffer::from_pixel(
            16,
            16,
            Rgb([65535, 0, 32896]),
        ))),
        [255, 0, 128],
        1,
    );
    // Transparency is flattened on white.
    check(
        "RGBA PNG, half transparent",
        png_bytes(&DynamicImage::ImageRgba8(ImageBuffer::from_pixel(
            16,
            16,
            Rgba([0, 0, 0, 128]),
        ))),
        [127, 127, 127],
        1,
    );
    check(
        "grey+alpha PNG, transparent",
        png_bytes(&DynamicImage::ImageLumaA8(ImageBuffer::from_pixel(
            16,
            16,
            LumaA([0, 0]),
        ))),
        [255, 255, 255],
        0,
    );
    // A greyscale JPEG and a CMYK (Adobe) JPEG.
    let mut grey = Vec::new();
    jpeg_encoder::Encoder::new(&mut grey, 95)
        .encode(&[90u8; 64 * 64], 64, 64, jpeg_encoder::ColorType::Luma)
        .unwrap();
    check("grey JPEG", grey, [90, 90, 90], 2);
    // CMYK 0/255/255/0 is pure red ink: R stays, G and B go.
    let cmyk: Vec<u8> = (0..64 * 64).flat_map(|_| [0u8, 255, 255, 0]).collect();
    let mut j = Vec::new();
    jpeg_encoder::Encoder::new(&mut j, 95)
        .encode(&cmyk, 64, 64, jpeg_encoder::ColorType::Cmyk)
        .unwrap();
    check("CMYK JPEG", j, [255, 0, 0], 8);
}

/// The wasm embeds `.fbnet` networks (f16 weights) compiled from the ONNX
/// files: they must find the same faces, with nearly the same boxes and scores.
#[test]
fn fbnet_networks_detect_like_the_onnx_files() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let onnx = |n: &str| std::fs::read(root.join(n)).unwrap();
    let short = detect::onnx_to_fbnet(ModelKind::Short, &onnx("blazeface_front_128.onnx")).unwrap();
    let full = detect::onnx_to_fbnet(ModelKind::Full, &onnx("blazeface_back_256.onnx")).unwrap();
    // The same model compiles to the same bytes, so the wasm build is not
    // redone when nothing changed.
    assert_eq!(
        detect::onnx_to_fbnet(ModelKind::Short, &onnx("blazeface_front_128.onnx")).unwrap(),
        short
    );
    // Every truncation of a network is a typed error, never a panic.
    for cut in (0..short.len()).step_by(97) {
        let d = detect::Detector::from_model_bytes(Some(short[..cut].to_vec()), None);
        assert!(d.warm_up(ModelKind::Short).is_err(), "cut at {cut}");
    }
    // The short-range network is not a full-range one.
    let swapped = detect::Detector::from_model_bytes(Some(full.clone()), None);
    assert!(swapped.warm_up(ModelKind::Short).is_err());
    let fbnet = detect::Detector::from_model_bytes(Some(short), Some(full));
    let img = decode_full(&photo("sample1.jpg")).image;
    for model in [ModelKind::Short, ModelKind::Full] {
        let opts = DetectOptions {
            model,
            ..Default::default()
        };
        let want = detect::shared().detect(&img, &opts).unwrap();
        let got = fbnet.detect(&img, &opts).unwrap();
        assert_eq!(got.len(), want.len(), "{model:?}");
        for (g, w) in got.iter().zip(&want) {
            // f16 weights move the boxes by a small fraction of a pixel.
            let (iou, ds) = (g.bbox.iou(&w.bbox), (g.score - w.score).abs());
            eprintln!("{model:?}: IoU {iou:.5}, score Δ {ds:.6}");
            assert!(iou > 0.999, "{model:?}: {:?} vs {:?}", g.bbox, w.bbox);
            assert!(ds < 1e-3, "{model:?}: score {} vs {}", g.score, w.score);
        }
    }
    // Bytes that are neither: a typed error, not a panic.
    let junk = detect::Detector::from_model_bytes(Some(vec![0u8; 600]), None);
    assert!(junk.warm_up(ModelKind::Short).is_err());
}
