//! Runs the Python twin's tests (`python/tests`, pytest) against the interop
//! binary that `cargo test` builds next to this test, with the Python
//! environment testkit finds or makes under `target/`.

use std::path::Path;
use std::process::Command;

#[test]
fn python_twin_interoperates_with_the_rust_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let interop = testkit::target_dir()
        .join(profile())
        .join("examples")
        .join("interop");
    assert!(
        interop.exists(),
        "{} missing: cargo test builds examples",
        interop.display()
    );
    let output = Command::new(testkit::python().expect("a Python with the tests' packages"))
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

/// `debug` or `release`: where cargo put this test's examples.
fn profile() -> String {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(std::path::Path::parent)
        .and_then(std::path::Path::file_name)
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "debug".to_owned())
}
