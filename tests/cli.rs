//! The command line's own surface: help, version, and usage errors.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_facebridge"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("facebridge {args:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_and_version_exit_zero_on_stdout() {
    let version = format!("facebridge {}", env!("CARGO_PKG_VERSION"));
    for args in [
        &["--help"][..],
        &["-h"],
        &["help"],
        &["detect", "--help"],
        &["prepare", "photo.jpg", "-h"],
        &["compare", "--help"],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(
            out.starts_with(&version) && out.contains("usage:"),
            "{args:?}: {out}"
        );
    }
    for args in [&["--version"][..], &["-V"]] {
        let (code, out, _) = run(args);
        assert_eq!((code, out.trim()), (0, version.as_str()), "{args:?}");
    }
}

#[test]
fn usage_errors_exit_64_with_the_usage_on_stderr() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["detect", "--frobnicate"],
        &["--frobnicate"],
    ] {
        let (code, out, err) = run(args);
        assert_eq!(code, 64, "{args:?}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(err.contains("usage:"), "{args:?}: {err}");
    }
}
