//! JPEG encoding that guarantees a byte budget.
//!
//! The output is re-encoded from pixels, so it carries no EXIF, GPS, ICC or
//! comment: only the JFIF header `jpeg-encoder` writes.

use serde::{Deserialize, Serialize};

use super::{RgbImage, base64_len, resize_rgb};
use crate::error::ImageError;

/// Encodes RGB pixels as a baseline JPEG at `quality` (1–100), 4:2:0.
pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Result<Vec<u8>, ImageError> {
    let (w, h) = img.dimensions();
    let (w16, h16) = match (u16::try_from(w), u16::try_from(h)) {
        (Ok(a), Ok(b)) if a > 0 && b > 0 => (a, b),
        _ => {
            return Err(ImageError::Encode {
                reason: format!("cannot encode a {w}×{h} JPEG"),
                source: None,
            });
        }
    };
    let mut out = Vec::with_capacity((w as usize * h as usize) / 4);
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    // jpeg-encoder keeps full-resolution chroma from quality 90 up, which
    // doubles the file (and the chroma work) for nothing a face matcher sees,
    // and makes the size a step function of quality at 90.
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_2_0);
    enc.encode(img.as_raw(), w16, h16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| ImageError::Encode {
            reason: e.to_string(),
            source: Some(Box::new(e)),
        })?;
    Ok(out)
}

/// What the encoded file must fit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// The most bytes allowed.
    pub max_bytes: usize,
    /// Count the budget on the base64 encoding (4/3 of the file), as services
    /// that take images inside JSON do.
    pub base64: bool,
    /// The best quality tried first. A face matcher gains nothing above ~92.
    pub max_quality: u8,
    /// Below this quality the image is downscaled instead: JPEG blocking
    /// hurts a matcher more than losing resolution does.
    pub min_quality: u8,
    /// Downscaling stops at this short side; below it the budget is unreachable.
    pub min_side: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_bytes: 5_000_000,
            base64: false,
            max_quality: 92,
            min_quality: 60,
            min_side: 64,
        }
    }
}

impl Budget {
    /// The size that counts against `max_bytes` for a file of `n` bytes.
    pub fn counted(&self, n: usize) -> usize {
        if self.base64 { base64_len(n) } else { n }
    }
    fn fits(&self, n: usize) -> bool {
        self.counted(n) <= self.max_bytes
    }
}

/// A JPEG that fits its budget, and how it was found.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub quality: u8,
    /// Encodes of the whole image (the bands' encodes, an eighth of it each,
    /// are not counted).
    pub encodes: u32,
}

/// At most this many downscale rounds: each shrinks the pixel count by at
/// least 10 %, and the budget arithmetic usually lands in one or two.
const MAX_SCALE_ROUNDS: u32 = 8;
/// Encodes per size after the first, at most.
const MAX_QUALITY_STEPS: u32 = 5;
/// A fitting file this close to the budget ends the search: one more encode
/// (12 MP: ~150 ms in wasm) would gain at most the last 3 % of the bytes.
const CLOSE_ENOUGH: f64 = 0.97;
/// What the search aims at, below the budget, so the predicted quality
/// usually fits at the first try.
const AIM: f64 = 0.985;
/// The slope of ln(size) against ln(quantiser scale) before two encodes
/// have measured it: about what photos show between quality 60 and 92
/// (−0.5 for smooth ones, −0.8 for sensor noise).
const DEFAULT_SLOPE: f64 = -0.65;

/// The IJG quantiser scale of a quality (percent of the base tables), as
/// `jpeg-encoder` applies it; at least 1, where the tables bottom out.
fn quantiser_scale(q: u8) -> f64 {
    let q = q.clamp(1, 100) as f64;
    (if q < 50.0 {
        5000.0 / q
    } else {
        200.0 - 2.0 * q
    })
    .max(1.0)
}

/// The quality whose scale is `s` (the inverse of [`quantiser_scale`]), as a
/// real number.
fn quality_of_scale(s: f64) -> f64 {
    if s <= 100.0 {
        (200.0 - s) / 2.0
    } else {
        5000.0 / s
    }
}

/// Predicts the quality at which the file is `target` bytes, from a measured
/// `(quality, bytes)` and the slope of ln(bytes) against ln(scale): JPEG size
/// is close to a power of the quantiser scale over the range a budget uses.
fn predict_quality(from: (u8, usize), slope: f64, target: f64) -> f64 {
    let (q, n) = from;
    let ln_s = quantiser_scale(q).ln() + (target.ln() - (n as f64).ln()) / slope;
    quality_of_scale(ln_s.exp())
}

/// Image rows per band of [`Bands`]: one MCU row at 4:2:0.
const BAND: u32 = 16;
/// One band is kept in every this many rows: an eighth of the image.
const BAND_PERIOD: u32 = 128;
/// A fitting file ends the search when the bands predict the next quality
/// over the budget by more than this: an encode to prove it would be wasted.
const BANDS_MARGIN: f64 = 0.03;

/// A stand-in for a large image in the quality search: one band of 16 rows in
/// every 128, encoded for an eighth of the cost. A JPEG's size is the sum of
/// its MCU rows', so the bands' size times a ratio predicts the whole file's.
/// The ratio starts as the rows' ratio and is re-measured at every encode of
/// the whole image, after which predictions at nearby qualities are within
/// about 1 %.
struct Bands {
    img: RgbImage,
    ratio: f64,
    /// Sizes of the bands' encodes so far, by quality.
    sizes: Vec<(u8, usize)>,
    /// A whole encode came out more than 10 % off the bands' prediction:
    /// the bands do not look like the image, and their word alone decides
    /// nothing.
    misjudged: bool,
}

impl Bands {
    /// Bands of `img`, or `None` when it has fewer than 8 bands' worth of rows.
    fn of(img: &RgbImage) -> Option<Bands> {
        let (w, h) = img.dimensions();
        let n = h / BAND_PERIOD;
        if n < 8 {
            return None;
        }
        let row = w as usize * 3;
        let mut raw = Vec::with_capacity(row * (n * BAND) as usize);
        for k in 0..n {
            let y0 = (k * BAND_PERIOD + (BAND_PERIOD - BAND) / 2) as usize;
            raw.extend_from_slice(&img.as_raw()[y0 * row..(y0 + BAND as usize) * row]);
        }
        let img = RgbImage::from_raw(w, n * BAND, raw)?;
        Some(Bands {
            ratio: h as f64 / (n * BAND) as f64,
            img,
            sizes: Vec::new(),
            misjudged: false,
        })
    }

    /// The bands' JPEG size at `q`, encoding them once per quality.
    fn size(&mut self, q: u8) -> Result<usize, ImageError> {
        if let Some(&(_, n)) = self.sizes.iter().find(|(k, _)| *k == q) {
            return Ok(n);
        }
        let n = encode_jpeg(&self.img, q)?.len();
        self.sizes.push((q, n));
        Ok(n)
    }

    /// The whole image's predicted JPEG size at `q`.
    fn predict(&mut self, q: u8) -> Result<f64, ImageError> {
        Ok(self.size(q)? as f64 * self.ratio)
    }

    /// Re-measures the ratio on an encode of the whole image.
    fn calibrate(&mut self, q: u8, whole: usize) -> Result<(), ImageError> {
        let ratio = whole as f64 / self.size(q)?.max(1) as f64;
        self.misjudged |= (ratio / self.ratio - 1.0).abs() > 0.1;
        self.ratio = ratio;
        Ok(())
    }

    /// The highest quality in `lo..=hi` predicted to fit `target` bytes, or
    /// `lo` when none is. Each probe is the power law's guess from the last
    /// two probes, or the middle when two probes in a row fell on one side.
    fn best_under(&mut self, lo: u8, hi: u8, target: f64) -> Result<u8, ImageError> {
        let (mut lo, mut hi) = (lo, hi);
        let mut sides: Vec<bool> = Vec::new();
        while lo < hi {
            let guess = match (self.sizes.as_slice(), sides.as_slice()) {
                (_, [.., a, b]) if a == b => (lo as f64 + hi as f64 + 1.0) / 2.0,
                ([.., a, b], _) => predict_quality(*b, slope_of(*a, *b), target / self.ratio),
                ([a], _) => predict_quality(*a, DEFAULT_SLOPE, target / self.ratio),
                ([], _) => hi as f64,
            };
            let q = (guess.floor().clamp(0.0, 255.0) as u8).clamp(lo + 1, hi);
            let under = self.predict(q)? <= target;
            sides.push(under);
            if under {
                lo = q;
            } else {
                hi = q - 1;
            }
        }
        Ok(lo)
    }
}

/// The slope of ln(size) against ln(scale) between two encodes; a slope of
/// the wrong sign or an implausible one (sizes this close are noise): the
/// prior instead.
fn slope_of(a: (u8, usize), b: (u8, usize)) -> f64 {
    let s = ((a.1 as f64).ln() - (b.1 as f64).ln())
        / (quantiser_scale(a.0).ln() - quantiser_scale(b.0).ln());
    if s.is_finite() && (-3.0..=-0.1).contains(&s) {
        s
    } else {
        DEFAULT_SLOPE
    }
}

/// How one size's quality search ended: the best quality that fits with its
/// file, or the size (file bytes) of the lowest quality, too big.
enum Searched {
    Fit(u8, Vec<u8>),
    Over(usize),
}

/// One size's quality search with [`Bands`]: the whole image is encoded only
/// at the quality the bands pick, then to settle what the bands cannot.
fn search_with_bands(
    img: &RgbImage,
    bands: &mut Bands,
    budget: &Budget,
    file_budget: f64,
    (qmin, qmax): (u8, u8),
    encodes: &mut u32,
) -> Result<Searched, ImageError> {
    let mut fit: Option<(u8, Vec<u8>)> = None;
    let mut over: Option<(u8, usize)> = None;
    for _ in 0..=MAX_QUALITY_STEPS {
        let lo = fit.as_ref().map_or(qmin, |(q, _)| q + 1);
        let hi = over.map_or(qmax, |(q, _)| q - 1);
        if lo > hi {
            break;
        }
        let q = bands.best_under(lo, hi, file_budget * AIM)?;
        // Even the lowest quality is clearly too big: the size shrinks on the
        // bands' word, without an encode of the whole image to confirm it.
        if q == qmin && fit.is_none() && !bands.misjudged {
            let predicted = bands.predict(q)?;
            if predicted > file_budget * (1.0 + BANDS_MARGIN) {
                return Ok(Searched::Over(predicted as usize));
            }
        }
        let b = encode_jpeg(img, q)?;
        *encodes += 1;
        bands.calibrate(q, b.len())?;
        if budget.fits(b.len()) {
            let close = budget.counted(b.len()) as f64 >= CLOSE_ENOUGH * budget.max_bytes as f64;
            let settled =
                close || q == hi || bands.predict(q + 1)? > file_budget * (1.0 + BANDS_MARGIN);
            fit = Some((q, b));
            if settled {
                break;
            }
        } else {
            over = Some((q, b.len()));
            if q <= qmin {
                break;
            }
        }
    }
    settle(img, fit, over, budget, qmin, encodes)
}

/// How a size's search ends, either way it ran: out of steps with nothing
/// that fits, above the floor (for the bands, when they misjudge the image,
/// e.g. detail only between them), the floor decides before the image is
/// shrunk.
fn settle(
    img: &RgbImage,
    fit: Option<(u8, Vec<u8>)>,
    mut over: Option<(u8, usize)>,
    budget: &Budget,
    qmin: u8,
    encodes: &mut u32,
) -> Result<Searched, ImageError> {
    if let (None, Some((q, _))) = (&fit, over)
        && q > qmin
    {
        let b = encode_jpeg(img, qmin)?;
        *encodes += 1;
        if budget.fits(b.len()) {
            return Ok(Searched::Fit(qmin, b));
        }
        over = Some((qmin, b.len()));
    }
    match (fit, over) {
        (Some((q, bytes)), _) => Ok(Searched::Fit(q, bytes)),
        (None, Some((_, n))) => Ok(Searched::Over(n)),
        // Not reached (the first pass always encodes), but not worth a panic.
        (None, None) => Err(ImageError::Encode {
            reason: "the quality search encoded nothing".into(),
            source: None,
        }),
    }
}

/// One size's quality search on the whole image: an encode at the top
/// quality (the usual end), then the predicted qualities.
fn search_whole(
    img: &RgbImage,
    budget: &Budget,
    file_budget: f64,
    (qmin, qmax): (u8, u8),
    encodes: &mut u32,
) -> Result<Searched, ImageError> {
    let best = encode_jpeg(img, qmax)?;
    *encodes += 1;
    if budget.fits(best.len()) {
        return Ok(Searched::Fit(qmax, best));
    }
    // `fit`: the best quality known to fit, with its file; `over`: the
    // lowest known not to (its size too). Measured points, newest last.
    let mut fit: Option<(u8, Vec<u8>)> = None;
    let mut over: (u8, usize) = (qmax, best.len());
    let mut points: Vec<(u8, usize)> = vec![over];
    drop(best);
    for _ in 0..MAX_QUALITY_STEPS {
        let floor = fit.as_ref().map_or(qmin, |(q, _)| q + 1);
        if over.0 <= floor {
            break;
        }
        let q = match &fit {
            // Nothing fits yet: from the smallest file too big, with the
            // slope of the last two encodes when there are two.
            None => {
                let slope = match points.as_slice() {
                    [.., a, b] if a.0 != b.0 => slope_of(*a, *b),
                    _ => DEFAULT_SLOPE,
                };
                predict_quality(over, slope, file_budget * AIM)
            }
            // Bracketed: the secant between the two ends; but when the
            // last two encodes fell on the same side (the size curve bends
            // and the secant creeps), halve the bracket instead.
            Some((fq, fb)) => {
                let same_side = matches!(points.as_slice(), [.., a, b]
                    if budget.fits(a.1) == budget.fits(b.1));
                if same_side {
                    (*fq as f64 + over.0 as f64) / 2.0
                } else {
                    let f = (*fq, fb.len());
                    predict_quality(f, slope_of(f, over), file_budget * AIM)
                }
            }
        }
        .floor();
        let q = (q.max(0.0) as u8).clamp(floor, over.0 - 1);
        let b = encode_jpeg(img, q)?;
        *encodes += 1;
        points.push((q, b.len()));
        if budget.fits(b.len()) {
            let close = budget.counted(b.len()) as f64 >= CLOSE_ENOUGH * budget.max_bytes as f64;
            fit = Some((q, b));
            if close {
                break;
            }
        } else {
            over = (q, b.len());
            if q == qmin {
                break;
            }
        }
    }
    settle(img, fit, Some(over), budget, qmin, encodes)
}

/// Encodes `img` as the best JPEG that fits `budget`. The returned file's
/// counted size is always ≤ `budget.max_bytes`; when no encoding of at least
/// `budget.min_side` fits, the result is [`ImageError::BudgetUnreachable`].
///
/// Per size: one encode at `max_quality` (the usual case ends here). When it
/// is too big, the quality that fits is predicted from the file sizes
/// measured so far (a power law in the quantiser scale, fitted to the last
/// two encodes) rather than bisected: typically two or three encodes in
/// all, where bisection took up to seven. The search keeps one quality that
/// fits and one that does not, and ends when they are adjacent, when the one
/// that fits is within 3 % of the budget, or after [`MAX_QUALITY_STEPS`].
/// When even `min_quality` is too big, the image is downscaled by the square
/// root of the overshoot (JPEG size is roughly proportional to pixel count)
/// and retried.
///
/// An image large enough that the first encode may not fit (over 0.6 bytes a
/// pixel of budget) runs that search on [`Bands`], an eighth of its rows,
/// and encodes the whole image at the quality they pick: one or two encodes
/// of a 12 MP photo where there were four or five. Only whole-image encodes
/// are ever returned, so the budget holds whatever the bands predicted.
pub fn encode_to_budget(img: &RgbImage, budget: &Budget) -> Result<Encoded, ImageError> {
    let unreachable = || ImageError::BudgetUnreachable {
        budget: budget.max_bytes,
        min_side: budget.min_side,
        base64: budget.base64,
    };
    let (qmax, qmin) = (
        budget.max_quality.clamp(1, 100),
        budget.min_quality.clamp(1, budget.max_quality.max(1)),
    );
    // The budget in file bytes (base64 counts 4/3 of them).
    let file_budget = if budget.base64 {
        budget.max_bytes as f64 * 0.75
    } else {
        budget.max_bytes as f64
    };
    let mut encodes = 0;
    let mut scaled: Option<RgbImage> = None;
    for _ in 0..MAX_SCALE_ROUNDS {
        let cur = scaled.as_ref().unwrap_or(img);
        let (w, h) = cur.dimensions();
        // Past 0.6 bytes a pixel (photos at quality 92 take 0.1–0.5) the first
        // encode may well not fit: a large image's search then runs on bands.
        let bands = if w as f64 * h as f64 * 0.6 > file_budget {
            Bands::of(cur)
        } else {
            None
        };
        let qs = (qmin, qmax);
        let searched = match bands {
            Some(mut bands) => {
                search_with_bands(cur, &mut bands, budget, file_budget, qs, &mut encodes)?
            }
            None => search_whole(cur, budget, file_budget, qs, &mut encodes)?,
        };
        let over = match searched {
            Searched::Fit(quality, bytes) => {
                return Ok(Encoded {
                    bytes,
                    width: w,
                    height: h,
                    quality,
                    encodes,
                });
            }
            Searched::Over(n) => n,
        };
        match shrink(img, (w, h), over, budget)? {
            Some(next) => scaled = Some(next),
            None => return Err(unreachable()),
        }
    }
    Err(unreachable())
}

/// Too big even at min quality (`over` bytes at the size `(w, h)`): `img`
/// shrunk by the overshoot, or `None` when the short side is already at the
/// budget's minimum.
fn shrink(
    img: &RgbImage,
    (w, h): (u32, u32),
    over: usize,
    budget: &Budget,
) -> Result<Option<RgbImage>, ImageError> {
    let short = w.min(h);
    if short <= budget.min_side {
        return Ok(None);
    }
    let ratio = budget.max_bytes as f64 / budget.counted(over) as f64;
    let k = (ratio.sqrt() * 0.95).clamp(0.25, 0.9);
    let k = k.max(budget.min_side as f64 / short as f64);
    let nw = ((w as f64 * k).round() as u32).max(1);
    let nh = ((h as f64 * k).round() as u32).max(1);
    Ok(Some(resize_rgb(img, nw, nh)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(w: u32, h: u32, seed: u32) -> RgbImage {
        let mut s = seed;
        RgbImage::from_fn(w, h, |_, _| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            image::Rgb([s as u8, (s >> 8) as u8, (s >> 16) as u8])
        })
    }

    #[test]
    fn small_image_fits_at_first_try() {
        let img = RgbImage::from_pixel(64, 64, image::Rgb([200, 100, 50]));
        let e = encode_to_budget(&img, &Budget::default()).unwrap();
        assert_eq!((e.encodes, e.quality), (1, 92));
        assert_eq!(&e.bytes[..2], &[0xFF, 0xD8]);
    }

    #[test]
    fn noise_is_squeezed_under_raw_and_base64_budgets() {
        let img = noise(800, 600, 7);
        for max_bytes in [20_000, 60_000, 150_000] {
            for base64 in [false, true] {
                let b = Budget {
                    max_bytes,
                    base64,
                    ..Budget::default()
                };
                let e = encode_to_budget(&img, &b).unwrap();
                assert!(
                    b.counted(e.bytes.len()) <= max_bytes,
                    "{max_bytes} {base64}: {}",
                    e.bytes.len()
                );
                assert!(e.encodes <= MAX_SCALE_ROUNDS * (2 + MAX_QUALITY_STEPS));
            }
        }
    }

    /// A smooth image with some texture: what photos are between noise and flat.
    fn photo_like(w: u32, h: u32) -> RgbImage {
        let mut s = 9u32;
        RgbImage::from_fn(w, h, |x, y| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let g = ((x * 7 + y * 3) % 200) as i32 + (s % 24) as i32;
            image::Rgb([g as u8, (g / 2 + 40) as u8, (255 - g) as u8])
        })
    }

    /// `img` fits `b` unscaled, at the best quality that fits or within 3 %
    /// of the budget, in at most `encodes` whole-image encodes.
    fn best_or_close(img: &RgbImage, b: &Budget, encodes: u32, case: &str) {
        let e = encode_to_budget(img, b).unwrap();
        assert!(b.fits(e.bytes.len()));
        assert_eq!(
            (e.width, e.height),
            img.dimensions(),
            "{case}: no downscale"
        );
        let next = encode_jpeg(img, e.quality + 1).unwrap().len();
        let close = b.counted(e.bytes.len()) as f64 >= CLOSE_ENOUGH * b.max_bytes as f64;
        assert!(
            !b.fits(next) || close,
            "{case}: q{} ({} B) but q+1 fits ({next} B) under {}",
            e.quality,
            e.bytes.len(),
            b.max_bytes
        );
        assert!(e.encodes <= encodes, "{case}: {} encodes", e.encodes);
    }

    #[test]
    fn the_predicted_quality_is_the_best_that_fits_or_within_3_percent() {
        for (img, name) in [
            (noise(640, 480, 5), "noise"),
            (photo_like(800, 600), "photo"),
        ] {
            let full = encode_jpeg(&img, 92).unwrap().len();
            let floor = encode_jpeg(&img, 60).unwrap().len();
            for base64 in [false, true] {
                // Budgets between what quality 60 and 92 need.
                for k in [0.1, 0.35, 0.6, 0.85] {
                    let file = floor as f64 + k * (full - floor) as f64;
                    let b = Budget {
                        max_bytes: if base64 {
                            base64_len(file as usize)
                        } else {
                            file as usize
                        },
                        base64,
                        ..Budget::default()
                    };
                    best_or_close(&img, &b, 4, &format!("{name} {k} {base64}"));
                }
            }
        }
    }

    #[test]
    fn large_images_search_on_bands_for_one_or_two_encodes() {
        for (w, h) in [(1600, 1200), (1280, 2048)] {
            let img = photo_like(w, h);
            let full = encode_jpeg(&img, 92).unwrap().len();
            let floor = encode_jpeg(&img, 60).unwrap().len();
            for k in [0.1, 0.35, 0.6, 0.85] {
                let b = Budget {
                    max_bytes: (floor as f64 + k * (full - floor) as f64) as usize,
                    ..Budget::default()
                };
                // The band search's domain: more than 0.6 bytes a pixel over budget.
                assert!(w as f64 * h as f64 * 0.6 > b.max_bytes as f64);
                best_or_close(&img, &b, 2, &format!("{w}×{h} {k}"));
            }
        }
    }

    #[test]
    fn bands_that_miss_the_detail_cost_encodes_not_the_budget() {
        // Flat in every band, grain everywhere else: the bands predict a
        // file a fraction of the real one's size.
        let (w, h) = (960, 1024);
        let mut s = 21u32;
        let img = RgbImage::from_fn(w, h, |_, y| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let in_band = (y % BAND_PERIOD).wrapping_sub((BAND_PERIOD - BAND) / 2) < BAND;
            let g = if in_band { 128 } else { 88 + (s % 80) as u8 };
            image::Rgb([g, g, g])
        });
        let mut bands = Bands::of(&img).unwrap();
        let whole = encode_jpeg(&img, 92).unwrap().len();
        assert!(bands.predict(92).unwrap() < whole as f64 / 4.0);
        // Budgets the bands' search takes (under 0.6 bytes a pixel) that a
        // quality between 60 and 92 fits.
        let floor = encode_jpeg(&img, 60).unwrap().len();
        let top = whole.min((0.59 * (w * h) as f64) as usize);
        assert!(floor < top, "{floor} {top}");
        for k in [0.05, 0.5, 0.95] {
            let b = Budget {
                max_bytes: floor + ((top - floor) as f64 * k) as usize,
                ..Budget::default()
            };
            let e = encode_to_budget(&img, &b).unwrap();
            assert!(b.fits(e.bytes.len()), "{k}");
            assert_eq!(
                (e.width, e.height),
                (w, h),
                "{k}: a quality fits, no shrink"
            );
            assert!(
                e.encodes <= MAX_QUALITY_STEPS + 2,
                "{k}: {} encodes",
                e.encodes
            );
        }
    }

    #[test]
    fn bands_predict_the_whole_file() {
        let img = photo_like(1600, 1200);
        let mut bands = Bands::of(&img).unwrap();
        assert_eq!(bands.img.height(), 9 * BAND);
        for q in [60, 75, 92] {
            let whole = encode_jpeg(&img, q).unwrap().len() as f64;
            let p = bands.predict(q).unwrap();
            assert!((p / whole - 1.0).abs() < 0.05, "q{q}: {p} for {whole}");
        }
        assert!(Bands::of(&photo_like(4000, 1000)).is_none());
    }

    #[test]
    fn impossible_budget_is_a_typed_error() {
        let img = noise(300, 300, 3);
        let b = Budget {
            max_bytes: 500,
            min_side: 200,
            ..Budget::default()
        };
        assert_eq!(
            encode_to_budget(&img, &b).unwrap_err().code(),
            "BUDGET_UNREACHABLE"
        );
    }
}
