//! The ID card in a camera frame: found from its edges, checked, and
//! straightened, for document capture (`facebridge/capture` with
//! `role: "document"`). No model: an ID-1 card (85.60 × 53.98 mm, ISO/IEC
//! 7810) is a bright or dark rectangle of a known shape, and its four sides
//! are the longest straight edges in a frame where someone holds it up.
//!
//! 1. The frame is reduced to [`WORK_SIDE`] px, smoothed, and its gradients
//!    taken (Sobel).
//! 2. A Hough transform: each edge pixel votes for the lines through it whose
//!    normal is within a few degrees of its gradient (not for every angle),
//!    so straight edges stand out and texture does not.
//! 3. The strongest near-horizontal and near-vertical lines are paired into
//!    quadrilaterals; one is kept when it is convex, card-shaped (aspect
//!    1.586, within what perspective does to it) and each side is backed by
//!    edge pixels with the right gradient along most of its length.
//! 4. Each side of the best one is refitted to its edge pixels (least
//!    squares), and the corners are the refitted sides' intersections.
//!
//! [`check_card`] then judges the frame for capture (whole card, big enough,
//! sharp, no glare over the portrait, the portrait's face found by the
//! full-range detector), and [`crop_card`] maps the card to an upright
//! rectangle with a homography.

use serde::Serialize;

use crate::detect::{DetectOptions, Detector, Face, ModelKind};
use crate::error::{Error, GateCode, GateFailure, QualityError, Result};
use crate::image::{RgbImage, luma, resize_rgb};
use crate::quality::{Role, laplacian_variance};

/// Width over height of an ID-1 card.
pub const ID1_ASPECT: f32 = 85.60 / 53.98;

/// cos 6°: lines closer in angle, and near each other, are one line.
const COS_6_DEG: f32 = 0.994_522;
/// cos 35°: a side may lean this far from horizontal or vertical.
const COS_35_DEG: f32 = 0.819_152;
/// Long side the card is looked for at.
const WORK_SIDE: u32 = 480;
/// Each edge pixel votes for angles this many degrees either side of its gradient's.
const VOTE_SPREAD: i32 = 3;
/// Lines kept per direction (near-horizontal, near-vertical).
const LINES_PER_DIRECTION: usize = 10;
/// A side must be backed by edge pixels over at least this share of its length.
const MIN_SUPPORT: f32 = 0.5;

/// A card found in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardQuad {
    /// Corners in pixels of the frame: top-left, top-right, bottom-right,
    /// bottom-left, as the camera sees them.
    pub corners: [[f32; 2]; 4],
    /// Share of its length the weakest side is backed by edge pixels (0..1).
    pub support: f32,
    /// The card's area over the frame's.
    pub fill: f32,
}

impl CardQuad {
    /// Length of the longer of the top and bottom sides, in frame pixels.
    pub fn width_px(&self) -> f32 {
        let c = &self.corners;
        dist(c[0], c[1]).max(dist(c[3], c[2]))
    }

    /// The smallest gap between a corner and the frame's border, as a share
    /// of the frame's short side (negative when a corner is outside).
    pub fn margin(&self, width: u32, height: u32) -> f32 {
        let (w, h) = (width as f32, height as f32);
        let m = self
            .corners
            .iter()
            .map(|&[x, y]| x.min(y).min(w - x).min(h - y))
            .fold(f32::INFINITY, f32::min);
        m / w.min(h)
    }
}

fn dist(a: [f32; 2], b: [f32; 2]) -> f32 {
    let (dx, dy) = (a[0] - b[0], a[1] - b[1]);
    (dx * dx + dy * dy).sqrt()
}

/// A line `x cos θ + y sin θ = ρ`.
#[derive(Debug, Clone, Copy)]
struct Line {
    cos: f32,
    sin: f32,
    rho: f32,
    votes: u32,
}

impl Line {
    fn intersect(&self, o: &Line) -> Option<[f32; 2]> {
        let det = self.cos * o.sin - self.sin * o.cos;
        if det.abs() < 1e-4 {
            return None;
        }
        Some([
            (self.rho * o.sin - o.rho * self.sin) / det,
            (self.cos * o.rho - o.cos * self.rho) / det,
        ])
    }

    /// The point of the line nearest `p`.
    fn foot(&self, p: [f32; 2]) -> [f32; 2] {
        let d = p[0] * self.cos + p[1] * self.sin - self.rho;
        [p[0] - d * self.cos, p[1] - d * self.sin]
    }
}

/// Gradients of the reduced frame.
struct Gradients {
    w: usize,
    h: usize,
    gx: Vec<f32>,
    gy: Vec<f32>,
    mag: Vec<f32>,
    /// Magnitude at which a pixel counts as an edge.
    threshold: f32,
}

impl Gradients {
    fn of(img: &RgbImage) -> Gradients {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let (mut gx, mut gy, mut mag) = (vec![0f32; w * h], vec![0f32; w * h], vec![0f32; w * h]);
        // Per colour channel, keeping the strongest: a dark blue band on a
        // brown table has almost no luma edge, but a strong blue one.
        let mut chan = vec![0f32; w * h];
        let mut t = vec![0f32; w * h];
        let mut s = vec![0f32; w * h];
        for c in 0..3 {
            for (d, p) in chan.iter_mut().zip(img.pixels()) {
                *d = p.0[c] as f32;
            }
            // [1 2 1] / 4 in both directions: sensor noise and JPEG blocks out.
            for y in 0..h {
                for x in 0..w {
                    let a = chan[y * w + x.saturating_sub(1)];
                    let b = chan[y * w + (x + 1).min(w - 1)];
                    t[y * w + x] = (a + 2.0 * chan[y * w + x] + b) * 0.25;
                }
            }
            for y in 0..h {
                for x in 0..w {
                    let a = t[y.saturating_sub(1) * w + x];
                    let b = t[(y + 1).min(h - 1) * w + x];
                    s[y * w + x] = (a + 2.0 * t[y * w + x] + b) * 0.25;
                }
            }
            for y in 1..h.saturating_sub(1) {
                for x in 1..w - 1 {
                    let p = |dx: isize, dy: isize| {
                        s[(y as isize + dy) as usize * w + (x as isize + dx) as usize]
                    };
                    let i = y * w + x;
                    let ex = (p(1, -1) + 2.0 * p(1, 0) + p(1, 1))
                        - (p(-1, -1) + 2.0 * p(-1, 0) + p(-1, 1));
                    let ey = (p(-1, 1) + 2.0 * p(0, 1) + p(1, 1))
                        - (p(-1, -1) + 2.0 * p(0, -1) + p(1, -1));
                    let m = (ex * ex + ey * ey).sqrt();
                    if m > mag[i] {
                        (gx[i], gy[i], mag[i]) = (ex, ey, m);
                    }
                }
            }
        }
        // A fifth of the 99th percentile: what stands out in this frame,
        // whatever its contrast; never below the noise of a flat wall.
        // (A histogram in whole units: the magnitude of a Sobel on 0..255 is
        // at most 1443.)
        let mut hist = vec![0u32; 1444];
        let mut n = 0u32;
        for &m in &mag {
            if m > 0.0 {
                hist[(m as usize).min(1443)] += 1;
                n += 1;
            }
        }
        let threshold = if n == 0 {
            f32::INFINITY
        } else {
            let mut above = n / 100;
            let mut p99 = 1443;
            while p99 > 0 && above >= hist[p99] {
                above -= hist[p99];
                p99 -= 1;
            }
            (p99 as f32 * 0.2).clamp(24.0, 240.0)
        };
        Gradients {
            w,
            h,
            gx,
            gy,
            mag,
            threshold,
        }
    }

    fn is_edge(&self, i: usize) -> bool {
        self.mag[i] >= self.threshold
    }

    /// The edge pixel nearest `p` across the line with normal `(nx, ny)`,
    /// within `reach` px, whose gradient is (anti)parallel to that normal.
    fn edge_near(&self, p: [f32; 2], nx: f32, ny: f32, reach: i32) -> Option<(usize, usize)> {
        for k in 0..=reach {
            for s in [k, -k] {
                let x = (p[0] + s as f32 * nx).round();
                let y = (p[1] + s as f32 * ny).round();
                if x < 1.0 || y < 1.0 || x >= (self.w - 1) as f32 || y >= (self.h - 1) as f32 {
                    continue;
                }
                let i = y as usize * self.w + x as usize;
                if self.is_edge(i)
                    && (self.gx[i] * nx + self.gy[i] * ny).abs() >= 0.85 * self.mag[i]
                {
                    return Some((x as usize, y as usize));
                }
                if k == 0 {
                    break;
                }
            }
        }
        None
    }
}

/// cos and sin of 0°, 1°, … 179°, by rotating one degree at a time (in f64:
/// the error after 179 steps is far below a Hough bin; and no libm sin/cos
/// in the wasm).
fn unit_circle() -> Vec<(f32, f32)> {
    const COS1: f64 = 0.999_847_695_156_391_2;
    const SIN1: f64 = 0.017_452_406_437_283_51;
    let (mut c, mut s) = (1f64, 0f64);
    (0..180)
        .map(|_| {
            let out = (c as f32, s as f32);
            (c, s) = (c * COS1 - s * SIN1, s * COS1 + c * SIN1);
            out
        })
        .collect()
}

/// The strongest distinct lines of the reduced frame, by Hough votes.
fn hough_lines(g: &Gradients) -> Vec<Line> {
    let (w, h) = (g.w, g.h);
    let diag = ((w * w + h * h) as f32).sqrt().ceil() as i32;
    let bins = 2 * diag as usize + 1;
    let trig = unit_circle();
    let mut acc = vec![0u32; 180 * bins];
    for y in 1..h.saturating_sub(1) {
        for x in 1..w - 1 {
            let i = y * w + x;
            if !g.is_edge(i) {
                continue;
            }
            let deg = g.gy[i].atan2(g.gx[i]).to_degrees().round() as i32;
            for d in -VOTE_SPREAD..=VOTE_SPREAD {
                let k = (deg + d).rem_euclid(180) as usize;
                let (c, s) = trig[k];
                let r = (x as f32 * c + y as f32 * s).round() as i32 + diag;
                acc[k * bins + r as usize] += 1;
            }
        }
    }
    // A side must be a tenth of the frame's short side at least.
    let min_votes = (w.min(h) as u32 / 10).max(12);
    // Local maxima over the neighbouring angles and offsets only.
    let mut peaks: Vec<(u32, usize)> = Vec::new();
    for k in 0..180 {
        for r in 1..bins - 1 {
            let v = acc[k * bins + r];
            if v < min_votes || v < acc[k * bins + r - 1] || v <= acc[k * bins + r + 1] {
                continue;
            }
            let up = if k + 1 < 180 {
                acc[(k + 1) * bins + r]
            } else {
                0
            };
            let down = if k > 0 { acc[(k - 1) * bins + r] } else { 0 };
            if v > up && v >= down {
                peaks.push((v, k * bins + r));
            }
        }
    }
    let centre = [w as f32 / 2.0, h as f32 / 2.0];
    let mut lines: Vec<Line> = Vec::new();
    // Strongest first (a scan for the maximum each time: no sort in the wasm).
    while let Some(at) = (0..peaks.len()).max_by_key(|&j| (peaks[j].0, usize::MAX - peaks[j].1)) {
        let (votes, i) = peaks.swap_remove(at);
        let (k, r) = (i / bins, i % bins);
        let (cos, sin) = trig[k];
        let line = Line {
            cos,
            sin,
            rho: r as f32 - diag as f32,
            votes,
        };
        // The same edge seen at a neighbouring angle or offset is not another line.
        let same = lines.iter().any(|l| {
            let dot = (l.cos * cos + l.sin * sin).abs();
            dot > COS_6_DEG && dist(l.foot(centre), line.foot(centre)) < 8.0
        });
        if !same {
            lines.push(line);
            if lines.len() >= 4 * LINES_PER_DIRECTION {
                break;
            }
        }
    }
    lines
}

/// Sample points along a side, leaving out its ends (a card's corners are rounded).
fn side_points(a: [f32; 2], b: [f32; 2]) -> impl Iterator<Item = [f32; 2]> {
    let len = dist(a, b);
    let n = (len / 1.5).max(1.0) as usize;
    (0..n).filter_map(move |i| {
        let t = (i as f32 + 0.5) / n as f32;
        (0.08..=0.92)
            .contains(&t)
            .then(|| [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t])
    })
}

/// Share of the side's points (those inside the frame) backed by an edge
/// pixel, or None when most of the side is outside the frame.
fn support(g: &Gradients, a: [f32; 2], b: [f32; 2]) -> Option<f32> {
    let len = dist(a, b).max(1e-3);
    let (nx, ny) = (-(b[1] - a[1]) / len, (b[0] - a[0]) / len);
    let (mut inside, mut hits, mut all) = (0u32, 0u32, 0u32);
    for p in side_points(a, b) {
        all += 1;
        if p[0] < 1.0 || p[1] < 1.0 || p[0] >= (g.w - 1) as f32 || p[1] >= (g.h - 1) as f32 {
            continue;
        }
        inside += 1;
        if g.edge_near(p, nx, ny, 1).is_some() {
            hits += 1;
        }
    }
    (all > 0 && inside * 10 >= all * 6).then(|| hits as f32 / inside as f32)
}

/// The side refitted to the edge pixels along it (total least squares).
fn refit(g: &Gradients, a: [f32; 2], b: [f32; 2], old: Line) -> Line {
    let len = dist(a, b).max(1e-3);
    let (nx, ny) = (-(b[1] - a[1]) / len, (b[0] - a[0]) / len);
    let pts: Vec<[f32; 2]> = side_points(a, b)
        .filter_map(|p| g.edge_near(p, nx, ny, 2))
        .map(|(x, y)| [x as f32, y as f32])
        .collect();
    if pts.len() < 8 {
        return old;
    }
    let n = pts.len() as f32;
    let (mx, my) = (
        pts.iter().map(|p| p[0]).sum::<f32>() / n,
        pts.iter().map(|p| p[1]).sum::<f32>() / n,
    );
    let (mut sxx, mut sxy, mut syy) = (0f32, 0f32, 0f32);
    for p in &pts {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    // The line's direction is the covariance's main axis; its normal the other.
    // The normal is the covariance's eigenvector of the smaller eigenvalue.
    let half = (sxx - syy) * 0.5;
    let small = (sxx + syy) * 0.5 - (half * half + sxy * sxy).sqrt();
    let (a, b) = ((sxy, small - sxx), (small - syy, sxy));
    let (nx, ny) = if a.0 * a.0 + a.1 * a.1 >= b.0 * b.0 + b.1 * b.1 {
        a
    } else {
        b
    };
    let norm = (nx * nx + ny * ny).sqrt();
    if norm < 1e-6 {
        return old;
    }
    let (cos, sin) = (nx / norm, ny / norm);
    Line {
        cos,
        sin,
        rho: mx * cos + my * sin,
        votes: old.votes,
    }
}

/// The corners of the quadrilateral bounded by four lines, or None when
/// they do not make a convex, card-shaped one.
fn corners(top: &Line, bottom: &Line, left: &Line, right: &Line) -> Option<[[f32; 2]; 4]> {
    let c = [
        top.intersect(left)?,
        top.intersect(right)?,
        bottom.intersect(right)?,
        bottom.intersect(left)?,
    ];
    let cross = |o: [f32; 2], a: [f32; 2], b: [f32; 2]| {
        (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])
    };
    let turns: Vec<f32> = (0..4)
        .map(|i| cross(c[i], c[(i + 1) % 4], c[(i + 2) % 4]))
        .collect();
    if !(turns.iter().all(|&t| t > 0.0) || turns.iter().all(|&t| t < 0.0)) {
        return None;
    }
    let (t, r, b, l) = (
        dist(c[0], c[1]),
        dist(c[1], c[2]),
        dist(c[3], c[2]),
        dist(c[0], c[3]),
    );
    let aspect = (t + b) / (l + r).max(1e-3);
    // Perspective: a card tilted up to about 30° away from the camera. Wider
    // than this, and rectangles printed on a card (the band above the text,
    // the portrait's frame) start to pass for one.
    let shape_ok = (ID1_ASPECT / 1.22..=ID1_ASPECT * 1.22).contains(&aspect)
        && (0.7..=1.43).contains(&(t / b.max(1e-3)))
        && (0.7..=1.43).contains(&(l / r.max(1e-3)));
    shape_ok.then_some(c)
}

fn area(c: &[[f32; 2]; 4]) -> f32 {
    let mut s = 0.0;
    for i in 0..4 {
        let (a, b) = (c[i], c[(i + 1) % 4]);
        s += a[0] * b[1] - b[0] * a[1];
    }
    s.abs() / 2.0
}

/// Finds the ID card in a frame, or None.
pub fn find_card(frame: &RgbImage) -> Option<CardQuad> {
    let (fw, fh) = frame.dimensions();
    if fw < 16 || fh < 16 {
        return None;
    }
    let k = (WORK_SIDE as f32 / fw.max(fh) as f32).min(1.0);
    let small;
    let img = if k < 1.0 {
        small = resize_rgb(
            frame,
            ((fw as f32 * k).round() as u32).max(1),
            ((fh as f32 * k).round() as u32).max(1),
        )
        .ok()?;
        &small
    } else {
        frame
    };
    let g = Gradients::of(img);
    let (w, h) = (g.w as f32, g.h as f32);
    let lines = hough_lines(&g);
    // Normal near vertical: a near-horizontal side, and the other way round.
    let mut horizontal: Vec<Line> = lines
        .iter()
        .copied()
        .filter(|l| l.sin.abs() >= COS_35_DEG)
        .collect();
    let mut vertical: Vec<Line> = lines
        .iter()
        .copied()
        .filter(|l| l.cos.abs() >= COS_35_DEG)
        .collect();
    horizontal.truncate(LINES_PER_DIRECTION);
    vertical.truncate(LINES_PER_DIRECTION);
    let y_at = |l: &Line| (l.rho - w / 2.0 * l.cos) / l.sin;
    let x_at = |l: &Line| (l.rho - h / 2.0 * l.sin) / l.cos;
    let frame_area = w * h;
    // (score, corners, weakest side's support, the sides: top, right, bottom, left)
    type Candidate = (f32, [[f32; 2]; 4], f32, [Line; 4]);
    let mut best: Option<Candidate> = None;
    for (i, a) in horizontal.iter().enumerate() {
        for b in &horizontal[i + 1..] {
            let (top, bottom) = if y_at(a) < y_at(b) { (a, b) } else { (b, a) };
            if y_at(bottom) - y_at(top) < 0.15 * h {
                continue;
            }
            for (j, c) in vertical.iter().enumerate() {
                for d in &vertical[j + 1..] {
                    let (left, right) = if x_at(c) < x_at(d) { (c, d) } else { (d, c) };
                    if x_at(right) - x_at(left) < 0.15 * w {
                        continue;
                    }
                    let Some(q) = corners(top, bottom, left, right) else {
                        continue;
                    };
                    let fill = area(&q) / frame_area;
                    if fill < 0.03
                        || q.iter().any(|p| {
                            p[0] < -0.25 * w
                                || p[0] > 1.25 * w
                                || p[1] < -0.25 * h
                                || p[1] > 1.25 * h
                        })
                    {
                        continue;
                    }
                    let mut sides = [0f32; 4];
                    let mut ok = true;
                    for (s, side) in sides.iter_mut().enumerate() {
                        match support(&g, q[s], q[(s + 1) % 4]) {
                            Some(v) if v >= MIN_SUPPORT => *side = v,
                            _ => {
                                ok = false;
                                break;
                            }
                        }
                    }
                    if !ok {
                        continue;
                    }
                    let weakest = sides.iter().copied().fold(1.0, f32::min);
                    let mean = sides.iter().sum::<f32>() / 4.0;
                    // Well-backed sides first; among those, the larger card
                    // (the card's outline beats a rectangle printed on it).
                    let score = (weakest + mean) * fill.sqrt().sqrt();
                    if best.as_ref().is_none_or(|b| score > b.0) {
                        best = Some((score, q, weakest, [*top, *right, *bottom, *left]));
                    }
                }
            }
        }
    }
    let (_, q, weakest, [top, right, bottom, left]) = best?;
    let top = refit(&g, q[0], q[1], top);
    let right = refit(&g, q[1], q[2], right);
    let bottom = refit(&g, q[3], q[2], bottom);
    let left = refit(&g, q[0], q[3], left);
    let refined = corners(&top, &bottom, &left, &right).unwrap_or(q);
    let back = 1.0 / k;
    let scaled = refined.map(|[x, y]| [x * back, y * back]);
    Some(CardQuad {
        corners: scaled,
        support: weakest,
        fill: area(&refined) / frame_area,
    })
}

/// A plane-to-plane projective map, row-major 3×3.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Homography(pub [f64; 9]);

impl Homography {
    /// The map taking the rectangle (0,0), (w,0), (w,h), (0,h) to `quad`'s
    /// corners in that order; None when `quad` is degenerate.
    pub fn rect_to_quad(w: f32, h: f32, quad: &[[f32; 2]; 4]) -> Option<Homography> {
        let src = [
            [0.0, 0.0],
            [w as f64, 0.0],
            [w as f64, h as f64],
            [0.0, h as f64],
        ];
        let mut m = [[0f64; 9]; 8];
        for i in 0..4 {
            let (u, v) = (src[i][0], src[i][1]);
            let (x, y) = (quad[i][0] as f64, quad[i][1] as f64);
            m[2 * i] = [u, v, 1.0, 0.0, 0.0, 0.0, -u * x, -v * x, x];
            m[2 * i + 1] = [0.0, 0.0, 0.0, u, v, 1.0, -u * y, -v * y, y];
        }
        // Gauss–Jordan elimination with partial pivoting.
        for col in 0..8 {
            let pivot = (col..8).max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))?;
            if m[pivot][col].abs() < 1e-9 {
                return None;
            }
            m.swap(col, pivot);
            let p = m[col];
            for (row, r) in m.iter_mut().enumerate() {
                if row != col {
                    let f = r[col] / p[col];
                    for (v, pv) in r.iter_mut().zip(p).skip(col) {
                        *v -= f * pv;
                    }
                }
            }
        }
        let mut hm = [0f64; 9];
        for (i, row) in m.iter().enumerate() {
            hm[i] = row[8] / row[i];
        }
        hm[8] = 1.0;
        Some(Homography(hm))
    }

    /// The map the other way; None when this one is singular.
    pub fn inverse(&self) -> Option<Homography> {
        let [a, b, c, d, e, f, g, h, i] = self.0;
        let det = a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g);
        if det.abs() < 1e-12 {
            return None;
        }
        Some(Homography([
            (e * i - f * h) / det,
            (c * h - b * i) / det,
            (b * f - c * e) / det,
            (f * g - d * i) / det,
            (a * i - c * g) / det,
            (c * d - a * f) / det,
            (d * h - e * g) / det,
            (b * g - a * h) / det,
            (a * e - b * d) / det,
        ]))
    }

    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.0;
        let z = m[6] * x + m[7] * y + m[8];
        (
            (m[0] * x + m[1] * y + m[2]) / z,
            (m[3] * x + m[4] * y + m[5]) / z,
        )
    }
}

/// The card mapped to an upright `width` × `width / 1.586` image (bilinear).
pub fn warp_card(frame: &RgbImage, quad: &CardQuad, width: u32) -> Result<RgbImage> {
    let width = width.max(16);
    let height = ((width as f32 / ID1_ASPECT).round() as u32).max(10);
    let hm = Homography::rect_to_quad(width as f32, height as f32, &quad.corners)
        .ok_or_else(|| Error::invalid("card", "the card's corners do not make a quadrilateral"))?;
    let (fw, fh) = frame.dimensions();
    let src = frame.as_raw();
    let mut out = vec![0u8; width as usize * height as usize * 3];
    for v in 0..height {
        for u in 0..width {
            let (x, y) = hm.apply(u as f64 + 0.5, v as f64 + 0.5);
            let (x, y) = (x as f32 - 0.5, y as f32 - 0.5);
            let x = x.clamp(0.0, (fw - 1) as f32);
            let y = y.clamp(0.0, (fh - 1) as f32);
            let (x0, y0) = (x.floor() as usize, y.floor() as usize);
            let (x1, y1) = ((x0 + 1).min(fw as usize - 1), (y0 + 1).min(fh as usize - 1));
            let (ax, ay) = (x - x0 as f32, y - y0 as f32);
            let o = (v as usize * width as usize + u as usize) * 3;
            for c in 0..3 {
                let p = |xx: usize, yy: usize| src[(yy * fw as usize + xx) * 3 + c] as f32;
                let top = p(x0, y0) * (1.0 - ax) + p(x1, y0) * ax;
                let bot = p(x0, y1) * (1.0 - ax) + p(x1, y1) * ax;
                out[o + c] = (top * (1.0 - ay) + bot * ay).round() as u8;
            }
        }
    }
    RgbImage::from_raw(width, height, out).ok_or_else(|| Error::invalid("card", "size mismatch"))
}

/// Thresholds of the card check.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CardGate {
    /// Smallest gap from a corner to the frame's border, as a share of the
    /// frame's short side: less, and part of the card may be cut off.
    pub min_margin: f32,
    /// Smallest card area over the frame's: less, and the portrait is too
    /// few pixels for a matcher after the crop.
    pub min_fill: f32,
    /// Lowest Laplacian variance of the straightened card at 428 px wide.
    /// 100, measured on the test card held at 70 % of a 640×480 frame
    /// (tests/card.rs): 547 as rendered; blurred by taking the frame at
    /// half, a third and a quarter of its resolution and back, 148, 68 and
    /// 36. Half resolution still reads; a third smudges the small print.
    pub min_sharpness: f32,
    /// Largest share of clipped pixels (luma ≥ 250) over the portrait (its
    /// face box, widened by half) before it counts as glare.
    pub max_glare: f32,
}

impl Default for CardGate {
    fn default() -> Self {
        CardGate {
            min_margin: 0.02,
            min_fill: 0.2,
            min_sharpness: 100.0,
            max_glare: 0.03,
        }
    }
}

/// What the card check saw on one frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CardReport {
    /// The frame's size.
    pub width: u32,
    pub height: u32,
    /// The card, or null when none was found.
    pub card: Option<CardQuad>,
    /// Laplacian variance of the straightened card (0 without a card).
    pub sharpness: f32,
    /// Share of clipped pixels over the portrait (over the whole card when
    /// no portrait was found).
    pub glare: f32,
    /// Faces on the straightened card, in its pixels.
    pub faces: Vec<Face>,
    /// Every failed check, the one to fix first first; empty: capture it.
    pub gate: Vec<GateFailure>,
}

/// Width the card is straightened to for the per-frame checks.
const CHECK_WIDTH: u32 = 640;

fn clipped_share(img: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> f32 {
    let (mut n, mut hot) = (0u32, 0u32);
    for y in y0..y1.min(img.height()) {
        for x in x0..x1.min(img.width()) {
            n += 1;
            if luma(&img.get_pixel(x, y).0) >= 250.0 {
                hot += 1;
            }
        }
    }
    if n == 0 { 0.0 } else { hot as f32 / n as f32 }
}

fn fail(code: GateCode, value: f32, limit: f32, hint: &'static str) -> GateFailure {
    GateFailure {
        code,
        value: value as f64,
        limit: limit as f64,
        hint,
    }
}

/// Checks a camera frame for document capture: the card whole in the frame
/// and big enough, sharp, no glare over the portrait, and the portrait's
/// face found by the full-range detector (which must be loaded).
pub fn check_card(detector: &Detector, frame: &RgbImage, gate: &CardGate) -> Result<CardReport> {
    let (width, height) = frame.dimensions();
    let mut report = CardReport {
        width,
        height,
        card: None,
        sharpness: 0.0,
        glare: 0.0,
        faces: Vec::new(),
        gate: Vec::new(),
    };
    let Some(card) = find_card(frame) else {
        report.gate.push(fail(
            GateCode::CardNotFound,
            0.0,
            1.0,
            "no card found: hold the ID card in the frame",
        ));
        return Ok(report);
    };
    report.card = Some(card);
    let margin = card.margin(width, height);
    if margin < gate.min_margin {
        report.gate.push(fail(
            GateCode::CardAtEdge,
            margin,
            gate.min_margin,
            "the card touches the edge: show the whole card",
        ));
    } else if card.fill < gate.min_fill {
        report.gate.push(fail(
            GateCode::CardTooSmall,
            card.fill,
            gate.min_fill,
            "the card is small: bring it closer",
        ));
    }
    let flat = warp_card(
        frame,
        &card,
        CHECK_WIDTH.min(card.width_px().round() as u32).max(200),
    )?;
    let (cw, ch) = flat.dimensions();
    let norm = resize_rgb(&flat, 428, 270).map_err(Error::from)?;
    report.sharpness = laplacian_variance(&norm);
    let opts = DetectOptions {
        model: ModelKind::Full,
        ..Default::default()
    };
    let faces = detector.detect(&flat, &opts)?;
    // The portrait, judged as a document photo's face.
    let quality = crate::quality::assess(&flat, 1.0, cw, ch, &faces);
    report.glare = match &quality.primary {
        Some(q) => {
            let (cx, cy) = q.bbox.center();
            let r = q.size_px * 0.75;
            let at = |v: f32| v.max(0.0) as u32;
            clipped_share(&flat, at(cx - r), at(cy - r), at(cx + r), at(cy + r))
        }
        None => clipped_share(&flat, 0, 0, cw, ch),
    };
    if report.glare > gate.max_glare {
        report.gate.push(fail(
            GateCode::Glare,
            report.glare,
            gate.max_glare,
            "glare on the card: tilt it away from the light",
        ));
    }
    if report.sharpness < gate.min_sharpness {
        report.gate.push(fail(
            GateCode::Blurry,
            report.sharpness,
            gate.min_sharpness,
            "blurry: hold the card still",
        ));
    }
    for mut f in crate::quality::GateConfig::for_role(Role::Document).check(&quality) {
        // No portrait on what was found: a rectangle printed on a card
        // whose outline is cut by the frame, the back of the card, or not
        // a card. What to do is the same: show the card, photo side up.
        // Focus is judged on the whole card above (its print has the edges);
        // a printed portrait is soft by nature.
        if f.code == GateCode::Blurry {
            continue;
        }
        if f.code == GateCode::NoFace {
            f = fail(
                GateCode::CardNotFound,
                0.0,
                1.0,
                "no portrait on the card: show the side with the photo, whole",
            );
        }
        if !report.gate.iter().any(|g| g.code == f.code) {
            report.gate.push(f);
        }
    }
    let faces = quality.faces;
    report.faces = faces;
    Ok(report)
}

/// The card in `frame`, straightened at the resolution it was taken at (its
/// longer horizontal side, between 400 and 1600 px) and JPEG-encoded at
/// quality 95, ready for `prepare(…, { role: "document" })`. Fails with
/// `CARD_NOT_FOUND` when there is no card.
pub fn crop_card(frame: &RgbImage) -> Result<Vec<u8>> {
    let Some(card) = find_card(frame) else {
        let (width, height) = frame.dimensions();
        return Err(Error::Quality(QualityError {
            failures: vec![fail(
                GateCode::CardNotFound,
                0.0,
                1.0,
                "no card found: hold the ID card in the frame",
            )],
            report: Box::new(crate::quality::QualityReport {
                width,
                height,
                faces: Vec::new(),
                primary: None,
            }),
        }));
    };
    let width = (card.width_px().round() as u32).clamp(400, 1600);
    let flat = warp_card(frame, &card, width)?;
    crate::image::encode_jpeg(&flat, 95).map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic card (light, with a dark block for a portrait and bars
    /// for text) at `corners` on a darker, mottled table.
    pub(crate) fn scene(w: u32, h: u32, corners: [[f32; 2]; 4]) -> RgbImage {
        let (cw, ch) = (856.0f32, 540.0f32);
        let inv = Homography::rect_to_quad(cw, ch, &corners)
            .unwrap()
            .inverse()
            .unwrap();
        RgbImage::from_fn(w, h, |x, y| {
            let (u, v) = inv.apply(x as f64 + 0.5, y as f64 + 0.5);
            let (u, v) = (u as f32, v as f32);
            if (0.0..cw).contains(&u) && (0.0..ch).contains(&v) {
                let portrait = (40.0..300.0).contains(&u) && (140.0..480.0).contains(&v);
                let text =
                    u > 340.0 && ((v as u32 / 30) % 2 == 1) && v > 160.0 && v < 460.0 && u < 800.0;
                let band = v < 100.0;
                let g = if portrait {
                    90
                } else if text {
                    60
                } else if band {
                    170
                } else {
                    225
                };
                image::Rgb([g, g, (g as u16 + 10).min(255) as u8])
            } else {
                let n = ((x * 7 + y * 13) % 17) as u8;
                image::Rgb([70 + n, 55 + n, 40 + n])
            }
        })
    }

    fn corner_error(a: &[[f32; 2]; 4], b: &[[f32; 2]; 4]) -> f32 {
        a.iter()
            .zip(b)
            .map(|(p, q)| dist(*p, *q))
            .fold(0.0, f32::max)
    }

    /// The card in `img`, its corners within `tolerance` px of `truth`.
    fn found(img: &RgbImage, truth: &[[f32; 2]; 4], tolerance: f32) -> CardQuad {
        let q = find_card(img).expect("card found");
        let err = corner_error(&q.corners, truth);
        assert!(err < tolerance, "{:?} vs {truth:?}: {err} px", q.corners);
        q
    }

    #[test]
    fn finds_a_card_held_with_perspective_to_a_few_pixels() {
        let truth = [
            [120.0, 95.0],
            [530.0, 110.0],
            [545.0, 370.0],
            [105.0, 385.0],
        ];
        let q = found(&scene(640, 480, truth), &truth, 3.0);
        assert!(q.support > 0.8, "{q:?}");
        // At camera resolution too (found on a reduced copy, corners scaled back).
        let big = truth.map(|[x, y]| [x * 3.0, y * 3.0]);
        found(&scene(1920, 1440, big), &big, 9.0);
    }

    #[test]
    fn a_rotated_card_is_found_and_straightened_upright() {
        // About 12° clockwise.
        let (c, s) = (12f32.to_radians().cos(), 12f32.to_radians().sin());
        let truth = [
            [-200.0, -126.0],
            [200.0, -126.0],
            [200.0, 126.0],
            [-200.0, 126.0],
        ]
        .map(|[x, y]| [320.0 + x * c - y * s, 240.0 + x * s + y * c]);
        let img = scene(640, 480, truth);
        let q = found(&img, &truth, 3.0);
        let flat = warp_card(&img, &q, 428).unwrap();
        assert_eq!(flat.dimensions(), (428, 270));
        // The header band is at the top and the portrait at the left: upright.
        let at = |u: u32, v: u32| flat.get_pixel(u, v).0[0];
        assert_eq!(at(214, 20), 170, "band");
        assert_eq!(at(80, 150), 90, "portrait");
        assert_eq!(at(380, 250), 225, "card");
    }

    #[test]
    fn no_card_in_a_plain_or_a_busy_frame() {
        let plain = RgbImage::from_pixel(640, 480, image::Rgb([120, 120, 120]));
        assert_eq!(find_card(&plain), None);
        // Diagonal stripes and rings: strong edges, none of them a card's.
        let busy = RgbImage::from_fn(640, 480, |x, y| {
            let (dx, dy) = (x as f32 - 320.0, y as f32 - 240.0);
            let ring = (dx.hypot(dy) / 9.0) as u32 % 2;
            let stripe = ((x + y) / 13) % 2;
            image::Rgb([((ring ^ stripe) * 200) as u8, 80, 80])
        });
        assert_eq!(find_card(&busy), None);
    }

    #[test]
    fn any_frame_size_gives_an_answer_not_a_panic() {
        for (w, h) in [
            (1, 1),
            (15, 15),
            (16, 16),
            (17, 4000),
            (4000, 17),
            (3, 900),
            (640, 2),
        ] {
            let img = RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([(x * 37 % 256) as u8, (y * 11 % 256) as u8, 9])
            });
            if let Some(q) = find_card(&img) {
                assert!(
                    q.corners.iter().flatten().all(|v| v.is_finite()),
                    "{w}×{h}: {q:?}"
                );
                warp_card(&img, &q, 64).unwrap();
            }
        }
    }

    #[test]
    fn homography_maps_the_corners_and_back() {
        let quad = [[10.0, 20.0], [300.0, 5.0], [320.0, 200.0], [0.0, 190.0]];
        let hm = Homography::rect_to_quad(428.0, 270.0, &quad).unwrap();
        let inv = hm.inverse().unwrap();
        let rect = [[0.0, 0.0], [428.0, 0.0], [428.0, 270.0], [0.0, 270.0]];
        for (i, [u, v]) in rect.into_iter().enumerate() {
            let (x, y) = hm.apply(u, v);
            assert!((x as f32 - quad[i][0]).abs() < 1e-3 && (y as f32 - quad[i][1]).abs() < 1e-3);
            let (bu, bv) = inv.apply(x, y);
            assert!((bu - u).abs() < 1e-6 && (bv - v).abs() < 1e-6);
        }
        assert_eq!(Homography::rect_to_quad(10.0, 10.0, &[[0.0, 0.0]; 4]), None);
    }
}
