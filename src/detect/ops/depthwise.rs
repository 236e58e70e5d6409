//! BlazeFace's depthwise 3×3 convolutions.
//!
//! Profiling the short-range plan natively (50 runs of a 128² input) put
//! 3.8 of its 7.0 ms in tract 0.21's `DepthWiseConv`, which walks the output
//! one point at a time over every channel with scalar arithmetic. BlazeFace
//! only has one shape of depthwise convolution: 3×3 kernel, NCHW, stride 1
//! (padding 1 all round) or stride 2 (padding 1 below and right, TensorFlow's
//! "same"). [`Depthwise3x3`] does that shape a row at a time: each of the nine
//! taps adds `k · input_row[kx..]` to the whole output row, a loop LLVM turns
//! into SIMD (SSE/AVX natively, simd128 in the wasm). Zero padding comes from
//! copying each channel's plane into a padded scratch plane first, so the
//! inner loops have no bounds checks and no edge cases.
//!
//! With the `onnx` feature, [`super::tract::install`] finds every matching
//! `Conv` of a decluttered tract model and makes it one of these.

use std::sync::Arc;

use super::simd::F32x4;
use crate::detect::net::Reader;
#[cfg(feature = "onnx")]
use crate::detect::net::Writer;

/// Depthwise 3×3 convolution over one NCHW f32 image, weights baked in.
#[derive(Debug, Clone)]
pub(crate) struct Depthwise3x3 {
    channels: usize,
    stride: usize,
    f: super::Frame,
    /// `channels × 9` taps, row-major per channel.
    kernel: Arc<Vec<f32>>,
    bias: Arc<Vec<f32>>,
}

impl Depthwise3x3 {
    /// The convolution of `input` (`channels × h × w`) into `output`
    /// (`channels × oh × ow`).
    ///
    /// Never inlined: see `detect::net::Net::run`.
    #[inline(never)]
    pub(crate) fn run(&self, input: &[f32], output: &mut [f32]) {
        if self.stride == 2 {
            return self.run_stride2(input, output);
        }
        let (pw, ph) = (self.f.padded_w(), self.f.padded_h());
        let mut plane = vec![0f32; pw * ph];
        for c in 0..self.channels {
            let src = &input[c * self.f.h * self.f.w..][..self.f.h * self.f.w];
            // The border of `plane` stays zero; only the inside is rewritten.
            for (y, line) in src.chunks_exact(self.f.w).enumerate() {
                copy_row(
                    &mut plane[(y + self.f.pad[0]) * pw + self.f.pad[2]..][..self.f.w],
                    line,
                );
            }
            let ow = self.f.ow;
            let dst = &mut output[c * self.f.oh * ow..][..self.f.oh * ow];
            // Two output rows a call: their six input rows are four.
            let mut pairs = dst.chunks_exact_mut(2 * ow);
            for (i, pair) in (&mut pairs).enumerate() {
                let rows = [0, 1, 2, 3].map(|ky| &plane[(2 * i + ky) * pw..][..pw]);
                let (upper, lower) = pair.split_at_mut(ow);
                rows2_stride1(upper, lower, self.taps(c), self.bias[c], rows);
            }
            let last = pairs.into_remainder();
            if !last.is_empty() {
                let oy = self.f.oh - 1;
                let rows = [0, 1, 2].map(|ky| &plane[(oy + ky) * pw..][..pw]);
                row_stride1(last, self.taps(c), self.bias[c], rows);
            }
        }
    }

    /// Channel `c`'s nine taps.
    #[inline(always)]
    fn taps(&self, c: usize) -> &[f32; 9] {
        self.kernel[c * 9..][..9].try_into().unwrap_or(&[0.0; 9])
    }

    /// Stride 2: the padded plane is held as its even and odd columns apart,
    /// so the three taps of a row read `even[x]`, `odd[x]`, `even[x + 1]`,
    /// contiguous again, in vectors. Each input row is split straight into
    /// them (no padded copy first); each half-row has room for a whole
    /// window past its last output.
    fn run_stride2(&self, input: &[f32], output: &mut [f32]) {
        let (pw, ph) = (self.f.padded_w(), self.f.padded_h());
        let half = pw.div_ceil(2) + 2;
        let mut split = vec![0f32; 2 * ph * half];
        let (even, odd) = split.split_at_mut(ph * half);
        let (top, left) = (self.f.pad[0], self.f.pad[2]);
        for c in 0..self.channels {
            let src = &input[c * self.f.h * self.f.w..][..self.f.h * self.f.w];
            for (y, line) in src.chunks_exact(self.f.w).enumerate() {
                let at = (y + top) * half;
                let (e, o) = (&mut even[at..][..half], &mut odd[at..][..half]);
                // Input column i is padded column left + i: with an odd
                // `left`, the input's even values land in the odd columns.
                if left % 2 == 0 {
                    deinterleave(&mut e[left / 2..], &mut o[left / 2..], line);
                } else {
                    deinterleave(&mut o[left / 2..], &mut e[left / 2 + 1..], line);
                }
            }
            let ow = self.f.ow;
            let dst = &mut output[c * self.f.oh * ow..][..self.f.oh * ow];
            for (oy, out) in dst.chunks_exact_mut(ow).enumerate() {
                let rows = [0, 1, 2].map(|ky| {
                    let at = (2 * oy + ky) * half;
                    (&even[at..][..half], &odd[at..][..half])
                });
                row_stride2(out, self.taps(c), self.bias[c], rows);
            }
        }
    }
}

/// `line`'s even-indexed values into `even`, its odd-indexed ones into
/// `odd`, eight values a step with two vector shuffles.
/// Also the first layer's split of its input planes (`stem`). One copy of
/// it in the wasm, called per row, rather than one inlined at each of its
/// four call sites (+1.6 KB gzip).
#[inline(never)]
pub(super) fn deinterleave(even: &mut [f32], odd: &mut [f32], line: &[f32]) {
    let mut eights = line.chunks_exact(8);
    let mut done = 0;
    for ((l, e), o) in (&mut eights)
        .zip(even.chunks_exact_mut(4))
        .zip(odd.chunks_exact_mut(4))
    {
        let (Ok(l0), Ok(l1), Ok(e), Ok(o)) = (
            <&[f32; 4]>::try_from(&l[..4]),
            <&[f32; 4]>::try_from(&l[4..]),
            <&mut [f32; 4]>::try_from(e),
            <&mut [f32; 4]>::try_from(o),
        ) else {
            continue;
        };
        let (ev, od) = F32x4::load(l0).split_pairs(F32x4::load(l1));
        ev.store(e);
        od.store(o);
        done += 8;
    }
    for (i, &v) in line[done..].iter().enumerate() {
        let j = done + i;
        if j % 2 == 0 {
            even[j / 2] = v;
        } else {
            odd[j / 2] = v;
        }
    }
}

/// `dst.copy_from_slice(src)` in 4-lane loads and stores. A row here is 8
/// to 128 values, and `copy_from_slice` becomes one `memory.copy` a row in
/// the wasm, which V8 runs as a call out of the compiled code. Out of line
/// itself: inlined, its loop made `run` hot enough for V8 to optimise the
/// whole layer during the first detection, too late to use it there.
#[inline(never)]
fn copy_row(dst: &mut [f32], src: &[f32]) {
    let mut d = dst.chunks_exact_mut(4);
    let mut s = src.chunks_exact(4);
    for (d4, s4) in (&mut d).zip(&mut s) {
        if let (Ok(d4), Ok(s4)) = (<&mut [f32; 4]>::try_from(d4), <&[f32; 4]>::try_from(s4)) {
            F32x4::load(s4).store(d4);
        }
    }
    for (d1, s1) in d.into_remainder().iter_mut().zip(s.remainder()) {
        *d1 = *s1;
    }
}

/// Output pixels computed together: their sums stay in registers across
/// the nine taps (two simd128 vectors, one AVX vector).
const LANES: usize = 8;

/// The inputs of `LANES` outputs from `x` on at stride 1, all three taps:
/// one bounds check for the row; the window's length is a constant, so the
/// loads from it ([`lanes`]) need none (a padded row is `ow + 2` long).
#[inline(always)]
fn window(line: &[f32], x: usize) -> Option<&[f32; LANES + 2]> {
    line.get(x..x + LANES + 2)?.try_into().ok()
}

/// Four inputs of a window from `at` (`at + 4 ≤ LANES + 2`).
#[inline(always)]
fn lanes(win: &[f32; LANES + 2], at: usize) -> F32x4 {
    F32x4::load(win[at..at + 4].try_into().unwrap_or(&[0.0; 4]))
}

/// `LANES` sums, two vectors, into `out` (`LANES` long).
#[inline(always)]
fn store(acc: [F32x4; 2], out: &mut [f32]) {
    for (a, d) in acc.into_iter().zip(out.chunks_exact_mut(4)) {
        if let Ok(d) = <&mut [f32; 4]>::try_from(d) {
            a.store(d);
        }
    }
}

// One call per output row, never inlined into `run`: V8 starts a wasm
// function in its baseline compiler (Liftoff) and swaps in the optimised
// code only at the function's next call, so a kernel called once per layer
// would run the whole first detection unoptimised (cold start: 85 ms for
// the first detection against 6 ms warm). Called per row, it is optimised
// within the first layers. See docs/design-decisions.md.
#[inline(never)]
fn row_stride1(out: &mut [f32], k: &[f32; 9], bias: f32, rows: [&[f32]; 3]) {
    row(out, k, bias, rows)
}
/// Output rows `oy` and `oy + 1` at stride 1 from input rows `oy..oy + 4`,
/// each input row loaded once for both. Most of what made the layer faster
/// (3.16 → 2.92 ms a detection in Node) was one bounds check per input row,
/// which `row` now has too; measured again with that (Node, `detectPixels`,
/// alternating builds), a row a call takes 2.78 ms against 2.72 here.
#[inline(never)]
fn rows2_stride1(upper: &mut [f32], lower: &mut [f32], k: &[f32; 9], bias: f32, rows: [&[f32]; 4]) {
    let ow = upper.len().min(lower.len());
    let body = ow - ow % LANES;
    let taps: [F32x4; 9] = std::array::from_fn(|t| F32x4::splat(k[t]));
    for x in (0..body).step_by(LANES) {
        let mut up = [F32x4::splat(bias); 2];
        let mut lo = [F32x4::splat(bias); 2];
        for (r, line) in rows.iter().enumerate() {
            let Some(win) = window(line, x) else {
                continue;
            };
            for kx in 0..3 {
                for h in 0..2 {
                    let at = kx + 4 * h;
                    let v = lanes(win, at);
                    // Input row r is kernel row r for the upper output
                    // row and kernel row r − 1 for the lower one.
                    if r < 3 {
                        up[h] = up[h].mul_add(taps[r * 3 + kx], v);
                    }
                    if r > 0 {
                        lo[h] = lo[h].mul_add(taps[(r - 1) * 3 + kx], v);
                    }
                }
            }
        }
        store(up, &mut upper[x..x + LANES]);
        store(lo, &mut lower[x..x + LANES]);
    }
    for x in body..ow {
        for (o, out) in [&mut *upper, &mut *lower].into_iter().enumerate() {
            out[x] = bias
                + (0..9)
                    .map(|t| k[t] * rows[o + t / 3][x + t % 3])
                    .sum::<f32>();
        }
    }
}
/// One output row at stride 2 from the even and odd columns of three
/// padded input rows: `out[x] = bias + Σ k[ky] · (even[x], odd[x], even[x + 1])`.
#[inline(never)]
fn row_stride2(out: &mut [f32], k: &[f32; 9], bias: f32, rows: [(&[f32], &[f32]); 3]) {
    let ow = out.len();
    let body = ow - ow % LANES;
    for x in (0..body).step_by(LANES) {
        let mut acc = [F32x4::splat(bias); 2];
        for (ky, (even, odd)) in rows.iter().enumerate() {
            let (Some(e), Some(o)) = (window(even, x), window(odd, x)) else {
                continue;
            };
            let tap = |kx: usize| F32x4::splat(k[ky * 3 + kx]);
            for (h, a) in acc.iter_mut().enumerate() {
                *a = a.mul_add(tap(0), lanes(e, 4 * h));
                *a = a.mul_add(tap(1), lanes(o, 4 * h));
                *a = a.mul_add(tap(2), lanes(e, 4 * h + 1));
            }
        }
        store(acc, &mut out[x..x + LANES]);
    }
    for x in body..ow {
        out[x] = bias
            + rows
                .iter()
                .enumerate()
                .map(|(ky, (e, o))| {
                    k[ky * 3] * e[x] + k[ky * 3 + 1] * o[x] + k[ky * 3 + 2] * e[x + 1]
                })
                .sum::<f32>();
    }
}

/// One output row at stride 1: `out[x] = bias + Σ k[ky][kx] · rows[ky][x + kx]`.
/// The 8 inputs of a tap are contiguous, two lanes, and the three taps of a
/// row are one window.
#[inline(always)]
fn row(out: &mut [f32], k: &[f32; 9], bias: f32, rows: [&[f32]; 3]) {
    let ow = out.len();
    let body = ow - ow % LANES;
    for x in (0..body).step_by(LANES) {
        let mut acc = [F32x4::splat(bias); 2];
        for (ky, line) in rows.iter().enumerate() {
            let Some(win) = window(line, x) else {
                continue;
            };
            for kx in 0..3 {
                let tap = F32x4::splat(k[ky * 3 + kx]);
                for (h, a) in acc.iter_mut().enumerate() {
                    let at = kx + 4 * h;
                    *a = a.mul_add(tap, lanes(win, at));
                }
            }
        }
        store(acc, &mut out[x..x + LANES]);
    }
    for x in body..ow {
        out[x] = bias + (0..9).map(|t| k[t] * rows[t / 3][x + t % 3]).sum::<f32>();
    }
}

impl Depthwise3x3 {
    pub(crate) fn input_len(&self) -> usize {
        self.channels * self.f.h * self.f.w
    }
    /// Multiply-adds of one run, for the network's cost bound.
    pub(crate) fn macs(&self) -> u64 {
        self.output_len() as u64 * 9
    }
    pub(crate) fn output_len(&self) -> usize {
        self.channels * self.f.oh * self.f.ow
    }
    #[cfg(feature = "onnx")]
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.dim(self.channels);
        w.dim(self.stride);
        self.f.encode(w);
        w.weights(&self.kernel);
        w.weights(&self.bias);
    }
    pub(crate) fn decode(r: &mut Reader) -> Result<Self, String> {
        let channels = r.dim()?;
        let stride = r.dim()?;
        if !(1..=2).contains(&stride) || channels == 0 {
            return Err(format!("depthwise: {channels} channels at stride {stride}"));
        }
        let f = super::Frame::decode(r, 3, stride)?;
        Ok(Depthwise3x3 {
            channels,
            stride,
            f,
            kernel: Arc::new(r.weights(channels * 9)?),
            bias: Arc::new(r.weights(channels)?),
        })
    }
}

#[cfg(feature = "onnx")]
pub(super) use tract_op::replacement;

/// The layer as a tract operator, and where tract's model has one.
#[cfg(feature = "onnx")]
mod tract_op {
    use super::*;
    use tract_core::internal::*;
    use tract_core::ops::cnn::{Conv, KernelFormat};
    use tract_core::ops::nn::DataFormat;

    stateless_op!(Depthwise3x3);

    impl Depthwise3x3 {
        fn evaluate(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
            let shapes = (
                [1, self.channels, self.f.h, self.f.w],
                [1, self.channels, self.f.oh, self.f.ow],
            );
            super::super::tract::eval_f32("Depthwise3x3", inputs, shapes, |i, o| self.run(i, o))
        }
    }

    impl TypedOp for Depthwise3x3 {
        fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
            ensure!(inputs.len() == 1);
            Ok(tvec!(f32::fact([1, self.channels, self.f.oh, self.f.ow])))
        }
        as_op!();
    }

    /// The operator for `conv` if it is one BlazeFace uses; `None` leaves tract's.
    pub(crate) fn replacement(
        model: &TypedModel,
        node: &TypedNode,
        conv: &Conv,
    ) -> TractResult<Option<Depthwise3x3>> {
        let spec = &conv.pool_spec;
        let c = spec.input_channels;
        let stride = match &*spec.strides() {
            [1, 1] => 1,
            [2, 2] => 2,
            _ => return Ok(None),
        };
        if conv.q_params.is_some()
            || conv.group != c
            || spec.output_channels != c
            || spec.data_format != DataFormat::NCHW
            || conv.kernel_fmt != KernelFormat::OIHW
            || spec.kernel_shape.as_slice() != [3, 3]
            || spec.dilations().iter().any(|d| *d != 1)
            || node.inputs.len() != 3
        {
            return Ok(None);
        }
        let input = model.outlet_fact(node.inputs[0])?;
        let Some(shape) = input.shape.as_concrete() else {
            return Ok(None);
        };
        let &[1, ch, h, w] = shape else {
            return Ok(None);
        };
        let kernel = model.outlet_fact(node.inputs[1])?.konst.clone();
        let bias = model.outlet_fact(node.inputs[2])?.konst.clone();
        let (Some(kernel), Some(bias)) = (kernel, bias) else {
            return Ok(None);
        };
        if ch != c
            || input.datum_type != f32::datum_type()
            || kernel.datum_type() != f32::datum_type()
            || bias.datum_type() != f32::datum_type()
            || kernel.len() != c * 9
        {
            return Ok(None);
        }
        let Some(bias) = super::super::tract::conv_bias(&bias, c)? else {
            return Ok(None);
        };
        let Some(f) = super::super::tract::frame_of(spec, h, w, 3, stride) else {
            return Ok(None);
        };
        let op = Depthwise3x3 {
            channels: c,
            f,
            stride,
            kernel: Arc::new(kernel.as_slice::<f32>()?.to_vec()),
            bias: Arc::new(bias),
        };
        Ok(Some(op))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::detect::ops::tract::testing::{compare, tensor};
        use tract_core::ops::cnn::{PaddingSpec, PoolSpec};

        /// A depthwise conv as tract's own `Conv`.
        fn model(c: usize, h: usize, w: usize, stride: usize, pad: PaddingSpec) -> TypedModel {
            let mut m = TypedModel::default();
            let x = m.add_source("x", f32::fact([1, c, h, w])).unwrap();
            let k = m.add_const("k", tensor(&[c, 1, 3, 3], 1)).unwrap();
            let b = m.add_const("b", tensor(&[c], 2)).unwrap();
            let conv = Conv {
                pool_spec: PoolSpec {
                    data_format: DataFormat::NCHW,
                    kernel_shape: tvec!(3, 3),
                    padding: pad,
                    dilations: None,
                    strides: Some(tvec!(stride, stride)),
                    input_channels: c,
                    output_channels: c,
                },
                kernel_fmt: KernelFormat::OIHW,
                group: c,
                q_params: None,
            };
            let y = m.wire_node("conv", conv, &[x, k, b]).unwrap();
            m.set_output_outlets(&y).unwrap();
            m
        }

        #[test]
        fn agrees_with_tract_on_blazeface_shapes() {
            for (c, h, w, stride, pad) in [
                (
                    24,
                    64,
                    64,
                    1,
                    PaddingSpec::Explicit(tvec!(1, 1), tvec!(1, 1)),
                ),
                (
                    28,
                    64,
                    64,
                    2,
                    PaddingSpec::Explicit(tvec!(0, 0), tvec!(1, 1)),
                ),
                (4, 7, 9, 1, PaddingSpec::Explicit(tvec!(1, 1), tvec!(1, 1))),
                (4, 7, 9, 2, PaddingSpec::SameUpper),
                (3, 5, 6, 1, PaddingSpec::Valid),
                (5, 9, 8, 2, PaddingSpec::Explicit(tvec!(1, 0), tvec!(1, 0))),
            ] {
                let x = tensor(&[1, c, h, w], 0);
                let worst = compare(model(c, h, w, stride, pad.clone()), 1, &[x]);
                assert!(
                    worst < 1e-4,
                    "{c}×{h}×{w} stride {stride} {pad:?}: off by {worst}"
                );
            }
        }

        #[test]
        fn leaves_other_convolutions_to_tract() {
            let mut m = TypedModel::default();
            let x = m.add_source("x", f32::fact([1, 4, 8, 8])).unwrap();
            let k = m
                .add_const("k", Tensor::zero::<f32>(&[4, 1, 5, 5]).unwrap())
                .unwrap();
            let b = m
                .add_const("b", Tensor::zero::<f32>(&[4]).unwrap())
                .unwrap();
            let conv = Conv {
                pool_spec: PoolSpec {
                    data_format: DataFormat::NCHW,
                    kernel_shape: tvec!(5, 5),
                    padding: PaddingSpec::Valid,
                    dilations: None,
                    strides: None,
                    input_channels: 4,
                    output_channels: 4,
                },
                kernel_fmt: KernelFormat::OIHW,
                group: 4,
                q_params: None,
            };
            let y = m.wire_node("conv", conv, &[x, k, b]).unwrap();
            m.set_output_outlets(&y).unwrap();
            assert_eq!(crate::detect::ops::tract::install(&mut m).unwrap(), 0);
        }
    }
}

#[cfg(test)]
mod plain_tests {
    use super::*;
    use crate::detect::ops::plain::{noise, padded, worst};

    /// Every tap summed in the plainest loop, padding read as zero.
    fn plain(d: &Depthwise3x3, x: &[f32]) -> Vec<f32> {
        let f = d.f;
        let at = |c: usize, y: usize, x_: usize| padded(x, &f, c, y, x_);
        let mut out = Vec::new();
        for c in 0..d.channels {
            for oy in 0..f.oh {
                for ox in 0..f.ow {
                    let mut sum = d.bias[c];
                    for t in 0..9 {
                        let v = at(c, oy * d.stride + t / 3, ox * d.stride + t % 3);
                        sum += d.kernel[c * 9 + t] * v;
                    }
                    out.push(sum);
                }
            }
        }
        out
    }

    #[test]
    fn agrees_with_plain_loops() {
        // BlazeFace's two forms, with widths that leave a tail after the
        // vector lanes, and an odd padding.
        for (c, h, w, stride, pad) in [
            (5, 9, 13, 1, [1, 1, 1, 1]),
            (3, 16, 32, 1, [1, 1, 1, 1]),
            (6, 10, 22, 2, [0, 1, 0, 1]),
            (4, 7, 9, 2, [1, 0, 1, 0]),
            // Two vectors and a tail at stride 2, from an odd padded width.
            (3, 12, 37, 2, [1, 1, 1, 1]),
        ] {
            let out = |n: usize, p: usize| (n + p - 3) / stride + 1;
            let f = crate::detect::ops::Frame::new(
                h,
                w,
                pad,
                (out(h, pad[0] + pad[1]), out(w, pad[2] + pad[3])),
                3,
                stride,
            )
            .unwrap();
            let d = Depthwise3x3 {
                channels: c,
                stride,
                f,
                kernel: Arc::new(noise(c * 9, 1)),
                bias: Arc::new(noise(c, 2)),
            };
            let x = noise(d.input_len(), 3);
            let mut ours = vec![f32::NAN; d.output_len()];
            d.run(&x, &mut ours);
            let off = worst(&ours, &plain(&d, &x));
            assert!(off < 1e-5, "{c}×{h}×{w} stride {stride}: off by {off}");
        }
    }
}
