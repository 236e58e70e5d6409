//! Compiles the BlazeFace ONNX files in models/ to the `.fbnet` networks the
//! wasm uses (our layers, weights stored as f16): the wasm then needs no
//! tract. It embeds the short-range one; the full-range one ships beside it
//! in the package, and its SHA-256 (`<name>.fbnet.sha256`, written here) is
//! compiled in to check the fetched file. scripts/build-wasm.sh runs this
//! before every wasm build.
//!
//!     cargo run --profile native --example convert_models
use facebridge::detect::{ModelKind, onnx_to_fbnet, sha256_hex};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for (kind, name) in [
        (ModelKind::Short, "blazeface_front_128"),
        (ModelKind::Full, "blazeface_back_256"),
    ] {
        let onnx = std::fs::read(dir.join(format!("{name}.onnx")))?;
        let net = onnx_to_fbnet(kind, &onnx)?;
        let out = dir.join(format!("{name}.fbnet"));
        let digest = sha256_hex(&net);
        // Rewrite only on change, so the wasm build stays incremental.
        let sum = dir.join(format!("{name}.fbnet.sha256"));
        for (path, bytes) in [(&out, net.as_slice()), (&sum, digest.as_bytes())] {
            if std::fs::read(path).ok().as_deref() != Some(bytes) {
                std::fs::write(path, bytes)?;
            }
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
