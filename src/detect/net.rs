//! BlazeFace compiled ahead of time: the network as a list of our own layers
//! over numbered buffers, and the small file format the wasm embeds.
//!
//! tract reads the ONNX files and works out the graph (decluttering, shapes,
//! padding); `crate::detect::compile` then writes down what it found as a
//! [`Net`]: which of our layers runs, on which buffer, into which, with which
//! weights. Running a `Net` needs none of tract, so the wasm ships without
//! it (BENCHMARKS.md: most of the wasm's bytes and of its start-up time).
//! Natively the same `Net` runs, compiled from the ONNX file at load.
//!
//! # File format (`.fbnet`, little-endian)
//!
//! ```text
//! "FBNET\0\x01\0"                  magic and version 1
//! u32 input side S                 the input is 3 planes of S×S (NCHW, RGB in [-1, 1])
//! u32 B, then B × u32              buffer lengths in floats; buffer 0 is the input
//! u32 N, then N steps              u8 layer kind, u16 input, u16 shortcut (0xFFFF: none),
//!                                  u16 output, then the layer's own fields (ops/*.rs)
//! 4 × (u16 buffer, u32 c, u32 hw)  the heads: scores fine, scores coarse, boxes fine,
//!                                  boxes coarse; each a c×hw NCHW buffer read as hw×c
//! ```
//!
//! Weights are f16 (MediaPipe's own precision), widened to f32 at load.
//! [`Net::from_bytes`] checks every index and size before anything runs: a
//! damaged or hostile file is a typed error, never a panic.

use super::model::{ModelKind, grid_sizes};
use super::ops::{depthwise::Depthwise3x3, maxpool::MaxPool2x2, pointwise::Pointwise, stem::Stem};

const MAGIC: &[u8; 8] = b"FBNET\0\x01\0";

/// Whether `bytes` claim to be a `.fbnet` file, of any version.
pub(crate) fn is_fbnet(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC[..5])
}

/// The four heads' `(anchors, values)`, in [`Net::heads`] order.
pub(crate) fn head_shapes(kind: ModelKind) -> [(usize, usize); 4] {
    let [fine, coarse] = grid_sizes(kind);
    [(fine, 1), (coarse, 1), (fine, 16), (coarse, 16)]
}

/// Which head a model output of shape `[1, anchors, values]` is.
#[cfg(feature = "onnx")]
pub(crate) fn head_slot(kind: ModelKind, shape: &[usize]) -> Option<usize> {
    let &[1, anchors, values] = shape else {
        return None;
    };
    head_shapes(kind)
        .iter()
        .position(|h| *h == (anchors, values))
}
/// Largest dimension (side or channel count) a layer may declare.
const MAX_DIM: usize = 2048;
/// Largest buffer, in floats (16 MiB).
const MAX_BUFFER: usize = 1 << 22;
const MAX_STEPS: usize = 1024;
/// All buffers together, in floats (128 MiB): 3.7× what BlazeFace's
/// full-range network holds (9.0 M). Each buffer alone may be 16 MiB, and
/// 1025 of them would be 16 GiB.
const MAX_TOTAL_FLOATS: usize = 1 << 25;
/// Multiply-adds of one run: 2.8× the full-range network's (189 M), so a
/// file whose layers are each legal cannot make a frame take seconds.
const MAX_MACS: u64 = 1 << 29;
const NONE: u16 = u16::MAX;

/// One of our layers.
#[derive(Debug, Clone)]
pub(crate) enum Layer {
    Stem(Stem),
    Depthwise(Depthwise3x3),
    MaxPool(MaxPool2x2),
    Pointwise(Pointwise),
}

impl Layer {
    #[cfg(feature = "onnx")]
    fn kind(&self) -> u8 {
        match self {
            Layer::Stem(_) => 1,
            Layer::Depthwise(_) => 2,
            Layer::MaxPool(_) => 3,
            Layer::Pointwise(_) => 4,
        }
    }
    /// Floats read from the input, read from the shortcut (if any), written.
    fn macs(&self) -> u64 {
        match self {
            Layer::Stem(l) => l.macs(),
            Layer::Depthwise(l) => l.macs(),
            Layer::MaxPool(l) => l.macs(),
            Layer::Pointwise(l) => l.macs(),
        }
    }

    fn sizes(&self) -> (usize, Option<usize>, usize) {
        match self {
            Layer::Stem(l) => (l.input_len(), None, l.output_len()),
            Layer::Depthwise(l) => (l.input_len(), None, l.output_len()),
            Layer::MaxPool(l) => (l.input_len(), None, l.output_len()),
            Layer::Pointwise(l) => (l.input_len(), l.shortcut_len(), l.output_len()),
        }
    }
}

/// One layer and the buffers it reads and writes.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub layer: Layer,
    pub input: usize,
    pub shortcut: Option<usize>,
    pub output: usize,
}

/// One of the four outputs: buffer `buffer`, `c` planes of `hw` pixels,
/// which the model's final transpose reads pixel by pixel (`hw × c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Head {
    pub buffer: usize,
    pub c: usize,
    pub hw: usize,
}

/// A compiled BlazeFace network.
#[derive(Debug, Clone)]
pub(crate) struct Net {
    pub size: usize,
    /// Length of every buffer, in floats; buffer 0 is the input.
    pub buffers: Vec<usize>,
    pub steps: Vec<Step>,
    /// Scores of the fine grid, of the coarse grid, boxes of the fine grid,
    /// of the coarse grid.
    pub heads: [Head; 4],
    /// Buffers of the last run, kept for the next.
    pub spare: Spare,
}

/// Where each buffer of a run lives: buffers whose lifetimes do not
/// overlap share a slot, so a run holds about what is live at once rather
/// than every buffer (BlazeFace short range: 0.5 M of 1.1 M floats).
#[derive(Debug)]
struct Plan {
    /// The slot of each buffer; buffer 0 (the input, the caller's) has none.
    slot_of: Vec<usize>,
    /// Each slot's length, in floats: the largest buffer it holds.
    sizes: Vec<usize>,
}

/// The slots one run of a [`Net`] wrote, kept for the next run to write into
/// instead of allocating (and zeroing) megabytes a frame. Cloning a `Net`
/// starts it with none.
#[derive(Debug, Default)]
pub(crate) struct Spare(std::sync::Mutex<Vec<Vec<f32>>>);

impl Clone for Spare {
    fn clone(&self) -> Self {
        Spare::default()
    }
}

/// The four outputs of one run, each `[anchors × values]` as the ONNX model
/// gives them.
pub(crate) struct Outputs(pub [Vec<f32>; 4]);

impl Net {
    /// Checks what [`Net::run`] relies on: buffers written before they are
    /// read, each once; every layer's sizes equal to its buffers'; the heads
    /// of BlazeFace's shape for `kind`.
    pub fn check(&self, kind: ModelKind) -> Result<(), String> {
        let s = self.size;
        if s != kind.input_size() {
            return Err(format!(
                "a {s}² input, where the {} model takes {}²",
                kind.name(),
                kind.input_size()
            ));
        }
        if self.buffers.first() != Some(&(3 * s * s)) {
            return Err("buffer 0 is not the 3-plane input".into());
        }
        if let Some(b) = self.buffers.iter().find(|b| **b == 0 || **b > MAX_BUFFER) {
            return Err(format!("a buffer of {b} floats"));
        }
        let total: usize = self.buffers.iter().sum();
        if total > MAX_TOTAL_FLOATS {
            return Err(format!(
                "buffers of {total} floats in all (at most {MAX_TOTAL_FLOATS})"
            ));
        }
        let macs: u64 = self.steps.iter().map(|s| s.layer.macs()).sum();
        if macs > MAX_MACS {
            return Err(format!("{macs} multiply-adds a run (at most {MAX_MACS})"));
        }
        let mut written = vec![false; self.buffers.len()];
        written[0] = true;
        let len = |b: usize| -> Result<usize, String> {
            self.buffers
                .get(b)
                .copied()
                .ok_or_else(|| format!("buffer {b} of {}", self.buffers.len()))
        };
        for (i, step) in self.steps.iter().enumerate() {
            let (input, shortcut, output) = step.layer.sizes();
            let reads = [
                (step.input, Some(input)),
                (step.shortcut.unwrap_or(0), shortcut),
            ];
            for (b, want) in reads {
                let Some(want) = want else { continue };
                if len(b)? != want || !written[b] {
                    return Err(format!(
                        "step {i} reads buffer {b} before it is written, or at the wrong size"
                    ));
                }
            }
            if step.shortcut.is_some() != shortcut.is_some() {
                return Err(format!("step {i}: shortcut buffer and layer disagree"));
            }
            if len(step.output)? != output || written[step.output] {
                return Err(format!(
                    "step {i} writes buffer {} twice or at the wrong size",
                    step.output
                ));
            }
            written[step.output] = true;
        }
        for (head, (anchors, values)) in self.heads.iter().zip(head_shapes(kind)) {
            let ok = head.c * head.hw == anchors * values
                && head.c.is_multiple_of(values)
                && len(head.buffer)? == head.c * head.hw
                && written[head.buffer];
            if !ok {
                return Err(format!(
                    "a head of {}×{} where BlazeFace has {anchors}×{values}",
                    head.hw, head.c
                ));
            }
        }
        Ok(())
    }

    /// Runs the network on `input` (3 planes of `size`², RGB in [-1, 1]).
    ///
    /// Never inlined, nor are the layers' `run`, the letterbox, the detection
    /// decode or the resize's row passes (and binaryen is told not to inline
    /// functions with one caller: wasm-pack.toml). V8 compiles a hot wasm
    /// function again, optimised, on background threads while the first
    /// detection runs in its baseline code, and the time that takes grows
    /// faster than the function: inlined into one 20 KB `run_region`, these
    /// cost 60–90 ms of compile time, which on a two-core machine the page's
    /// main thread pays (BENCHMARKS.md, docs/design-decisions.md, issue 18).
    #[inline(never)]
    pub fn run(&self, input: Vec<f32>) -> Result<Outputs, String> {
        if input.len() != self.buffers[0] {
            return Err(format!(
                "input of {} floats, expected {}",
                input.len(),
                self.buffers[0]
            ));
        }
        let plan = self.plan();
        // The last run's slots, unless another thread is running this
        // network now (then this run allocates its own).
        let mut slots = self
            .spare
            .0
            .try_lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default();
        let fits = slots.len() == plan.sizes.len()
            && slots.iter().zip(&plan.sizes).all(|(s, n)| s.len() == *n);
        if !fits {
            slots = plan.sizes.iter().map(|n| vec![0f32; *n]).collect();
        }
        for step in &self.steps {
            let slot = plan.slot_of[step.output];
            // Every layer writes all of its output: the slot's old values
            // (an earlier buffer's, or the last run's) are never read. The
            // plan gives the output a slot of its own, apart from the
            // step's inputs.
            let mut data = std::mem::take(&mut slots[slot]);
            let out = &mut data[..self.buffers[step.output]];
            let x = self.view(&plan, &input, &slots, step.input)?;
            match &step.layer {
                Layer::Stem(l) => l.run(x, out),
                Layer::Depthwise(l) => l.run(x, out),
                Layer::MaxPool(l) => l.run(x, out),
                Layer::Pointwise(l) => {
                    let s = match step.shortcut {
                        Some(b) => Some(self.view(&plan, &input, &slots, b)?),
                        None => None,
                    };
                    l.run(x, s, out)
                }
            }
            slots[slot] = data;
        }
        let head = |h: &Head| -> Result<Vec<f32>, String> {
            let planes = self.view(&plan, &input, &slots, h.buffer)?;
            let mut out = vec![0f32; h.c * h.hw];
            for (p, px) in out.chunks_exact_mut(h.c).enumerate() {
                for (c, v) in px.iter_mut().enumerate() {
                    *v = planes[c * h.hw + p];
                }
            }
            Ok(out)
        };
        let [a, b, c, d] = &self.heads;
        let outputs = Outputs([head(a)?, head(b)?, head(c)?, head(d)?]);
        if let Ok(mut s) = self.spare.0.try_lock() {
            *s = slots;
        }
        Ok(outputs)
    }

    /// Buffer `b` of a run: the input, or its part of its slot.
    fn view<'a>(
        &self,
        plan: &Plan,
        input: &'a [f32],
        slots: &'a [Vec<f32>],
        b: usize,
    ) -> Result<&'a [f32], String> {
        let data = match b {
            0 => input,
            _ => &slots[plan.slot_of[b]],
        };
        data.get(..self.buffers[b])
            .ok_or_else(|| format!("buffer {b} is not there"))
    }

    /// Slots for the buffers ([`Plan`]): each output goes to a slot whose
    /// last buffer was last read by an earlier step (the smallest that holds
    /// it, or else the largest, grown), or to a new one. A slot is never an
    /// output and an input of the same step.
    fn plan(&self) -> Plan {
        let n = self.buffers.len();
        // The step after which each buffer is no longer read; heads never.
        let mut last_use = vec![usize::MAX; n];
        for (i, step) in self.steps.iter().enumerate() {
            last_use[step.input] = i;
            if let Some(s) = step.shortcut {
                last_use[s] = i;
            }
        }
        for head in &self.heads {
            last_use[head.buffer] = usize::MAX;
        }
        let mut slot_of = vec![usize::MAX; n];
        let mut sizes: Vec<usize> = Vec::new();
        let mut busy_until: Vec<usize> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let need = self.buffers[step.output];
            let free = (0..sizes.len()).filter(|s| busy_until[*s] < i);
            let slot = free
                .clone()
                .filter(|s| sizes[*s] >= need)
                .min_by_key(|s| sizes[*s])
                .or_else(|| free.max_by_key(|s| sizes[*s]));
            let slot = slot.unwrap_or_else(|| {
                sizes.push(0);
                busy_until.push(0);
                sizes.len() - 1
            });
            sizes[slot] = sizes[slot].max(need);
            busy_until[slot] = last_use[step.output];
            slot_of[step.output] = slot;
        }
        Plan { slot_of, sizes }
    }

    /// The `.fbnet` bytes of this network (module docs).
    #[cfg(feature = "onnx")]
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Writer(MAGIC.to_vec());
        w.dim(self.size);
        w.u32(self.buffers.len());
        for b in &self.buffers {
            w.u32(*b);
        }
        w.u32(self.steps.len());
        for step in &self.steps {
            w.0.push(step.layer.kind());
            w.u16(step.input);
            w.u16(step.shortcut.unwrap_or(NONE as usize));
            w.u16(step.output);
            match &step.layer {
                Layer::Stem(l) => l.encode(&mut w),
                Layer::Depthwise(l) => l.encode(&mut w),
                Layer::MaxPool(l) => l.encode(&mut w),
                Layer::Pointwise(l) => l.encode(&mut w),
            }
        }
        for h in &self.heads {
            w.u16(h.buffer);
            w.u32(h.c);
            w.u32(h.hw);
        }
        w.0
    }

    /// Reads and checks a `.fbnet` file for `kind`.
    pub fn from_bytes(kind: ModelKind, bytes: &[u8]) -> Result<Net, String> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err("not a facebridge network (.fbnet) file".into());
        }
        let size = r.dim()?;
        let nbuf = r.count(MAX_STEPS + 1)?;
        let buffers = (0..nbuf)
            .map(|_| r.count(MAX_BUFFER))
            .collect::<Result<Vec<_>, _>>()?;
        let nsteps = r.count(MAX_STEPS)?;
        let mut steps = Vec::with_capacity(nsteps);
        for _ in 0..nsteps {
            let kind = r.take(1)?[0];
            let (input, shortcut, output) = (r.u16()?, r.u16()?, r.u16()?);
            let layer = match kind {
                1 => Layer::Stem(Stem::decode(&mut r)?),
                2 => Layer::Depthwise(Depthwise3x3::decode(&mut r)?),
                3 => Layer::MaxPool(MaxPool2x2::decode(&mut r)?),
                4 => Layer::Pointwise(Pointwise::decode(&mut r)?),
                k => return Err(format!("unknown layer kind {k}")),
            };
            let shortcut = (shortcut != NONE as usize).then_some(shortcut);
            steps.push(Step {
                layer,
                input,
                shortcut,
                output,
            });
        }
        let mut head = || -> Result<Head, String> {
            Ok(Head {
                buffer: r.u16()?,
                c: r.count(MAX_BUFFER)?,
                hw: r.count(MAX_BUFFER)?,
            })
        };
        let heads = [head()?, head()?, head()?, head()?];
        if r.at != bytes.len() {
            return Err(format!("{} bytes after the end", bytes.len() - r.at));
        }
        let net = Net {
            size,
            buffers,
            steps,
            heads,
            spare: Spare::default(),
        };
        net.check(kind)?;
        Ok(net)
    }
}

/// Builds an `.fbnet` file.
#[cfg(feature = "onnx")]
pub(crate) struct Writer(pub Vec<u8>);

#[cfg(feature = "onnx")]
impl Writer {
    pub fn u16(&mut self, v: usize) {
        self.0.extend_from_slice(&(v as u16).to_le_bytes());
    }
    pub fn u32(&mut self, v: usize) {
        self.0.extend_from_slice(&(v as u32).to_le_bytes());
    }
    /// A size or count of a layer.
    pub fn dim(&mut self, v: usize) {
        self.u32(v);
    }
    pub fn flag(&mut self, v: bool) {
        self.0.push(v as u8);
    }
    /// Weights, as f16.
    pub fn weights(&mut self, v: &[f32]) {
        self.u32(v.len());
        for x in v {
            self.0
                .extend_from_slice(&half::f16::from_f32(*x).to_bits().to_le_bytes());
        }
    }
}

/// Reads an `.fbnet` file; every read is bounds-checked.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| format!("truncated at byte {}", self.at))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<usize, String> {
        let b = self.take(2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]) as usize)
    }
    fn u32(&mut self) -> Result<usize, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn count(&mut self, max: usize) -> Result<usize, String> {
        let v = self.u32()?;
        if v > max {
            return Err(format!("a count of {v} (at most {max})"));
        }
        Ok(v)
    }
    /// A layer size: 1 to 2048.
    pub fn dim(&mut self) -> Result<usize, String> {
        let v = self.u32()?;
        if v > MAX_DIM {
            return Err(format!("a size of {v} (at most {MAX_DIM})"));
        }
        Ok(v)
    }
    pub fn flag(&mut self) -> Result<bool, String> {
        match self.take(1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(format!("a flag of {v}")),
        }
    }
    /// Exactly `n` weights.
    pub fn weights(&mut self, n: usize) -> Result<Vec<f32>, String> {
        let got = self.u32()?;
        if got != n {
            return Err(format!("{got} weights where the layer needs {n}"));
        }
        let raw = self.take(n.checked_mul(2).ok_or("too many weights")?)?;
        Ok(raw
            .chunks_exact(2)
            .map(|b| widen(u16::from_le_bytes([b[0], b[1]])))
            .collect())
    }
}

/// An f16 (IEEE binary16) as the f32 of the same value, `half`'s
/// `to_f32` bit for bit. Without branches for finite values: the 15 bits
/// under the sign moved up to an f32's exponent and mantissa are the value
/// times 2^-112, subnormals included, so one multiplication by 2^112 (exact)
/// rebiases it. The model load widens every weight this way before the
/// first detection, in V8's baseline code on a cold page, where `half`'s
/// branchy conversion was a call per weight.
#[inline(always)]
fn widen(h: u16) -> f32 {
    if h & 0x7C00 == 0x7C00 {
        return half::f16::from_bits(h).to_f32(); // infinity or NaN
    }
    let sign = ((h & 0x8000) as u32) << 16;
    let magnitude = f32::from_bits(((h & 0x7FFF) as u32) << 13) * f32::from_bits(0x7780_0000);
    f32::from_bits(sign | magnitude.to_bits())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both BlazeFace networks, read from models/.
    fn blazeface() -> [(&'static str, Net); 2] {
        [
            (ModelKind::Short, "blazeface_front_128.fbnet"),
            (ModelKind::Full, "blazeface_back_256.fbnet"),
        ]
        .map(|(kind, file)| {
            let path = format!("{}/models/{file}", env!("CARGO_MANIFEST_DIR"));
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
            (file, Net::from_bytes(kind, &bytes).unwrap())
        })
    }

    #[test]
    fn weights_widen_like_half_for_every_f16() {
        for h in 0..=u16::MAX {
            let (ours, theirs) = (widen(h), half::f16::from_bits(h).to_f32());
            assert_eq!(ours.to_bits(), theirs.to_bits(), "{h:#06x}");
        }
    }

    #[test]
    fn blazeface_is_well_inside_the_cost_bounds() {
        for (file, net) in blazeface() {
            let total: usize = net.buffers.iter().sum();
            let macs: u64 = net.steps.iter().map(|s| s.layer.macs()).sum();
            eprintln!("{file}: {total} floats in buffers, {macs} multiply-adds a run");
            // The bounds refuse hostile files, never BlazeFace: keep room.
            assert!(total * 3 <= MAX_TOTAL_FLOATS, "{file}: {total}");
            assert!(macs * 2 <= MAX_MACS, "{file}: {macs}");
        }
    }

    #[test]
    fn runs_reuse_the_slots_of_the_last_and_give_the_same_outputs() {
        for (file, net) in blazeface() {
            let input = crate::detect::ops::plain::noise(net.buffers[0], 7);
            let first = net.run(input.clone()).unwrap();
            let kept = |net: &Net| -> Vec<(usize, usize)> {
                let slots = net.spare.0.lock().unwrap();
                slots
                    .iter()
                    .map(|s| (s.as_ptr() as usize, s.len()))
                    .collect()
            };
            let after_first = kept(&net);
            let held: usize = after_first.iter().map(|(_, n)| n).sum();
            let all: usize = net.buffers.iter().sum();
            eprintln!("{file}: {held} of {all} floats held between runs");
            assert!(held * 2 < all, "{file}: {held} of {all} floats held");
            // Another run writes over the same memory, with the same result.
            let second = net.run(input.clone()).unwrap();
            assert_eq!(first.0, second.0, "{file}");
            assert_eq!(after_first, kept(&net), "{file}: the second run allocated");
            // A clone starts without them and agrees too.
            assert_eq!(net.clone().run(input).unwrap().0, first.0, "{file}");
        }
    }

    #[test]
    fn no_step_writes_into_a_slot_it_reads() {
        for (file, net) in blazeface() {
            let plan = net.plan();
            for (i, step) in net.steps.iter().enumerate() {
                let out = plan.slot_of[step.output];
                assert!(plan.sizes[out] >= net.buffers[step.output]);
                for b in [Some(step.input), step.shortcut].into_iter().flatten() {
                    assert!(b == 0 || plan.slot_of[b] != out, "{file}: step {i}");
                }
            }
            // Heads stay where they were written until the end.
            for h in &net.heads {
                let later = net
                    .steps
                    .iter()
                    .skip_while(|s| s.output != h.buffer)
                    .skip(1);
                for s in later {
                    assert_ne!(plan.slot_of[s.output], plan.slot_of[h.buffer], "{file}");
                }
            }
        }
    }

    #[test]
    fn networks_over_the_cost_bounds_are_refused() {
        // Each layer legal, the whole too large: built from the real network.
        let path = format!(
            "{}/models/blazeface_front_128.fbnet",
            env!("CARGO_MANIFEST_DIR")
        );
        let net = Net::from_bytes(ModelKind::Short, &std::fs::read(path).unwrap()).unwrap();
        let mut big = net.clone();
        big.buffers.extend(std::iter::repeat_n(MAX_BUFFER, 8));
        let e = big.check(ModelKind::Short).unwrap_err();
        assert!(e.contains("floats in all"), "{e}");
        let mut slow = net.clone();
        for _ in 0..20 {
            slow.steps.extend(net.steps.iter().cloned());
        }
        let e = slow.check(ModelKind::Short).unwrap_err();
        assert!(e.contains("multiply-adds"), "{e}");
    }
}
