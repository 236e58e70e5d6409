//! BlazeFace's 1×1 convolutions with what follows them, as one layer.
//!
//! Every BlazeFace block ends the same way: a 1×1 convolution (an `EinSum`
//! `akbm,nk->anbm` after decluttering), its bias, the block's shortcut added
//! (channel-padded with a `Concat` of zeros when the block widens), and a
//! ReLU. tract runs the product through its packed matrix kernels, a 4×4 tile
//! in the wasm, and spends a packing pass on the input first. [`Pointwise`]
//! reads the NCHW planes as they are: 4 output channels × 8 pixels per step,
//! sums kept in registers over the input channels (8 simd128 vectors in the
//! wasm), and adds the bias, the shortcut and the ReLU while storing.

use std::sync::Arc;

use super::gemm::{self, CO, PX, Pixels, Store};
use crate::detect::net::Reader;
#[cfg(feature = "onnx")]
use crate::detect::net::Writer;

#[derive(Debug, Clone)]
pub(crate) struct Pointwise {
    cin: usize,
    cout: usize,
    h: usize,
    w: usize,
    /// Weights in blocks of `CO` output channels: `[cout/CO][cin][CO]`, the
    /// last block padded with zero rows.
    weights: Arc<Vec<f32>>,
    bias: Arc<Vec<f32>>,
    /// Channels of the shortcut input, the rest being zero; `None`: no shortcut.
    shortcut: Option<usize>,
    relu: bool,
    /// How tract's operator lays out its input and output. A
    /// [`crate::detect::net::Net`] keeps every buffer NCHW (and reads the
    /// heads transposed), so this is not part of the `.fbnet` encoding.
    #[cfg_attr(not(feature = "onnx"), allow(dead_code))]
    tract: Layout,
}

/// The layouts tract's decluttering gives a 1×1 convolution: a leading unit
/// (batch) axis or not, on either side, and the output channel-major (NCHW)
/// or pixel-major (NHWC: the heads, whose transpose tract folds in). The
/// values in memory are the same whichever unit axes are there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    unit_in: bool,
    unit_out: bool,
    pixel_major: bool,
}

impl Layout {
    const NCHW: Layout = Layout {
        unit_in: true,
        unit_out: true,
        pixel_major: false,
    };
}

impl Pointwise {
    /// Never inlined: see `detect::net::Net::run`.
    #[inline(never)]
    pub(crate) fn run(&self, x: &[f32], shortcut: Option<&[f32]>, out: &mut [f32]) {
        let hw = self.h * self.w;
        // The PX pixels of every input channel, side by side: the planes are
        // a power of two apart, so reading them in place for every block of
        // output channels would keep evicting each other from the L1 cache.
        let mut xs: Vec<Pixels> = vec![[[0.0; 4]; 2]; self.cin];
        let mut store = Store {
            out,
            plane: hw,
            cout: self.cout,
            shortcut: shortcut.zip(self.shortcut),
            relu: self.relu,
        };
        for p in (0..hw).step_by(PX) {
            self.pixels(x, p, &mut xs, &mut store);
        }
    }

    /// The `PX` pixels from `p` on, every output channel. Never inlined: a
    /// call per block of pixels lets V8 swap in its optimised code during the
    /// first detection (see `depthwise::row_stride1`).
    #[inline(never)]
    fn pixels(&self, x: &[f32], p: usize, xs: &mut [Pixels], store: &mut Store) {
        let hw = self.h * self.w;
        for (ci, dst) in xs.iter_mut().enumerate() {
            let src = &x[ci * hw + p..][..PX];
            dst[0].copy_from_slice(&src[..4]);
            dst[1].copy_from_slice(&src[4..]);
        }
        for b in 0..self.cout.div_ceil(CO) {
            store.put(gemm::block(&self.weights, b, &self.bias, xs), b, p);
        }
    }
}

impl Pointwise {
    pub(crate) fn input_len(&self) -> usize {
        self.cin * self.h * self.w
    }
    pub(crate) fn shortcut_len(&self) -> Option<usize> {
        self.shortcut.map(|cs| cs * self.h * self.w)
    }
    /// Multiply-adds of one run, for the network's cost bound.
    pub(crate) fn macs(&self) -> u64 {
        self.output_len() as u64 * self.cin as u64
    }
    pub(crate) fn output_len(&self) -> usize {
        self.cout * self.h * self.w
    }
    /// Output planes and pixels per plane.
    #[cfg(feature = "onnx")]
    pub(crate) fn planes(&self) -> (usize, usize) {
        (self.cout, self.h * self.w)
    }
    #[cfg(feature = "onnx")]
    pub(crate) fn encode(&self, w: &mut Writer) {
        for v in [
            self.cin,
            self.cout,
            self.h,
            self.w,
            self.shortcut.unwrap_or(0),
        ] {
            w.dim(v);
        }
        w.flag(self.relu);
        w.weights(&self.weights);
        w.weights(&self.bias);
    }
    pub(crate) fn decode(r: &mut Reader) -> Result<Self, String> {
        let (cin, cout, h, w, cs) = (r.dim()?, r.dim()?, r.dim()?, r.dim()?, r.dim()?);
        if cin == 0 || cout == 0 || h == 0 || w == 0 || cs > cout || (h * w) % PX != 0 {
            return Err(format!(
                "1×1 convolution {cin}→{cout} over {h}×{w}, shortcut {cs}"
            ));
        }
        let relu = r.flag()?;
        Ok(Pointwise {
            cin,
            cout,
            h,
            w,
            weights: Arc::new(r.weights(cout.div_ceil(CO) * cin * CO)?),
            bias: Arc::new(r.weights(cout)?),
            shortcut: (cs > 0).then_some(cs),
            relu,
            tract: Layout::NCHW,
        })
    }
}

#[cfg(feature = "onnx")]
pub(super) use tract_op::replacement;

/// The layer as a tract operator, and where tract's model has one.
#[cfg(feature = "onnx")]
mod tract_op {
    use super::super::tract::{binary_with, konst, only_successor};
    use super::*;
    use tract_core::internal::*;
    use tract_core::ops::array::TypedConcat;
    use tract_core::ops::einsum::EinSum;
    use tract_core::ops::math::Add;

    stateless_op!(Pointwise);

    impl Layout {
        fn input(&self, c: usize, h: usize, w: usize) -> TVec<usize> {
            if self.unit_in {
                tvec!(1, c, h, w)
            } else {
                tvec!(c, h, w)
            }
        }
        fn output(&self, c: usize, h: usize, w: usize) -> TVec<usize> {
            let mut s: TVec<usize> = if self.pixel_major {
                tvec!(h, w, c)
            } else {
                tvec!(c, h, w)
            };
            if self.unit_out {
                s.insert(0, 1);
            }
            s
        }
        /// The bias's shape: the output's, with 1 on every axis but the channels'.
        fn bias(&self, c: usize) -> TVec<usize> {
            self.output(c, 1, 1)
        }
        /// The layout of an einsum `X,W->Y` that is a 1×1 convolution:
        /// `W` is `[out, in]`, `X` is `[unit?, in, h, w]`, `Y` is `[unit?,
        /// out, h, w]` or `[unit?, h, w, out]`; `None` for anything else.
        fn of(axes: &str) -> Option<Layout> {
            let (ins, y) = axes.split_once("->")?;
            let (x, wt) = ins.split_once(',')?;
            let [x, wt, y] = [x, wt, y].map(|s| s.chars().collect::<Vec<_>>());
            let &[o, i] = wt.as_slice() else { return None };
            let (unit_in, xs) = match x.as_slice() {
                [_, rest @ ..] if rest.len() == 3 => (true, rest),
                rest => (false, rest),
            };
            let &[xi, h, w] = xs else { return None };
            let (unit_out, ys) = match y.as_slice() {
                [n, rest @ ..] if rest.len() == 3 && ![o, h, w].contains(n) => (true, rest),
                rest => (false, rest),
            };
            let pixel_major = match ys {
                [a, b, c] if [*a, *b, *c] == [o, h, w] => false,
                [a, b, c] if [*a, *b, *c] == [h, w, o] => true,
                _ => return None,
            };
            (xi == i && o != i).then_some(Layout {
                unit_in,
                unit_out,
                pixel_major,
            })
        }
    }

    impl Pointwise {
        fn evaluate(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
            let (x, shortcut) = match (self.shortcut, inputs.as_slice()) {
                (None, [x]) => (x, None),
                (Some(_), [x, s]) => (x, Some(s)),
                _ => bail!("Pointwise: wrong number of inputs"),
            };
            let expect = |t: &TValue, c: usize| {
                let want = self.tract.input(c, self.h, self.w);
                ensure!(
                    t.shape() == &*want && t.datum_type() == f32::datum_type(),
                    "Pointwise expects f32 {want:?}, got {:?} {:?}",
                    t.datum_type(),
                    t.shape()
                );
                Ok(())
            };
            expect(x, self.cin)?;
            if let (Some(s), Some(cs)) = (shortcut, self.shortcut) {
                expect(s, cs)?;
            }
            let mut out = Tensor::zero::<f32>(&[1, self.cout, self.h, self.w])?;
            let shortcut = shortcut.map(|s| s.as_slice::<f32>()).transpose()?;
            self.run(x.as_slice::<f32>()?, shortcut, out.as_slice_mut::<f32>()?);
            if self.tract.pixel_major {
                out = out.permute_axes(&[0, 2, 3, 1])?;
            }
            let shape = self.tract.output(self.cout, self.h, self.w);
            Ok(tvec!(out.into_shape(&shape)?.into_tvalue()))
        }
    }

    impl TypedOp for Pointwise {
        fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
            ensure!(inputs.len() == 1 + self.shortcut.is_some() as usize);
            Ok(tvec!(f32::fact(
                self.tract.output(self.cout, self.h, self.w)
            )))
        }
        as_op!();
    }

    /// A shortcut padded with zero channels (`Concat` on axis 1 of `[s, zeros]`)
    /// read as `s`; anything else as it is.
    fn unpadded(model: &TypedModel, outlet: OutletId) -> TractResult<OutletId> {
        let node = model.node(outlet.node);
        if let Some(concat) = node.op_as::<TypedConcat>()
            && concat.axis == 1
            && node.inputs.len() == 2
            && konst(model, node.inputs[0])?.is_none()
            && let Some(zeros) = konst(model, node.inputs[1])?
            && zeros.as_slice::<f32>()?.iter().all(|v| *v == 0.0)
        {
            return Ok(node.inputs[0]);
        }
        Ok(outlet)
    }

    /// Ours for the 1×1 convolution at `node` and the bias, shortcut and ReLU
    /// after it: the operator, its inputs, and the last node it stands for.
    pub(crate) fn replacement(
        model: &TypedModel,
        node: &TypedNode,
        einsum: &EinSum,
    ) -> TractResult<Option<(Pointwise, TVec<OutletId>, usize)>> {
        let Some(layout) = Layout::of(&einsum.axes.to_string()) else {
            return Ok(None);
        };
        // Shortcuts and ReLUs follow the blocks' NCHW products only.
        let block = layout == Layout::NCHW;
        if einsum.q_params.is_some()
            || einsum.operating_dt != f32::datum_type()
            || node.inputs.len() != 2
        {
            return Ok(None);
        }
        let x = model.outlet_fact(node.inputs[0])?;
        let Some(shape) = x.shape.as_concrete() else {
            return Ok(None);
        };
        let (cin, h, w) = match (layout.unit_in, shape) {
            (true, &[1, c, h, w]) | (false, &[c, h, w]) => (c, h, w),
            _ => return Ok(None),
        };
        let Some(weights) = konst(model, node.inputs[1])? else {
            return Ok(None);
        };
        let &[cout, k] = weights.shape() else {
            return Ok(None);
        };
        if k != cin || x.datum_type != f32::datum_type() || (h * w) % PX != 0 {
            return Ok(None);
        }
        let out_shape = layout.output(cout, h, w);
        let bias_shape = layout.bias(cout);
        let same_shape = |o: OutletId| -> TractResult<bool> {
            Ok(model.outlet_fact(o)?.shape.as_concrete() == Some(&out_shape[..]))
        };

        let mut last = node.id;
        let mut bias = vec![0f32; cout];
        let mut inputs = tvec!(node.inputs[0]);
        let mut shortcut = None;
        let mut relu = false;
        // Bias: Add of a constant with `cout` values on the channel axis.
        if let Some(next) = only_successor(model, last)?
            && let Some(b) = binary_with::<Add>(model, next, last)
            && let Some(b) = konst(model, b)?
            && b.shape() == &*bias_shape
            && same_shape(OutletId::new(next, 0))?
        {
            bias.copy_from_slice(b.as_slice::<f32>()?);
            last = next;
        }
        // Shortcut: Add of a computed tensor of the output's shape.
        if block
            && let Some(next) = only_successor(model, last)?
            && let Some(s) = binary_with::<Add>(model, next, last)
            && konst(model, s)?.is_none()
            && same_shape(s)?
            && same_shape(OutletId::new(next, 0))?
        {
            let s = unpadded(model, s)?;
            let fact = model.outlet_fact(s)?;
            let Some(&[1, cs, sh, sw]) = fact.shape.as_concrete() else {
                return Ok(None);
            };
            if fact.datum_type != f32::datum_type() || cs > cout || (sh, sw) != (h, w) {
                return Ok(None);
            }
            inputs.push(s);
            shortcut = Some(cs);
            last = next;
        }
        // ReLU: Max with a constant zero.
        if (block || !layout.pixel_major)
            && let Some(next) = only_successor(model, last)?
            && super::super::tract::is_relu(model, next, last)?
        {
            relu = true;
            last = next;
        }

        let op = Pointwise {
            cin,
            cout,
            h,
            w,
            weights: Arc::new(gemm::pack(weights.as_slice::<f32>()?, cout, cin)),
            bias: Arc::new(bias),
            shortcut,
            relu,
            tract: layout,
        };
        Ok(Some((op, inputs, last)))
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::detect::ops::tract::testing::{compare, tensor};
        use tract_core::ops::math;

        /// A BlazeFace block tail as tract builds it: EinSum, bias, a shortcut
        /// padded with zero channels (when `cs` is given), ReLU (when `relu`).
        fn block(cin: usize, cout: usize, cs: Option<usize>, relu: bool) -> TypedModel {
            let (h, w) = (4, 6);
            let mut m = TypedModel::default();
            let x = m.add_source("x", f32::fact([1, cin, h, w])).unwrap();
            let wt = m.add_const("w", tensor(&[cout, cin], 1)).unwrap();
            let einsum = EinSum {
                axes: "akbm,nk->anbm".parse().unwrap(),
                operating_dt: f32::datum_type(),
                q_params: None,
            };
            let mut y = m.wire_node("pw", einsum, &[x, wt]).unwrap()[0];
            let b = m.add_const("b", tensor(&[1, cout, 1, 1], 2)).unwrap();
            y = m.wire_node("bias", math::add(), &[y, b]).unwrap()[0];
            if let Some(cs) = cs {
                let mut s = m.add_source("s", f32::fact([1, cs, h, w])).unwrap();
                if cs < cout {
                    let zeros = m
                        .add_const("zeros", Tensor::zero::<f32>(&[1, cout - cs, h, w]).unwrap())
                        .unwrap();
                    s = m
                        .wire_node("pad", TypedConcat { axis: 1 }, &[s, zeros])
                        .unwrap()[0];
                }
                y = m.wire_node("shortcut", math::add(), &[y, s]).unwrap()[0];
            }
            if relu {
                y = crate::detect::ops::tract::testing::relu(&mut m, y);
            }
            m.set_output_outlets(&[y]).unwrap();
            m
        }

        #[test]
        fn agrees_with_tract_on_blazeface_block_tails() {
            for (cin, cout, cs, relu) in [
                (24, 24, Some(24), true),
                (24, 28, Some(24), true),
                (36, 42, Some(36), true),
                (5, 6, None, false),
                (8, 3, None, true),
            ] {
                let theirs = block(cin, cout, cs, relu);
                let mut ours = theirs.clone();
                crate::detect::ops::tract::install(&mut ours).unwrap();
                let names: Vec<_> = ours
                    .nodes()
                    .iter()
                    .map(|n| n.op().name().to_string())
                    .collect();
                assert!(
                    !names
                        .iter()
                        .any(|n| n == "EinSum" || n == "Add" || n == "Max"),
                    "{names:?}"
                );
                let mut inputs = vec![tensor(&[1, cin, 4, 6], 3)];
                inputs.extend(cs.map(|cs| tensor(&[1, cs, 4, 6], 4)));
                let worst = compare(theirs, 1, &inputs);
                assert!(
                    worst < 1e-4,
                    "{cin}→{cout} shortcut {cs:?} relu {relu}: off by {worst}"
                );
            }
        }

        #[test]
        fn einsum_layouts_are_read_whatever_the_axis_names() {
            // The forms tract 0.21 gives BlazeFace's 1×1 convolutions, from
            // the ONNX and the NNEF front ends.
            for (axes, unit_in, unit_out, pixel_major) in [
                ("NIHW,OI->NOHW", true, true, false),
                ("akbm,nk->anbm", true, true, false),
                ("NIHW,OI->NHWO", true, true, true),
                ("NIHW,OI->OHW", true, false, false),
                ("IHW,OI->NHWO", false, true, true),
            ] {
                let want = Layout {
                    unit_in,
                    unit_out,
                    pixel_major,
                };
                assert_eq!(Layout::of(axes), Some(want), "{axes}");
            }
            for axes in [
                "akbm,kn->anbm",
                "NIHW,OI->NOWH",
                "NIHW,IO->NOHW",
                "NIHW,OI->NIHW",
            ] {
                assert_eq!(Layout::of(axes), None, "{axes}");
            }
        }

        #[test]
        fn a_pixel_count_off_the_block_size_stays_with_tract() {
            let mut m = TypedModel::default();
            let x = m.add_source("x", f32::fact([1, 4, 3, 3])).unwrap();
            let wt = m.add_const("w", tensor(&[4, 4], 1)).unwrap();
            let einsum = EinSum {
                axes: "akbm,nk->anbm".parse().unwrap(),
                operating_dt: f32::datum_type(),
                q_params: None,
            };
            let y = m.wire_node("pw", einsum, &[x, wt]).unwrap();
            m.set_output_outlets(&y).unwrap();
            assert_eq!(crate::detect::ops::tract::install(&mut m).unwrap(), 0);
        }
    }
}

#[cfg(test)]
mod plain_tests {
    use super::*;
    use crate::detect::ops::plain::{noise, worst};

    #[test]
    fn agrees_with_plain_loops() {
        // Channel counts off the 4-channel blocks, a widening shortcut, no ReLU.
        for (cin, cout, h, w, cs, relu) in [
            (24, 24, 4, 6, Some(24), true),
            (24, 30, 8, 8, Some(24), true),
            (7, 5, 2, 4, None, false),
            (3, 16, 16, 16, None, true),
        ] {
            let hw = h * w;
            let weights = noise(cout * cin, 1);
            let p = Pointwise {
                cin,
                cout,
                h,
                w,
                weights: Arc::new(gemm::pack(&weights, cout, cin)),
                bias: Arc::new(noise(cout, 2)),
                shortcut: cs,
                relu,
                tract: Layout::NCHW,
            };
            let x = noise(p.input_len(), 3);
            let s = cs.map(|cs| noise(cs * hw, 4));
            let mut ours = vec![f32::NAN; p.output_len()];
            p.run(&x, s.as_deref(), &mut ours);
            let mut plain = Vec::new();
            for co in 0..cout {
                for px in 0..hw {
                    let mut v = p.bias[co];
                    for ci in 0..cin {
                        v += weights[co * cin + ci] * x[ci * hw + px];
                    }
                    if let (Some(s), Some(cs)) = (&s, cs)
                        && co < cs
                    {
                        v += s[co * hw + px];
                    }
                    plain.push(if relu { v.max(0.0) } else { v });
                }
            }
            let off = worst(&ours, &plain);
            assert!(off < 1e-4, "{cin}→{cout} over {h}×{w}: off by {off}");
        }
    }
}
