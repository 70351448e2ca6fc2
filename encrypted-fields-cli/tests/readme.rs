//! The guide's shell blocks for the KMS and the command-line tool
//! (docs/guide/keys.md and docs/guide/cli.md) run as written, in bash,
//! against a real KMS API (moto on loopback).

mod support;

use std::process::Command;

use support::{Moto, create_key, runtime};

/// The ```sh blocks of the section that starts with `heading` in the
/// guide's chapter `chapter` (a file under docs/guide/).
fn blocks(chapter: &str, heading: &str) -> Vec<String> {
    let path = format!("{}/../docs/guide/{chapter}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("docs/guide/{chapter} has {heading}"));
    let section = &text[start + heading.len()..];
    let section = &section[..section.find("\n## ").unwrap_or(section.len())];
    section
        .split("```sh\n")
        .skip(1)
        .map(|block| block[..block.find("```").unwrap()].to_owned())
        .collect()
}

fn run_blocks(chapter: &str, heading: &str, env: &[(&str, String)]) {
    let blocks = blocks(chapter, heading);
    assert!(!blocks.is_empty(), "{heading} has shell blocks");
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_encrypted-fields"))
        .parent()
        .unwrap();
    let dir = std::env::temp_dir().join(format!(
        "ef-readme-{}-{}",
        std::process::id(),
        heading.len()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for block in blocks {
        let output = Command::new("bash")
            .args(["-euo", "pipefail", "-c", &block])
            .current_dir(&dir)
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()),
            )
            .envs(env.iter().map(|(k, v)| (k, v)))
            // The cipher backend this test run uses (README: both are run).
            .envs(
                std::env::var_os("ENCRYPTED_FIELDS_CIPHER").map(|v| ("ENCRYPTED_FIELDS_CIPHER", v)),
            )
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{heading} block failed:\n{block}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_command_line_tool_section_runs_as_written() {
    run_blocks("cli.md", "## Command-line tool", &[]);
}

#[test]
fn the_keys_in_a_kms_section_runs_as_written() {
    let moto = Moto::start();
    let kms_key = runtime().block_on(create_key(&moto.client()));
    let mut env: Vec<(&str, String)> = moto.env().into_iter().collect();
    env.push(("KMS_KEY_ID", kms_key));
    run_blocks("keys.md", "## Keys in a KMS", &env);
}
