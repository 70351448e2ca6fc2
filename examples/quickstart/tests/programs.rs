//! The quickstart and keygen programs, run as real processes.

use std::process::{Command, Output};

use encrypted_fields::{EnvKeyring, Keyring};

fn example(name: &str) -> Command {
    let exe = match name {
        "quickstart" => env!("CARGO_BIN_EXE_quickstart"),
        _ => env!("CARGO_BIN_EXE_keygen"),
    };
    let mut command = Command::new(exe);
    command
        .env_remove("ENCRYPTED_FIELDS_KEY_PII")
        .env_remove("ENCRYPTED_FIELDS_KEY_BANKING");
    command
}

fn stdout(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn keygen_prints_one_loadable_line() {
    let line = stdout(example("keygen").arg("eu.pii-v2").output().unwrap());
    let line = line.strip_suffix('\n').expect("ends with a newline");
    assert!(!line.contains('\n'), "exactly one line: {line:?}");
    let (name, value) = line.split_once('=').unwrap();
    assert_eq!(name, "ENCRYPTED_FIELDS_KEY_EU_PII_V2");
    let keyring = EnvKeyring::from_vars([(name, value)]).unwrap();
    assert_eq!(keyring.key_set("eu.pii-v2").unwrap().primary().bits(), 256);

    let line = stdout(
        example("keygen")
            .args(["partner", "--bits", "128"])
            .output()
            .unwrap(),
    );
    let (name, value) = line.trim_end().split_once('=').unwrap();
    let keyring = EnvKeyring::from_vars([(name, value)]).unwrap();
    assert_eq!(keyring.key_set("partner").unwrap().primary().bits(), 128);
}

#[test]
fn keygen_rejects_bad_input_on_stderr_only() {
    for args in [&["PII"][..], &[], &["pii", "--bits", "192"]] {
        let output = example("keygen").args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("usage: keygen"));
    }
}

#[test]
fn quickstart_without_keys_says_it_makes_demo_keys() {
    let out = stdout(example("quickstart").output().unwrap());
    assert!(out.contains("generating throwaway demo keys"), "{out}");
    assert!(out.contains("encrypted JSON"), "{out}");
    let encrypted = out
        .split("encrypted JSON")
        .nth(1)
        .unwrap()
        .split("decrypted again")
        .next()
        .unwrap();
    assert!(!encrypted.contains("ada@example.com"), "{encrypted}");
    assert!(out.contains("email: \"ada@example.com\""), "{out}");
}

#[test]
fn quickstart_uses_keys_from_the_environment() {
    let pii = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let banking = "AAECAwQFBgcICQoLDA0ODw==";
    let out = stdout(
        example("quickstart")
            .env("ENCRYPTED_FIELDS_KEY_PII", pii)
            .env("ENCRYPTED_FIELDS_KEY_BANKING", banking)
            .output()
            .unwrap(),
    );
    assert!(out.contains("using keys from the environment"), "{out}");
    let keyring = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", pii)]).unwrap();
    let id = keyring.key_set("pii").unwrap().primary().id().to_string();
    assert!(
        out.contains(&id),
        "keyring debug shows the pii key id {id}: {out}"
    );
    assert!(
        !out.contains(pii) && !out.contains(banking),
        "no key bytes printed"
    );
}

#[test]
fn quickstart_refuses_a_malformed_key() {
    let output = example("quickstart")
        .env("ENCRYPTED_FIELDS_KEY_PII", "not-a-key")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("ENCRYPTED_FIELDS_KEY_PII"), "{stderr}");
    assert!(!stderr.contains("not-a-key"), "{stderr}");
}
