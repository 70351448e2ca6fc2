//! The three-service demo over real loopback HTTP: each service is its own
//! process of `examples/payments` with its own environment and an
//! OS-picked port. Asserts the access matrix and that what a service
//! cannot read is forwarded byte for byte.

#[path = "../examples/payments/launch.rs"]
mod launch;
#[path = "../examples/payments/model.rs"]
#[allow(dead_code)]
mod model;

use std::path::PathBuf;
use std::process::Command;

use encrypted_fields::{Decrypt, EnvKeyring, ExposeSecret, KeySize, SecretString, generate_key};
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

fn start() -> Platform {
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
    let web = launch::start(
        &exe,
        "web",
        &[
            ("ACCOUNTS_URL", accounts.url.as_str()),
            ("BANKING_URL", banking.url.as_str()),
        ],
    )
    .unwrap();
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
    let platform = start();
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
    for (service, sealed) in [
        (&platform.accounts, &[][..]),
        (&platform.banking, &["pii"][..]),
        (&platform.web, &["pii", "banking"][..]),
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
    assert_eq!(
        forwarded, issued,
        "web forwards what it cannot read unchanged"
    );
    let (issued, settled): (Value, Value) = (
        serde_json::from_str(&issued).unwrap(),
        serde_json::from_str(&settled).unwrap(),
    );
    for side in ["sender", "receiver"] {
        for pii in ["email", "mailingAddress"] {
            assert_eq!(settled[side][pii], issued[side][pii], "{side}.{pii}");
        }
        // banking opened its fields, so re-sealing them gave fresh nonces.
        assert_ne!(settled[side]["bankAccount"], issued[side]["bankAccount"]);
    }
    let keyring = platform.full_keyring();
    for row in [issued, settled] {
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
