//! Tract operators of our own for the two BlazeFace layers where tract 0.21's
//! generic ones cost most, swapped into the decluttered model before tract
//! optimises the rest (tract's own extension point: a typed op and a patch).
//!
//! Profiled on the short-range plan, one 640×480 frame: tract's scalar
//! `DepthWiseConv` took 3.8 of 7.0 ms natively, and in the wasm its
//! `MaxPool` took 12 % of the time (a libm `fmaxf` call per element, since
//! `f32::max` has no single wasm instruction). Both are replaced only for the
//! exact shapes BlazeFace uses; any other layer stays tract's.

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

mod depthwise;
mod maxpool;
mod pointwise;
mod simd;

use tract_core::internal::*;
use tract_core::ops::cnn::{Conv, MaxPool};
use tract_core::ops::einsum::EinSum;

/// Replaces every BlazeFace-shaped depthwise `Conv`, 2×2 `MaxPool` and 1×1
/// convolution (with its bias, shortcut and ReLU) of a decluttered model with
/// ours. Returns how many operators of ours went in.
pub(crate) fn install(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let op: Option<(Box<dyn TypedOp>, TVec<OutletId>, usize)> =
            if let Some(conv) = node.op_as::<Conv>() {
                depthwise::replacement(model, node, conv)?
                    .map(|op| (Box::new(op) as _, tvec!(node.inputs[0]), id))
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

/// Evaluates a one-input f32 operator: checks the input is `shapes.0`, makes
/// the output tensor of `shapes.1` and lets `run` fill it.
fn eval_f32(
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
mod testing {
    use tract_core::internal::*;

    /// Deterministic values in [-1, 1); `seed` gives another set.
    pub(super) fn tensor(shape: &[usize], seed: usize) -> Tensor {
        let n: usize = shape.iter().product();
        let v: Vec<f32> = (0..n)
            .map(|i| ((i * 7919 + seed * 104729) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        Tensor::from_shape(shape, &v).unwrap()
    }

    /// Installs ours in a copy of `theirs`, checks `replaced` operators went
    /// in, runs both on `inputs` and returns the largest difference between
    /// their outputs.
    pub(super) fn compare(theirs: TypedModel, replaced: usize, inputs: &[Tensor]) -> f32 {
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
