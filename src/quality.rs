//! The quality report and the gate that runs before any billed call.
//!
//! The report measures; the gate judges. Every measure is taken on the face,
//! not the whole frame: a bright window behind a dark face is a dark face.

use serde::{Deserialize, Serialize};

use crate::detect::Face;
use crate::error::{GateCode, GateFailure};
use crate::image::{ImageView, Rect, RgbImage, luma, resize_plane};

/// What a photo is for; it picks the gate's defaults and how `prepare` crops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A live photo of the person: cropped around the face.
    #[default]
    Selfie,
    /// A photo of an ID card: kept whole, the face is small.
    Document,
}

/// Distance from the face box to each edge of the photo, in pixels (negative
/// when the box sticks out).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Edges {
    pub left: f32,
    pub top: f32,
    pub right: f32,
    pub bottom: f32,
}

impl Edges {
    pub fn min(&self) -> f32 {
        self.left.min(self.top).min(self.right).min(self.bottom)
    }
}

/// Measures of the main (largest) face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaceQuality {
    #[serde(rename = "box")]
    pub bbox: Rect,
    /// The box's longer side, in pixels of the original photo.
    pub size_px: f32,
    pub edges: Edges,
    /// Variance of the Laplacian of the face, resampled to 128 px wide so the
    /// number does not depend on the photo's resolution.
    pub sharpness: f32,
    /// Mean luma over the face, 0..255.
    pub mean_luma: f32,
    /// Share of face pixels at or below luma 10.
    pub dark_fraction: f32,
    /// Share of face pixels at or above luma 245.
    pub bright_fraction: f32,
    /// Roll from the eye line, degrees; 0 is upright.
    pub roll_degrees: f32,
    /// Yaw from the nose between the ears, degrees; 0 faces the camera
    /// ([`crate::detect::Face::yaw_degrees`]).
    pub yaw_degrees: f32,
}

/// Everything the gate looks at, in pixels of the upright original photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QualityReport {
    pub width: u32,
    pub height: u32,
    /// Every face found, largest first.
    pub faces: Vec<Face>,
    /// The largest face's measures; `None` when there is no face.
    pub primary: Option<FaceQuality>,
}

/// Thresholds of the gate. Start from [`GateConfig::for_role`]; every field
/// can be overridden from JS (`gate: {minFacePx: 160}`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GateConfig {
    /// Smallest face (box long side) in original pixels. Selfie 112: AIGEN's
    /// documented minimum, and below it matchers' accuracy falls off quickly.
    /// Document 48: the portrait on an ID card photographed at arm's length.
    pub min_face_px: f32,
    /// Smallest face relative to the photo's short side. Selfie 0.15: a selfie
    /// at arm's length gives 0.3–0.6, so less means the phone is too far away.
    /// Document 0.04: the card portrait is about a quarter of the card's height.
    pub min_face_fraction: f32,
    /// Largest face relative to the photo's short side. Selfie 0.8: nearer,
    /// the crop has no room around the face and the phone distorts it (the
    /// guidance is "move back", not "move closer"). Document 0.6: a face that
    /// fills the photo is a selfie, not a card.
    pub max_face_fraction: f32,
    /// Another face counts towards `MULTIPLE_FACES` when it is at least this
    /// share of the main face's size. Selfie 0.4: someone beside or just behind
    /// the user. Document 0.5: ID cards often print a small ghost portrait,
    /// which must not count.
    pub other_face_ratio: f32,
    /// Smallest gap between the face box and an edge, as a share of the face
    /// size. Selfie 0.05: the crop needs room around the face, and a face cut
    /// by the frame loses its chin or forehead. Document 0: the card is kept
    /// whole, the face only has to be inside.
    pub min_edge_margin: f32,
    /// Lowest Laplacian variance of the face (see [`FaceQuality::sharpness`]).
    /// 12, measured (`examples/measure_sharpness.rs`): the 22 faces of the six
    /// sample photos measure 15–317 as taken; a Gaussian blur of σ = 1 px (at
    /// 128 px face width) brings them to 3–26, σ = 2 px to 1–4. (Before the
    /// measure read luma in f32, the 8-bit rounding of an RGB resample added
    /// about 1.3 to every figure: 16–320, 4–28, 2–5.)
    pub min_sharpness: f32,
    /// Mean face luma below this is too dark. 50: under it, skin texture is
    /// mostly sensor noise after JPEG.
    pub min_luma: f32,
    /// Mean face luma above this is too bright. 215: above it, skin washes out.
    pub max_luma: f32,
    /// Largest share of clipped face pixels (either end). 0.25: a quarter of
    /// the face lost to shadow or glare removes features the matcher uses.
    pub max_clipped: f32,
    /// Largest roll in degrees. 20 for a selfie (matchers align for small
    /// tilts), 15 for a document (cards lie flat; more means a skewed shot).
    pub max_roll_degrees: f32,
    /// Largest yaw in degrees, as [`crate::detect::Face::yaw_degrees`]
    /// estimates it: the estimate runs high (the test selfie, turned about
    /// 20°, reads 27°; a face turned about 45° in sample1.jpg reads 67°).
    /// Selfie 35 (about 25° turned: past it, matchers trained on frontal
    /// faces lose accuracy and one eye starts to hide). Document 45: card
    /// portraits are frontal, and the ear points of a small portrait are
    /// the coarsest.
    pub max_yaw_degrees: f32,
}

impl GateConfig {
    pub fn for_role(role: Role) -> Self {
        match role {
            Role::Selfie => GateConfig {
                min_face_px: 112.0,
                min_face_fraction: 0.15,
                max_face_fraction: 0.8,
                other_face_ratio: 0.4,
                min_edge_margin: 0.05,
                min_sharpness: 12.0,
                min_luma: 50.0,
                max_luma: 215.0,
                max_clipped: 0.25,
                max_roll_degrees: 20.0,
                max_yaw_degrees: 35.0,
            },
            Role::Document => GateConfig {
                min_face_px: 48.0,
                min_face_fraction: 0.04,
                max_face_fraction: 0.6,
                other_face_ratio: 0.5,
                min_edge_margin: 0.0,
                min_sharpness: 12.0,
                min_luma: 50.0,
                max_luma: 215.0,
                max_clipped: 0.25,
                max_roll_degrees: 15.0,
                max_yaw_degrees: 45.0,
            },
        }
    }

    /// Every failed check, most fundamental first; empty means pass.
    pub fn check(&self, report: &QualityReport) -> Vec<GateFailure> {
        let mut out = Vec::new();
        let fail = |code, value: f32, limit: f32, hint| GateFailure {
            code,
            value: value as f64,
            limit: limit as f64,
            hint,
        };
        let Some(q) = &report.primary else {
            out.push(fail(
                GateCode::NoFace,
                0.0,
                1.0,
                "no face found: face the camera, in good light",
            ));
            return out;
        };
        let main = q.size_px;
        let counted = report
            .faces
            .iter()
            .filter(|f| f.bbox.w.max(f.bbox.h) >= self.other_face_ratio * main)
            .count();
        if counted > 1 {
            out.push(fail(
                GateCode::MultipleFaces,
                counted as f32,
                1.0,
                "more than one face: only one person in the picture",
            ));
        }
        let short = report.width.min(report.height) as f32;
        if main < self.min_face_px {
            out.push(fail(
                GateCode::FaceTooSmall,
                main,
                self.min_face_px,
                "face too small: move closer",
            ));
        } else if main < self.min_face_fraction * short {
            out.push(fail(
                GateCode::FaceTooSmall,
                main / short,
                self.min_face_fraction,
                "face too small: move closer",
            ));
        } else if main > self.max_face_fraction * short {
            out.push(fail(
                GateCode::FaceTooLarge,
                main / short,
                self.max_face_fraction,
                "face too close: move back",
            ));
        }
        let margin = q.edges.min() / main;
        if margin < self.min_edge_margin {
            out.push(fail(
                GateCode::FaceAtEdge,
                margin,
                self.min_edge_margin,
                "face at the edge: centre your face",
            ));
        }
        if q.sharpness < self.min_sharpness {
            out.push(fail(
                GateCode::Blurry,
                q.sharpness,
                self.min_sharpness,
                "blurry: hold still",
            ));
        }
        if q.mean_luma < self.min_luma
            || (q.dark_fraction > self.max_clipped && q.mean_luma < 128.0)
        {
            out.push(fail(
                GateCode::TooDark,
                q.mean_luma,
                self.min_luma,
                "too dark: more light on your face",
            ));
        } else if q.mean_luma > self.max_luma
            || (q.bright_fraction > self.max_clipped && q.mean_luma >= 128.0)
        {
            out.push(fail(
                GateCode::TooBright,
                q.mean_luma,
                self.max_luma,
                "too bright: avoid direct light or glare",
            ));
        }
        if q.roll_degrees.abs() > self.max_roll_degrees {
            out.push(fail(
                GateCode::Tilted,
                q.roll_degrees,
                self.max_roll_degrees,
                "head tilted: hold your head and the phone upright",
            ));
        }
        if q.yaw_degrees.abs() > self.max_yaw_degrees {
            out.push(fail(
                GateCode::Turned,
                q.yaw_degrees,
                self.max_yaw_degrees,
                "face turned: look straight at the camera",
            ));
        }
        out
    }
}

/// Measures `faces` (found in `img`, which may be a reduced decode at
/// `scale` of the original `width`×`height`).
///
/// `img` is an [`RgbImage`] or an [`ImageView`] (a camera frame's RGBA, read
/// in place).
pub fn assess<'a>(
    img: impl Into<ImageView<'a>>,
    scale: f32,
    width: u32,
    height: u32,
    faces: &[Face],
) -> QualityReport {
    assess_view(img.into(), scale, width, height, faces)
}

/// [`assess`], one copy of the code for every kind of image.
fn assess_view(
    img: ImageView,
    scale: f32,
    width: u32,
    height: u32,
    faces: &[Face],
) -> QualityReport {
    let inv = if scale > 0.0 { 1.0 / scale } else { 1.0 };
    let mut faces: Vec<Face> = faces.iter().map(|f| f.scaled(inv)).collect();
    faces.sort_by(|a, b| b.bbox.area().total_cmp(&a.bbox.area()));
    let primary = faces.first().map(|f| {
        let b = f.bbox;
        let in_decoded = b.scaled(scale);
        let (sharpness, mean_luma, dark_fraction, bright_fraction) = face_stats(&img, &in_decoded);
        FaceQuality {
            bbox: b,
            size_px: b.w.max(b.h),
            edges: Edges {
                left: b.x,
                top: b.y,
                right: width as f32 - b.right(),
                bottom: height as f32 - b.bottom(),
            },
            sharpness,
            mean_luma,
            dark_fraction,
            bright_fraction,
            roll_degrees: f.roll_degrees(),
            yaw_degrees: f.yaw_degrees(),
        }
    });
    QualityReport {
        width,
        height,
        faces,
        primary,
    }
}

/// Sharpness and exposure over the inner part of the face box (the box's
/// rim is background and hair).
///
/// One pass over the face reads its luma into a plane (and counts the dark
/// and bright pixels); the sharpness is taken on that plane resampled, not
/// on a resampled RGB copy: a third of the filtering, and no 8-bit rounding
/// inside the measure.
fn face_stats(img: &ImageView, b: &Rect) -> (f32, f32, f32, f32) {
    let inner = Rect {
        x: b.x + b.w * 0.1,
        y: b.y + b.h * 0.1,
        w: b.w * 0.8,
        h: b.h * 0.8,
    };
    let (x, y, w, h) = inner.clamp_to(img.width(), img.height());
    if w < 3 || h < 3 {
        return (0.0, 0.0, 0.0, 0.0);
    }
    let (x, y, w, h) = (x as usize, y as usize, w as usize, h as usize);
    let mut plane = vec![0f32; w * h];
    let (mut sum, mut dark, mut bright) = (0.0f64, 0usize, 0usize);
    for (r, out) in plane.chunks_exact_mut(w).enumerate() {
        img.luma_row(x, y + r, out);
        let (s, d, b) = row_exposure(out);
        sum += s;
        dark += d;
        bright += b;
    }
    let n = (w * h) as f32;
    // Resample to 128 px wide so the Laplacian sees the same frequencies on a
    // 4000 px photo as on a 640 px camera frame.
    let tw = 128usize;
    let th = ((h as f32 * tw as f32 / w as f32).round() as usize).clamp(3, 512);
    let small = resize_plane(&plane, w, h, tw, th);
    (
        laplacian_variance_plane(&small, tw, th),
        (sum / n as f64) as f32,
        dark as f32 / n,
        bright as f32 / n,
    )
}

/// A luma row's sum and its dark (≤ 10) and bright (≥ 245) pixel counts.
/// Out of line so V8 optimises it between rows of the first face it sees
/// (docs/design-decisions.md, "Small hot functions").
#[inline(never)]
fn row_exposure(row: &[f32]) -> (f64, usize, usize) {
    // Four lanes, so the compiler can keep them in one vector.
    let (mut s, mut d, mut b) = ([0f32; 4], [0u32; 4], [0u32; 4]);
    let mut quads = row.chunks_exact(4);
    for q in &mut quads {
        for k in 0..4 {
            s[k] += q[k];
            d[k] += (q[k] <= 10.0) as u32;
            b[k] += (q[k] >= 245.0) as u32;
        }
    }
    for &l in quads.remainder() {
        s[0] += l;
        d[0] += (l <= 10.0) as u32;
        b[0] += (l >= 245.0) as u32;
    }
    (
        s.iter().map(|&v| v as f64).sum::<f64>(),
        d.iter().sum::<u32>() as usize,
        b.iter().sum::<u32>() as usize,
    )
}

/// Variance of the 4-neighbour Laplacian of the luma.
pub fn laplacian_variance(img: &RgbImage) -> f32 {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let plane: Vec<f32> = img.pixels().map(|p| luma(&p.0)).collect();
    laplacian_variance_plane(&plane, w, h)
}

/// Variance of the 4-neighbour Laplacian of a `w`×`h` plane (0 when it has
/// no inner pixel or `l` is short).
pub fn laplacian_variance_plane(l: &[f32], w: usize, h: usize) -> f32 {
    if w < 3 || h < 3 || l.len() < w * h {
        return 0.0;
    }
    let mut lap = vec![0f32; w - 2];
    let (mut s, mut s2) = (0.0f64, 0.0f64);
    for y in 1..h - 1 {
        let (up, mid, down) = (
            &l[(y - 1) * w..][..w],
            &l[y * w..][..w],
            &l[(y + 1) * w..][..w],
        );
        for (x, v) in lap.iter_mut().enumerate() {
            *v = up[x + 1] + down[x + 1] + mid[x] + mid[x + 2] - 4.0 * mid[x + 1];
        }
        // A row's sums in four f32 lanes (at most 4 × 255 a term, a few
        // hundred terms: well inside f32), then the rows' in f64.
        let (mut a, mut a2) = ([0f32; 4], [0f32; 4]);
        let mut quads = lap.chunks_exact(4);
        for q in &mut quads {
            for k in 0..4 {
                a[k] += q[k];
                a2[k] += q[k] * q[k];
            }
        }
        for &v in quads.remainder() {
            a[0] += v;
            a2[0] += v * v;
        }
        s += a.iter().map(|&v| v as f64).sum::<f64>();
        s2 += a2.iter().map(|&v| v as f64).sum::<f64>();
    }
    let n = ((w - 2) * (h - 2)) as f64;
    let mean = s / n;
    (s2 / n - mean * mean) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face_at(x: f32, y: f32, size: f32) -> Face {
        let eye_y = y + size * 0.35;
        Face {
            bbox: Rect {
                x,
                y,
                w: size,
                h: size,
            },
            score: 0.9,
            landmarks: [
                [x + size * 0.3, eye_y],
                [x + size * 0.7, eye_y],
                [x + size * 0.5, y + size * 0.55],
                [x + size * 0.5, y + size * 0.75],
                [x, eye_y],
                [x + size, eye_y],
            ],
        }
    }

    fn report(faces: Vec<Face>, q: impl FnOnce(&mut FaceQuality)) -> QualityReport {
        let img = RgbImage::new(1000, 1000);
        let mut r = assess(&img, 1.0, 1000, 1000, &faces);
        if let Some(p) = r.primary.as_mut() {
            p.sharpness = 100.0;
            p.mean_luma = 120.0;
            p.dark_fraction = 0.0;
            q(p);
        }
        r
    }

    fn codes(r: &QualityReport, role: Role) -> Vec<&'static str> {
        GateConfig::for_role(role)
            .check(r)
            .iter()
            .map(|f| f.code.as_str())
            .collect()
    }

    #[test]
    fn gate_table() {
        let good = || vec![face_at(350.0, 300.0, 300.0)];
        let rows: Vec<(QualityReport, Role, Vec<&str>)> = vec![
            (report(good(), |_| {}), Role::Selfie, vec![]),
            (report(vec![], |_| {}), Role::Selfie, vec!["NO_FACE"]),
            (
                report(
                    vec![face_at(100.0, 300.0, 300.0), face_at(600.0, 300.0, 250.0)],
                    |_| {},
                ),
                Role::Selfie,
                vec!["MULTIPLE_FACES"],
            ),
            // A small ghost portrait beside the main one does not count on a card.
            (
                report(
                    vec![face_at(100.0, 300.0, 200.0), face_at(700.0, 300.0, 80.0)],
                    |_| {},
                ),
                Role::Document,
                vec![],
            ),
            (
                report(vec![face_at(450.0, 450.0, 100.0)], |_| {}),
                Role::Selfie,
                vec!["FACE_TOO_SMALL"],
            ),
            (
                report(vec![face_at(450.0, 450.0, 120.0)], |_| {}),
                Role::Selfie,
                vec!["FACE_TOO_SMALL"],
            ),
            (
                report(vec![face_at(450.0, 450.0, 120.0)], |_| {}),
                Role::Document,
                vec![],
            ),
            (
                report(vec![face_at(-20.0, 300.0, 300.0)], |_| {}),
                Role::Selfie,
                vec!["FACE_AT_EDGE"],
            ),
            // Too close is "move back", never "move closer": 0.85 of the
            // short side for a selfie, 0.65 for a card.
            (
                report(vec![face_at(75.0, 75.0, 850.0)], |_| {}),
                Role::Selfie,
                vec!["FACE_TOO_LARGE"],
            ),
            (
                report(vec![face_at(100.0, 100.0, 780.0)], |_| {}),
                Role::Selfie,
                vec![],
            ),
            (
                report(vec![face_at(100.0, 100.0, 650.0)], |_| {}),
                Role::Document,
                vec!["FACE_TOO_LARGE"],
            ),
            (
                report(good(), |q| q.yaw_degrees = -50.0),
                Role::Selfie,
                vec!["TURNED"],
            ),
            (
                report(good(), |q| q.yaw_degrees = 30.0),
                Role::Selfie,
                vec![],
            ),
            (
                report(good(), |q| q.yaw_degrees = 40.0),
                Role::Document,
                vec![],
            ),
            (
                report(good(), |q| q.sharpness = 10.0),
                Role::Selfie,
                vec!["BLURRY"],
            ),
            (
                report(good(), |q| q.mean_luma = 30.0),
                Role::Selfie,
                vec!["TOO_DARK"],
            ),
            (
                report(good(), |q| {
                    q.mean_luma = 100.0;
                    q.dark_fraction = 0.4
                }),
                Role::Selfie,
                vec!["TOO_DARK"],
            ),
            (
                report(good(), |q| q.mean_luma = 240.0),
                Role::Selfie,
                vec!["TOO_BRIGHT"],
            ),
            (
                report(good(), |q| q.roll_degrees = -35.0),
                Role::Selfie,
                vec!["TILTED"],
            ),
            (
                report(good(), |q| q.roll_degrees = 17.0),
                Role::Selfie,
                vec![],
            ),
            (
                report(good(), |q| q.roll_degrees = 17.0),
                Role::Document,
                vec!["TILTED"],
            ),
            (
                report(good(), |q| {
                    q.sharpness = 1.0;
                    q.mean_luma = 20.0
                }),
                Role::Selfie,
                vec!["BLURRY", "TOO_DARK"],
            ),
        ];
        for (i, (r, role, want)) in rows.iter().enumerate() {
            assert_eq!(&codes(r, *role), want, "row {i}");
        }
    }

    #[test]
    fn roll_from_eyes() {
        let mut f = face_at(0.0, 0.0, 100.0);
        assert!(f.roll_degrees().abs() < 1e-4);
        f.landmarks[1][1] += 40.0; // left eye lower: head leans to its left shoulder
        assert!((f.roll_degrees() - 45.0).abs() < 1e-3);
    }

    #[test]
    fn yaw_from_the_nose_between_the_ears() {
        let mut f = face_at(0.0, 0.0, 100.0);
        assert!(f.yaw_degrees().abs() < 1e-3, "frontal");
        // The nose three quarters of the way to the subject's left ear: 30°.
        f.landmarks[2][0] = 75.0;
        assert!((f.yaw_degrees() - 30.0).abs() < 1e-3);
        f.landmarks[2][0] = 10.0;
        assert!(f.yaw_degrees() < -50.0, "towards the right ear");
        // Past the ear, or ears on one point: clamped, never NaN.
        f.landmarks[2][0] = 150.0;
        assert_eq!(f.yaw_degrees(), 90.0);
        f.landmarks[5] = f.landmarks[4];
        assert_eq!(f.yaw_degrees(), 0.0);
    }

    #[test]
    fn laplacian_sees_edges_not_flat() {
        let flat = RgbImage::from_pixel(64, 64, image::Rgb([128, 128, 128]));
        assert_eq!(laplacian_variance(&flat), 0.0);
        let checker = RgbImage::from_fn(64, 64, |x, y| {
            if (x + y) % 2 == 0 {
                image::Rgb([255; 3])
            } else {
                image::Rgb([0; 3])
            }
        });
        assert!(laplacian_variance(&checker) > 1000.0);
    }

    #[test]
    fn laplacian_plane_matches_the_f64_sum() {
        let (w, h) = (131usize, 37usize);
        let mut s = 0x9e37_79b9u32;
        let l: Vec<f32> = (0..w * h)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s % 256) as f32
            })
            .collect();
        let (mut a, mut a2, mut n) = (0.0f64, 0.0f64, 0.0f64);
        for y in 1..h - 1 {
            for x in 1..w - 1 {
                let i = y * w + x;
                let v = (l[i - 1] + l[i + 1] + l[i - w] + l[i + w] - 4.0 * l[i]) as f64;
                a += v;
                a2 += v * v;
                n += 1.0;
            }
        }
        let want = a2 / n - (a / n) * (a / n);
        let got = laplacian_variance_plane(&l, w, h) as f64;
        assert!((got - want).abs() < want * 1e-5, "{got} vs {want}");
        assert_eq!(laplacian_variance_plane(&l, 2, h), 0.0);
        assert_eq!(
            laplacian_variance_plane(&l[..10], w, h),
            0.0,
            "a short plane"
        );
    }
}
