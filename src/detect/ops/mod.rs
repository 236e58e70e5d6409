//! Tract operators of our own for the two BlazeFace layers where tract 0.21's
//! generic ones cost most, swapped into the decluttered model before tract
//! optimises the rest (tract's own extension point: a typed op and a patch).
//!
//! Profiled on the short-range plan, one 640×480 frame: tract's scalar
//! `DepthWiseConv` took 3.8 of 7.0 ms natively, and in the wasm its
//! `MaxPool` took 12 % of the time (a libm `fmaxf` call per element, since
//! `f32::max` has no single wasm instruction). Both are replaced only for the
//! exact shapes BlazeFace uses; any other layer stays tract's.

mod depthwise;
mod maxpool;

use tract_core::internal::*;
use tract_core::ops::cnn::{Conv, MaxPool};

/// Replaces every BlazeFace-shaped depthwise `Conv` and 2×2 `MaxPool` of a
/// decluttered model with ours. Returns how many nodes were replaced.
pub(crate) fn install(model: &mut TypedModel) -> TractResult<usize> {
    let mut replaced = 0;
    for id in model.eval_order()? {
        let node = model.node(id);
        let op: Option<Box<dyn TypedOp>> = if let Some(conv) = node.op_as::<Conv>() {
            depthwise::replacement(model, node, conv)?.map(|op| Box::new(op) as _)
        } else if let Some(pool) = node.op_as::<MaxPool>() {
            maxpool::replacement(model, node, pool)?.map(|op| Box::new(op) as _)
        } else {
            None
        };
        if let Some(op) = op {
            let patch = TypedModelPatch::replace_single_op(model, node, &[node.inputs[0]], op)?;
            patch.apply(model)?;
            replaced += 1;
        }
    }
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
