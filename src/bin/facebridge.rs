//! `facebridge`: the native command line.
//!
//!   facebridge detect <image> [--model short|full] [--tiles auto|off] [--role selfie|document]
//!   facebridge prepare <image> --role selfie|document [--max-bytes N] [--base64]
//!                      [--min-side N] [--max-side N] [--no-gate] -o <out.jpg>
//!
//! Prints JSON on stdout. Exit 0 on success, 2 when the photo fails the quality
//! gate or cannot be read (the JSON then has `error.code`), 64 on bad usage.
//! `--help` (or `-h`, `help`) anywhere prints the usage, `--version` (`-V`)
//! the version; both exit 0.

use std::path::PathBuf;
use std::process::ExitCode;

use facebridge::detect::{self, DetectOptions, ModelKind, TileMode};
use facebridge::prepare::{PrepareOptions, detect_photo, prepare};
use facebridge::quality::Role;
use serde_json::json;

const USAGE: &str = "usage:
  facebridge --help | --version
  facebridge detect <image> [--model short|full] [--tiles auto|off] [--role selfie|document]
                    [--annotate <out.png>]
  facebridge prepare <image> --role selfie|document [--max-bytes N] [--base64] [--min-side N]
                     [--max-side N] [--no-gate] -o <out.jpg>
  facebridge compare --provider biometric_kz|valify|biometry|cvs|aigen --base-url URL
                     <document> <selfie> [--video <file>] [--dev-secrets] [--timeout-ms N]
  facebridge simulate [--listen 127.0.0.1:8787] [--allow-url PREFIX]...";

/// Worker threads of `facebridge simulate` (see where it starts).
const SIM_THREADS: usize = 32;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(msg) => {
            eprintln!("facebridge: {msg}\n{USAGE}");
            ExitCode::from(64)
        }
    }
}

fn error_json(e: &facebridge::Error) -> serde_json::Value {
    let mut v = json!({"code": e.code(), "message": e.to_string()});
    if let facebridge::Error::Quality(q) = e {
        v["failures"] = json!(q.failures);
        v["report"] = json!(q.report);
    }
    json!({ "error": v })
}

/// Prints JSON; a closed pipe (`| head`) is not an error worth a panic.
fn print(v: &serde_json::Value) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stdout(),
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_default()
    );
}

fn run() -> Result<ExitCode, String> {
    use lexopt::prelude::*;
    let mut args = lexopt::Parser::from_env();
    let help = || {
        println!(
            "facebridge {}: face photos for KYC services\n\n{USAGE}",
            env!("CARGO_PKG_VERSION")
        );
        Ok(ExitCode::SUCCESS)
    };
    let cmd = match args.next().map_err(|e| e.to_string())? {
        Some(Long("help") | Short('h')) => return help(),
        Some(Long("version") | Short('V')) => {
            println!("facebridge {}", env!("CARGO_PKG_VERSION"));
            return Ok(ExitCode::SUCCESS);
        }
        Some(Value(v)) => v.string().map_err(|e| e.to_string())?,
        Some(other) => return Err(other.unexpected().to_string()),
        None => return Err("no command".into()),
    };
    if cmd == "help" {
        return help();
    }
    if !["detect", "prepare", "compare", "simulate"].contains(&cmd.as_str()) {
        return Err(format!("unknown command {cmd}"));
    }
    let mut input: Option<PathBuf> = None;
    let mut output: Option<PathBuf> = None;
    let mut annotate: Option<PathBuf> = None;
    let mut second: Option<PathBuf> = None;
    let mut video: Option<PathBuf> = None;
    let mut provider: Option<String> = None;
    let mut base_url: Option<String> = None;
    let mut listen = "127.0.0.1:8787".to_string();
    let mut allow_urls: Vec<String> = Vec::new();
    let mut dev_secrets = false;
    let mut timeout_ms: u64 = 30_000;
    let mut role: Option<Role> = None;
    let mut model: Option<ModelKind> = None;
    let mut tiles: Option<TileMode> = None;
    let mut popts = PrepareOptions::default();
    while let Some(arg) = args.next().map_err(|e| e.to_string())? {
        let key = match arg {
            Value(v) if input.is_none() => {
                input = Some(v.into());
                continue;
            }
            Value(v) if second.is_none() && cmd == "compare" => {
                second = Some(v.into());
                continue;
            }
            Long(l) => format!("--{l}"),
            Short(c) => format!("-{c}"),
            other => return Err(other.unexpected().to_string()),
        };
        if key == "--help" || key == "-h" {
            return help();
        }
        let mut value = || string_value(&mut args);
        match key.as_str() {
            "--role" => {
                role = Some(match value()?.as_str() {
                    "selfie" => Role::Selfie,
                    "document" => Role::Document,
                    r => return Err(format!("unknown role {r}")),
                })
            }
            "--model" => {
                model = Some(match value()?.as_str() {
                    "short" => ModelKind::Short,
                    "full" => ModelKind::Full,
                    m => return Err(format!("unknown model {m}")),
                })
            }
            "--tiles" => {
                tiles = Some(match value()?.as_str() {
                    "auto" => TileMode::Auto,
                    "off" => TileMode::Off,
                    t => return Err(format!("unknown tiles mode {t}")),
                })
            }
            "--max-bytes" => {
                popts.max_bytes = value()?.parse().map_err(|e| format!("--max-bytes: {e}"))?
            }
            "--min-side" => {
                popts.min_side = value()?.parse().map_err(|e| format!("--min-side: {e}"))?
            }
            "--max-side" => {
                popts.max_side = value()?.parse().map_err(|e| format!("--max-side: {e}"))?
            }
            "--base64" => popts.base64 = true,
            "--no-gate" => popts.enforce_gate = false,
            "-o" | "--output" => output = Some(value()?.into()),
            "--annotate" => annotate = Some(value()?.into()),
            "--video" => video = Some(value()?.into()),
            "--provider" => provider = Some(value()?),
            "--base-url" => base_url = Some(value()?),
            "--listen" => listen = value()?,
            "--allow-url" => allow_urls.push(value()?),
            "--dev-secrets" => dev_secrets = true,
            "--timeout-ms" => {
                timeout_ms = value()?.parse().map_err(|e| format!("--timeout-ms: {e}"))?
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if cmd == "simulate" {
        let mut cfg = facebridge::sim::SimConfig::from_env();
        cfg.url_allow_list = allow_urls;
        // tiny_http gives each client connection a thread for as long as it
        // stays open, and keep-alive clients (workerd's pool, Node's fetch)
        // hold idle ones: with 4 threads, concurrent callers starved and timed
        // out. Threads here cost little; the simulators are for tests.
        let sim = facebridge::sim::start(&listen, cfg, SIM_THREADS)
            .map_err(|e| format!("{listen}: {e}"))?;
        eprintln!(
            "facebridge simulators on {} ({})",
            sim.base_url(),
            facebridge::sim::NOTICE
        );
        {
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = writeln!(out, "{}", sim.base_url());
            let _ = out.flush();
        }
        loop {
            std::thread::park();
        }
    }
    if cmd == "compare" {
        return compare(
            provider,
            base_url,
            input,
            second,
            video,
            dev_secrets,
            timeout_ms,
        );
    }
    let input = input.ok_or("missing <image>")?;
    let bytes = std::fs::read(&input).map_err(|e| format!("{}: {e}", input.display()))?;
    match cmd.as_str() {
        "detect" => {
            let role = role.unwrap_or(Role::Document);
            // Counting every face in a still photo: full-range model with tiling.
            let opts = DetectOptions {
                model: model.unwrap_or(ModelKind::Full),
                tiles: tiles.unwrap_or(TileMode::Auto),
                ..DetectOptions::default()
            };
            match detect_photo(detect::shared(), &bytes, role, &opts, &Default::default()) {
                Ok(r) => {
                    if let Some(path) = &annotate {
                        write_annotated(&bytes, &r.faces, path)?;
                    }
                    print(&json!(r));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    print(&error_json(&e));
                    Ok(ExitCode::from(2))
                }
            }
        }
        "prepare" => {
            popts.role = role.ok_or("prepare needs --role selfie|document")?;
            if model.is_some() || tiles.is_some() {
                let mut d = popts.detect_options();
                d.model = model.unwrap_or(d.model);
                d.tiles = tiles.unwrap_or(d.tiles);
                popts.detect = Some(d);
            }
            let out = output.ok_or("prepare needs -o <out.jpg>")?;
            match prepare(&bytes, &popts) {
                Ok(p) => {
                    std::fs::write(&out, &p.bytes)
                        .map_err(|e| format!("{}: {e}", out.display()))?;
                    print(&json!({"output": out, "report": p.report}));
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    print(&error_json(&e));
                    Ok(ExitCode::from(2))
                }
            }
        }
        other => Err(format!("unknown command {other}")),
    }
}

fn string_value(args: &mut lexopt::Parser) -> Result<String, String> {
    use lexopt::ValueExt;
    args.value()
        .map_err(|e| e.to_string())?
        .string()
        .map_err(|e| e.to_string())
}

/// Draws the faces (boxes and the six landmarks) on a copy at most 1024 px
/// wide and writes it as PNG, for checking detections by eye.
fn write_annotated(
    bytes: &[u8],
    faces: &[facebridge::detect::Face],
    path: &std::path::Path,
) -> Result<(), String> {
    let d = facebridge::image::decode(bytes, &Default::default(), Default::default())
        .map_err(|e| e.to_string())?;
    let k = (1024.0 / d.image.width() as f32).min(1.0);
    let (w, h) = (
        ((d.image.width() as f32) * k) as u32,
        ((d.image.height() as f32) * k) as u32,
    );
    let mut img = facebridge::image::resize_rgb(&d.image, w, h).map_err(|e| e.to_string())?;
    let mut put = |x: f32, y: f32, c: [u8; 3]| {
        if x >= 0.0 && y >= 0.0 && (x as u32) < w && (y as u32) < h {
            img.put_pixel(x as u32, y as u32, image::Rgb(c));
        }
    };
    for f in faces {
        let b = f.bbox.scaled(k);
        for t in 0..2 {
            let t = t as f32;
            for i in 0..=(b.w as i32) {
                put(b.x + i as f32, b.y + t, [0, 255, 0]);
                put(b.x + i as f32, b.bottom() - t, [0, 255, 0]);
            }
            for i in 0..=(b.h as i32) {
                put(b.x + t, b.y + i as f32, [0, 255, 0]);
                put(b.right() - t, b.y + i as f32, [0, 255, 0]);
            }
        }
        for (n, [x, y]) in f.landmarks.iter().enumerate() {
            let c = if n < 2 { [255, 0, 0] } else { [255, 255, 0] };
            for dx in -1..=1 {
                for dy in -1..=1 {
                    put(x * k + dx as f32, y * k + dy as f32, c);
                }
            }
        }
    }
    img.save(path)
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn compare(
    provider: Option<String>,
    base_url: Option<String>,
    document: Option<PathBuf>,
    selfie: Option<PathBuf>,
    video: Option<PathBuf>,
    dev_secrets: bool,
    timeout_ms: u64,
) -> Result<ExitCode, String> {
    use facebridge::providers::{Media, Provider, ProviderConfig, secrets};
    let name = provider.ok_or("compare needs --provider")?;
    let provider = Provider::parse_name(&name).ok_or_else(|| format!("unknown provider {name}"))?;
    let cfg = ProviderConfig::with_base_url(base_url.ok_or("compare needs --base-url")?);
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    let document = read(&document.ok_or("compare needs <document> <selfie>")?)?;
    let selfie = read(&selfie.ok_or("compare needs <document> <selfie>")?)?;
    let video = match video {
        Some(p) => {
            let content_type = match p.extension().and_then(|e| e.to_str()).unwrap_or("") {
                "webm" => "video/webm",
                "mov" => "video/quicktime",
                _ => "video/mp4",
            };
            Some(Media {
                bytes: read(&p)?,
                content_type: content_type.into(),
            })
        }
        None => None,
    };
    // --dev-secrets: the simulator's development values where the environment has none.
    let lookup = move |n: &str| {
        if dev_secrets {
            secrets::env_or_dev(n)
        } else {
            std::env::var(n).ok()
        }
    };
    let transport =
        facebridge::transport::NativeTransport::new(std::time::Duration::from_millis(timeout_ms));
    match facebridge::transport::compare(
        provider,
        &cfg,
        &document,
        &selfie,
        video,
        &secrets::Secrets::new(lookup),
        &transport,
    ) {
        Ok(c) => {
            print(&json!(c));
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let mut v = error_json(&e);
            if let facebridge::Error::Service(s) = &e {
                v["error"]["service"] = json!(s);
            }
            print(&v);
            Ok(ExitCode::from(2))
        }
    }
}
