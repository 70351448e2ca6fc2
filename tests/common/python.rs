//! A Python with the packages of `python/requirements.txt`: this machine's
//! if it has them, else a virtual environment under `target/` made on first
//! use, so the one test command works on a fresh machine. (`.ci/run`
//! installs them up front.) Shared by the tests that run Python.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The packages every Python test needs, by import name.
const IMPORTS: &str = "import pytest, cryptography, Crypto, google.protobuf; from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV";

fn has_packages(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", IMPORTS])
        .status()
        .is_ok_and(|s| s.success())
}

/// `target/<profile>` of the running test binary.
pub fn target_dir() -> PathBuf {
    // target/<profile>/deps/<test>-<hash> -> target/<profile>
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// The interpreter to run, given the repository root.
pub fn python(root: &Path) -> PathBuf {
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
