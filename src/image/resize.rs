//! Crop and resize, for 8-bit RGB only: the two filters this crate needs, in
//! fixed point, separable (rows, then columns).
//!
//! - [`Filter::CatmullRom`] for the photos sent to a service. Its support
//!   widens with the downscale factor (an area pre-filter built into the
//!   kernel, as Pillow does), so a 12 MP photo shrunk to 2048 px does not
//!   alias.
//! - [`Filter::Bilinear`] samples: the two nearest pixels on each axis, with
//!   no pre-filter. This is what MediaPipe's pre-processing does for
//!   BlazeFace's input, and the detector matches it (`detect::letterbox`).
//!
//! The window of every output pixel is clipped to the image, not to the
//! region, so a region's border reads its real neighbours. Weights are i16
//! with 14 fractional bits, summing to exactly 2^14 (`ONE`), so a flat
//! colour stays that colour.
//!
//! In the wasm both passes are written with simd128 intrinsics (module
//! `simd`): the row pass takes one pixel's three channels in one vector, the
//! column pass sixteen bytes of two rows interleaved, two taps at a time with
//! `i32x4.dot_i16x8_s`. Natively the scalar loops run, and LLVM vectorises
//! what it can. The wasm's passes are unit-tested where they run
//! (scripts/test-wasm-units.sh).

use super::view::{Pixels, Yuv420};
use super::{ImageView, RgbImage};
use crate::error::ImageError;

/// How output pixels are computed from the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Cubic, B = 0, C = ½; support 2 source pixels, times the downscale factor.
    CatmullRom,
    /// Linear interpolation between the two nearest pixels on each axis.
    Bilinear,
}

/// Fractional bits of the weights: i16 weights, so simd128's i16 dot product
/// can take two taps at once.
const BITS: u32 = 14;
const ONE: i32 = 1 << BITS;

impl Filter {
    fn eval(self, x: f64) -> f64 {
        let x = x.abs();
        match self {
            Filter::CatmullRom if x < 1.0 => (1.5 * x - 2.5) * x * x + 1.0,
            Filter::CatmullRom if x < 2.0 => ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0,
            Filter::Bilinear if x < 1.0 => 1.0 - x,
            _ => 0.0,
        }
    }
    fn support(self) -> f64 {
        match self {
            Filter::CatmullRom => 2.0,
            Filter::Bilinear => 1.0,
        }
    }
}

/// The weights of one axis: output `i` reads `count[i]` source pixels from
/// `first[i]`, with weights `coeffs[i * width..][..count[i]]`; the rest of its
/// `width` (an even number) are zero.
struct Taps {
    first: Vec<usize>,
    count: Vec<usize>,
    width: usize,
    coeffs: Vec<i16>,
}

impl Taps {
    /// `out` outputs over the source span `start..start + len`, reading no
    /// pixel outside `0..bound`.
    fn new(filter: Filter, start: u32, len: u32, bound: u32, out: u32) -> Taps {
        let scale = len as f64 / out as f64;
        // Widening the kernel when shrinking is the pre-filter; sampling does not.
        let stretch = match filter {
            Filter::CatmullRom => scale.max(1.0),
            Filter::Bilinear => 1.0,
        };
        let support = filter.support() * stretch;
        let width = ((support.ceil() as usize) * 2 + 1).next_multiple_of(2);
        let bound = bound.max(1) as i64;
        let mut first = Vec::with_capacity(out as usize);
        let mut count = Vec::with_capacity(out as usize);
        let mut coeffs = vec![0i16; out as usize * width];
        let mut w = vec![0f64; width];
        for i in 0..out as usize {
            let centre = start as f64 + (i as f64 + 0.5) * scale;
            let mut lo = ((centre - support + 0.5).floor() as i64).clamp(0, bound - 1);
            let mut hi = ((centre + support + 0.5).floor() as i64).clamp(lo + 1, bound);
            let weight = |j: i64| filter.eval((j as f64 + 0.5 - centre) / stretch);
            // Drop zero taps at either end (an unscaled axis has one tap, not five).
            while hi - lo > 1 && weight(lo) == 0.0 {
                lo += 1;
            }
            while hi - lo > 1 && weight(hi - 1) == 0.0 {
                hi -= 1;
            }
            let n = ((hi - lo) as usize).min(width);
            let mut sum = 0.0;
            for (k, wk) in w.iter_mut().enumerate().take(n) {
                *wk = weight(lo + k as i64);
                sum += *wk;
            }
            let row = &mut coeffs[i * width..][..width];
            if sum.abs() < 1e-9 {
                // Only when the window fell off the image: take its nearest pixel.
                row[0] = ONE as i16;
            } else {
                let mut total = 0i32;
                let mut peak = 0;
                for k in 0..n {
                    // |weight| ≤ 1.2 for these filters: within i16 at 14 bits.
                    row[k] = (w[k] / sum * ONE as f64).round() as i16;
                    total += row[k] as i32;
                    if row[k] > row[peak] {
                        peak = k;
                    }
                }
                // Rounding each weight can leave the sum a unit off: give it to the largest.
                row[peak] += (ONE - total) as i16;
            }
            first.push(lo as usize);
            count.push(n);
        }
        Taps {
            first,
            count,
            width,
            coeffs,
        }
    }
    /// First source pixel, tap count and weights (zero-padded to `width`) of output `i`.
    #[inline(always)]
    fn of(&self, i: usize) -> (usize, usize, &[i16]) {
        (
            self.first[i],
            self.count[i],
            &self.coeffs[i * self.width..][..self.width],
        )
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn to_u8(acc: i32) -> u8 {
    ((acc + (ONE >> 1)) >> BITS).clamp(0, 255) as u8
}

/// The row pass: `out` (3 bytes a pixel) from the source row that starts at
/// byte `row` of `src`, the whole image, `BPP` bytes a pixel (RGB or RGBA).
///
/// Never inlined: see `detect::net::Net::run`.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(never)]
fn row_pass<const BPP: usize>(src: &[u8], row: usize, taps: &Taps, out: &mut [u8]) {
    for (i, px) in out.chunks_exact_mut(3).enumerate() {
        let (first, n, coeffs) = taps.of(i);
        let mut acc = [0i32; 3];
        let pixels = src[row + first * BPP..][..n * BPP].chunks_exact(BPP);
        for (&c, p) in coeffs.iter().zip(pixels) {
            for ch in 0..3 {
                acc[ch] += c as i32 * p[ch] as i32;
            }
        }
        for ch in 0..3 {
            px[ch] = to_u8(acc[ch]);
        }
    }
}

/// What the column pass reads: `len` bytes of each row, `start` bytes in,
/// rows `stride` bytes apart from source row `y_lo` on. The row pass's
/// output, or the source image itself when the columns go first.
struct Rows<'a> {
    data: &'a [u8],
    stride: usize,
    y_lo: usize,
    start: usize,
    len: usize,
}

impl<'a> Rows<'a> {
    fn row(&self, y: usize) -> &'a [u8] {
        &self.data[(y - self.y_lo) * self.stride + self.start..][..self.len]
    }
}

/// The column pass's scratch, kept from row to row: a row's sums.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type ColumnScratch<'a> = Vec<i32>;

/// The column pass: output row `i` of `down` into `out`, from `rows`.
///
/// Never inlined: see `detect::net::Net::run`.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(never)]
fn column_pass(rows: &Rows, down: &Taps, i: usize, acc: &mut ColumnScratch, out: &mut [u8]) {
    let (first, n, coeffs) = down.of(i);
    acc.clear();
    acc.resize(rows.len, 0);
    for (k, &c) in coeffs.iter().enumerate().take(n) {
        let row = rows.row(first + k);
        for (a, &p) in acc.iter_mut().zip(row) {
            *a += c as i32 * p as i32;
        }
    }
    for (o, &a) in out.iter_mut().zip(acc.iter()) {
        *o = to_u8(a);
    }
}

/// simd128 versions of the two passes. Both take two taps per i16 dot
/// product. The only `unsafe` is the loads and stores, each through a
/// `&[u8; 8]`, `&[u8; 16]` or `&mut [u8; 16]` (always valid; no alignment
/// needed).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[allow(unsafe_code)]
mod simd {
    use super::{BITS, ONE, Rows, Taps};
    use core::arch::wasm32::*;

    /// Eight source bytes from `at`, zero past the end of `src`.
    #[inline(always)]
    fn eight(src: &[u8], at: usize) -> v128 {
        if let Some(Ok(b)) = src.get(at..at + 8).map(<&[u8; 8]>::try_from) {
            // SAFETY: `b` is 8 readable bytes; no alignment is required.
            return unsafe { v128_load64_zero(b.as_ptr().cast()) };
        }
        let mut b = [0u8; 8];
        let s = src.get(at..).unwrap_or(&[]);
        let n = s.len().min(8);
        b[..n].copy_from_slice(&s[..n]);
        u64x2(u64::from_le_bytes(b), 0)
    }

    /// Two i16 weights in each i32 lane: [c₀ c₁ c₀ c₁ …].
    #[inline(always)]
    fn pair(c: &[i16]) -> v128 {
        i32x4_splat((c[0] as u16 as i32) | ((c[1] as i32) << 16))
    }

    #[inline(always)]
    fn pack(acc: v128) -> u32 {
        let v = i32x4_shr(acc, BITS);
        let v = u8x16_narrow_i16x8(i16x8_narrow_i32x4(v, v), i16x8_splat(0));
        u32x4_extract_lane::<0>(v)
    }

    /// Adds two taps of one pixel: the 8 bytes `v` from the first tap's pixel
    /// [r₀ g₀ b₀ r₁ g₁ b₁ ..] (RGBA: [r₀ g₀ b₀ a₀ r₁ g₁ b₁ a₁]) become
    /// [r₀ r₁ g₀ g₁ b₀ b₁ 0 0], dotted with the weights.
    #[inline(always)]
    fn two_taps<const BPP: usize>(acc: v128, v: v128, c: &[i16]) -> v128 {
        let v = if BPP == 4 {
            i8x16_shuffle::<0, 16, 4, 16, 1, 16, 5, 16, 2, 16, 6, 16, 16, 16, 16, 16>(
                v,
                u8x16_splat(0),
            )
        } else {
            i8x16_shuffle::<0, 16, 3, 16, 1, 16, 4, 16, 2, 16, 5, 16, 16, 16, 16, 16>(
                v,
                u8x16_splat(0),
            )
        };
        // The pixel vector's last lane is zero, whatever weights it meets.
        i32x4_add(acc, i32x4_dot_i16x8(v, pair(c)))
    }

    /// A pixel's three channels in one vector: two taps a step, as
    /// [r₀ r₁ g₀ g₁ b₀ b₁ 0 0] · [c₀ c₁ c₀ c₁ c₀ c₁ c₀ c₁].
    ///
    /// Never inlined: see `detect::net::Net::run`.
    #[inline(never)]
    pub(super) fn row_pass<const BPP: usize>(src: &[u8], row: usize, taps: &Taps, out: &mut [u8]) {
        // A pair of taps is two pixels: 2·BPP bytes on, 8 bytes read.
        let step = 2 * BPP;
        for (i, px) in out.chunks_exact_mut(3).enumerate() {
            let (first, n, coeffs) = taps.of(i);
            let base = row + first * BPP;
            let mut acc = i32x4_splat(ONE >> 1);
            let pairs = coeffs.chunks_exact(2).take(n.div_ceil(2)).enumerate();
            // Pair p reads 8 bytes from base + step·p: all inside the window
            // `w` but at an RGB image's last pixels, which read a zero-padded copy.
            match src.get(base..base + n.div_ceil(2) * step + 8usize.saturating_sub(step)) {
                Some(w) => {
                    for (p, c) in pairs {
                        // SAFETY: step·p + 8 ≤ w.len() for every pair p (the
                        // `get` above); no alignment is required.
                        let v = unsafe { v128_load64_zero(w.as_ptr().add(p * step).cast()) };
                        acc = two_taps::<BPP>(acc, v, c);
                    }
                }
                None => {
                    for (p, c) in pairs {
                        acc = two_taps::<BPP>(acc, eight(src, base + p * step), c);
                    }
                }
            }
            let b = pack(acc).to_le_bytes();
            px.copy_from_slice(&b[..3]);
        }
    }

    /// The column pass's scratch, kept from row to row: the row pairs and
    /// their weights.
    pub(super) type ColumnScratch<'a> = Vec<(&'a [u8], &'a [u8], v128)>;

    /// Sixteen bytes at a time, two rows a step: the rows' bytes interleaved
    /// [a₀ b₀ a₁ b₁ …] and dotted with [c₀ c₁ c₀ c₁ …]. Each 16-byte strip
    /// takes every tap before the next strip, its sums in four registers
    /// (summed in memory tap by tap, the loads and stores of the sums cost
    /// as much as the arithmetic).
    ///
    /// Never inlined: see `detect::net::Net::run`.
    #[inline(never)]
    pub(super) fn column_pass<'a>(
        rows: &Rows<'a>,
        down: &Taps,
        i: usize,
        pairs: &mut ColumnScratch<'a>,
        out: &mut [u8],
    ) {
        let (first, n, coeffs) = down.of(i);
        let len = rows.len;
        // Pairs of rows and their weights; an odd count's last pair reads
        // its row twice, the second time at weight 0 (the weights are
        // zero-padded to an even width).
        pairs.clear();
        pairs.extend((0..n.div_ceil(2)).map(|p| {
            let ra = rows.row(first + 2 * p);
            let rb = if 2 * p + 1 < n {
                rows.row(first + 2 * p + 1)
            } else {
                ra
            };
            (ra, rb, pair(&coeffs[2 * p..]))
        }));
        // The last len % 16 bytes go one at a time.
        let tail = len / 16 * 16;
        for (s, o) in out[..tail].chunks_exact_mut(16).enumerate() {
            let at = s * 16;
            let mut acc = [i32x4_splat(ONE >> 1); 4];
            for &(ra, rb, c) in pairs.iter() {
                // SAFETY: every row is `len` bytes (`Rows::row`) and
                // at + 16 ≤ tail ≤ len; no alignment is required.
                let (va, vb) = unsafe {
                    (
                        v128_load(ra.as_ptr().add(at).cast()),
                        v128_load(rb.as_ptr().add(at).cast()),
                    )
                };
                let lo =
                    i8x16_shuffle::<0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23>(va, vb);
                let hi =
                    i8x16_shuffle::<8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31>(
                        va, vb,
                    );
                let parts = [
                    u16x8_extend_low_u8x16(lo),
                    u16x8_extend_high_u8x16(lo),
                    u16x8_extend_low_u8x16(hi),
                    u16x8_extend_high_u8x16(hi),
                ];
                for (a, v) in acc.iter_mut().zip(parts) {
                    *a = i32x4_add(*a, i32x4_dot_i16x8(v, c));
                }
            }
            let v = acc.map(|a| i32x4_shr(a, BITS));
            let v = u8x16_narrow_i16x8(
                i16x8_narrow_i32x4(v[0], v[1]),
                i16x8_narrow_i32x4(v[2], v[3]),
            );
            // SAFETY: `o` is 16 bytes (chunks_exact); no alignment is required.
            unsafe { v128_store(o.as_mut_ptr().cast(), v) };
        }
        for (x, o) in out.iter_mut().enumerate().skip(tail) {
            let mut a = ONE >> 1;
            for (k, &w) in coeffs.iter().enumerate().take(n) {
                a += w as i32 * rows.row(first + k)[x] as i32;
            }
            *o = (a >> BITS).clamp(0, 255) as u8;
        }
    }
}
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use simd::{ColumnScratch, column_pass, row_pass};

/// Copies the `w`×`h` region at (`x`, `y`), clamped to the image.
pub fn crop(src: &RgbImage, x: u32, y: u32, w: u32, h: u32) -> RgbImage {
    let x = x.min(src.width());
    let y = y.min(src.height());
    let w = w.min(src.width() - x);
    let h = h.min(src.height() - y);
    // Whole rows at a time: `image`'s generic crop copies pixel by pixel.
    let (stride, row) = (src.width() as usize * 3, w as usize * 3);
    let mut out = Vec::with_capacity(row * h as usize);
    for r in y as usize..(y + h) as usize {
        out.extend_from_slice(&src.as_raw()[r * stride + x as usize * 3..][..row]);
    }
    RgbImage::from_raw(w, h, out).unwrap_or_default()
}

/// Resizes a plane of f32 samples (`w`×`h`, rows of `w`) to `ow`×`oh` with
/// the Catmull-Rom kernel of [`resize_rgb`] (widened the same way when
/// shrinking), in f32 with nothing rounded between the passes. The quality
/// report's sharpness reads luma this way: one channel instead of three, and
/// no 8-bit step in the middle of a measure of fine detail.
///
/// Columns first: that pass runs along whole rows, which the compiler
/// vectorises, and leaves the row pass (scalar, a few taps an output) only
/// `oh` rows. Returns an empty plane when a side is zero or `src` is short.
pub fn resize_plane(src: &[f32], w: usize, h: usize, ow: usize, oh: usize) -> Vec<f32> {
    if w == 0 || h == 0 || ow == 0 || oh == 0 || src.len() < w * h {
        return Vec::new();
    }
    let to_u32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    let down = Taps::new(Filter::CatmullRom, 0, to_u32(h), to_u32(h), to_u32(oh));
    let across = Taps::new(Filter::CatmullRom, 0, to_u32(w), to_u32(w), to_u32(ow));
    let weights =
        |t: &Taps| -> Vec<f32> { t.coeffs.iter().map(|&c| c as f32 / ONE as f32).collect() };
    let (wd, wa) = (weights(&down), weights(&across));
    // Each row padded with `across.width` zeros: the row pass then reads all
    // `width` taps of every output (the unused ones weigh 0) in fours.
    let stride = w + across.width;
    let mut cols = vec![0f32; oh * stride];
    for (i, out) in cols.chunks_exact_mut(stride).enumerate() {
        let (first, n) = (down.first[i], down.count[i]);
        for (k, &c) in wd[i * down.width..][..n].iter().enumerate() {
            add_scaled(&mut out[..w], &src[(first + k) * w..][..w], c);
        }
    }
    let mut dst = vec![0f32; oh * ow];
    for (row, out) in cols.chunks_exact(stride).zip(dst.chunks_exact_mut(ow)) {
        plane_row_pass(out, row, &wa, &across);
    }
    dst
}

/// `out += c × src`, one source row into one column-pass row of
/// [`resize_plane`]. Out of line, like the helpers below: V8 optimises a
/// small function called per row and swaps it in between rows, where the
/// whole pass, called once, would wait for the next image (and its compile
/// would take a core from the first detection; docs/design-decisions.md,
/// "Small hot functions").
#[inline(never)]
fn add_scaled(out: &mut [f32], src: &[f32], c: f32) {
    for (o, &v) in out.iter_mut().zip(src) {
        *o += c * v;
    }
}

/// One output row of [`resize_plane`]'s row pass: each output the dot of
/// its taps with the padded row.
#[inline(never)]
fn plane_row_pass(out: &mut [f32], row: &[f32], wa: &[f32], across: &Taps) {
    for (x, o) in out.iter_mut().enumerate() {
        let c = &wa[x * across.width..][..across.width];
        let r = &row[across.first[x]..][..across.width];
        let mut lanes = [0f32; 4];
        for (c4, r4) in c.chunks_exact(4).zip(r.chunks_exact(4)) {
            for k in 0..4 {
                lanes[k] += c4[k] * r4[k];
            }
        }
        // `width` is even, not always a multiple of four.
        for (&ck, &rk) in c
            .chunks_exact(4)
            .remainder()
            .iter()
            .zip(r.chunks_exact(4).remainder())
        {
            lanes[0] += ck * rk;
        }
        *o = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
}

/// Resizes to exactly `w`×`h` with a Catmull-Rom convolution (sharp enough
/// for a face matcher, no ringing halos like Lanczos on JPEG edges).
pub fn resize_rgb(src: &RgbImage, w: u32, h: u32) -> Result<RgbImage, ImageError> {
    resize_region_rgb(src, (0, 0, src.width(), src.height()), w, h)
}

/// Resizes the region (`x`, `y`, `rw`, `rh`) of `src` to exactly `w`×`h` with
/// a Catmull-Rom convolution, reading the source in place: no copy of the
/// region is made first (for a 12 MP photo that copy alone is 36 MB).
pub fn resize_region_rgb(
    src: &RgbImage,
    region: (u32, u32, u32, u32),
    w: u32,
    h: u32,
) -> Result<RgbImage, ImageError> {
    resize_region(src, region, w, h, Filter::CatmullRom)
}

/// Resizes the region (`x`, `y`, `rw`, `rh`) of `src`, clamped to the image,
/// to exactly `w`×`h` (each at least 1) with `filter`.
/// `src` is an [`RgbImage`] or an [`ImageView`] (RGBA is read in place);
/// the output is RGB.
pub fn resize_region<'a>(
    src: impl Into<ImageView<'a>>,
    region: (u32, u32, u32, u32),
    w: u32,
    h: u32,
    filter: Filter,
) -> Result<RgbImage, ImageError> {
    resize_view(src.into(), region, w, h, filter)
}

/// [`resize_region`], one copy of the code for every kind of image.
fn resize_view(
    src: ImageView,
    region: (u32, u32, u32, u32),
    w: u32,
    h: u32,
    filter: Filter,
) -> Result<RgbImage, ImageError> {
    resize_in_order(src, region, w, h, filter, None)
}

/// The row pass for `bpp`-byte pixels (3 or 4). One call per row.
#[inline(never)]
fn any_row_pass(bpp: usize, src: &[u8], row: usize, taps: &Taps, out: &mut [u8]) {
    if bpp == 4 {
        row_pass::<4>(src, row, taps, out);
    } else {
        row_pass::<3>(src, row, taps, out);
    }
}

/// Every output row of `down` into `out`, `rows.len` bytes each.
#[inline(never)]
fn all_columns(rows: &Rows, down: &Taps, out: &mut [u8]) {
    let mut scratch = ColumnScratch::new();
    for (i, o) in out.chunks_exact_mut(rows.len).enumerate() {
        column_pass(rows, down, i, &mut scratch, o);
    }
}

/// Whether the column pass should go first. The row pass costs about nine
/// times the column pass per byte and tap (Node profile of a 12 MP
/// prepare). Rows first run it on every source row read; columns first run
/// it on the output rows only, but then the column pass covers the source's
/// width (`x_span` pixels). Priced at 3 bytes a pixel whatever the input, so
/// that an RGBA frame takes the order its RGB would (the same bytes out).
/// `taps_x`, `taps_y`: the taps of all outputs across and down.
fn columns_go_first(
    [taps_x, taps_y]: [usize; 2],
    rows_read: usize,
    x_span: usize,
    w: usize,
    h: usize,
) -> bool {
    let rows_first = 9 * rows_read * taps_x + taps_y * w * 3;
    let columns_first = taps_y * x_span * 3 + 9 * h * taps_x;
    columns_first < rows_first
}

/// [`resize_view`], with the passes' order forced (`Some(true)`: columns
/// first) for the tests, or chosen by cost (`None`).
fn resize_in_order(
    src: ImageView,
    region: (u32, u32, u32, u32),
    w: u32,
    h: u32,
    filter: Filter,
    columns_first: Option<bool>,
) -> Result<RgbImage, ImageError> {
    let (iw, ih) = src.dimensions();
    let (x, y, rw, rh) = region;
    let x = x.min(iw);
    let y = y.min(ih);
    let rw = rw.min(iw - x);
    let rh = rh.min(ih - y);
    let (w, h) = (w.max(1), h.max(1));
    if rw == 0 || rh == 0 {
        return Err(ImageError::Resize {
            reason: "the region is empty".into(),
        });
    }
    let (raw, bpp, bgr) = match src.pixels() {
        Pixels::Packed { raw, bpp, bgr } => (raw, bpp, bgr),
        Pixels::Yuv(yuv) if filter == Filter::Bilinear => {
            return sample_yuv(&yuv, (x, y, rw, rh), (iw, ih), w, h);
        }
        // A widened kernel reads many pixels per output: the frame as RGB
        // first, once each.
        Pixels::Yuv(_) => {
            let rgb = src.to_rgb();
            return resize_in_order((&rgb).into(), region, w, h, filter, columns_first);
        }
    };
    if (x, y, rw, rh, w, h) == (0, 0, iw, ih, iw, ih) && bpp == 3 && !bgr {
        return RgbImage::from_raw(iw, ih, raw.to_vec()).ok_or_else(|| ImageError::Resize {
            reason: "the input buffer has the wrong size".into(),
        });
    }
    let across = Taps::new(filter, x, rw, iw, w);
    let down = Taps::new(filter, y, rh, ih, h);
    // The source rows the columns pass reads, and the row pass of each.
    let y_lo = down.first[0];
    let mut y_hi = y_lo + 1;
    for i in 0..h as usize {
        y_hi = y_hi.max(down.first[i] + down.count[i]);
    }
    let stride_in = iw as usize * bpp;
    let stride = w as usize * 3;
    let mut dst = vec![0u8; h as usize * stride];
    // Sampling a large photo down reads two rows in many: pass only the rows read.
    let mut read = vec![false; y_hi - y_lo];
    let (mut rows_read, mut taps_y) = (0, 0);
    for i in 0..h as usize {
        let (first, n, _) = down.of(i);
        taps_y += n;
        for r in first..first + n {
            rows_read += !read[r - y_lo] as usize;
            read[r - y_lo] = true;
        }
    }
    // The source columns the row pass reads. Plain loops: these sums as
    // iterator chains came to 1.5 KB of vectorised wasm.
    let (mut x_lo, mut x_hi, mut taps_x) = (usize::MAX, 0, 0);
    for i in 0..w as usize {
        let (first, n, _) = across.of(i);
        x_lo = x_lo.min(first);
        x_hi = x_hi.max(first + n);
        taps_x += n;
    }
    let columns_first = columns_first.unwrap_or_else(|| {
        columns_go_first(
            [taps_x, taps_y],
            rows_read,
            x_hi - x_lo,
            w as usize,
            h as usize,
        )
    });
    let mut across = across;
    if columns_first {
        // The output's rows at the source's width (the columns read), then across.
        let span = (x_hi - x_lo) * bpp;
        let source = Rows {
            data: raw,
            stride: stride_in,
            y_lo: 0,
            start: x_lo * bpp,
            len: span,
        };
        let mut mid = vec![0u8; h as usize * span];
        all_columns(&source, &down, &mut mid);
        for f in &mut across.first {
            *f -= x_lo;
        }
        for (i, out) in dst.chunks_exact_mut(stride).enumerate() {
            any_row_pass(bpp, &mid, i * span, &across, out);
        }
    } else {
        let mut rows = vec![0u8; (y_hi - y_lo) * stride];
        for (r, out) in rows.chunks_exact_mut(stride).enumerate() {
            if read[r] {
                any_row_pass(bpp, raw, (y_lo + r) * stride_in, &across, out);
            }
        }
        let rows = Rows {
            data: &rows,
            stride,
            y_lo,
            start: 0,
            len: stride,
        };
        all_columns(&rows, &down, &mut dst);
    }
    if bgr {
        // Blue first in, red first out: on the output, which is the smaller.
        for p in dst.chunks_exact_mut(3) {
            p.swap(0, 2);
        }
    }
    RgbImage::from_raw(w, h, dst).ok_or_else(|| ImageError::Resize {
        reason: "the output buffer has the wrong size".into(),
    })
}

/// [`resize_in_order`]'s bilinear samples on YUV 4:2:0: each output pixel
/// straight from its 2×2 source pixels, each converted to RGB first (so the
/// result is the resize of the frame's RGB, as the browser would convert
/// it), in one rounding. The detector's letterbox reads a camera frame so.
#[inline(never)]
fn sample_yuv(
    src: &Yuv420,
    (x, y, rw, rh): (u32, u32, u32, u32),
    (iw, ih): (u32, u32),
    w: u32,
    h: u32,
) -> Result<RgbImage, ImageError> {
    let across = Taps::new(Filter::Bilinear, x, rw, iw, w);
    let down = Taps::new(Filter::Bilinear, y, rh, ih, h);
    let mut dst = Vec::with_capacity(w as usize * h as usize * 3);
    for i in 0..h as usize {
        let (fy, ny, cy) = down.of(i);
        for j in 0..w as usize {
            let (fx, nx, cx) = across.of(j);
            let mut acc = [ONE >> 1; 3];
            for (a, &wy) in cy[..ny].iter().enumerate() {
                for (b, &wx) in cx[..nx].iter().enumerate() {
                    // The tap's weight, 2^14 each way, brought back to 14 bits.
                    let k = (wy as i32 * wx as i32 + (ONE >> 1)) >> BITS;
                    let p = src.rgb(fx + b, fy + a);
                    for c in 0..3 {
                        acc[c] += k * p[c] as i32;
                    }
                }
            }
            dst.extend(acc.map(|v| (v >> BITS).clamp(0, 255) as u8));
        }
    }
    RgbImage::from_raw(w, h, dst).ok_or_else(|| ImageError::Resize {
        reason: "the output buffer has the wrong size".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output `i`'s source pixels and weights in f64, normalised: the exact
    /// kernel the fixed point approximates.
    fn exact_weights(
        f: Filter,
        start: u32,
        len: u32,
        bound: u32,
        out: u32,
        i: u32,
    ) -> Vec<(usize, f64)> {
        let scale = len as f64 / out as f64;
        let stretch = if f == Filter::CatmullRom {
            scale.max(1.0)
        } else {
            1.0
        };
        let centre = start as f64 + (i as f64 + 0.5) * scale;
        let mut v: Vec<(usize, f64)> = (0..bound as usize)
            .map(|j| (j, f.eval((j as f64 + 0.5 - centre) / stretch)))
            .filter(|(_, w)| *w != 0.0)
            .collect();
        let s: f64 = v.iter().map(|(_, w)| w).sum();
        v.iter_mut().for_each(|(_, w)| *w /= s);
        v
    }

    /// The same resize in f64 with no rounding until the end: what the fixed
    /// point must stay within a unit of.
    fn reference(
        src: &RgbImage,
        region: (u32, u32, u32, u32),
        w: u32,
        h: u32,
        f: Filter,
        columns_first: bool,
    ) -> Vec<f64> {
        let (iw, ih) = src.dimensions();
        let (x, y, rw, rh) = region;
        let weights = |start, len, bound, out, i| exact_weights(f, start, len, bound, out, i);
        let mut out = Vec::new();
        for oy in 0..h {
            let wy = weights(y, rh, ih, h, oy);
            for ox in 0..w {
                let wx = weights(x, rw, iw, w, ox);
                let px = |sx: usize, sy: usize| src.get_pixel(sx as u32, sy as u32).0;
                for c in 0..3 {
                    // The first pass rounded to 8 bits, as the fixed point does.
                    let (outer, inner) = if columns_first {
                        (&wx, &wy)
                    } else {
                        (&wy, &wx)
                    };
                    let mut acc = 0.0;
                    for &(so, ko) in outer {
                        let mut first = 0.0;
                        for &(si, ki) in inner {
                            let p = if columns_first {
                                px(so, si)
                            } else {
                                px(si, so)
                            };
                            first += ki * p[c] as f64;
                        }
                        acc += ko * first.round().clamp(0.0, 255.0);
                    }
                    out.push(acc);
                }
            }
        }
        out
    }

    fn pattern(w: u32, h: u32) -> RgbImage {
        let mut s = 0x2545_f491u32;
        RgbImage::from_fn(w, h, |x, y| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            let n = (s % 40) as i32 - 20;
            let base = [(x * 7 + y * 3) as i32, (x ^ y) as i32 * 2, 128 + n];
            image::Rgb(base.map(|v| v.clamp(0, 255) as u8))
        })
    }

    #[test]
    fn fixed_point_is_within_a_unit_of_the_exact_resize() {
        let src = pattern(97, 61);
        let cases = [
            ((0, 0, 97, 61), 40, 25),   // shrink 2.4×: widened kernel
            ((0, 0, 97, 61), 211, 130), // enlarge
            ((13, 7, 50, 40), 19, 15),  // a region: reads its real neighbours
            ((0, 0, 97, 61), 97, 30),   // one axis only
            ((90, 50, 7, 11), 3, 5),    // a region at the corner
        ];
        for f in [Filter::CatmullRom, Filter::Bilinear] {
            for (region, w, h) in cases {
                for columns_first in [false, true] {
                    let got = resize_in_order((&src).into(), region, w, h, f, Some(columns_first))
                        .unwrap();
                    let want = reference(&src, region, w, h, f, columns_first);
                    let worst = got
                        .as_raw()
                        .iter()
                        .zip(&want)
                        .map(|(&g, &r)| (g as f64 - r.round().clamp(0.0, 255.0)).abs())
                        .fold(0.0, f64::max);
                    assert!(
                        worst <= 1.0,
                        "{f:?} {region:?} → {w}×{h}, columns first {columns_first}: off by {worst}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_cheaper_pass_goes_first() {
        // Columns first when a photo shrinks on both axes with the wide
        // kernel (the 12 MP prepare); rows first when the letterbox samples
        // a frame (few of its rows are read at all), and when enlarging.
        let order = |iw: u32, ih: u32, w: u32, h: u32, f: Filter| {
            let across = Taps::new(f, 0, iw, iw, w);
            let down = Taps::new(f, 0, ih, ih, h);
            let mut read = vec![false; ih as usize];
            for i in 0..h as usize {
                let (first, n, _) = down.of(i);
                read[first..first + n].iter_mut().for_each(|r| *r = true);
            }
            let rows = read.iter().filter(|&&r| r).count();
            let taps = [across.count.iter().sum(), down.count.iter().sum()];
            columns_go_first(taps, rows, iw as usize, w as usize, h as usize)
        };
        assert!(order(4032, 3024, 2048, 1536, Filter::CatmullRom));
        assert!(!order(640, 480, 128, 96, Filter::Bilinear));
        assert!(!order(4032, 3024, 256, 192, Filter::Bilinear));
        assert!(!order(640, 480, 1280, 960, Filter::CatmullRom));
    }

    #[test]
    fn plane_resize_is_the_exact_kernel_in_f32() {
        let src: Vec<f32> = pattern(97, 61)
            .pixels()
            .map(|p| p.0[1] as f32 + 0.25)
            .collect();
        for (w, h) in [(40, 25), (211, 130), (97, 30), (3, 5), (128, 80)] {
            let got = resize_plane(&src, 97, 61, w, h);
            assert_eq!(got.len(), w * h);
            let mut worst = 0.0f64;
            for oy in 0..h {
                let wy = exact_weights(Filter::CatmullRom, 0, 61, 61, h as u32, oy as u32);
                for ox in 0..w {
                    let wx = exact_weights(Filter::CatmullRom, 0, 97, 97, w as u32, ox as u32);
                    let mut want = 0.0;
                    for &(sy, ky) in &wy {
                        for &(sx, kx) in &wx {
                            want += ky * kx * src[sy * 97 + sx] as f64;
                        }
                    }
                    worst = worst.max((got[oy * w + ox] as f64 - want).abs());
                }
            }
            // Only the weights' 14 bits part them: a few hundredths.
            assert!(worst < 0.1, "{w}×{h}: off by {worst}");
        }
        let flat = vec![77.5f32; 30 * 20];
        assert!(
            resize_plane(&flat, 30, 20, 128, 85)
                .iter()
                .all(|&v| (v - 77.5).abs() < 1e-3)
        );
        assert!(
            resize_plane(&flat, 30, 21, 8, 8).is_empty(),
            "a short plane is refused"
        );
        assert!(resize_plane(&flat, 30, 20, 0, 8).is_empty());
    }

    #[test]
    fn bilinear_samples_between_the_two_nearest_pixels() {
        // A ramp of 0, 10, 20, …: halving samples between pixel pairs (5, 25, …),
        // not the average of a wider window.
        let src = RgbImage::from_fn(8, 1, |x, _| image::Rgb([x as u8 * 10; 3]));
        let out = resize_region(&src, (0, 0, 8, 1), 4, 1, Filter::Bilinear).unwrap();
        let r: Vec<u8> = out.pixels().map(|p| p.0[0]).collect();
        assert_eq!(r, [5, 25, 45, 65]);
    }

    #[test]
    fn resize_keeps_flat_colour_and_size() {
        let src = RgbImage::from_pixel(301, 207, image::Rgb([10, 120, 250]));
        for (w, h) in [(100, 69), (1, 1), (602, 414), (3, 207)] {
            let out = resize_rgb(&src, w, h).unwrap();
            assert_eq!(out.dimensions(), (w, h));
            assert!(out.pixels().all(|p| p.0 == [10, 120, 250]), "{w}×{h}");
        }
    }

    #[test]
    fn resizing_a_region_equals_cropping_then_resizing() {
        let src = RgbImage::from_fn(300, 200, |x, y| {
            image::Rgb([x as u8, y as u8, (x ^ y) as u8])
        });
        let a = resize_region_rgb(&src, (40, 30, 120, 90), 60, 45).unwrap();
        let b = resize_rgb(&crop(&src, 40, 30, 120, 90), 60, 45).unwrap();
        // At the region's border the in-place resize reads the real
        // neighbours where the copy repeats its edge: compare the inside.
        let mut worst = 0;
        for y in 2..43 {
            for x in 2..58 {
                for c in 0..3 {
                    let d = (a.get_pixel(x, y).0[c] as i32 - b.get_pixel(x, y).0[c] as i32).abs();
                    worst = worst.max(d);
                }
            }
        }
        assert!(worst <= 1, "max difference inside {worst}");
        let same = resize_region_rgb(&src, (0, 0, 300, 200), 300, 200).unwrap();
        assert_eq!(same, src);
    }

    /// `src` with an alpha byte after every pixel, a different one each time.
    fn with_alpha(src: &RgbImage) -> Vec<u8> {
        let mut out = Vec::with_capacity(src.as_raw().len() / 3 * 4);
        for (i, p) in src.as_raw().chunks_exact(3).enumerate() {
            out.extend_from_slice(p);
            out.push((i * 37) as u8);
        }
        out
    }

    #[test]
    fn rgba_read_in_place_resizes_as_its_rgb_does() {
        let src = pattern(97, 61);
        let rgba = with_alpha(&src);
        let view = ImageView::rgba(&rgba, 97, 61).unwrap();
        let cases = [
            ((0, 0, 97, 61), 40, 25),
            ((0, 0, 97, 61), 211, 130),
            ((13, 7, 50, 40), 19, 15),
            ((90, 50, 7, 11), 3, 5), // the last pixels: the window past the row's end
            ((0, 0, 97, 61), 97, 61), // the same size: alpha dropped
        ];
        for f in [Filter::CatmullRom, Filter::Bilinear] {
            for (region, w, h) in cases {
                let want = resize_region(&src, region, w, h, f).unwrap();
                let got = resize_region(view, region, w, h, f).unwrap();
                assert_eq!(got, want, "{f:?} {region:?} → {w}×{h}");
            }
        }
        assert!(
            ImageView::rgba(&rgba[1..], 97, 61).is_none(),
            "a short buffer is refused"
        );
        assert!(
            ImageView::rgba(&rgba, u32::MAX, u32::MAX).is_none(),
            "no overflow"
        );
    }

    /// And its luma (the gate's) is its RGBA's, to the bit.
    #[test]
    fn bgra_resizes_as_its_rgba_does() {
        let src = pattern(97, 61);
        let rgba = with_alpha(&src);
        let bgra: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[2], p[1], p[0], p[3]])
            .collect();
        let (a, b) = (
            ImageView::rgba(&rgba, 97, 61).unwrap(),
            ImageView::bgra(&bgra, 97, 61).unwrap(),
        );
        for f in [Filter::CatmullRom, Filter::Bilinear] {
            for (region, w, h) in [
                ((0, 0, 97, 61), 40, 25),
                ((90, 50, 7, 11), 3, 5),
                ((0, 0, 97, 61), 97, 61),
            ] {
                assert_eq!(
                    resize_region(b, region, w, h, f).unwrap(),
                    resize_region(a, region, w, h, f).unwrap()
                );
            }
        }
        let (mut la, mut lb) = (vec![0f32; 90], vec![0f32; 90]);
        for y in 0..61 {
            a.luma_row(7, y, &mut la);
            b.luma_row(7, y, &mut lb);
            assert_eq!(la, lb);
        }
    }

    /// A YUV frame resizes as its RGB (converted by the view, pixel by
    /// pixel) does: within the one unit of the RGB path's rounding between
    /// its passes.
    #[test]
    fn yuv_resizes_as_its_rgb_does() {
        use crate::image::{YuvColor, YuvMatrix, i420_from_rgb};
        let color = YuvColor {
            matrix: YuvMatrix::Bt709,
            full_range: false,
        };
        let src = pattern(97, 61);
        let (data, planes) = i420_from_rgb(&src, color);
        let view = ImageView::i420(&data, 97, 61, planes, color).unwrap();
        let rgb = view.to_rgb();
        for f in [Filter::Bilinear, Filter::CatmullRom] {
            for (region, w, h) in [
                ((0, 0, 97, 61), 40, 25),
                ((13, 7, 50, 40), 19, 15),
                ((90, 50, 7, 11), 3, 5),
                ((0, 0, 97, 61), 97, 61),
            ] {
                let want = resize_region(&rgb, region, w, h, f).unwrap();
                let got = resize_region(view, region, w, h, f).unwrap();
                let worst = got
                    .as_raw()
                    .iter()
                    .zip(want.as_raw())
                    .map(|(a, b)| (*a as i32 - *b as i32).abs())
                    .max();
                assert!(worst <= Some(1), "{f:?} {region:?}: {worst:?}");
            }
        }
    }

    #[test]
    fn an_empty_region_is_an_error_not_a_panic() {
        let src = RgbImage::new(10, 10);
        assert!(resize_region_rgb(&src, (10, 0, 5, 5), 4, 4).is_err());
        assert!(resize_region_rgb(&RgbImage::new(0, 0), (0, 0, 1, 1), 4, 4).is_err());
    }

    #[test]
    fn crop_is_clamped() {
        let src = RgbImage::new(10, 10);
        assert_eq!(crop(&src, 5, 5, 100, 100).dimensions(), (5, 5));
        assert_eq!(crop(&src, 50, 50, 1, 1).dimensions(), (0, 0));
    }

    #[test]
    fn crop_copies_the_same_pixels_as_image_does() {
        let src = RgbImage::from_fn(13, 9, |x, y| {
            image::Rgb([x as u8, y as u8, (x * 7 + y * 3) as u8])
        });
        for (x, y, w, h) in [
            (0, 0, 13, 9),
            (3, 2, 5, 4),
            (12, 8, 1, 1),
            (10, 7, 9, 9),
            (0, 5, 13, 1),
        ] {
            let ours = crop(&src, x, y, w, h);
            let theirs = image::imageops::crop_imm(&src, x, y, w, h).to_image();
            assert_eq!(ours, theirs, "{x},{y} {w}×{h}");
        }
    }
}
