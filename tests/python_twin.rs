//! Runs the Python twin's tests (`python/tests`, pytest) against the interop
//! binary that `cargo test` builds next to this test. If this machine's
//! Python lacks the packages in `python/requirements.txt`, they are
//! installed into a virtual environment under `target/` first, so the one
//! test command works on a fresh machine. (`.ci/run` installs them up front.)

#[path = "common/python.rs"]
mod python;

use std::path::Path;
use std::process::Command;

use python::{python, target_dir};

#[test]
fn python_twin_interoperates_with_the_rust_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let interop = target_dir().join("examples").join("interop");
    assert!(
        interop.exists(),
        "{} missing: cargo test builds examples",
        interop.display()
    );
    let output = Command::new(python(root))
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "python/tests",
        ])
        .current_dir(root)
        .env("ENCRYPTED_FIELDS_INTEROP", &interop)
        .output()
        .expect("run pytest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().last().unwrap_or_default();
    eprintln!("pytest: {summary}");
    assert!(
        output.status.success(),
        "pytest failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        summary.contains("passed") && !summary.contains("failed"),
        "{summary}"
    );
}
