//! BlazeFace's layers, as kernels of our own over plain NCHW `f32` slices.
//!
//! Every layer type BlazeFace has is here: the first 5×5 stride-2
//! convolution with its ReLU ([`stem`]), the depthwise 3×3 convolutions
//! ([`depthwise`]), the 2×2 max poolings ([`maxpool`]), and the 1×1
//! convolutions with their bias, shortcut and ReLU ([`pointwise`], which also
//! runs the four heads). [`crate::detect::net`] runs them in sequence.
//!
//! Each layer is a plain struct with its weights baked in, a `run` method,
//! and its encoding in a [`crate::detect::net`] file (`encode` / `decode`,
//! where `decode` checks every size a `run` relies on, so that no model file
//! can make a kernel index out of bounds). None of this needs tract.
//!
//! With the `onnx` feature, [`tract`] also makes each one a tract operator
//! and finds BlazeFace's layers in tract's model: that is how the ONNX files
//! are compiled (`crate::detect::compile`) and how every kernel is tested
//! against tract's own operators. Why ours at all: profiled on the
//! short-range plan, one 640×480 frame, tract's scalar `DepthWiseConv` took
//! 3.8 of 7.0 ms natively, and in the wasm its `MaxPool` took 12 % of the
//! time (a libm `fmaxf` call per element); tract-core itself was then most of
//! the wasm (BENCHMARKS.md).

#[cfg(feature = "onnx")]
#[macro_use]
pub(crate) mod tract;

pub(crate) mod depthwise;
mod gemm;
pub(crate) mod maxpool;
pub(crate) mod pointwise;
mod simd;
pub(crate) mod stem;

use super::net::Reader;
#[cfg(feature = "onnx")]
use super::net::Writer;

/// What the kernels' plain-loop tests share. Those tests run on every target,
/// the wasm with simd128 included (scripts/test-wasm-units.sh), where the
/// tract comparisons (feature `onnx`, native only) cannot.
#[cfg(test)]
pub(crate) mod plain {
    /// `n` values in [-1, 1) from `seed` (xorshift32): fixed inputs and weights.
    pub(crate) fn noise(n: usize, seed: u32) -> Vec<f32> {
        let mut s = seed.max(1);
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 17;
                s ^= s << 5;
                (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// Input `x` (NCHW planes of `f`'s size) at channel `c`, row `y` and
    /// column `x_` of the zero-padded plane: zero where the padding is.
    pub(crate) fn padded(x: &[f32], f: &super::Frame, c: usize, y: usize, x_: usize) -> f32 {
        let (y, x_) = (y.wrapping_sub(f.pad[0]), x_.wrapping_sub(f.pad[2]));
        if y < f.h && x_ < f.w {
            x[(c * f.h + y) * f.w + x_]
        } else {
            0.0
        }
    }

    /// The largest difference between two equally long outputs; infinite
    /// where either is NaN (an output the kernel never wrote).
    pub(crate) fn worst(ours: &[f32], plain: &[f32]) -> f32 {
        assert_eq!(ours.len(), plain.len());
        ours.iter()
            .zip(plain)
            .map(|(a, b)| (a - b).abs())
            .map(|d| if d.is_nan() { f32::INFINITY } else { d })
            .fold(0.0, f32::max)
    }
}

/// Where a convolution reads and writes: input size, zero padding (rows
/// above and below, columns left and right) and output size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Frame {
    h: usize,
    w: usize,
    pad: [usize; 4],
    oh: usize,
    ow: usize,
}

impl Frame {
    /// A frame for a `k`×`k` kernel at `stride`; `None` unless the output is
    /// not empty and every tap reads inside the padded plane.
    fn new(
        h: usize,
        w: usize,
        pad: [usize; 4],
        (oh, ow): (usize, usize),
        k: usize,
        stride: usize,
    ) -> Option<Frame> {
        let f = Frame { h, w, pad, oh, ow };
        let fits = |o: usize, padded: usize| o > 0 && (o - 1) * stride + k <= padded;
        let sane = h > 0 && w > 0 && pad.iter().all(|p| *p < k);
        (sane && fits(f.oh, f.padded_h()) && fits(f.ow, f.padded_w())).then_some(f)
    }
    fn padded_w(&self) -> usize {
        self.pad[2] + self.w + self.pad[3]
    }
    fn padded_h(&self) -> usize {
        self.pad[0] + self.h + self.pad[1]
    }
    #[cfg(feature = "onnx")]
    fn encode(&self, w: &mut Writer) {
        for v in [
            self.h,
            self.w,
            self.pad[0],
            self.pad[1],
            self.pad[2],
            self.pad[3],
        ] {
            w.dim(v);
        }
        w.dim(self.oh);
        w.dim(self.ow);
    }
    fn decode(r: &mut Reader, k: usize, stride: usize) -> Result<Frame, String> {
        let (h, w) = (r.dim()?, r.dim()?);
        let pad = [r.dim()?, r.dim()?, r.dim()?, r.dim()?];
        let out = (r.dim()?, r.dim()?);
        Frame::new(h, w, pad, out, k, stride)
            .ok_or_else(|| format!("a {k}×{k} stride-{stride} frame that does not fit"))
    }
}
