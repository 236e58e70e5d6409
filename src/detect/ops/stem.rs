//! BlazeFace's first layer: a k×k convolution at stride 2 over the 3 colour
//! planes, then a ReLU, as one layer. tract runs it as im2col and a
//! packed matrix product, then a separate ReLU pass (a libm `fmaxf` per value
//! in the wasm); that was a quarter of the short-range model's time in the
//! wasm once the other layers were ours.
//!
//! Each input plane is zero-padded once and split into its even and odd
//! columns, so that the taps of 8 neighbouring outputs at stride 2 are 8
//! contiguous values; they are gathered per 8 outputs (`k·k·cin` rows) and fed
//! to the same micro-kernel as the 1×1 convolutions.

use std::sync::Arc;

use super::depthwise::deinterleave;
use super::gemm::{self, CO, PX, Pixels, Store};
use crate::detect::net::Reader;
#[cfg(feature = "onnx")]
use crate::detect::net::Writer;

#[derive(Debug, Clone)]
pub(crate) struct Stem {
    cin: usize,
    cout: usize,
    k: usize,
    f: super::Frame,
    /// Weights packed for the micro-kernel, inputs in (ci, ky, kx) order.
    weights: Arc<Vec<f32>>,
    bias: Arc<Vec<f32>>,
    relu: bool,
}

impl Stem {
    /// Never inlined: see `Net::run`.
    #[inline(never)]
    pub(crate) fn run(&self, x: &[f32], out: &mut [f32]) {
        let (pw, ph) = (self.f.padded_w(), self.f.padded_h());
        // Even and odd columns of each padded plane: [ci][row][column / 2].
        let half = pw.div_ceil(2);
        let mut even = vec![0f32; self.cin * ph * half];
        let mut odd = vec![0f32; self.cin * ph * half];
        let left = self.f.pad[2];
        for ci in 0..self.cin {
            for y in 0..self.f.h {
                let src = &x[(ci * self.f.h + y) * self.f.w..][..self.f.w];
                let row = (ci * ph + y + self.f.pad[0]) * half;
                let (e, o) = (&mut even[row..][..half], &mut odd[row..][..half]);
                // Input column i is padded column left + i: with an odd
                // `left`, the input's even values land in the odd columns.
                if left.is_multiple_of(2) {
                    deinterleave(&mut e[left / 2..], &mut o[left / 2..], src);
                } else {
                    deinterleave(&mut o[left / 2..], &mut e[left / 2 + 1..], src);
                }
            }
        }
        // Where each tap (ci, ky, kx) reads in output row 0: which half
        // plane, and the offset there (row `oy` adds 2·oy rows).
        let taps: Vec<(usize, usize)> = (0..self.cin * self.k * self.k)
            .map(|t| {
                let (ci, ky, kx) = (t / (self.k * self.k), t / self.k % self.k, t % self.k);
                (kx % 2, (ci * ph + ky) * half + kx / 2)
            })
            .collect();
        let mut xs: Vec<Pixels> = vec![[[0.0; 4]; 2]; taps.len()];
        let mut store = Store {
            out,
            plane: self.f.oh * self.f.ow,
            cout: self.cout,
            shortcut: None,
            relu: self.relu,
        };
        for oy in 0..self.f.oh {
            self.output_row(oy, [&even, &odd], &taps, &mut xs, &mut store);
        }
    }

    /// Output row `oy`. Never inlined: a call per row lets V8 swap in its
    /// optimised code during the first detection (see
    /// `depthwise::row_stride1`).
    #[inline(never)]
    fn output_row(
        &self,
        oy: usize,
        planes: [&[f32]; 2],
        taps: &[(usize, usize)],
        xs: &mut [Pixels],
        store: &mut Store,
    ) {
        let row = 2 * oy * self.f.padded_w().div_ceil(2);
        for ox in (0..self.f.ow).step_by(PX) {
            // Output column ox + i reads padded column 2(ox + i) + kx.
            for (&(parity, at), dst) in taps.iter().zip(xs.iter_mut()) {
                let src = &planes[parity][at + row + ox..][..PX];
                dst[0].copy_from_slice(&src[..4]);
                dst[1].copy_from_slice(&src[4..]);
            }
            for b in 0..self.cout.div_ceil(CO) {
                let acc = gemm::block(&self.weights, b, &self.bias, xs);
                store.put(acc, b, oy * self.f.ow + ox);
            }
        }
    }
}

impl Stem {
    pub(crate) fn input_len(&self) -> usize {
        self.cin * self.f.h * self.f.w
    }
    /// Multiply-adds of one run, for the network's cost bound.
    pub(crate) fn macs(&self) -> u64 {
        self.output_len() as u64 * (self.cin * self.k * self.k) as u64
    }
    pub(crate) fn output_len(&self) -> usize {
        self.cout * self.f.oh * self.f.ow
    }
    #[cfg(feature = "onnx")]
    pub(crate) fn encode(&self, w: &mut Writer) {
        for v in [self.cin, self.cout, self.k] {
            w.dim(v);
        }
        self.f.encode(w);
        w.flag(self.relu);
        w.weights(&self.weights);
        w.weights(&self.bias);
    }
    pub(crate) fn decode(r: &mut Reader) -> Result<Self, String> {
        let (cin, cout, k) = (r.dim()?, r.dim()?, r.dim()?);
        if !(1..=4).contains(&cin) || cout == 0 || !(1..=7).contains(&k) {
            return Err(format!("first layer {cin}→{cout}, {k}×{k}"));
        }
        let f = super::Frame::decode(r, k, 2)?;
        if !f.ow.is_multiple_of(PX) {
            return Err(format!("first layer of {} output columns", f.ow));
        }
        let relu = r.flag()?;
        Ok(Stem {
            cin,
            cout,
            k,
            f,
            weights: Arc::new(r.weights(cout.div_ceil(CO) * cin * k * k * CO)?),
            bias: Arc::new(r.weights(cout)?),
            relu,
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

    stateless_op!(Stem);

    impl Stem {
        fn evaluate(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
            let shapes = (
                [1, self.cin, self.f.h, self.f.w],
                [1, self.cout, self.f.oh, self.f.ow],
            );
            super::super::tract::eval_f32("Stem", inputs, shapes, |i, o| self.run(i, o))
        }
    }

    impl TypedOp for Stem {
        fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
            ensure!(inputs.len() == 1);
            Ok(tvec!(f32::fact([1, self.cout, self.f.oh, self.f.ow])))
        }
        as_op!();
    }

    /// Ours for `conv` (and the ReLU after it) if it is a dense stride-2
    /// convolution of a few planes, as BlazeFace's first layer: the operator and
    /// the last node it stands for.
    pub(crate) fn replacement(
        model: &TypedModel,
        node: &TypedNode,
        conv: &Conv,
    ) -> TractResult<Option<(Stem, usize)>> {
        let spec = &conv.pool_spec;
        let k = spec.kernel_shape.first().copied().unwrap_or(0);
        if conv.q_params.is_some()
            || conv.group != 1
            || spec.data_format != DataFormat::NCHW
            || conv.kernel_fmt != KernelFormat::OIHW
            || spec.kernel_shape.as_slice() != [k, k]
            || !(1..=7).contains(&k)
            || *spec.strides() != [2, 2]
            || spec.dilations().iter().any(|d| *d != 1)
            || node.inputs.len() != 3
        {
            return Ok(None);
        }
        let (cin, cout) = (spec.input_channels, spec.output_channels);
        let input = model.outlet_fact(node.inputs[0])?;
        let Some(&[1, c, h, w]) = input.shape.as_concrete() else {
            return Ok(None);
        };
        let konst = |i: usize| -> TractResult<Option<Arc<Tensor>>> {
            let fact = model.outlet_fact(node.inputs[i])?;
            Ok(fact
                .konst
                .clone()
                .filter(|t| t.datum_type() == f32::datum_type()))
        };
        let (Some(weights), Some(bias)) = (konst(1)?, konst(2)?) else {
            return Ok(None);
        };
        if c != cin
            || cin > 4
            || input.datum_type != f32::datum_type()
            || weights.len() != cout * cin * k * k
        {
            return Ok(None);
        }
        let Some(bias) = super::super::tract::conv_bias(&bias, cout)? else {
            return Ok(None);
        };
        // Whole blocks of output pixels.
        let Some(f) =
            super::super::tract::frame_of(spec, h, w, k, 2).filter(|f| f.ow.is_multiple_of(PX))
        else {
            return Ok(None);
        };
        let mut op = Stem {
            cin,
            cout,
            k,
            f,
            weights: Arc::new(gemm::pack(weights.as_slice::<f32>()?, cout, cin * k * k)),
            bias: Arc::new(bias),
            relu: false,
        };
        let mut last = node.id;
        if let Some(next) = super::super::tract::only_successor(model, last)?
            && super::super::tract::is_relu(model, next, last)?
        {
            op.relu = true;
            last = next;
        }
        Ok(Some((op, last)))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::detect::ops::tract::testing::{compare, tensor};
        use tract_core::ops::cnn::{PaddingSpec, PoolSpec};

        /// tract's `Conv` (and a ReLU when `relu`), as BlazeFace's first layer.
        fn stem(
            cin: usize,
            cout: usize,
            hw: usize,
            k: usize,
            pad: PaddingSpec,
            relu: bool,
        ) -> TypedModel {
            let mut m = TypedModel::default();
            let x = m.add_source("x", f32::fact([1, cin, hw, hw])).unwrap();
            let w = m.add_const("w", tensor(&[cout, cin, k, k], 1)).unwrap();
            let b = m.add_const("b", tensor(&[cout], 2)).unwrap();
            let conv = Conv {
                pool_spec: PoolSpec {
                    data_format: DataFormat::NCHW,
                    kernel_shape: tvec!(k, k),
                    padding: pad,
                    dilations: None,
                    strides: Some(tvec!(2, 2)),
                    input_channels: cin,
                    output_channels: cout,
                },
                kernel_fmt: KernelFormat::OIHW,
                group: 1,
                q_params: None,
            };
            let mut y = m.wire_node("conv", conv, &[x, w, b]).unwrap()[0];
            if relu {
                y = crate::detect::ops::tract::testing::relu(&mut m, y);
            }
            m.set_output_outlets(&[y]).unwrap();
            m
        }

        #[test]
        fn agrees_with_tract_on_blazeface_first_layers() {
            let blazeface = || PaddingSpec::Explicit(tvec!(1, 1), tvec!(2, 2));
            for (cin, cout, hw, k, pad, relu) in [
                (3, 24, 128, 5, blazeface(), true),
                (3, 24, 32, 5, blazeface(), false),
                (2, 6, 16, 3, PaddingSpec::SameUpper, true),
                (1, 5, 17, 3, PaddingSpec::Valid, true),
            ] {
                let x = tensor(&[1, cin, hw, hw], 3);
                let worst = compare(stem(cin, cout, hw, k, pad.clone(), relu), 1, &[x]);
                assert!(
                    worst < 1e-4,
                    "{cin}→{cout} {hw}² k{k} {pad:?}: off by {worst}"
                );
            }
        }
    }
}

#[cfg(test)]
mod plain_tests {
    use super::*;
    use crate::detect::ops::plain::{noise, padded, worst};

    #[test]
    fn agrees_with_plain_loops() {
        // BlazeFace's first layer (5×5, stride 2, TensorFlow's "same"
        // padding: 1 before, 2 after) on a small frame, and a 3×3 one.
        for (cin, cout, k, h, w, pad) in [
            (3, 6, 5, 32, 32, [1, 2, 1, 2]),
            (3, 24, 5, 16, 48, [1, 2, 1, 2]),
            (2, 3, 3, 8, 31, [0, 1, 1, 1]),
            // An even left padding: the input's even columns stay even.
            (2, 5, 3, 8, 16, [0, 1, 0, 1]),
        ] {
            let out = |n: usize, p: usize| (n + p - k) / 2 + 1;
            let f = crate::detect::ops::Frame::new(
                h,
                w,
                pad,
                (out(h, pad[0] + pad[1]), out(w, pad[2] + pad[3])),
                k,
                2,
            )
            .unwrap();
            let taps = cin * k * k;
            let weights = noise(cout * taps, 1);
            let stem = Stem {
                cin,
                cout,
                k,
                f,
                weights: Arc::new(gemm::pack(&weights, cout, taps)),
                bias: Arc::new(noise(cout, 2)),
                relu: true,
            };
            let x = noise(stem.input_len(), 3);
            let mut ours = vec![f32::NAN; stem.output_len()];
            stem.run(&x, &mut ours);
            let at = |ci: usize, y: usize, x_: usize| padded(&x, &f, ci, y, x_);
            let mut plain = Vec::new();
            for co in 0..cout {
                for oy in 0..f.oh {
                    for ox in 0..f.ow {
                        let mut v = stem.bias[co];
                        for t in 0..taps {
                            let (ci, ky, kx) = (t / (k * k), t / k % k, t % k);
                            v += weights[co * taps + t] * at(ci, 2 * oy + ky, 2 * ox + kx);
                        }
                        plain.push(v.max(0.0));
                    }
                }
            }
            let off = worst(&ours, &plain);
            assert!(
                off < 1e-4,
                "{cin}→{cout} {k}×{k} over {h}×{w}: off by {off}"
            );
        }
    }
}
