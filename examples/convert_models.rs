//! Compiles the BlazeFace ONNX files in models/ to the `.fbnet` networks the
//! wasm embeds (our layers, weights stored as f16): the wasm then needs no
//! tract. scripts/build-wasm.sh runs it before every wasm build.
//!
//!     cargo run --profile native --example convert_models
use facebridge::detect::{ModelKind, onnx_to_fbnet};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for (kind, name) in [
        (ModelKind::Short, "blazeface_front_128"),
        (ModelKind::Full, "blazeface_back_256"),
    ] {
        let onnx = std::fs::read(dir.join(format!("{name}.onnx")))?;
        let net = onnx_to_fbnet(kind, &onnx)?;
        let out = dir.join(format!("{name}.fbnet"));
        // Rewrite only on change, so the wasm build stays incremental.
        if std::fs::read(&out).ok().as_deref() != Some(net.as_slice()) {
            std::fs::write(&out, &net)?;
        }
        eprintln!(
            "{}: {} bytes ONNX → {} bytes .fbnet",
            out.display(),
            onnx.len(),
            net.len()
        );
    }
    Ok(())
}
