//! [`ImageView`]: a frame's pixels as detection and the quality report read
//! them, in place and in the layout the frame came in.
//!
//! A camera frame is YUV 4:2:0 (I420 from a webcam in Chromium, NV12 on
//! most phones) or a packed 8-bit layout (RGBA, RGBX, BGRA, BGRX). Turning
//! it into RGBA first cost more than a fifth of a detection (0.5 ms of
//! `VideoFrame.copyTo` for a 640×480 frame, against 0.1 ms for a copy in
//! its own layout: BENCHMARKS.md), and detection needs few of its pixels as
//! RGB: the model's 128×128 input and the face's luma. So the view converts
//! only the pixels that are read, with the matrix the browser would use.

use super::RgbImage;

/// The YUV → RGB matrix of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YuvMatrix {
    /// BT.601 (`smpte170m`, `bt470bg`), and what Chromium assumes when a
    /// frame says nothing (a webcam's frames do not).
    Bt601,
    /// BT.709 (`bt709`).
    Bt709,
}

/// A YUV frame's colour: its matrix and whether Y spans 0..255 (full
/// range) or 16..235 (limited, the default for video).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YuvColor {
    pub matrix: YuvMatrix,
    pub full_range: bool,
}

impl YuvColor {
    /// Red's and blue's weights in the luma (green's is the rest).
    fn kr_kb(self) -> (f64, f64) {
        match self.matrix {
            YuvMatrix::Bt601 => (0.299, 0.114),
            YuvMatrix::Bt709 => (0.2126, 0.0722),
        }
    }

    /// RGB → YUV: Y's scale, the chroma's scale and Y's offset.
    fn range(self) -> (f64, f64, i32) {
        if self.full_range {
            (1.0, 1.0, 0)
        } else {
            (219.0 / 255.0, 224.0 / 255.0, 16)
        }
    }
}

/// YUV → RGB in fixed point, 16 fractional bits.
#[derive(Debug, Clone, Copy)]
struct Coeffs {
    y: i32,
    y0: i32,
    rv: i32,
    gu: i32,
    gv: i32,
    bu: i32,
}

impl Coeffs {
    #[inline(never)]
    fn of(c: YuvColor) -> Coeffs {
        let (kr, kb) = c.kr_kb();
        let kg = 1.0 - kr - kb;
        let (ys, cs, y0) = c.range();
        let (ys, cs) = (1.0 / ys, 1.0 / cs);
        let fixed = |v: f64| (v * 65536.0).round() as i32;
        Coeffs {
            y: fixed(ys),
            y0,
            rv: fixed(2.0 * (1.0 - kr) * cs),
            gu: fixed(2.0 * (1.0 - kb) * kb / kg * cs),
            gv: fixed(2.0 * (1.0 - kr) * kr / kg * cs),
            bu: fixed(2.0 * (1.0 - kb) * cs),
        }
    }

    /// One pixel. The largest sum, |1.17·239 + 1.83·128|·2^16, is inside i32.
    #[inline(always)]
    fn rgb(&self, y: u8, u: u8, v: u8) -> [u8; 3] {
        let l = self.y * (y as i32 - self.y0) + (1 << 15);
        let (u, v) = (u as i32 - 128, v as i32 - 128);
        let px = |t: i32| (t >> 16).clamp(0, 255) as u8;
        [
            px(l + self.rv * v),
            px(l - self.gu * u - self.gv * v),
            px(l + self.bu * u),
        ]
    }
}

/// YUV 4:2:0: full-size Y, and U and V at half size each way, either in
/// planes of their own (I420) or interleaved in one (NV12: `c_step` 2).
/// Every index [`Yuv420::rgb`] can form is checked when the view is made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Yuv420<'a> {
    y: &'a [u8],
    y_stride: usize,
    u: &'a [u8],
    v: &'a [u8],
    c_stride: usize,
    c_step: usize,
    k: Coeffs,
}

impl Yuv420<'_> {
    /// The RGB of pixel (`x`, `y`); its chroma is its 2×2 block's, as
    /// libyuv's conversion (what Chromium's `copyTo` runs) takes it. Not
    /// inlined: detection converts a few thousand pixels a frame, and the
    /// callers stay small.
    #[inline(never)]
    pub(crate) fn rgb(&self, x: usize, y: usize) -> [u8; 3] {
        let c = (y >> 1) * self.c_stride + (x >> 1) * self.c_step;
        self.k
            .rgb(self.y[y * self.y_stride + x], self.u[c], self.v[c])
    }
}

/// How an [`ImageView`]'s bytes hold its pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pixels<'a> {
    /// Rows with no padding, `bpp` bytes a pixel (3, or 4 with the fourth
    /// ignored); `bgr`: blue first.
    Packed {
        raw: &'a [u8],
        bpp: usize,
        bgr: bool,
    },
    Yuv(Yuv420<'a>),
}

/// Borrowed 8-bit pixels: an [`RgbImage`], or a camera frame in the layout
/// it came in (RGBA, BGRA, I420 or NV12), read in place with no RGB copy of
/// the frame.
#[derive(Debug, Clone, Copy)]
pub struct ImageView<'a> {
    width: u32,
    height: u32,
    pixels: Pixels<'a>,
}

/// `rows` rows of `row` bytes, `stride` apart from `offset` in `data`: the
/// bytes from the first to the last one read, or None if any is missing.
fn plane(data: &[u8], (offset, stride): (usize, usize), row: usize, rows: usize) -> Option<&[u8]> {
    if stride < row || rows == 0 || row == 0 {
        return None;
    }
    let len = stride.checked_mul(rows - 1)?.checked_add(row)?;
    data.get(offset..offset.checked_add(len)?)
}

impl<'a> ImageView<'a> {
    fn packed(raw: &'a [u8], width: u32, height: u32, bgr: bool) -> Option<Self> {
        let n = (width as usize)
            .checked_mul(height as usize)?
            .checked_mul(4)?;
        (raw.len() == n).then_some(ImageView {
            width,
            height,
            pixels: Pixels::Packed { raw, bpp: 4, bgr },
        })
    }

    /// RGBA (or RGBX) pixels, `width × height × 4` bytes (anything else is refused).
    pub fn rgba(raw: &'a [u8], width: u32, height: u32) -> Option<Self> {
        Self::packed(raw, width, height, false)
    }

    /// BGRA (or BGRX) pixels, `width × height × 4` bytes.
    pub fn bgra(raw: &'a [u8], width: u32, height: u32) -> Option<Self> {
        Self::packed(raw, width, height, true)
    }

    /// I420 in `data`: the Y, U and V planes' (offset, stride), as
    /// `VideoFrame.copyTo` reports them. None unless every plane is inside
    /// `data` and the frame has pixels.
    pub fn i420(
        data: &'a [u8],
        width: u32,
        height: u32,
        [y, u, v]: [(usize, usize); 3],
        color: YuvColor,
    ) -> Option<Self> {
        // One stride for both chroma planes: what every layout copyTo makes.
        if u.1 != v.1 {
            return None;
        }
        Self::yuv(data, width, height, [y, u, v], 1, color)
    }

    /// NV12 in `data`: the Y plane's and the interleaved UV plane's
    /// (offset, stride).
    pub fn nv12(
        data: &'a [u8],
        width: u32,
        height: u32,
        [y, uv]: [(usize, usize); 2],
        color: YuvColor,
    ) -> Option<Self> {
        // V is U's plane one byte on: its last sample is the plane's last byte.
        Self::yuv(
            data,
            width,
            height,
            [y, uv, (uv.0.checked_add(1)?, uv.1)],
            2,
            color,
        )
    }

    /// Either: chroma samples `step` bytes apart in their rows.
    fn yuv(
        data: &'a [u8],
        width: u32,
        height: u32,
        [y, u, v]: [(usize, usize); 3],
        step: usize,
        color: YuvColor,
    ) -> Option<Self> {
        let (w, h) = (width as usize, height as usize);
        // The last chroma sample of a row is `step · (cw − 1)` bytes in.
        let row = step.checked_mul(w.div_ceil(2))? + 1 - step;
        let ch = h.div_ceil(2);
        let pixels = Pixels::Yuv(Yuv420 {
            y: plane(data, y, w, h)?,
            y_stride: y.1,
            u: plane(data, u, row, ch)?,
            v: plane(data, v, row, ch)?,
            c_stride: u.1,
            c_step: step,
            k: Coeffs::of(color),
        });
        Some(ImageView {
            width,
            height,
            pixels,
        })
    }

    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }
    pub(crate) fn pixels(&self) -> Pixels<'a> {
        self.pixels
    }

    /// The whole view as RGB, converted as the browser would.
    pub fn to_rgb(&self) -> RgbImage {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut out = match self.pixels {
            Pixels::Packed { raw, bpp: 4, .. } => super::rgba_to_rgb(raw),
            Pixels::Packed { raw, .. } => raw.to_vec(),
            Pixels::Yuv(yuv) => {
                let mut out = Vec::with_capacity(w * h * 3);
                for y in 0..h {
                    for x in 0..w {
                        out.extend_from_slice(&yuv.rgb(x, y));
                    }
                }
                out
            }
        };
        if let Pixels::Packed { bgr: true, .. } = self.pixels {
            for p in out.chunks_exact_mut(3) {
                p.swap(0, 2);
            }
        }
        // w × h × 3 bytes by construction: every view's size is checked when it is made.
        RgbImage::from_raw(self.width, self.height, out).unwrap_or_default()
    }

    /// The Rec. 601 luma of `out.len()` pixels of row `y` from column `x`
    /// (the caller keeps them inside the image). Out of line: called per
    /// row, V8 optimises it between the first face's rows.
    #[inline(never)]
    pub(crate) fn luma_row(&self, x: usize, y: usize, out: &mut [f32]) {
        match self.pixels {
            Pixels::Packed { raw, bpp, bgr } => {
                let stride = self.width as usize * bpp;
                let src = &raw[y * stride + x * bpp..][..out.len() * bpp];
                // Red's and blue's places: read at run time (two copies of
                // the loop, not four), summed in the same order either way.
                let (r, b) = if bgr { (2, 0) } else { (0, 2) };
                if bpp == 4 {
                    luma_px::<4>(src, r, b, out);
                } else {
                    luma_px::<3>(src, r, b, out);
                }
            }
            Pixels::Yuv(yuv) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = super::luma(&yuv.rgb(x + i, y));
                }
            }
        }
    }
}

/// The luma of `BPP`-byte pixels (a size the compiler knows), red at byte
/// `r` and blue at `b`.
#[inline(always)]
fn luma_px<const BPP: usize>(src: &[u8], r: usize, b: usize, out: &mut [f32]) {
    for (o, p) in out.iter_mut().zip(src.chunks_exact(BPP)) {
        *o = super::luma(&[p[r], p[1], p[b]]);
    }
}

impl<'a> From<&'a RgbImage> for ImageView<'a> {
    fn from(img: &'a RgbImage) -> Self {
        ImageView {
            width: img.width(),
            height: img.height(),
            pixels: Pixels::Packed {
                raw: img.as_raw(),
                bpp: 3,
                bgr: false,
            },
        }
    }
}

/// `src` as I420 in `color`, the planes one after the other (their
/// (offset, stride) returned), chroma the mean of each 2×2 block: what a
/// camera gives for a scene that looks like `src`. For tests and fixtures.
#[doc(hidden)]
pub fn i420_from_rgb(src: &RgbImage, color: YuvColor) -> (Vec<u8>, [(usize, usize); 3]) {
    let (w, h) = (src.width() as usize, src.height() as usize);
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (kr, kb) = color.kr_kb();
    let (ys, cs, y0) = color.range();
    let yuv = |p: [u8; 3]| {
        let [r, g, b] = p.map(|c| c as f64);
        let l = kr * r + (1.0 - kr - kb) * g + kb * b;
        (
            l,
            (b - l) / (2.0 * (1.0 - kb)),
            (r - l) / (2.0 * (1.0 - kr)),
        )
    };
    let mut out = vec![0u8; w * h + 2 * cw * ch];
    for y in 0..h {
        for x in 0..w {
            let (l, _, _) = yuv(src.get_pixel(x as u32, y as u32).0);
            out[y * w + x] = (l * ys + y0 as f64).round().clamp(0.0, 255.0) as u8;
        }
    }
    for cy in 0..ch {
        for cx in 0..cw {
            let (mut su, mut sv, mut n) = (0.0, 0.0, 0.0);
            for y in 2 * cy..(2 * cy + 2).min(h) {
                for x in 2 * cx..(2 * cx + 2).min(w) {
                    let (_, u, v) = yuv(src.get_pixel(x as u32, y as u32).0);
                    (su, sv, n) = (su + u, sv + v, n + 1.0);
                }
            }
            let c = |s: f64| (s / n * cs + 128.0).round().clamp(0.0, 255.0) as u8;
            out[w * h + cy * cw + cx] = c(su);
            out[w * h + cw * ch + cy * cw + cx] = c(sv);
        }
    }
    (out, [(0, w), (w * h, cw), (w * h + cw * ch, cw)])
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITED_601: YuvColor = YuvColor {
        matrix: YuvMatrix::Bt601,
        full_range: false,
    };

    #[test]
    fn grey_and_primaries_come_back_within_rounding() {
        for color in [
            LIMITED_601,
            YuvColor {
                matrix: YuvMatrix::Bt709,
                full_range: false,
            },
            YuvColor {
                matrix: YuvMatrix::Bt601,
                full_range: true,
            },
        ] {
            for rgb in [
                [0, 0, 0],
                [255, 255, 255],
                [128, 128, 128],
                [200, 30, 40],
                [20, 180, 60],
                [10, 40, 220],
            ] {
                let src = RgbImage::from_pixel(4, 2, image::Rgb(rgb));
                let (data, planes) = i420_from_rgb(&src, color);
                let view = ImageView::i420(&data, 4, 2, planes, color).unwrap();
                let Pixels::Yuv(yuv) = view.pixels() else {
                    unreachable!()
                };
                let got = yuv.rgb(3, 1);
                for c in 0..3 {
                    assert!(
                        (got[c] as i32 - rgb[c] as i32).abs() <= 2,
                        "{color:?} {rgb:?} → {got:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn nv12_and_i420_read_the_same_pixels() {
        let src = RgbImage::from_fn(7, 5, |x, y| {
            image::Rgb([(x * 30) as u8, (y * 50) as u8, 99])
        });
        let (i420, planes) = i420_from_rgb(&src, LIMITED_601);
        let (w, h, cw, ch) = (7, 5, 4, 3);
        // NV12: Y, then U and V interleaved, with a padded stride on each.
        let (ys, cs) = (9, 10);
        let mut nv12 = vec![0u8; ys * h + cs * ch];
        for y in 0..h {
            nv12[y * ys..][..w].copy_from_slice(&i420[y * w..][..w]);
        }
        for y in 0..ch {
            for x in 0..cw {
                nv12[ys * h + y * cs + 2 * x] = i420[planes[1].0 + y * cw + x];
                nv12[ys * h + y * cs + 2 * x + 1] = i420[planes[2].0 + y * cw + x];
            }
        }
        // The UV plane ends at its last pair: no padding after the last row.
        let nv12 = &nv12[..ys * h + cs * (ch - 1) + 2 * cw];
        let a = ImageView::i420(&i420, 7, 5, planes, LIMITED_601).unwrap();
        let b = ImageView::nv12(nv12, 7, 5, [(0, ys), (ys * h, cs)], LIMITED_601).unwrap();
        let (mut la, mut lb) = (vec![0f32; 7], vec![0f32; 7]);
        for y in 0..5 {
            a.luma_row(0, y, &mut la);
            b.luma_row(0, y, &mut lb);
            assert_eq!(la, lb);
        }
        assert!(
            ImageView::nv12(
                &nv12[..nv12.len() - 1],
                7,
                5,
                [(0, ys), (ys * h, cs)],
                LIMITED_601
            )
            .is_none()
        );
    }

    #[test]
    fn planes_outside_the_buffer_are_refused() {
        let data = vec![0u8; 640 * 480 * 3 / 2];
        let ok = [(0, 640), (640 * 480, 320), (640 * 480 + 320 * 240, 320)];
        assert!(ImageView::i420(&data, 640, 480, ok, LIMITED_601).is_some());
        let short = &data[..data.len() - 1];
        assert!(ImageView::i420(short, 640, 480, ok, LIMITED_601).is_none());
        for bad in [
            [(0, 639), ok[1], ok[2]],                     // stride under the width
            [(usize::MAX, 640), ok[1], ok[2]],            // offset overflow
            [(0, usize::MAX / 2), ok[1], ok[2]],          // stride overflow
            [ok[0], ok[1], (640 * 480 + 320 * 240, 321)], // strides differ
        ] {
            assert!(
                ImageView::i420(&data, 640, 480, bad, LIMITED_601).is_none(),
                "{bad:?}"
            );
        }
        assert!(
            ImageView::i420(&data, 0, 480, ok, LIMITED_601).is_none(),
            "no pixels"
        );
        assert!(ImageView::i420(&data, u32::MAX, u32::MAX, ok, LIMITED_601).is_none());
        assert!(ImageView::bgra(&data[..16], 2, 2).is_some());
        assert!(ImageView::bgra(&data[..15], 2, 2).is_none());
    }
}
