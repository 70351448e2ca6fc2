//! The three-service demo over real loopback HTTP: each service is its own
//! process of `examples/payments` with its own environment and an
//! OS-picked port. Asserts the access matrix and that what a service
//! cannot read is forwarded byte for byte, with the Rust `web` and with
//! the Python one (`python/examples/web.py`, on the package as
//! `pip install ./python` installs it).

#[path = "common/jsonschema.rs"]
mod jsonschema;
#[path = "../examples/payments/launch.rs"]
mod launch;
#[path = "../examples/payments/model.rs"]
#[allow(dead_code)]
mod model;
#[path = "common/prometheus.rs"]
mod prometheus;

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use encrypted_fields::{
    Decrypt, EnvKeyring, ExposeSecret, KeySize, Keyring, SecretString, generate_key,
};
use launch::Running;
use model::{EncryptedTransaction, Settlement, directory};
use serde_json::{Value, json};

/// `target/<profile>/examples/payments`, built by `cargo test`.
fn payments_exe() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("examples")
        .join("payments")
}

struct Platform {
    pii: SecretString,
    banking_key: SecretString,
    accounts: Running,
    banking: Running,
    /// What `banking` logs: the causes of the requests it refuses.
    banking_log: tempfile::NamedTempFile,
    web: Running,
}

/// The platform with the Rust `web`.
fn start() -> Platform {
    start_with(|accounts, banking, _| {
        launch::start(
            &payments_exe(),
            "web",
            &[("ACCOUNTS_URL", accounts), ("BANKING_URL", banking)],
        )
    })
}

/// The platform with the `web` that `web` starts, given the URLs of
/// `accounts` and `banking` and the `pii` key.
fn start_with(web: impl FnOnce(&str, &str, &SecretString) -> io::Result<Running>) -> Platform {
    let exe = payments_exe();
    let pii = generate_key(KeySize::Aes256);
    let banking_key = generate_key(KeySize::Aes128);
    let accounts = launch::start(
        &exe,
        "accounts",
        &[
            ("ENCRYPTED_FIELDS_KEY_PII", pii.expose_secret()),
            ("ENCRYPTED_FIELDS_KEY_BANKING", banking_key.expose_secret()),
        ],
    )
    .unwrap();
    let banking_log = tempfile::NamedTempFile::new().unwrap();
    let banking = launch::start_logging(
        &exe,
        "banking",
        &[("ENCRYPTED_FIELDS_KEY_BANKING", banking_key.expose_secret())],
        banking_log.reopen().unwrap(),
    )
    .unwrap();
    let web = web(&accounts.url, &banking.url, &pii).unwrap();
    Platform {
        pii,
        banking_key,
        accounts,
        banking,
        banking_log,
        web,
    }
}

impl Platform {
    fn full_keyring(&self) -> EnvKeyring {
        EnvKeyring::from_vars([
            ("ENCRYPTED_FIELDS_KEY_PII", self.pii.expose_secret()),
            (
                "ENCRYPTED_FIELDS_KEY_BANKING",
                self.banking_key.expose_secret(),
            ),
        ])
        .unwrap()
    }

    /// No response may carry plaintext PII, an account number or a key.
    fn assert_clean(&self, body: &str) {
        let secrets = directory()
            .into_iter()
            .flat_map(|user| [user.email, user.mailing_address, user.bank_account.account]);
        for secret in secrets.chain([
            self.pii.expose_secret().to_owned(),
            self.banking_key.expose_secret().to_owned(),
        ]) {
            assert!(!body.contains(&secret), "{secret} in {body}");
        }
    }
}

/// One request; the status and the body, exactly as received.
fn call(method: &str, url: &str, body: Option<&Value>) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut request = match method {
            "GET" => client.get(url),
            _ => client.post(url),
        };
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

#[test]
fn each_service_reads_only_what_its_keys_allow_and_forwards_the_rest() {
    pay_and_check(&start(), false);
}

#[test]
fn a_python_web_between_the_rust_services_reads_its_keys_and_forwards_the_rest() {
    let python = testkit::python_package().expect("pip install ./python into a fresh environment");
    // Run from outside the checkout: the package comes from the environment.
    let elsewhere = tempfile::tempdir().unwrap();
    let installed = Command::new(&python)
        .args([
            "-c",
            "import encrypted_fields, os; d = os.path.dirname(os.path.realpath(encrypted_fields.__file__)); \
             print(d, os.path.isfile(os.path.join(d, 'py.typed')))",
        ])
        .current_dir(elsewhere.path())
        .output()
        .unwrap();
    let installed = String::from_utf8(installed.stdout).unwrap();
    // Both sides canonical: the target directory may be reached through `..`.
    let venv = python
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .canonicalize()
        .unwrap();
    assert!(
        installed.starts_with(&venv.display().to_string())
            && installed.trim_end().ends_with("True"),
        "the package, typed, from {}: {installed}",
        venv.display()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("python/examples/web.py");
    // No key (as the Rust `web`), then `pii`: it reads the contact details
    // and still forwards the bank accounts byte for byte.
    for holds_pii in [false, true] {
        let platform = start_with(|accounts, banking, pii| {
            let mut command = Command::new(&python);
            command.arg(&script).current_dir(elsewhere.path());
            let mut env = vec![("ACCOUNTS_URL", accounts), ("BANKING_URL", banking)];
            if holds_pii {
                env.push(("ENCRYPTED_FIELDS_KEY_PII", pii.expose_secret()));
            }
            launch::start_command(command, "web (Python)", &env, Stdio::inherit())
        });
        pay_and_check(&platform, holds_pii);
    }
}

/// Pays $42.00 from `$ada` to `$grace` through `web` and checks what each
/// service could read and keeps; `web_holds_pii`: `web` has the `pii` key.
fn pay_and_check(platform: &Platform, web_holds_pii: bool) {
    let (status, body) = call(
        "POST",
        &format!("{}/payments", platform.web.url),
        Some(&json!({ "from": "$ada", "to": "$grace", "amountCents": 4200 })),
    );
    assert_eq!(status, 200, "{body}");
    let settlement: Settlement = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (settlement.debited.as_str(), settlement.credited.as_str()),
        ("****6789", "****4321"),
        "banking read both bank accounts"
    );
    let id = settlement.transaction_id;

    // The access matrix, service by service.
    let sealed_for = |aliases: &[&str]| -> Vec<(String, Option<String>)> {
        let mut expected = vec![
            ("id".to_owned(), Some(id.to_string())),
            ("amountCents".to_owned(), Some("4200".to_owned())),
        ];
        for (side, tag) in [("sender", "$ada"), ("receiver", "$grace")] {
            expected.push((format!("{side}.cashTag"), Some(tag.to_owned())));
            for (field, alias) in [
                ("email", "pii"),
                ("mailingAddress", "pii"),
                ("bankAccount", "banking"),
            ] {
                let cell = (!aliases.contains(&alias)).then(|| "read".to_owned());
                expected.push((format!("{side}.{field}"), cell));
            }
        }
        expected
    };
    let web_sealed = if web_holds_pii {
        &["banking"][..]
    } else {
        &["pii", "banking"][..]
    };
    for (service, sealed) in [
        (&platform.accounts, &[][..]),
        (&platform.banking, &["pii"][..]),
        (&platform.web, web_sealed),
    ] {
        let (status, body) = call("GET", &format!("{}/views/{id}", service.url), None);
        assert_eq!(status, 200, "{body}");
        let view: Vec<(String, Option<String>)> = serde_json::from_str(&body).unwrap();
        assert_eq!(view, sealed_for(sealed), "{}", service.url);
    }

    // The rows each service keeps, as raw bytes.
    let row = |service: &Running| {
        let (status, body) = call("GET", &format!("{}/transactions/{id}", service.url), None);
        assert_eq!(status, 200, "{body}");
        platform.assert_clean(&body);
        body
    };
    let (issued, settled, forwarded) = (
        row(&platform.accounts),
        row(&platform.banking),
        row(&platform.web),
    );
    if !web_holds_pii {
        assert_eq!(
            forwarded, issued,
            "web forwards what it cannot read unchanged"
        );
    }
    let (issued, settled, forwarded): (Value, Value, Value) = (
        serde_json::from_str(&issued).unwrap(),
        serde_json::from_str(&settled).unwrap(),
        serde_json::from_str(&forwarded).unwrap(),
    );
    for side in ["sender", "receiver"] {
        assert_eq!(
            forwarded[side]["bankAccount"], issued[side]["bankAccount"],
            "web forwards the bank accounts it cannot read unchanged"
        );
        for pii in ["email", "mailingAddress"] {
            // banking keeps what web sent it; web opened the pii fields
            // only if it holds the key, and then sealed them afresh.
            assert_eq!(settled[side][pii], forwarded[side][pii], "{side}.{pii}");
            assert_eq!(
                forwarded[side][pii] != issued[side][pii],
                web_holds_pii,
                "{side}.{pii}"
            );
        }
        // banking opened its fields, so re-sealing them gave fresh nonces.
        assert_ne!(settled[side]["bankAccount"], issued[side]["bankAccount"]);
    }
    let keyring = platform.full_keyring();
    for row in [issued, settled, forwarded] {
        let transaction = serde_json::from_value::<EncryptedTransaction>(row)
            .unwrap()
            .decrypt(&keyring)
            .unwrap();
        assert_eq!(
            [transaction.sender, transaction.receiver],
            <[_; 2]>::try_from(directory()).unwrap()
        );
    }
}

#[test]
fn banking_refuses_what_it_cannot_authenticate_and_leaks_nothing() {
    let platform = start();
    let (_, issued) = call(
        "POST",
        &format!("{}/transactions", platform.accounts.url),
        Some(&json!({ "from": "$grace", "to": "$ada", "amountCents": 1 })),
    );
    let mut row: Value = serde_json::from_str(&issued).unwrap();
    // A bank account sealed under another banking key.
    let foreign = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", platform.pii.expose_secret()),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            generate_key(KeySize::Aes128).expose_secret(),
        ),
    ])
    .unwrap();
    let mut forged = directory().remove(0);
    forged.bank_account.account = "000555555555".into();
    row["sender"] =
        serde_json::to_value(encrypted_fields::Encrypt::encrypt(&forged, &foreign).unwrap())
            .unwrap();
    let (status, body) = call(
        "POST",
        &format!("{}/settlements", platform.banking.url),
        Some(&row),
    );
    assert_eq!(status, 422, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["code"], 40002, "{body}");
    // The client learns only that it failed; the service's log says why.
    assert_eq!(error["message"], "Encryption Failed", "{body}");
    platform.assert_clean(&body);
    assert!(!body.contains("000555555555"), "{body}");
    let log = std::fs::read_to_string(platform.banking_log.path()).unwrap();
    assert!(
        log.contains("refused a settlement")
            && log.contains("`banking`")
            && log.contains("bankAccount"),
        "{log}"
    );
    platform.assert_clean(&log);
    assert!(!log.contains("000555555555"), "{log}");
}

#[test]
fn each_service_counts_what_it_did_on_metrics() {
    let platform = start();
    pay_and_check(&platform, false);
    // A tampered bank account: banking refuses it, and counts a failure.
    let (_, issued) = call(
        "POST",
        &format!("{}/transactions", platform.accounts.url),
        Some(&json!({ "from": "$grace", "to": "$ada", "amountCents": 1 })),
    );
    let mut row: Value = serde_json::from_str(&issued).unwrap();
    let mut account = row["sender"]["bankAccount"].as_str().unwrap().to_owned();
    let flipped = if &account[30..31] == "A" { "B" } else { "A" };
    account.replace_range(30..31, flipped);
    row["sender"]["bankAccount"] = account.into();
    let (status, _) = call(
        "POST",
        &format!("{}/settlements", platform.banking.url),
        Some(&row),
    );
    assert_eq!(status, 422);

    let keyring = platform.full_keyring();
    let id = |alias| keyring.key_set(alias).unwrap().primary().id().to_string();
    let (pii, banking) = (id("pii"), id("banking"));
    let scrape = |service: &Running| {
        let (status, text) = call("GET", &format!("{}/metrics", service.url), None);
        assert_eq!(status, 200, "{text}");
        platform.assert_clean(&text);
        text
    };
    let (accounts, banking_text, web) = (
        scrape(&platform.accounts),
        scrape(&platform.banking),
        scrape(&platform.web),
    );
    let count = prometheus::operations;
    // Two transactions issued, each opened again for accounts' own view:
    // two users, each with email and mailing address (pii) and a bank
    // account (banking).
    for (operation, outcome) in [("encrypt", "sealed"), ("decrypt", "opened")] {
        assert_eq!(
            count(&accounts, operation, "pii", &pii, outcome),
            Some(8.0),
            "{accounts}"
        );
        assert_eq!(
            count(&accounts, operation, "banking", &banking, outcome),
            Some(4.0)
        );
    }
    // web holds no key: the one transaction it forwarded stayed sealed
    // (no key id label: web holds no key of that id).
    assert_eq!(
        count(&web, "decrypt", "pii", "", "left_sealed"),
        Some(4.0),
        "{web}"
    );
    assert_eq!(
        count(&web, "decrypt", "banking", "", "left_sealed"),
        Some(2.0)
    );
    assert_eq!(
        count(&web, "encrypt", "pii", &pii, "sealed"),
        None,
        "forwarded, not sealed"
    );
    // banking opened and sealed again the two bank accounts it settled,
    // and refused the tampered one.
    let b = &banking_text;
    assert_eq!(
        count(b, "decrypt", "banking", &banking, "opened"),
        Some(2.0),
        "{b}"
    );
    assert_eq!(
        count(b, "encrypt", "banking", &banking, "sealed"),
        Some(2.0)
    );
    // Four pii fields of the settled transaction, and the two of the
    // tampered one's sender that came before its bank account.
    assert_eq!(count(b, "decrypt", "pii", "", "left_sealed"), Some(6.0));
    assert_eq!(
        count(b, "decrypt", "banking", &banking, "failed"),
        Some(1.0)
    );
    assert_eq!(
        prometheus::sample(
            b,
            "encrypted_fields_failures_total",
            &[
                ("operation", "decrypt"),
                ("alias", "banking"),
                ("key_id", &banking),
                ("error", "authentication_failed"),
            ],
        ),
        Some(1.0)
    );
    for (text, alias, keys) in [
        (&accounts, "pii", 1.0),
        (&accounts, "banking", 1.0),
        (b, "banking", 1.0),
    ] {
        assert_eq!(
            prometheus::sample(text, "encrypted_fields_keys", &[("alias", alias)]),
            Some(keys)
        );
    }
}

#[test]
fn a_service_without_its_keys_refuses_to_start() {
    let error = launch::start(&payments_exe(), "banking", &[("UNRELATED", "1")])
        .err()
        .expect("banking needs the banking key");
    assert!(
        error.to_string().contains("banking did not start"),
        "{error}"
    );
}

#[test]
fn the_one_command_demo_prints_the_access_matrix() {
    let output = Command::new(payments_exe())
        .env_remove("ENCRYPTED_FIELDS_KEY_PII")
        .env_remove("ENCRYPTED_FIELDS_KEY_BANKING")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("throwaway demo keys"), "{stdout}");
    for line in [
        "field                     accounts  banking   web",
        "sender.email              read      sealed    sealed",
        "sender.bankAccount        read      read      sealed",
        "receiver.cashTag          $grace    $grace    $grace",
        "web forwarded the row accounts issued byte for byte: yes",
        "banking kept the pii envelopes it cannot read unchanged: yes",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "missing {line:?} in\n{stdout}"
        );
    }
}

#[test]
fn each_service_serves_an_openapi_document_its_sealed_rows_validate_against() {
    let platform = start();
    let (status, body) = call(
        "POST",
        &format!("{}/payments", platform.web.url),
        Some(&json!({ "from": "$ada", "to": "$grace", "amountCents": 4200 })),
    );
    assert_eq!(status, 200, "{body}");
    let id = serde_json::from_str::<Settlement>(&body)
        .unwrap()
        .transaction_id;
    let (status, document) = call("GET", &format!("{}/openapi.json", platform.web.url), None);
    assert_eq!(status, 200, "{document}");
    let document: Value = serde_json::from_str(&document).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let schemas = &document["components"]["schemas"];
    let transaction = &schemas["EncryptedTransaction"];
    // Plain fields as in `Transaction`, nested companions by reference.
    assert_eq!(transaction["properties"]["amountCents"]["type"], "integer");
    for side in ["sender", "receiver"] {
        assert_eq!(
            transaction["properties"][side]["$ref"],
            "#/components/schemas/EncryptedCashUser"
        );
    }
    let user = &schemas["EncryptedCashUser"]["properties"];
    assert_eq!(user["cashTag"]["type"], "string");
    assert!(user["cashTag"].get("format").is_none());
    for (field, alias) in [
        ("email", "pii"),
        ("mailingAddress", "pii"),
        ("bankAccount", "banking"),
    ] {
        let sealed = &user[field];
        assert_eq!(sealed["type"], "string", "{field}");
        assert_eq!(sealed["format"], "encrypted-fields-envelope", "{field}");
        let description = sealed["description"].as_str().unwrap();
        assert!(
            description.contains(&format!("key alias `{alias}`")),
            "{field}: {description}"
        );
    }
    // A real sealed row validates; the same row with a plaintext where
    // an envelope belongs, or without a sealed field, does not.
    let (status, row) = call(
        "GET",
        &format!("{}/transactions/{id}", platform.accounts.url),
        None,
    );
    assert_eq!(status, 200, "{row}");
    let row: Value = serde_json::from_str(&row).unwrap();
    let mut plaintext = row.clone();
    plaintext["sender"]["bankAccount"] = json!({ "routing": "021000021", "account": "123456789" });
    let mut missing = row.clone();
    missing["receiver"].as_object_mut().unwrap().remove("email");
    let mut spaced = row.clone();
    spaced["sender"]["email"] = json!("not an envelope");
    let schema = json!({
        "$ref": "#/components/schemas/EncryptedTransaction",
        "components": document["components"],
    });
    assert_eq!(
        jsonschema::validate(&schema, &[row, plaintext, missing, spaced]),
        [true, false, false, false]
    );
}
