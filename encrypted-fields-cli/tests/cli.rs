//! The `encrypted-fields` command as a process: every subcommand's help
//! and exit codes, keysets plain and KMS-wrapped (moto on loopback),
//! documents that interoperate with the library, and `rotate` over 100 000
//! JSON Lines records.

mod support;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use encrypted_fields::{
    Decrypt, Encrypt, EnvKeyring, ExposeSecret, Key, KeySize, Keyring, Sealed, generate_key,
};
use serde::{Deserialize, Serialize};
use support::customer::{Account, Customer, EncryptedCustomer, FIELDS, customer, write_sealed};
use support::{Moto, create_key, runtime};

/// The binary with a clean environment plus `env`, and the cipher backend
/// this test run uses (the README's test command runs on both).
fn cli<K: AsRef<str>, V: AsRef<str>>(env: &[(K, V)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_encrypted-fields"));
    command.env_clear();
    command
        .envs(std::env::var_os("ENCRYPTED_FIELDS_CIPHER").map(|v| ("ENCRYPTED_FIELDS_CIPHER", v)));
    for (k, v) in env {
        command.env(k.as_ref(), v.as_ref());
    }
    command
}

fn run(command: &mut Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that refuses before reading closes its stdin early.
    let written = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    if let Err(error) = written {
        assert_eq!(error.kind(), std::io::ErrorKind::BrokenPipe, "{error}");
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn key_env(pii: &str, banking: &str) -> Vec<(String, String)> {
    vec![
        ("ENCRYPTED_FIELDS_KEY_PII".into(), pii.into()),
        ("ENCRYPTED_FIELDS_KEY_BANKING".into(), banking.into()),
    ]
}

fn keyring(env: &[(String, String)]) -> EnvKeyring {
    EnvKeyring::from_vars(env.iter().map(|(k, v)| (k, v))).unwrap()
}

fn key() -> String {
    generate_key(KeySize::Aes256).expose_secret().to_owned()
}

fn id_of(key: &str) -> String {
    Key::from_base64(key).unwrap().id().to_string()
}

#[test]
fn every_command_has_help_and_usage_errors_exit_2() {
    let none: &[(&str, &str)] = &[];
    for args in [
        &[][..],
        &["keygen"],
        &["keyset"],
        &["keyset", "add"],
        &["keyset", "promote"],
        &["keyset", "drop"],
        &["keyset", "show"],
        &["inspect"],
        &["encrypt"],
        &["decrypt"],
        &["rotate"],
    ] {
        let output = cli(none).args(args).arg("--help").output().unwrap();
        assert!(output.status.success(), "{args:?}");
        assert!(
            text(&output.stdout).contains("Usage: encrypted-fields"),
            "{args:?}"
        );
    }
    for args in [
        &["frobnicate"][..],
        &["keygen"],
        &["encrypt", "-"],
        &["keygen", "pii", "--bits", "192"],
    ] {
        let output = cli(none).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(!output.stderr.is_empty(), "{args:?}");
    }
}

#[test]
fn keygen_and_plain_keyset_rotation_steps() {
    let none: &[(&str, &str)] = &[];
    let output = cli(none)
        .args(["keygen", "eu.pii-v2", "--bits", "128"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let line = text(&output.stdout);
    let (name, value) = line.trim_end().split_once('=').unwrap();
    assert_eq!(name, "ENCRYPTED_FIELDS_KEY_EU_PII_V2");
    let loaded = EnvKeyring::from_vars([(name, value)]).unwrap();
    assert_eq!(loaded.key_set("eu.pii-v2").unwrap().primary().bits(), 128);

    let old = key();
    // Keysets go through stdin (`-`): never in the process list.
    let step = |args: &[&str]| {
        let (keyset, rest) = (args[1], &args[2..]);
        run(
            cli(none).args(["keyset", args[0], "-"]).args(rest),
            &format!("{keyset}\n"),
        )
    };
    let added = step(&["add", &old]);
    assert!(added.status.success(), "{}", text(&added.stderr));
    let two = text(&added.stdout).trim().to_owned();
    let ids: Vec<String> = two.split(',').map(id_of).collect();
    assert_eq!(ids[0], id_of(&old), "a new key is added as a secondary");
    let shown = text(&step(&["show", &two]).stdout);
    assert_eq!(shown, format!("{} primary\n{}\n", ids[0], ids[1]));

    let promoted = text(&step(&["promote", &two, &ids[1]]).stdout)
        .trim()
        .to_owned();
    assert_eq!(
        promoted.split(',').map(id_of).collect::<Vec<_>>(),
        [ids[1].clone(), ids[0].clone()]
    );
    let refused = step(&["drop", &promoted, &ids[1]]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("is the primary"),
        "{}",
        text(&refused.stderr)
    );
    let dropped = text(&step(&["drop", &promoted, &ids[0]]).stdout)
        .trim()
        .to_owned();
    assert_eq!(
        dropped.split(',').map(id_of).collect::<Vec<_>>(),
        [ids[1].clone()]
    );
    let unknown = step(&["promote", &two, "00000000"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr).contains(&ids[0]),
        "lists the ids it has"
    );

    // From stdin, and never echoing key material in errors.
    let piped = run(cli(none).args(["keyset", "show", "-"]), &format!("{old}\n"));
    assert_eq!(text(&piped.stdout), format!("{} primary\n", id_of(&old)));
    let bad = run(cli(none).args(["keyset", "show", "-"]), "bm90LWEta2V5");
    assert_eq!(bad.status.code(), Some(1));
    assert!(!text(&bad.stderr).contains("bm90LWEta2V5"));
}

#[test]
fn documents_interoperate_with_the_library_and_failures_leak_nothing() {
    let env = key_env(&key(), &key());
    let keyring = keyring(&env);
    let plain = serde_json::to_string(&customer(1)).unwrap();

    // CLI-encrypted fields open into the derived type.
    let output = run(
        cli(&env)
            .args(["encrypt", "--context", "customer"])
            .args(FIELDS),
        &plain,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let sealed = text(&output.stdout);
    assert!(
        !sealed.contains("user1@") && !sealed.contains("DE89"),
        "{sealed}"
    );
    let wire: EncryptedCustomer = serde_json::from_str(&sealed).unwrap();
    assert_eq!(wire.decrypt(&keyring).unwrap(), customer(1));

    // Library-sealed documents decrypt to the plain JSON, byte for byte.
    let sealed = serde_json::to_string(&customer(1).encrypt(&keyring).unwrap()).unwrap();
    let output = run(
        cli(&env)
            .args(["decrypt", "--context", "customer"])
            .args(FIELDS),
        &sealed,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), plain);

    // A deterministic string sealed by the command equals the library's
    // lookup envelope, so a column written by either is found by both.
    let output = run(
        cli(&env).args(["encrypt", "--field", "/email=pii@customer,deterministic"]),
        r#"{"email": "user1\u0040example.com"}"#,
    );
    let cli_sealed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let lookup = Sealed::seal_for_lookup(
        &keyring,
        &encrypted_fields::Binding::new("pii", "customer", "email"),
        &"user1@example.com".to_owned(),
    )
    .unwrap();
    assert_eq!(cli_sealed["email"], lookup[0].to_text());

    // A duplicate key on the pointer's path: refused, not half sealed.
    let twice = run(
        cli(&env).args(["encrypt", "--field", "/email=pii@customer"]),
        r#"{"email": "a@example.com", "email": "b@example.com"}"#,
    );
    assert_eq!(twice.status.code(), Some(1));
    assert!(
        text(&twice.stderr).contains("duplicate key `email`"),
        "{}",
        text(&twice.stderr)
    );
    assert!(twice.stdout.is_empty());

    // A pointer the document does not have is an error, unless allowed.
    let absent = run(
        cli(&env).args(["encrypt", "--field", "/Email=pii@customer"]),
        &plain,
    );
    assert_eq!(absent.status.code(), Some(1));
    assert!(absent.stdout.is_empty());
    assert!(
        text(&absent.stderr).contains("/Email: the document has no such value"),
        "{}",
        text(&absent.stderr)
    );
    let allowed = run(
        cli(&env).args([
            "encrypt",
            "--allow-missing",
            "--field",
            "/Email=pii@customer",
        ]),
        &plain,
    );
    assert!(allowed.status.success());
    assert_eq!(text(&allowed.stdout), plain);
    assert!(
        text(&allowed.stderr).contains("no /Email; left as it was"),
        "{}",
        text(&allowed.stderr)
    );

    // The envelope says its key id without a key.
    let email = serde_json::from_str::<serde_json::Value>(&sealed).unwrap()["email"]
        .as_str()
        .unwrap()
        .to_owned();
    let none: &[(&str, &str)] = &[];
    let inspected = text(&cli(none).args(["inspect", &email]).output().unwrap().stdout);
    let primary = keyring.key_set("pii").unwrap().primary().id().to_string();
    assert!(
        inspected.contains(&format!("key id: {primary}")),
        "{inspected}"
    );
    // The same envelope as a protobuf companion carries it: raw bytes, hex.
    let hex: String = Sealed::<String>::from_text(&email)
        .unwrap()
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let from_hex = cli(none).args(["inspect", "--hex", &hex]).output().unwrap();
    assert_eq!(text(&from_hex.stdout), inspected);
    let odd = cli(none)
        .args(["inspect", "--hex", "abc"])
        .output()
        .unwrap();
    assert_eq!(odd.status.code(), Some(1));
    assert!(
        cli(none)
            .args(["inspect", "nope"])
            .output()
            .unwrap()
            .status
            .code()
            == Some(1)
    );

    // A wrong key and a wrong context: exit 1; a missing context is a
    // usage error: exit 2. Named, nothing secret on either stream.
    let other = key_env(&key(), &key());
    for (env, args, code) in [
        (&other, &["decrypt", "--context", "customer"][..], 1),
        (&env, &["decrypt", "--context", "Customer"], 1),
        (&env, &["decrypt"], 2),
    ] {
        let output = run(cli(env).args(args).args(FIELDS), &sealed);
        assert_eq!(output.status.code(), Some(code), "{args:?}");
        assert!(output.stdout.is_empty());
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains("/email") || stderr.contains("context"),
            "{stderr}"
        );
        for secret in ["user1@", "DE89", &env[0].1, &env[1].1, &other[0].1] {
            assert!(!stderr.contains(secret), "{secret} in {stderr}");
        }
    }
}

#[test]
fn kms_wrapped_keysets_through_the_command() {
    let moto = Moto::start();
    let kms_key = runtime().block_on(create_key(&moto.client()));
    let aws: Vec<(String, String)> = moto
        .env()
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();

    let output = cli(&aws)
        .args(["keygen", "pii", "--kms-key-id", &kms_key])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let line = text(&output.stdout);
    let (name, wrapped) = line.trim_end().split_once('=').unwrap();
    assert_eq!(name, "ENCRYPTED_FIELDS_KMS_KEYSET_PII");
    assert!(wrapped.starts_with("kms1:pii:"), "{wrapped}");

    // A rotation step on the wrapped keyset gives a wrapped keyset again.
    let added = run(cli(&aws).args(["keyset", "add", wrapped]), "");
    assert!(added.status.success(), "{}", text(&added.stderr));
    let rewrapped = text(&added.stdout).trim().to_owned();
    assert!(rewrapped.starts_with("kms1:pii:") && rewrapped != wrapped);
    let shown = text(&run(cli(&aws).args(["keyset", "show", &rewrapped]), "").stdout);
    assert_eq!(shown.lines().count(), 2, "{shown}");

    let mut env = aws.clone();
    env.push((name.to_owned(), rewrapped.clone()));
    let doc = r#"{"id": 1, "email": "ada@example.com"}"#;
    let args = ["--kms", "--field", "/email=pii@customer"];
    let sealed = run(cli(&env).arg("encrypt").args(args), doc);
    assert!(sealed.status.success(), "{}", text(&sealed.stderr));
    let opened = run(cli(&env).arg("decrypt").args(args), &text(&sealed.stdout));
    assert_eq!(
        text(&opened.stdout),
        doc,
        "untouched bytes stay as they were"
    );

    // A keyset under another alias's variable is refused before any KMS call.
    let mut misplaced = aws.clone();
    misplaced.push((
        "ENCRYPTED_FIELDS_KMS_KEYSET_BANKING".to_owned(),
        rewrapped.clone(),
    ));
    let refused = run(cli(&misplaced).arg("decrypt").args(args), doc);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("holds the keyset of alias `pii`"),
        "{}",
        text(&refused.stderr)
    );

    // KMS down: a clear error naming the alias, exit 1.
    drop(moto);
    let down = run(cli(&env).arg("decrypt").args(args), &text(&sealed.stdout));
    assert_eq!(down.status.code(), Some(1));
    let stderr = text(&down.stderr);
    assert!(
        stderr.contains("`pii`") && stderr.contains("KMS Decrypt"),
        "{stderr}"
    );
}

#[test]
fn rotate_re_encrypts_100_000_records_and_loses_none() {
    const RECORDS: u64 = 100_000;
    let (old_pii, old_banking, new_pii, new_banking) = (key(), key(), key(), key());
    let old = keyring(&key_env(&old_pii, &old_banking));
    let dir = std::env::temp_dir().join(format!("ef-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (input, output_path) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    write_sealed(&input, &old, RECORDS).unwrap();

    let both = key_env(
        &format!("{new_pii},{old_pii}"),
        &format!("{new_banking},{old_banking}"),
    );
    let started = Instant::now();
    let output = cli(&both)
        .args([
            "rotate",
            input.to_str().unwrap(),
            "--context",
            "customer",
            "--output",
        ])
        .arg(&output_path)
        .args(FIELDS)
        .arg("--errors")
        .arg(dir.join("errors.jsonl"))
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("100000 records, 200000 fields re-encrypted, 0 failed"),
        "{stderr}"
    );
    eprintln!(
        "rotate: {RECORDS} records in {seconds:.2} s ({:.0} records/s, debug build)",
        RECORDS as f64 / seconds
    );

    // Every record opens with the new keys alone, and none is lost.
    let new_only = keyring(&key_env(&new_pii, &new_banking));
    let rotated = std::fs::read_to_string(&output_path).unwrap();
    let mut count = 0;
    for (id, line) in rotated.lines().enumerate() {
        let wire: EncryptedCustomer = serde_json::from_str(line).unwrap();
        assert_eq!(wire.decrypt(&new_only).unwrap(), customer(id as u64));
        count += 1;
    }
    assert_eq!(count, RECORDS);
    assert!(!dir.join("errors.jsonl").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A byte-string field (format version 3): rotated as one, decrypted to
/// its JSON form (the array of its numbers), inspected as a byte string.
#[test]
fn byte_string_fields_rotate_decrypt_and_inspect() {
    #[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
    #[encrypt(context = "scan")]
    struct Scan {
        id: u64,
        #[encrypt(key = "pii", bytes)]
        image: serde_bytes::ByteBuf,
    }
    let (old_pii, new_pii, banking) = (key(), key(), key());
    let old = key_env(&old_pii, &banking);
    let scan = Scan {
        id: 1,
        image: serde_bytes::ByteBuf::from(vec![0, 137, 80, 255]),
    };
    let sealed = serde_json::to_string(&scan.encrypt(&keyring(&old)).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in.jsonl"), dir.path().join("out.jsonl"));
    std::fs::write(&input, format!("{sealed}\n")).unwrap();
    let both = key_env(&format!("{new_pii},{old_pii}"), &banking);
    let rotated = cli(&both)
        .args(["rotate", input.to_str().unwrap(), "--context", "scan"])
        .args(["--field", "/image=pii", "--output"])
        .arg(&output)
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let line = std::fs::read_to_string(&output).unwrap();
    let wire: EncryptedScan = serde_json::from_str(line.trim()).unwrap();
    let info = wire.image.inspect().unwrap();
    assert_eq!(
        (info.version, info.key_id.to_string()),
        (3, id_of(&new_pii))
    );
    let new_only = key_env(&new_pii, &banking);
    assert_eq!(wire.decrypt(&keyring(&new_only)).unwrap(), scan);

    let decrypted = run(
        cli(&new_only).args(["decrypt", "--context", "scan", "--field", "/image=pii"]),
        &line,
    );
    assert!(decrypted.status.success(), "{}", text(&decrypted.stderr));
    assert_eq!(
        text(&decrypted.stdout).trim(),
        r#"{"id":1,"image":[0,137,80,255]}"#
    );
    // Already sealed: left as it is with --skip-sealed, refused without.
    let skipped = run(
        cli(&new_only)
            .args(["encrypt", "--skip-sealed", "--context", "scan"])
            .args(["--field", "/image=pii"]),
        &line,
    );
    assert!(skipped.status.success(), "{}", text(&skipped.stderr));
    assert_eq!(text(&skipped.stdout), line);
    assert!(
        text(&skipped.stderr).contains("already sealed"),
        "{}",
        text(&skipped.stderr)
    );
    let none: &[(&str, &str)] = &[];
    let inspected = cli(none)
        .args(["inspect", &wire.image.to_text()])
        .output()
        .unwrap();
    let inspected = text(&inspected.stdout);
    assert!(inspected.contains("version: 3"), "{inspected}");
    assert!(
        inspected.contains("plaintext: a byte string of 4 bytes"),
        "{inspected}"
    );
}

#[test]
fn rotate_keeps_failed_records_in_the_errors_file() {
    let (old_pii, old_banking) = (key(), key());
    let old = keyring(&key_env(&old_pii, &old_banking));
    let good = serde_json::to_string(&customer(1).encrypt(&old).unwrap()).unwrap();
    let mut tampered: serde_json::Value = serde_json::from_str(&good).unwrap();
    let email = Sealed::<String>::from_text(tampered["email"].as_str().unwrap()).unwrap();
    let mut bytes = email.as_bytes().to_vec();
    bytes[20] ^= 1;
    tampered["email"] = Sealed::<String>::from_envelope(bytes).to_text().into();
    let tampered = tampered.to_string();
    let input = format!("{good}\n{tampered}\nnot json\n\n{good}\n");

    let dir = std::env::temp_dir().join(format!("ef-rotate-errors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let errors = dir.join("errors.jsonl");
    let new = key();
    let env = key_env(&format!("{new},{old_pii}"), &old_banking);
    let output = run(
        cli(&env)
            .args(["rotate", "-", "--context", "customer", "--errors"])
            .arg(&errors)
            .args(FIELDS),
        &input,
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("line 2: /email"), "{stderr}");
    assert!(stderr.contains("line 3:"), "{stderr}");
    assert!(
        stderr.contains("4 records, 2 fields re-encrypted, 2 failed"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&errors).unwrap(),
        format!("{tampered}\nnot json\n")
    );
    let out = text(&output.stdout);
    assert_eq!(out.lines().count(), 2);
    // Only `pii` has a new primary: one field per good record changed.
    for line in out.lines() {
        let wire: EncryptedCustomer = serde_json::from_str(line).unwrap();
        assert_eq!(wire.decrypt(&keyring(&env)).unwrap(), customer(1));
        assert_eq!(
            wire.account,
            serde_json::from_str::<EncryptedCustomer>(&good)
                .unwrap()
                .account
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// With more than one job, a batch is re-encrypted while the next is read
/// and the one before written: the output and the errors file must still
/// be in input order across batches, whatever the job count. With two
/// jobs a batch is 8,192 records: lines 1-8,192 are in flight when the
/// over-cap line 9,000 flushes 8,193-8,999; 9,001-17,192 and
/// 17,193-25,384 are two full batches in a row (the second's submit
/// writes the first); line 25,385 is over the cap right after a batch
/// boundary, with nothing read since; 25,500 and 25,501 are two over-cap
/// lines in a row; failures fall every 997th line.
#[test]
fn rotate_keeps_input_order_across_batches_whatever_the_job_count() {
    let (old_pii, old_banking) = (key(), key());
    let old = keyring(&key_env(&old_pii, &old_banking));
    let long = format!("{{\"pad\": \"{}\"}}", "x".repeat(6_000));
    let mut input = String::new();
    let mut failed = String::new();
    let mut good = Vec::new();
    for id in 1..=26_000u64 {
        let line = if [9_000, 25_385, 25_500, 25_501].contains(&id) {
            long.clone()
        } else if id % 997 == 0 {
            format!("not json {id}")
        } else {
            good.push(id);
            serde_json::to_string(&customer(id).encrypt(&old).unwrap()).unwrap()
        };
        if !good.ends_with(&[id]) {
            failed.push_str(&line);
            failed.push('\n');
        }
        input.push_str(&line);
        input.push('\n');
    }
    let env = key_env(&format!("{},{old_pii}", key()), &old_banking);
    let dir = tempfile::tempdir().unwrap();
    // Files, not pipes: megabytes each way would fill a pipe that this
    // test is not reading yet.
    let records = dir.path().join("records.jsonl");
    std::fs::write(&records, &input).unwrap();
    for jobs in ["1", "2"] {
        let errors = dir.path().join(format!("errors-{jobs}.jsonl"));
        let rotated = dir.path().join(format!("rotated-{jobs}.jsonl"));
        let out = run(
            cli(&env)
                .arg("rotate")
                .arg(&records)
                .arg("-o")
                .arg(&rotated)
                .args(["--max-record-bytes", "5000", "--jobs", jobs])
                .arg("--errors")
                .arg(&errors)
                .args(["--context", "customer"])
                .args(FIELDS),
            "",
        );
        let stderr = text(&out.stderr);
        let failures = 26_000 - good.len();
        assert!(
            stderr.contains(&format!(
                "26000 records, {} fields re-encrypted, {failures} failed",
                good.len()
            )),
            "--jobs {jobs}: {stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&errors).unwrap(),
            failed,
            "--jobs {jobs}"
        );
        let opened: Vec<u64> = std::fs::read_to_string(&rotated)
            .unwrap()
            .lines()
            .map(|line| {
                let wire: EncryptedCustomer = serde_json::from_str(line).unwrap();
                wire.decrypt(&keyring(&env)).unwrap().id
            })
            .collect();
        assert_eq!(opened, good, "--jobs {jobs}: output in input order");
    }
}

/// Before, a deterministic number went through `serde_json::Value`, so
/// `12345678901234567890123` was sealed as `1.2345678901234568e+22`.
#[test]
fn encrypt_seals_numbers_exactly_as_the_document_writes_them() {
    use encrypted_fields::Binding;
    use serde_json::value::RawValue;

    let (pii, banking) = (key(), key());
    let env = key_env(&pii, &banking);
    let keyring = keyring(&env);
    let doc = r#"{"n": 12345678901234567890123, "r": 12345678901234567890123, "d": 0.1000000000000000055511151231257827, "z": -0}"#;
    let sealed = run(
        cli(&env).args([
            "encrypt",
            "--context",
            "customer",
            "--field",
            "/n=pii,deterministic",
            "--field",
            "/r=pii",
            "--field",
            "/d=pii,deterministic",
            "--field",
            "/z=pii",
        ]),
        doc,
    );
    assert!(sealed.status.success(), "{}", text(&sealed.stderr));
    let out: serde_json::Value = serde_json::from_slice(&sealed.stdout).unwrap();
    let field = |name: &str| Sealed::<Box<RawValue>>::from_text(out[name].as_str().unwrap());
    let bind = |name| Binding::new("pii", "customer", name);
    for (name, written) in [
        ("n", "12345678901234567890123"),
        ("r", "12345678901234567890123"),
        ("d", "0.1000000000000000055511151231257827"),
        ("z", "-0"),
    ] {
        let raw = field(name).unwrap().open(&keyring, &bind(name)).unwrap();
        assert_eq!(raw.get(), written, "{name}");
    }
    let big = 12_345_678_901_234_567_890_123u128;
    for name in ["n", "r"] {
        let envelope = Sealed::<u128>::from_text(out[name].as_str().unwrap()).unwrap();
        assert_eq!(envelope.open(&keyring, &bind(name)).unwrap(), big);
    }
    let lookup = Sealed::<u128>::seal_for_lookup(&keyring, &bind("n"), &big).unwrap();
    assert_eq!(lookup[0].to_text(), out["n"].as_str().unwrap());
    let zero = Sealed::<f64>::from_text(out["z"].as_str().unwrap()).unwrap();
    assert!(zero.open(&keyring, &bind("z")).unwrap().is_sign_negative());

    let opened = run(
        cli(&env).args([
            "decrypt",
            "--context",
            "customer",
            "--field",
            "/n=pii,deterministic",
            "--field",
            "/r=pii",
            "--field",
            "/d=pii,deterministic",
            "--field",
            "/z=pii",
        ]),
        &text(&sealed.stdout),
    );
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    assert_eq!(text(&opened.stdout), doc, "byte for byte");
}

/// A rotation whose keyring lacks an alias it is asked to rotate stops
/// before reading a record, naming the alias: it never reports success
/// while envelopes may stay under an old key.
#[test]
fn rotate_without_an_alias_stops_before_the_first_record() {
    let (pii, banking) = (key(), key());
    let sealed = serde_json::to_string(
        &customer(1)
            .encrypt(&keyring(&key_env(&pii, &banking)))
            .unwrap(),
    )
    .unwrap();
    let pii_only = vec![(
        "ENCRYPTED_FIELDS_KEY_PII".to_owned(),
        format!("{},{pii}", key()),
    )];
    let output = run(
        cli(&pii_only)
            .args(["rotate", "-", "--context", "customer"])
            .args(FIELDS),
        &format!("{sealed}\n"),
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = text(&output.stderr);
    assert!(stderr.contains("`banking`"), "{stderr}");
    assert!(!stderr.contains("records"), "{stderr}");
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(path)
        .unwrap()
        .permissions()
        .mode()
        & 0o777
}

/// Before, `-o` wrote through `<out>.partial-<pid>` opened with
/// `File::create`, so symlinks planted for the next PIDs redirected the
/// writes, and new files were 0644 whatever the input's permissions.
#[test]
fn rotate_output_cannot_be_redirected_and_keeps_the_inputs_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let (pii, banking) = (key(), key());
    let env = key_env(&pii, &banking);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("rows.jsonl");
    let good = serde_json::to_string(&customer(1).encrypt(&keyring(&env)).unwrap()).unwrap();
    std::fs::write(&input, format!("{good}\nnot json\n")).unwrap();
    std::fs::set_permissions(&input, std::fs::Permissions::from_mode(0o600)).unwrap();
    let output = dir.path().join("rotated.jsonl");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "keep me").unwrap();
    // Links for every PID the child could get under the old naming.
    let me = std::process::id();
    for pid in me..me + 400 {
        let link = dir.path().join(format!("rotated.jsonl.partial-{pid}"));
        std::os::unix::fs::symlink(&victim, link).unwrap();
    }
    let errors = dir.path().join("errors.jsonl");
    let out = run(
        cli(&env)
            .arg("rotate")
            .arg(&input)
            .arg("-o")
            .arg(&output)
            .arg("--errors")
            .arg(&errors)
            .args(["--context", "customer"])
            .args(FIELDS),
        "",
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
    assert!(std::fs::symlink_metadata(&output).unwrap().is_file());
    assert_eq!(std::fs::read_to_string(&output).unwrap().lines().count(), 1);
    assert_eq!(mode(&output), 0o600);
    assert_eq!(mode(&errors), 0o600);
    assert_eq!(std::fs::read_to_string(&errors).unwrap(), "not json\n");

    // From stdin: owner-only files.
    let (output, errors) = (dir.path().join("from-stdin"), dir.path().join("e2"));
    let out = run(
        cli(&env)
            .args(["rotate", "-", "-o"])
            .arg(&output)
            .arg("--errors")
            .arg(&errors)
            .args(["--context", "customer"])
            .args(FIELDS),
        &format!("{good}\nnot json\n"),
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(mode(&output), 0o600);
    assert_eq!(mode(&errors), 0o600);
}

/// Before, `--errors` equal to `-o` let the final rename replace the failed
/// records while the tool said they were there.
#[test]
fn rotate_refuses_the_errors_file_as_its_output() {
    let env = key_env(&key(), &key());
    let dir = tempfile::tempdir().unwrap();
    let same = dir.path().join("out.jsonl");
    let out = run(
        cli(&env)
            .args(["rotate", "-", "-o"])
            .arg(&same)
            .arg("--errors")
            .arg(dir.path().join(".").join("out.jsonl"))
            .args(["--context", "customer"])
            .args(FIELDS),
        "not json\n",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("both the output and the errors file"));
    assert!(!same.exists());
}

/// Before, `keyset show "$ENCRYPTED_FIELDS_KEY_PII"` ran without a word,
/// with the key in /proc/<pid>/cmdline; help never mentioned `-`.
#[test]
fn keysets_are_refused_as_arguments_and_read_from_stdin_files_or_env() {
    let none: &[(&str, &str)] = &[];
    let k = key();
    for step in ["show", "add", "promote", "drop"] {
        let help = text(
            &cli(none)
                .args(["keyset", step, "--help"])
                .output()
                .unwrap()
                .stdout,
        );
        for way in ["`-`", "`@FILE`", "`env:NAME`", "/proc/<pid>/cmdline"] {
            assert!(help.contains(way), "{step}: {way} not in {help}");
        }
    }
    let refused = cli(none).args(["keyset", "show", &k]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
    let stderr = text(&refused.stderr);
    assert!(
        stderr.contains("refusing a keyset given as an argument"),
        "{stderr}"
    );
    assert!(!stderr.contains(&k), "{stderr}");

    let expected = format!("{} primary\n", id_of(&k));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pii.keyset");
    std::fs::write(&file, format!("{k}\n")).unwrap();
    let from_file = cli(none)
        .args(["keyset", "show"])
        .arg(format!("@{}", file.display()))
        .output()
        .unwrap();
    assert_eq!(text(&from_file.stdout), expected);
    let from_env = cli(&[("PII_KEYSET", k.as_str())])
        .args(["keyset", "show", "env:PII_KEYSET"])
        .output()
        .unwrap();
    assert_eq!(text(&from_env.stdout), expected);

    // A key pasted after `@` or `env:` by mistake is not echoed back.
    for arg in [format!("@{k}"), format!("env:{k}")] {
        let out = cli(none).args(["keyset", "show", &arg]).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{arg}");
        assert!(!text(&out.stderr).contains(&k), "{}", text(&out.stderr));
    }
}

/// Before, encrypting a document twice sealed the envelope again, and
/// decrypting once returned the inner envelope as the email.
#[test]
fn encrypt_leaves_fields_that_are_already_sealed() {
    let env = key_env(&key(), &key());
    let keys = keyring(&env);
    let plain = serde_json::to_string(&customer(1)).unwrap();
    let encrypt = |doc: &str, extra: &[&str]| {
        run(
            cli(&env)
                .args(["encrypt", "--context", "customer"])
                .args(extra)
                .args(FIELDS),
            doc,
        )
    };
    let once = encrypt(&plain, &[]);
    assert!(once.status.success(), "{}", text(&once.stderr));
    // By default an envelope already in place is refused: on input a client
    // influences, leaving it would let the client plant another record's.
    let by_default = encrypt(&text(&once.stdout), &[]);
    assert_eq!(by_default.status.code(), Some(1));
    assert!(
        text(&by_default.stderr).contains("--skip-sealed"),
        "{}",
        text(&by_default.stderr)
    );
    let twice = encrypt(&text(&once.stdout), &["--skip-sealed"]);
    assert!(twice.status.success(), "{}", text(&twice.stderr));
    assert_eq!(twice.stdout, once.stdout, "left as it was");
    assert!(text(&twice.stderr).contains("/email is already sealed"));
    let wire: EncryptedCustomer = serde_json::from_slice(&twice.stdout).unwrap();
    assert_eq!(wire.decrypt(&keys).unwrap(), customer(1));

    // An envelope this alias's keys do not open is refused, not wrapped.
    let foreign = customer(1)
        .encrypt(&keyring(&key_env(&key(), &key())))
        .unwrap();
    let refused = encrypt(
        &serde_json::to_string(&foreign).unwrap(),
        &["--skip-sealed"],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("refusing to seal it again"),
        "{}",
        text(&refused.stderr)
    );
}

/// Before, one 300 MB line took 600 MB of memory, and a file without
/// newlines was read whole.
#[test]
fn rotate_sends_records_over_the_cap_to_the_errors_file_and_goes_on() {
    let env = key_env(&key(), &key());
    let good = serde_json::to_string(&customer(1).encrypt(&keyring(&env)).unwrap()).unwrap();
    let long = format!("{{\"pad\": \"{}\"}}", "x".repeat(200_000));
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let out = run(
        cli(&env)
            .args(["rotate", "-", "--max-record-bytes", "10000", "--errors"])
            .arg(&errors)
            .args(["--context", "customer"])
            .args(FIELDS),
        &format!("{good}\n{long}\n{good}"),
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 2: longer than 10000 bytes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("3 records, 0 fields re-encrypted, 1 failed"),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout).lines().count(), 2);
    assert_eq!(
        std::fs::read_to_string(&errors).unwrap(),
        format!("{long}\n")
    );

    // Verbatim both ways: a CRLF record at the cap is a record (the CR does
    // not count), and a last line over the cap gains no newline.
    let filler = "x".repeat(10_000 - good.len() - r#""pad":"","#.len());
    let at_cap = good.replacen('{', &format!(r#"{{"pad":"{filler}","#), 1);
    assert_eq!(at_cap.len(), 10_000);
    std::fs::remove_file(&errors).unwrap();
    let out = run(
        cli(&env)
            .args(["rotate", "-", "--max-record-bytes", "10000", "--errors"])
            .arg(&errors)
            .args(["--context", "customer"])
            .args(FIELDS),
        &format!("{at_cap}\r\n{long}"),
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 2: longer than 10000 bytes"),
        "{stderr}"
    );
    assert!(!stderr.contains("line 1"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&errors).unwrap(), long);
}

#[test]
fn pointers_follow_rfc_6901_and_name_object_members() {
    let env = key_env(&key(), &key());
    let fail = |spec: &str, doc: &str| {
        run(
            cli(&env).args(["encrypt", "--context", "c", "--field", spec]),
            doc,
        )
    };
    // Invalid escapes are usage errors.
    for spec in ["/a~2b=pii", "/a~=pii"] {
        let out = fail(spec, r#"{"a~2b": 1}"#);
        assert_eq!(out.status.code(), Some(2), "{spec}");
    }
    // An array element has no field name to bind to.
    let out = fail("/emails/1=pii", r#"{"emails": ["a@x", "b@x"]}"#);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("names an array element"));
    // A context after `@` cannot be empty.
    let out = fail("/a=pii@", r#"{"a": 1}"#);
    assert_eq!(out.status.code(), Some(2));
    // A document with a duplicate member is refused, whatever its size.
    let out = fail("/a=pii", r#"{"a": 1, "b": 2, "a": 3}"#);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("duplicate key `a`"),
        "{}",
        text(&out.stderr)
    );
    // A member whose name holds `=` can be addressed.
    let out = fail("/a=b=pii", r#"{"a=b": "secret"}"#);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let sealed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let envelope = Sealed::<String>::from_text(sealed["a=b"].as_str().unwrap()).unwrap();
    let binding = encrypted_fields::Binding::new("pii", "c", "a=b");
    assert_eq!(envelope.open(&keyring(&env), &binding).unwrap(), "secret");
}

/// Before, the command sealed `1e400` and lone surrogates, which every
/// reader refuses (FORMAT.md section 5), and decrypted them too.
#[test]
fn values_readers_refuse_are_refused_both_ways() {
    let env = key_env(&key(), &key());
    let keys = keyring(&env);
    for value in [
        "1e400",
        r#""\ud800""#,
        &format!("{}{}", "[".repeat(128), "]".repeat(128)),
    ] {
        let out = run(
            cli(&env).args(["encrypt", "--context", "c", "--field", "/v=pii"]),
            &format!("{{\"v\": {value}}}"),
        );
        assert_eq!(out.status.code(), Some(1), "{value}");
        assert!(
            text(&out.stderr).contains("not a value readers take"),
            "{value}"
        );
        // Sealed by other means, it does not come out of `decrypt` either.
        let binding = encrypted_fields::Binding::new("pii", "c", "v");
        let raw = serde_json::value::RawValue::from_string(value.to_owned());
        // (The library itself refuses to seal the deep one.)
        if let Ok(sealed) = raw.map(|raw| Sealed::seal(&keys, &binding, &raw)) {
            let Ok(sealed) = sealed else { continue };
            let out = run(
                cli(&env).args(["decrypt", "--context", "c", "--field", "/v=pii"]),
                &format!("{{\"v\": \"{}\"}}", sealed.to_text()),
            );
            assert_eq!(out.status.code(), Some(1), "{value}");
        }
    }
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "payment")]
struct Payment {
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(nested, key = "banking")]
    card: Card,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "card")]
struct Card {
    #[encrypt(key = "pii")]
    number: String,
}

/// Before, rotating the outer envelope of a nested type sealed whole
/// reported success while the envelopes inside it stayed under the old key,
/// and dropping that key then lost them.
#[test]
fn rotate_fails_a_record_whose_inner_envelopes_it_cannot_reach() {
    let (old_pii, old_banking) = (key(), key());
    let payment = Payment {
        email: "ada@example.com".into(),
        card: Card {
            number: "4111111111111111".into(),
        },
    };
    let stored = serde_json::to_string(
        &payment
            .encrypt(&keyring(&key_env(&old_pii, &old_banking)))
            .unwrap(),
    )
    .unwrap();
    let rotated_env = key_env(
        &format!("{},{old_pii}", key()),
        &format!("{},{old_banking}", key()),
    );
    let dir = tempfile::tempdir().unwrap();
    let errors = dir.path().join("errors.jsonl");
    let out = run(
        cli(&rotated_env)
            .args(["rotate", "-", "--context", "payment", "--errors"])
            .arg(&errors)
            .args(["--field", "/email=pii", "--field", "/card=banking"]),
        &format!("{stored}\n"),
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("line 1: /card: holds an envelope under key"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&errors).unwrap(),
        format!("{stored}\n")
    );

    // Re-encrypted by the library, the record rotates cleanly.
    let mut wire: EncryptedPayment = serde_json::from_str(&stored).unwrap();
    wire.reencrypt(&keyring(&rotated_env)).unwrap();
    let fresh = serde_json::to_string(&wire).unwrap();
    let out = run(
        cli(&rotated_env)
            .args(["rotate", "-", "--context", "payment", "--errors"])
            .arg(dir.path().join("none.jsonl"))
            .args(["--field", "/email=pii", "--field", "/card=banking"]),
        &format!("{fresh}\n"),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "customer", seal = "records")]
struct SealedCustomer {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "banking")]
    account: Account,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "customer", sign = "records")]
struct SignedCustomer {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "banking")]
    account: Account,
}

/// `--bind`, `--seal` and `--sign` make what the library's `bind`, `seal`
/// and `sign` make: each side opens the other's records, and the attacks
/// they stop are refused by the command too.
#[test]
fn bound_and_sealed_records_interoperate_with_the_library() {
    let (_, signing) = encrypted_fields::SigningKey::generate();
    let mut env = key_env(&key(), &key());
    env.push(("ENCRYPTED_FIELDS_KEY_RECORDS".into(), key()));
    env.push((
        "ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS".into(),
        signing.expose_secret().to_owned(),
    ));
    let keys = keyring(&env);
    let plain = |id: u64| serde_json::to_string(&customer(id)).unwrap();
    let with = |command: &str, mode: &[&str], doc: &str| {
        run(
            cli(&env)
                .args([command, "--context", "customer", "--bind", "/id"])
                .args(mode)
                .args(FIELDS),
            doc,
        )
    };
    let mac = ["--seal", "records"];
    let sig = ["--sign", "records"];

    // Command to library.
    let out = with("encrypt", &mac, &plain(1));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let wire: EncryptedSealedCustomer = serde_json::from_slice(&out.stdout).unwrap();
    let back = wire.decrypt(&keys).unwrap();
    assert_eq!((back.id, back.email), (1, customer(1).email));
    let out = with("encrypt", &sig, &plain(1));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let wire: EncryptedSignedCustomer = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(wire.decrypt(&keys).unwrap().email, customer(1).email);

    // Library to command: the seal is checked and removed.
    let sealed = |id: u64| {
        let c = customer(id);
        let value = SealedCustomer {
            id: c.id,
            email: c.email,
            account: c.account,
        };
        serde_json::to_value(value.encrypt(&keys).unwrap()).unwrap()
    };
    let out = with("decrypt", &mac, &sealed(2).to_string());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let opened: Customer = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(opened, customer(2));
    assert!(!text(&out.stdout).contains("_seal"));

    // Attacks: an envelope from another record, an edited plain member, a
    // removed seal. Each is refused, naming what failed.
    let mut moved = sealed(3);
    moved["email"] = sealed(4)["email"].clone();
    let mut edited = sealed(3);
    edited["id"] = 4.into();
    let mut unsealed = sealed(3);
    unsealed.as_object_mut().unwrap().remove("_seal");
    for (case, doc, expect) in [
        ("moved", &moved, "record seal"),
        ("edited", &edited, "record seal"),
        ("unsealed", &unsealed, "missing"),
    ] {
        let out = with("decrypt", &mac, &doc.to_string());
        assert_eq!(out.status.code(), Some(1), "{case}");
        let stderr = text(&out.stderr);
        assert!(stderr.contains(expect), "{case}: {stderr}");
        assert!(!stderr.contains("example.com"), "{case}: {stderr}");
    }
    // Without the seal, binding alone stops the moved envelope.
    let bound_only = |id: u64| {
        let out = run(
            cli(&env)
                .args(["encrypt", "--context", "customer", "--bind", "/id"])
                .args(FIELDS),
            &plain(id),
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let mut moved = bound_only(5);
    moved["email"] = bound_only(6)["email"].clone();
    let out = run(
        cli(&env)
            .args(["decrypt", "--context", "customer", "--bind", "/id"])
            .args(FIELDS),
        &moved.to_string(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("/email"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        text(&out.stderr).contains("record"),
        "{}",
        text(&out.stderr)
    );

    // Encrypting a sealed record again is refused; --skip-sealed keeps it.
    let once = text(&with("encrypt", &mac, &plain(7)).stdout);
    assert_eq!(with("encrypt", &mac, &once).status.code(), Some(1));
    let again = run(
        cli(&env)
            .args([
                "encrypt",
                "--context",
                "customer",
                "--bind",
                "/id",
                "--skip-sealed",
            ])
            .args(mac)
            .args(FIELDS),
        &once,
    );
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(text(&again.stdout), once);

    // Rotation re-seals under the new primary, and the library reads it.
    let mut rotated_env = env.clone();
    let old_records = env[2].1.clone();
    rotated_env[2].1 = format!("{},{old_records}", key());
    let out = run(
        cli(&rotated_env)
            .args(["rotate", "-", "--context", "customer", "--bind", "/id"])
            .args(mac)
            .args(FIELDS)
            .arg("--errors")
            .arg(tempfile::tempdir().unwrap().path().join("e.jsonl")),
        &format!("{}\n", sealed(8)),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let wire: EncryptedSealedCustomer = serde_json::from_slice(&out.stdout).unwrap();
    let mut new_only = rotated_env.clone();
    new_only[2].1 = rotated_env[2].1.split(',').next().unwrap().to_owned();
    assert_eq!(wire.decrypt(&keyring(&new_only)).unwrap().id, 8);

    // --bind, --seal and --sign need the record's type.
    let out = run(
        cli(&env).args(["encrypt", "--seal", "records", "--field", "/email=pii@c"]),
        "{}",
    );
    assert_eq!(out.status.code(), Some(2));
}

/// Attack review: --skip-sealed seals new fields and then the record
/// again; --bind on an encrypted member is refused; bound values are
/// written as the library writes them; rotate keeps an unchanged signature
/// when it cannot sign.
#[test]
fn record_options_agree_with_the_library_at_their_edges() {
    let (signing_key, signing) = encrypted_fields::SigningKey::generate();
    let mut env = key_env(&key(), &key());
    env.push(("ENCRYPTED_FIELDS_KEY_RECORDS".into(), key()));
    let run_with =
        |env: &[(String, String)], args: &[&str], doc: &str| run(cli(env).args(args), doc);
    let doc = r#"{"id": 1.50, "email": "a@x", "memo": "rent"}"#;
    let base = ["--context", "c", "--bind", "/id", "--seal", "records"];
    let once = run_with(
        &env,
        &[&["encrypt"][..], &base, &["--field", "/email=pii"]].concat(),
        doc,
    );
    assert!(once.status.success(), "{}", text(&once.stderr));
    let twice = run_with(
        &env,
        &[
            &["encrypt", "--skip-sealed"][..],
            &base,
            &["--field", "/email=pii", "--field", "/memo=pii"],
        ]
        .concat(),
        &text(&once.stdout),
    );
    assert!(twice.status.success(), "{}", text(&twice.stderr));
    let opened = run_with(
        &env,
        &[
            &["decrypt"][..],
            &base,
            &["--field", "/email=pii", "--field", "/memo=pii"],
        ]
        .concat(),
        &text(&twice.stdout),
    );
    assert!(opened.status.success(), "{}", text(&opened.stderr));
    // The id was written 1.50: bound as the library binds an f64 1.5.
    let value: serde_json::Value = serde_json::from_slice(&opened.stdout).unwrap();
    assert_eq!(value["memo"], "rent");
    let binding = encrypted_fields::Binding::new("pii", "c", "email");
    let mut record = encrypted_fields::RecordBinding::new();
    record.push_type("c", &[("id", "1.5")]).unwrap();
    let sealed: serde_json::Value = serde_json::from_slice(&twice.stdout).unwrap();
    let email = Sealed::<String>::from_text(sealed["email"].as_str().unwrap()).unwrap();
    assert_eq!(
        email
            .open(&keyring(&env), &binding.in_record(&record))
            .unwrap(),
        "a@x"
    );

    let bind_encrypted = run_with(
        &env,
        &[
            "encrypt",
            "--context",
            "c",
            "--bind",
            "/id",
            "--field",
            "/id=pii",
        ],
        r#"{"id": 1}"#,
    );
    assert_eq!(
        bind_encrypted.status.code(),
        Some(2),
        "{}",
        text(&bind_encrypted.stderr)
    );

    // Signed by the producer; rotated by a job holding only the verifying
    // key: unchanged records keep their signature.
    let mut producer = env.clone();
    producer.push((
        "ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS".into(),
        signing.expose_secret().to_owned(),
    ));
    let sign = [
        "--context",
        "c",
        "--sign",
        "records",
        "--field",
        "/email=pii",
    ];
    let signed = run_with(
        &producer,
        &[&["encrypt"][..], &sign].concat(),
        r#"{"email": "a@x"}"#,
    );
    assert!(signed.status.success(), "{}", text(&signed.stderr));
    let mut verifier = env.clone();
    verifier.push((
        "ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS".into(),
        signing_key.verifying_key(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let rotated = run(
        cli(&verifier)
            .args(["rotate", "-", "--errors"])
            .arg(dir.path().join("errors.jsonl"))
            .args(sign),
        &format!("{}\n", text(&signed.stdout)),
    );
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    assert_eq!(text(&rotated.stdout), format!("{}\n", text(&signed.stdout)));
}
