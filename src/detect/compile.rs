//! ONNX → [`Net`], with tract (feature `onnx`).
//!
//! tract reads the ONNX file, fixes the input shape and declutters the graph
//! (constant folding, padding worked out, the barracuda export's `Pad` /
//! `ConstantOfShape` / `Concat` shortcuts recognised). [`super::ops::tract::install`]
//! then replaces every BlazeFace layer with one of ours. What is left must be
//! the input, constants, our layers, and the axis changes of the four heads
//! (NCHW → NHWC → `[1, anchors, values]`); anything else means the file is
//! not a BlazeFace this crate knows, and compiling fails.
//!
//! Then the result is checked by running it: tract's own optimised plan
//! (tract's operators, none of ours) and the compiled [`Net`] on the same input must
//! agree to within 1e-3 on every output, or there is no `Net`.

use std::collections::HashMap;

use tract_core::internal::*;
use tract_core::ops::change_axes::AxisOp;
use tract_core::ops::konst::Const;
use tract_core::ops::source::TypedSource;

use super::model::ModelKind;
use super::net::{Head, Layer, Net, Step, head_slot};
use super::ops::{depthwise::Depthwise3x3, maxpool::MaxPool2x2, pointwise::Pointwise, stem::Stem};

/// Compiles a decluttered BlazeFace model (input `[1, S, S, 3]`, NHWC).
pub(crate) fn compile(kind: ModelKind, decluttered: &TypedModel) -> TractResult<Net> {
    let mut model = decluttered.clone();
    super::ops::tract::install(&mut model)?;
    let net = lower(kind, &model)?;
    net.check(kind)
        .map_err(|e| format_err!("compiled network: {e}"))?;
    verify(kind, decluttered, &net)?;
    Ok(net)
}

/// Writes down the installed model as a [`Net`].
fn lower(kind: ModelKind, model: &TypedModel) -> TractResult<Net> {
    let s = kind.input_size();
    let mut buffers = vec![3 * s * s];
    let mut steps = Vec::new();
    // Outlet → buffer holding it (NCHW); `None` for the NHWC source itself.
    let mut at: HashMap<OutletId, Option<usize>> = HashMap::new();
    let buffer_of = |at: &HashMap<OutletId, Option<usize>>, o: OutletId| -> TractResult<usize> {
        at.get(&o).copied().flatten().ok_or_else(|| {
            format_err!(
                "{} reads a value that is not a buffer",
                model.node(o.node).name
            )
        })
    };
    let mut axis_ops: Vec<usize> = Vec::new();
    for id in model.eval_order()? {
        let node = model.node(id);
        let out = OutletId::new(id, 0);
        let op = node.op();
        if op.is::<TypedSource>() {
            let shape = model
                .outlet_fact(out)?
                .shape
                .as_concrete()
                .map(|s| s.to_vec());
            ensure!(shape == Some(vec![1, s, s, 3]), "input of shape {shape:?}");
            at.insert(out, None);
            continue;
        }
        if op.is::<Const>() {
            continue;
        }
        // The input's NHWC → NCHW transpose: buffer 0.
        if let Some(axis) = op.downcast_ref::<AxisOp>()
            && at.get(&node.inputs[0]) == Some(&None)
        {
            ensure!(*axis == AxisOp::Move(3, 1), "the input is read as {axis:?}");
            at.insert(out, Some(0));
            continue;
        }
        if op.is::<AxisOp>() {
            // Only the heads' axis changes; checked below.
            axis_ops.push(id);
            continue;
        }
        let layer = if let Some(l) = op.downcast_ref::<Stem>() {
            Layer::Stem(l.clone())
        } else if let Some(l) = op.downcast_ref::<Depthwise3x3>() {
            Layer::Depthwise(l.clone())
        } else if let Some(l) = op.downcast_ref::<MaxPool2x2>() {
            Layer::MaxPool(l.clone())
        } else if let Some(l) = op.downcast_ref::<Pointwise>() {
            Layer::Pointwise(l.clone())
        } else {
            bail!(
                "{} ({} {:?}, inputs {:?}, output {:?}) is not a BlazeFace layer this crate compiles",
                node.name,
                op.name(),
                op.info()?,
                node.inputs
                    .iter()
                    .map(|i| model.outlet_fact(*i).map(|f| format!("{f:?}")))
                    .collect::<Vec<_>>(),
                model.outlet_fact(out)?
            );
        };
        let input = buffer_of(&at, node.inputs[0])?;
        let shortcut = node.inputs.get(1).map(|o| buffer_of(&at, *o)).transpose()?;
        let fact = model.outlet_fact(out)?;
        buffers.push(
            fact.shape
                .as_concrete()
                .map(|s| s.iter().product())
                .unwrap_or(0),
        );
        at.insert(out, Some(buffers.len() - 1));
        steps.push(Step {
            layer,
            input,
            shortcut,
            output: buffers.len() - 1,
        });
    }
    let mut heads: [Option<Head>; 4] = [None; 4];
    for outlet in model.output_outlets()? {
        // Back through the axis changes to the buffer they rearrange.
        let mut o = *outlet;
        while axis_ops.contains(&o.node) {
            o = model.node(o.node).inputs[0];
        }
        let buffer = buffer_of(&at, o)?;
        // The buffer is NCHW whatever tract's operator writes (ops/pointwise.rs).
        let (c, hw) = match steps.iter().find(|s| s.output == buffer).map(|s| &s.layer) {
            Some(Layer::Pointwise(p)) => p.planes(),
            _ => bail!("a head that is not a 1×1 convolution"),
        };
        let shape = model
            .outlet_fact(*outlet)?
            .shape
            .as_concrete()
            .map(|s| s.to_vec());
        let Some(slot) = shape.as_deref().and_then(|s| head_slot(kind, s)) else {
            bail!("unexpected output shape {shape:?}: not a BlazeFace model");
        };
        heads[slot] = Some(Head { buffer, c, hw });
    }
    let [Some(a), Some(b), Some(c), Some(d)] = heads else {
        bail!("the model lacks one of BlazeFace's four outputs");
    };
    Ok(Net {
        size: s,
        buffers,
        steps,
        heads: [a, b, c, d],
        spare: Default::default(),
    })
}

/// Runs tract's own plan and `net` on one input and compares every output.
fn verify(kind: ModelKind, decluttered: &TypedModel, net: &Net) -> TractResult<()> {
    let s = kind.input_size();
    // A smooth pattern with edges, in [-1, 1].
    let nchw: Vec<f32> = (0..3 * s * s)
        .map(|i| {
            let (c, y, x) = (i / (s * s), i / s % s, i % s);
            ((x as f32 * 0.07 + c as f32).sin() * (y as f32 * 0.05).cos()).clamp(-1.0, 1.0)
        })
        .collect();
    let mut nhwc = vec![0f32; nchw.len()];
    for (i, v) in nchw.iter().enumerate() {
        let (c, p) = (i / (s * s), i % (s * s));
        nhwc[p * 3 + c] = *v;
    }
    // tract's optimised plan: its production path (the decluttered graph run
    // as it is uses reference kernels and takes seconds).
    let plan = decluttered.clone().into_optimized()?.into_runnable()?;
    let theirs = plan.run(tvec!(
        Tensor::from_shape(&[1, s, s, 3], &nhwc)?.into_tvalue()
    ))?;
    let ours = net.run(nchw).map_err(|e| format_err!("{e}"))?;
    for (t, want) in theirs.iter().zip(0..) {
        let Some(slot) = head_slot(kind, t.shape()) else {
            bail!("tract's output {want} has shape {:?}", t.shape());
        };
        let worst = t
            .as_slice::<f32>()?
            .iter()
            .zip(&ours.0[slot])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        ensure!(
            t.len() == ours.0[slot].len() && worst < 1e-3,
            "output {want} differs from tract's by {worst}"
        );
    }
    Ok(())
}
