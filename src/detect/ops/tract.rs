//! The tract side of our operators: each one as a tract `TypedOp`, the
//! patterns that find BlazeFace's layers in a decluttered tract model, and
//! [`install`], which swaps ours in (tract's own extension point: a typed op
//! and a patch). Native builds with the `onnx` feature only: this is how
//! [`crate::detect::compile`] turns tract's model into a [`crate::detect::net::Net`],
//! and how the tests check every operator against tract's.

/// `Op` and `EvalOp` for one of ours: stateless, equal to tract's up to
/// rounding (sums in another order), evaluated by its `evaluate` method.
macro_rules! stateless_op {
    ($op:ident) => {
        impl Op for $op {
            fn name(&self) -> Cow<'_, str> {
                stringify!($op).into()
            }
            fn validation(&self) -> Validation {
                Validation::Rounding
            }
            op_as_typed_op!();
        }

        impl EvalOp for $op {
            fn is_stateless(&self) -> bool {
                true
            }
            fn eval(&self, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
                self.evaluate(inputs)
            }
        }
    };
}

use std::sync::Arc;

use tract_core::internal::*;
use tract_core::ops::binary::{BinMiniOp, TypedBinOp};
use tract_core::ops::cnn::{Conv, MaxPool, PoolSpec};
use tract_core::ops::einsum::EinSum;
use tract_core::ops::math::Max;

use super::{Frame, depthwise, maxpool, pointwise, stem};

/// Replaces every BlazeFace-shaped depthwise `Conv`, 2×2 `MaxPool` and 1×1
/// convolution (with its bias, shortcut and ReLU) of a decluttered model with
/// ours. Returns how many operators of ours went in.
pub(crate) fn install(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let op: Option<(Box<dyn TypedOp>, TVec<OutletId>, usize)> =
            if let Some(conv) = node.op_as::<Conv>() {
                if let Some(op) = depthwise::replacement(model, node, conv)? {
                    Some((Box::new(op) as _, tvec!(node.inputs[0]), id))
                } else {
                    stem::replacement(model, node, conv)?
                        .map(|(op, last)| (Box::new(op) as _, tvec!(node.inputs[0]), last))
                }
            } else if let Some(pool) = node.op_as::<MaxPool>() {
                maxpool::replacement(model, node, pool)?
                    .map(|op| (Box::new(op) as _, tvec!(node.inputs[0]), id))
            } else if let Some(einsum) = node.op_as::<EinSum>() {
                pointwise::replacement(model, node, einsum)?
                    .map(|(op, inputs, last)| (Box::new(op) as _, inputs, last))
            } else {
                None
            };
        if let Some((op, inputs, last)) = op {
            // Ours stands for the nodes from `id` to `last`: wire it to their
            // inputs and give it their output; what only they read goes dead.
            let mut patch = TypedModelPatch::default();
            let taps = patch.taps(model, &inputs)?;
            let name = format!("{}.facebridge", model.node(last).name);
            let wire = patch.wire_node(name, op, &taps)?;
            patch.shunt_outside(model, OutletId::new(last, 0), wire[0])?;
            patch.apply(model)?;
            replaced += 1;
        }
    }
    model.compact()?;
    Ok(replaced)
}

/// tract's padding for a `k`×`k` kernel at `stride` over `h`×`w`;
/// `None` unless the output is not empty and every tap reads inside the
/// padded plane.
pub(super) fn frame_of(
    spec: &PoolSpec,
    h: usize,
    w: usize,
    k: usize,
    stride: usize,
) -> Option<Frame> {
    let padding = spec.computed_padding(&[h, w]);
    let [py, px] = padding.as_slice() else {
        return None;
    };
    Frame::new(
        h,
        w,
        [py.pad_before, py.pad_after, px.pad_before, px.pad_after],
        (py.convoluted, px.convoluted),
        k,
        stride,
    )
}

/// A convolution's constant bias as `c` values (it may be one for all).
pub(super) fn conv_bias(bias: &Tensor, c: usize) -> TractResult<Option<Vec<f32>>> {
    Ok(match bias.len() {
        1 => Some(vec![bias.as_slice::<f32>()?[0]; c]),
        n if n == c => Some(bias.as_slice::<f32>()?.to_vec()),
        _ => None,
    })
}

/// The constant f32 value of `outlet`, if it has one.
pub(super) fn konst(model: &TypedModel, outlet: OutletId) -> TractResult<Option<Arc<Tensor>>> {
    let fact = model.outlet_fact(outlet)?;
    Ok(fact
        .konst
        .clone()
        .filter(|k| k.datum_type() == f32::datum_type()))
}

/// The one node reading `node`'s output, if it is the only reader and the
/// output is not a model output.
pub(super) fn only_successor(model: &TypedModel, node: usize) -> TractResult<Option<usize>> {
    let outlet = OutletId::new(node, 0);
    let next = &model.node(node).outputs[0].successors;
    if next.len() != 1 || model.output_outlets()?.contains(&outlet) {
        return Ok(None);
    }
    Ok(Some(next[0].node))
}

/// `node` as a binary op of kind `B` between `prev`'s output and another
/// outlet; returns the other outlet.
pub(super) fn binary_with<B: BinMiniOp>(
    model: &TypedModel,
    node: usize,
    prev: usize,
) -> Option<OutletId> {
    let n = model.node(node);
    let op = n.op_as::<TypedBinOp>()?;
    if !op.0.is::<B>() || op.1.is_some() || n.inputs.len() != 2 {
        return None;
    }
    match (n.inputs[0].node == prev, n.inputs[1].node == prev) {
        (true, false) => Some(n.inputs[1]),
        (false, true) => Some(n.inputs[0]),
        _ => None,
    }
}

/// Whether `node` is `max(prev, 0)`, a ReLU of `prev`'s output, keeping its shape.
pub(super) fn is_relu(model: &TypedModel, node: usize, prev: usize) -> TractResult<bool> {
    let Some(zero) = binary_with::<Max>(model, node, prev) else {
        return Ok(false);
    };
    let Some(zero) = konst(model, zero)? else {
        return Ok(false);
    };
    let same = model.outlet_fact(OutletId::new(node, 0))?.shape
        == model.outlet_fact(OutletId::new(prev, 0))?.shape;
    Ok(same && zero.len() == 1 && zero.as_slice::<f32>()?[0] == 0.0)
}

/// Evaluates a one-input f32 operator: checks the input is `shapes.0`, makes
/// the output tensor of `shapes.1` and lets `run` fill it.
pub(super) fn eval_f32(
    name: &str,
    inputs: TVec<TValue>,
    shapes: ([usize; 4], [usize; 4]),
    run: impl FnOnce(&[f32], &mut [f32]),
) -> TractResult<TVec<TValue>> {
    let input = args_1!(inputs);
    let (expected, out_shape) = shapes;
    ensure!(
        input.shape() == expected && input.datum_type() == f32::datum_type(),
        "{name} expects f32 {expected:?}, got {:?} {:?}",
        input.datum_type(),
        input.shape()
    );
    let mut output = Tensor::zero::<f32>(&out_shape)?;
    run(input.as_slice::<f32>()?, output.as_slice_mut::<f32>()?);
    Ok(tvec!(output.into_tvalue()))
}

/// What the operators' tests share.
#[cfg(test)]
pub(super) mod testing {
    use tract_core::internal::*;

    /// Deterministic values in [-1, 1); `seed` gives another set.
    pub(crate) fn tensor(shape: &[usize], seed: usize) -> Tensor {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|i| ((i * 7919 + seed * 104729) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        Tensor::from_shape(shape, &v).unwrap()
    }

    /// `max(y, 0)` wired after `y`.
    pub(crate) fn relu(m: &mut TypedModel, y: OutletId) -> OutletId {
        let zero = Tensor::zero::<f32>(&[1, 1, 1, 1]).unwrap();
        let zero = m
            .add_const(format!("{}.zero", m.node(y.node).name), zero)
            .unwrap();
        let name = format!("{}.relu", m.node(y.node).name);
        m.wire_node(name, tract_core::ops::math::max(), &[y, zero])
            .unwrap()[0]
    }

    /// Installs ours in a copy of `theirs`, checks `replaced` operators went
    /// in, runs both on `inputs` and returns the largest difference between
    /// their outputs.
    pub(crate) fn compare(theirs: TypedModel, replaced: usize, inputs: &[Tensor]) -> f32 {
        let mut ours = theirs.clone();
        assert_eq!(super::install(&mut ours).unwrap(), replaced);
        let run = |m: TypedModel| {
            let inputs = inputs.iter().map(|t| t.clone().into_tvalue()).collect();
            m.into_runnable().unwrap().run(inputs).unwrap()[0].clone()
        };
        let (a, b) = (run(theirs), run(ours));
        assert_eq!(a.shape(), b.shape());
        a.as_slice::<f32>()
            .unwrap()
            .iter()
            .zip(b.as_slice::<f32>().unwrap())
            .map(|(p, q)| (p - q).abs())
            .fold(0f32, f32::max)
    }
}
