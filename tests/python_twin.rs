//! Runs the Python twin's tests (`python/tests`, pytest) against the interop
//! binary that `cargo test` builds next to this test. If this machine's
//! Python lacks the packages in `python/requirements.txt`, they are
//! installed into a virtual environment under `target/` first, so the one
//! test command works on a fresh machine. (`.ci/run` installs them up front.)

use std::path::{Path, PathBuf};
use std::process::Command;

fn target_dir() -> PathBuf {
    // target/<profile>/deps/python_twin-<hash> -> target/<profile>
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

fn has_packages(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import pytest, cryptography, Crypto; from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV"])
        .status()
        .is_ok_and(|s| s.success())
}

/// A Python with pytest, cryptography and pycryptodome.
fn python(root: &Path) -> PathBuf {
    let system = PathBuf::from("python3");
    if has_packages(&system) {
        return system;
    }
    let venv = target_dir().join("python-venv");
    let venv_python = venv.join("bin").join("python");
    if !has_packages(&venv_python) {
        let created = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status();
        assert!(
            created.is_ok_and(|s| s.success()),
            "python3 -m venv failed: install Python 3.9+ with venv"
        );
        let installed = Command::new(&venv_python)
            .args(["-m", "pip", "install", "-q", "-r"])
            .arg(root.join("python/requirements.txt"))
            .status();
        assert!(
            installed.is_ok_and(|s| s.success()),
            "pip install -r python/requirements.txt failed"
        );
    }
    venv_python
}

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
