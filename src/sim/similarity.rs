//! The simulators' score: NOT a biometric matcher.
//!
//! Each face is found with this crate's detector, warped so that the eyes land
//! on fixed points of a 64×64 grey patch (rotation, scale and translation from
//! the two eye landmarks), normalised to zero mean and unit variance, and two
//! patches are compared by normalised cross-correlation. The score is that
//! correlation clamped to 0..1. It is high for two photos of the same face
//! and lower for different faces, which is all the simulators need: answers
//! that depend on the images, so tests can tell a good pair from a bad one.

use crate::detect::{DetectOptions, Detector, Face, ModelKind, TileMode};
use crate::image::{self, DecodeTarget, Limits, RgbImage, luma};

const SIDE: usize = 64;
/// Where the eyes go in the patch (x of the subject's right eye, of the left, y of both).
const EYES: (f32, f32, f32) = (0.32, 0.68, 0.38);

/// A decoded image and the faces found in it.
pub struct Analysed {
    pub image: RgbImage,
    /// Faces in `image`'s pixels.
    pub faces: Vec<Face>,
    /// Original (upright) size, and `image`'s scale of it.
    pub width: u32,
    pub height: u32,
    pub scale: f32,
}

impl Analysed {
    /// The largest face's box side in original pixels.
    pub fn face_px(&self) -> Option<f32> {
        self.faces
            .first()
            .map(|f| f.bbox.w.max(f.bbox.h) / self.scale)
    }
}

/// Decodes and detects (full-range model, which finds both card and selfie faces).
pub fn analyse(detector: &Detector, bytes: &[u8]) -> Result<Analysed, crate::Error> {
    let d = image::decode(
        bytes,
        &Limits::default(),
        DecodeTarget {
            min_long_side: Some(1024),
        },
    )?;
    let opts = DetectOptions {
        model: ModelKind::Full,
        tiles: TileMode::Off,
        min_score: Some(0.6),
        ..Default::default()
    };
    // Faces stay in the pixels of the decoded (possibly reduced) image.
    let mut faces = detector.detect(&d.image, &opts)?;
    faces.sort_by(|a, b| b.bbox.area().total_cmp(&a.bbox.area()));
    Ok(Analysed {
        faces,
        width: d.width,
        height: d.height,
        scale: d.scale,
        image: d.image,
    })
}

/// The eye-aligned, normalised grey patch of one face.
pub fn patch(img: &RgbImage, face: &Face) -> Vec<f32> {
    let [rx, ry] = face.landmarks[0];
    let [lx, ly] = face.landmarks[1];
    // Map patch coordinates to image coordinates: a similarity transform that
    // sends the patch's eye points onto the detected eyes.
    let (px0, px1, py) = (
        EYES.0 * SIDE as f32,
        EYES.1 * SIDE as f32,
        EYES.2 * SIDE as f32,
    );
    let (dx, dy) = (lx - rx, ly - ry);
    let scale = (dx * dx + dy * dy).sqrt().max(1.0) / (px1 - px0);
    let (c, s) = (dy.atan2(dx).cos() * scale, dy.atan2(dx).sin() * scale);
    let (w, h) = (img.width() as f32, img.height() as f32);
    let mut out = Vec::with_capacity(SIDE * SIDE);
    for v in 0..SIDE {
        for u in 0..SIDE {
            let (du, dv) = (u as f32 - px0, v as f32 - py);
            let x = rx + c * du - s * dv;
            let y = ry + s * du + c * dv;
            let xi = x.clamp(0.0, w - 1.0) as u32;
            let yi = y.clamp(0.0, h - 1.0) as u32;
            out.push(luma(&img.get_pixel(xi, yi).0));
        }
    }
    let n = out.len() as f32;
    let mean = out.iter().sum::<f32>() / n;
    let sd = (out.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / n)
        .sqrt()
        .max(1e-3);
    out.iter_mut().for_each(|x| *x = (*x - mean) / sd);
    out
}

/// Normalised cross-correlation of two patches, clamped to 0..1.
pub fn similarity(a: &[f32], b: &[f32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let ncc: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>() / a.len() as f32;
    (ncc as f64).clamp(0.0, 1.0)
}

/// The score of the largest face of `a` against the largest face of `b`.
pub fn score(a: &Analysed, b: &Analysed) -> Option<f64> {
    let fa = a.faces.first()?;
    let fb = b.faces.first()?;
    Some(similarity(&patch(&a.image, fa), &patch(&b.image, fb)))
}
