//! BlazeFace's 1×1 convolutions with what follows them, as one tract operator.
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

use tract_core::internal::*;
use tract_core::ops::array::TypedConcat;
use tract_core::ops::einsum::EinSum;
use tract_core::ops::math::Add;

use super::gemm::{self, CO, PX, Pixels, Store};
use super::{binary_with, konst, only_successor};

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
}

impl Pointwise {
    fn run(&self, x: &[f32], shortcut: Option<&[f32]>, out: &mut [f32]) {
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
            for (ci, dst) in xs.iter_mut().enumerate() {
                let src = &x[ci * hw + p..][..PX];
                dst[0].copy_from_slice(&src[..4]);
                dst[1].copy_from_slice(&src[4..]);
            }
            for b in 0..self.cout.div_ceil(CO) {
                store.put(gemm::block(&self.weights, b, &self.bias, &xs), b, p);
            }
        }
    }
}

stateless_op!(Pointwise);

impl Pointwise {
    fn evaluate(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let (x, shortcut) = match (self.shortcut, inputs.as_slice()) {
            (None, [x]) => (x, None),
            (Some(_), [x, s]) => (x, Some(s)),
            _ => bail!("Pointwise: wrong number of inputs"),
        };
        let expect = |t: &TValue, c: usize| {
            ensure!(
                t.shape() == [1, c, self.h, self.w] && t.datum_type() == f32::datum_type(),
                "Pointwise expects f32 [1, {c}, {}, {}], got {:?} {:?}",
                self.h,
                self.w,
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
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Pointwise {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        ensure!(inputs.len() == 1 + self.shortcut.is_some() as usize);
        Ok(tvec!(f32::fact([1, self.cout, self.h, self.w])))
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

/// An einsum expression with its axes renamed a, b, c… in order of first
/// appearance: the ONNX and NNEF front ends name the same product
/// `NIHW,OI->NOHW` and `akbm,nk->anbm`.
fn renamed(axes: &str) -> String {
    let mut seen = Vec::new();
    axes.chars()
        .map(|c| {
            if !c.is_alphanumeric() {
                return c;
            }
            let i = seen.iter().position(|s| *s == c).unwrap_or_else(|| {
                seen.push(c);
                seen.len() - 1
            });
            char::from(b'a' + (i % 26) as u8)
        })
        .collect()
}

/// Ours for the 1×1 convolution at `node` and the bias, shortcut and ReLU
/// after it: the operator, its inputs, and the last node it stands for.
pub(super) fn replacement(
    model: &TypedModel,
    node: &TypedNode,
    einsum: &EinSum,
) -> TractResult<Option<(Pointwise, TVec<OutletId>, usize)>> {
    if einsum.q_params.is_some()
        || einsum.operating_dt != f32::datum_type()
        || renamed(&einsum.axes.to_string()) != "abcd,eb->aecd"
        || node.inputs.len() != 2
    {
        return Ok(None);
    }
    let x = model.outlet_fact(node.inputs[0])?;
    let Some(&[1, cin, h, w]) = x.shape.as_concrete() else {
        return Ok(None);
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
    let out_shape = [1, cout, h, w];
    let same_shape = |o: OutletId| -> TractResult<bool> {
        Ok(model.outlet_fact(o)?.shape.as_concrete() == Some(&out_shape[..]))
    };

    let mut last = node.id;
    let mut bias = vec![0f32; cout];
    let mut inputs = tvec!(node.inputs[0]);
    let mut shortcut = None;
    let mut relu = false;
    // Bias: Add of a [1, cout, 1, 1] constant.
    if let Some(next) = only_successor(model, last)?
        && let Some(b) = binary_with::<Add>(model, next, last)
        && let Some(b) = konst(model, b)?
        && b.shape() == [1, cout, 1, 1]
        && same_shape(OutletId::new(next, 0))?
    {
        bias.copy_from_slice(b.as_slice::<f32>()?);
        last = next;
    }
    // Shortcut: Add of a computed tensor of the output's shape.
    if let Some(next) = only_successor(model, last)?
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
    if let Some(next) = only_successor(model, last)?
        && super::is_relu(model, next, last)?
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
    };
    Ok(Some((op, inputs, last)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{compare, tensor};
    use super::*;
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
            y = super::super::testing::relu(&mut m, y);
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
            super::super::install(&mut ours).unwrap();
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
    fn einsum_axes_compare_up_to_names() {
        assert_eq!(renamed("NIHW,OI->NOHW"), "abcd,eb->aecd");
        assert_eq!(renamed("akbm,nk->anbm"), "abcd,eb->aecd");
        assert_ne!(renamed("akbm,kn->anbm"), "abcd,eb->aecd");
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
        assert_eq!(super::super::install(&mut m).unwrap(), 0);
    }
}
