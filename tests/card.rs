//! Document capture on camera frames (`facebridge::card`): a made-up ID card
//! with the test selfie's face as its portrait, held at an angle on a table
//! (tests/common: `id_card`, `card_scene`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use facebridge::card::{CardGate, check_card, crop_card, find_card};
use facebridge::detect;
use facebridge::image::{self, RgbImage};

fn codes(r: &facebridge::card::CardReport) -> Vec<&'static str> {
    r.gate.iter().map(|g| g.code.as_str()).collect()
}

fn max_corner_error(a: &[[f32; 2]; 4], b: &[[f32; 2]; 4]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(p, q)| (p[0] - q[0]).hypot(p[1] - q[1]))
        .fold(0.0, f32::max)
}

#[test]
fn a_card_held_at_an_angle_passes_and_its_portrait_is_found() {
    let card = id_card();
    let frame = card_scene(640, 480, CARD_CORNERS, &card, false);
    let r = check_card(detect::shared(), &frame, &CardGate::default()).unwrap();
    println!(
        "card: {:?} sharpness {} glare {} gate {:?}",
        r.card,
        r.sharpness,
        r.glare,
        codes(&r)
    );
    assert_eq!(codes(&r), Vec::<&str>::new());
    let q = r.card.unwrap();
    assert!(
        max_corner_error(&q.corners, &CARD_CORNERS) < 4.0,
        "{:?}",
        q.corners
    );
    assert_eq!(r.faces.len(), 1, "{:?}", r.faces);
}

#[test]
fn glare_over_the_portrait_is_refused() {
    let card = id_card();
    let frame = card_scene(640, 480, CARD_CORNERS, &card, true);
    let r = check_card(detect::shared(), &frame, &CardGate::default()).unwrap();
    println!("glare: {} gate {:?}", r.glare, codes(&r));
    assert!(codes(&r).contains(&"GLARE"), "{:?}", codes(&r));
}

#[test]
fn a_blurred_card_is_refused_as_blurry() {
    let card = id_card();
    let frame = card_scene(640, 480, CARD_CORNERS, &card, false);
    for k in [2, 3] {
        let soft = image::resize_rgb(
            &image::resize_rgb(&frame, 640 / k, 480 / k).unwrap(),
            640,
            480,
        )
        .unwrap();
        let r = check_card(detect::shared(), &soft, &CardGate::default()).unwrap();
        println!(
            "sharpness at 1/{k} resolution: {} {:?}",
            r.sharpness,
            codes(&r)
        );
    }
    // Out of focus: a quarter the resolution, scaled back up.
    let soft = image::resize_rgb(&image::resize_rgb(&frame, 160, 120).unwrap(), 640, 480).unwrap();
    let sharp = check_card(detect::shared(), &frame, &CardGate::default()).unwrap();
    let r = check_card(detect::shared(), &soft, &CardGate::default()).unwrap();
    println!(
        "sharpness: {} sharp, {} blurred; gate {:?}",
        sharp.sharpness,
        r.sharpness,
        codes(&r)
    );
    assert!(
        codes(&r).contains(&"BLURRY") || codes(&r).contains(&"CARD_NOT_FOUND"),
        "{:?}",
        codes(&r)
    );
}

#[test]
fn a_card_cut_by_the_frame_or_far_away_or_absent_is_not_taken() {
    let card = id_card();
    let cut = card_scene(
        640,
        480,
        [[-60.0, 80.0], [380.0, 90.0], [396.0, 360.0], [-70.0, 350.0]],
        &card,
        false,
    );
    let r = check_card(detect::shared(), &cut, &CardGate::default()).unwrap();
    println!("cut: {:?}", codes(&r));
    assert!(!r.gate.is_empty());
    let far = card_scene(
        640,
        480,
        [
            [250.0, 190.0],
            [390.0, 192.0],
            [392.0, 280.0],
            [248.0, 279.0],
        ],
        &card,
        false,
    );
    let r = check_card(detect::shared(), &far, &CardGate::default()).unwrap();
    println!("far: {:?}", codes(&r));
    assert!(
        codes(&r).first() == Some(&"CARD_TOO_SMALL"),
        "{:?}",
        codes(&r)
    );
    let r = check_card(detect::shared(), &selfie(), &CardGate::default()).unwrap();
    assert!(
        codes(&r).contains(&"CARD_NOT_FOUND"),
        "a selfie: {:?}",
        codes(&r)
    );
}

#[test]
fn the_crop_is_the_card_upright_at_camera_resolution() {
    let card = id_card();
    let k = 3.0;
    let corners = CARD_CORNERS.map(|[x, y]| [x * k, y * k]);
    let frame = card_scene(1920, 1440, corners, &card, false);
    let q = find_card(&frame).unwrap();
    assert!(
        max_corner_error(&q.corners, &corners) < 12.0,
        "{:?}",
        q.corners
    );
    let jpeg = crop_card(&frame).unwrap();
    let flat = decode_full(&jpeg).image;
    let (w, h) = flat.dimensions();
    assert!((w as f32 / h as f32 - 1.586).abs() < 0.01, "{w}×{h}");
    assert!(w >= 1200, "kept at camera resolution: {w}");
    // Against the card as printed, at the same size (the table in its
    // rounded corners aside): close.
    let printed = RgbImage::from_fn(856, 540, |x, y| {
        card[(y * 856 + x) as usize].unwrap_or(::image::Rgb([96, 70, 48]))
    });
    let printed = image::resize_rgb(&printed, w, h).unwrap();
    let diff = mean_abs_diff(&printed, &flat);
    println!("crop {w}×{h}, mean abs diff {diff:.1} against the printed card");
    assert!(diff < 12.0, "{diff}");
    // The crop passes the document gate of prepare.
    let opts = facebridge::prepare::PrepareOptions {
        role: facebridge::quality::Role::Document,
        ..Default::default()
    };
    facebridge::prepare::prepare(&jpeg, &opts).unwrap();
    // No card: a typed error, not a panic.
    let err = crop_card(&selfie()).unwrap_err();
    assert_eq!(err.code(), "CARD_NOT_FOUND");
}
