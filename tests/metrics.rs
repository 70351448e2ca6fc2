//! The `metrics` feature, as an operator sees it: what the Prometheus
//! exporter renders after seals, opens, a tampered field, partial
//! decryption and a rotation; no plaintext or key in it; and a recorder
//! installed later gets counts of its own.

mod common;
#[path = "common/prometheus.rs"]
mod prometheus;

use common::{BANKING_128, PII_256, PII_256_NEW};
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, Keyring};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusRecorder};
use prometheus::{operations, sample};
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Customer {
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "banking")]
    iban: String,
}

fn customer(id: u64) -> Customer {
    Customer {
        id,
        email: format!("user{id}@example.com"),
        iban: format!("DE8937040044053201300{id}"),
    }
}

fn keyring(vars: &[(&str, &str)]) -> EnvKeyring {
    EnvKeyring::from_vars(vars.iter().copied()).unwrap()
}

fn primary(keyring: &EnvKeyring, alias: &str) -> String {
    keyring.key_set(alias).unwrap().primary().id().to_string()
}

fn recorder() -> PrometheusRecorder {
    PrometheusBuilder::new().build_recorder()
}

#[test]
fn operations_failures_and_keys_are_counted_by_alias_key_and_outcome() {
    let recorder = recorder();
    let old = keyring(&[
        ("ENCRYPTED_FIELDS_KEY_PII", PII_256),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
    ]);
    let (pii_old, banking) = (primary(&old, "pii"), primary(&old, "banking"));
    // Loaded before the recorder: the gauge is the keyring loaded last.
    let pii_only = keyring(&[("ENCRYPTED_FIELDS_KEY_PII", PII_256)]);
    let (rows, text) = metrics::with_local_recorder(&recorder, || {
        // Loaded with the recorder in place: the gauge counts versions.
        let full = keyring(&[
            (
                "ENCRYPTED_FIELDS_KEY_PII",
                &format!("{PII_256_NEW},{PII_256}"),
            ),
            ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
        ]);
        let rows: Vec<EncryptedCustomer> = (0..3)
            .map(|id| customer(id).encrypt(&old).unwrap())
            .collect();
        assert_eq!(rows[0].decrypt(&full).unwrap(), customer(0));

        let mut tampered = serde_json::to_value(&rows[1]).unwrap();
        // One character of the ciphertext changed: the envelope still
        // parses, and fails authentication.
        let mut email = tampered["email"].as_str().unwrap().to_owned();
        let flipped = if &email[30..31] == "A" { "B" } else { "A" };
        email.replace_range(30..31, flipped);
        tampered["email"] = email.into();
        let tampered: EncryptedCustomer = serde_json::from_value(tampered).unwrap();
        assert!(tampered.decrypt(&full).is_err());

        let partial = rows[2].decrypt_partial(&pii_only).unwrap();
        assert_eq!(partial.inaccessible, ["banking"]);

        let mut rotated = rows[2].clone();
        rotated.reencrypt(&full).unwrap();
        (rows, recorder.handle().render())
    });
    let pii_new = primary(
        &keyring(&[("ENCRYPTED_FIELDS_KEY_PII", PII_256_NEW)]),
        "pii",
    );
    let operations = |operation, alias, key_id: &str, outcome| {
        operations(&text, operation, alias, key_id, outcome)
    };
    assert_eq!(
        operations("encrypt", "pii", &pii_old, "sealed"),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        operations("encrypt", "banking", &banking, "sealed"),
        Some(3.0)
    );
    // The clean open and the partial one's pii field; the tampered row
    // stopped at its first field, email.
    assert_eq!(operations("decrypt", "pii", &pii_old, "opened"), Some(2.0));
    assert_eq!(
        operations("decrypt", "banking", &banking, "opened"),
        Some(1.0)
    );
    assert_eq!(operations("decrypt", "pii", &pii_old, "failed"), Some(1.0));
    assert_eq!(
        operations("decrypt", "banking", "", "left_sealed"),
        Some(1.0)
    );
    assert_eq!(operations("rotate", "pii", &pii_new, "rotated"), Some(1.0));
    assert_eq!(
        sample(
            &text,
            "encrypted_fields_failures_total",
            &[
                ("operation", "decrypt"),
                ("alias", "pii"),
                ("key_id", &pii_old),
                ("error", "authentication_failed"),
            ],
        ),
        Some(1.0)
    );
    for (alias, keys) in [("pii", 2.0), ("banking", 1.0)] {
        assert_eq!(
            sample(&text, "encrypted_fields_keys", &[("alias", alias)]),
            Some(keys),
            "{alias}"
        );
    }
    assert!(
        text.contains("# HELP encrypted_fields_operations_total"),
        "{text}"
    );
    for id in 0..3 {
        let plain = customer(id);
        for secret in [&plain.email, &plain.iban] {
            assert!(!text.contains(secret.as_str()), "{secret} in the metrics");
        }
    }
    for key in [PII_256, PII_256_NEW, BANKING_128] {
        assert!(!text.contains(key), "a key in the metrics");
    }
    let envelope = serde_json::to_value(&rows[0]).unwrap()["email"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!text.contains(&envelope), "ciphertext in the metrics");
}

#[test]
fn a_recorder_installed_later_counts_from_then_on() {
    let keyring = keyring(&[
        ("ENCRYPTED_FIELDS_KEY_PII", PII_256),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
    ]);
    let pii = primary(&keyring, "pii");
    let labels = [
        ("operation", "encrypt"),
        ("alias", "pii"),
        ("key_id", pii.as_str()),
        ("outcome", "sealed"),
    ];
    // Before any recorder: counted nowhere, and nothing cached that would
    // swallow later counts.
    customer(1).encrypt(&keyring).unwrap();
    let (first, second) = (recorder(), recorder());
    metrics::with_local_recorder(&first, || customer(1).encrypt(&keyring).unwrap());
    metrics::with_local_recorder(&second, || {
        for id in 0..2 {
            customer(id).encrypt(&keyring).unwrap();
        }
    });
    metrics::with_local_recorder(&first, || customer(2).encrypt(&keyring).unwrap());
    let count = |recorder: &PrometheusRecorder| {
        sample(
            &recorder.handle().render(),
            "encrypted_fields_operations_total",
            &labels,
        )
    };
    assert_eq!(count(&first), Some(2.0));
    assert_eq!(count(&second), Some(2.0));
}

#[test]
fn session_keys_and_unknown_key_ids_get_no_series_of_their_own() {
    use encrypted_fields::session::{SessionKeyring, SessionServer};
    let recorder = recorder();
    let (server, _) = SessionServer::generate();
    let text = metrics::with_local_recorder(&recorder, || {
        // Each session's keys come from a secret the client picks: three
        // sessions, three key ids, one series.
        for id in 0..3 {
            let (session, _) = SessionKeyring::initiate(&server.public_key()).unwrap();
            customer(id).encrypt(&session).unwrap();
        }
        recorder.handle().render()
    });
    let sealed = [
        ("operation", "encrypt"),
        ("alias", "pii"),
        ("key_id", ""),
        ("outcome", "sealed"),
    ];
    assert_eq!(
        sample(&text, "encrypted_fields_operations_total", &sealed),
        Some(3.0),
        "{text}"
    );
    let series = text
        .lines()
        .filter(|line| line.starts_with("encrypted_fields_operations_total{"))
        .count();
    assert_eq!(series, 2, "one series per alias: {text}");
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(seal = "records")]
struct Account {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "banking")]
    iban: String,
}

#[test]
fn a_sealed_record_forwarded_unchanged_counts_only_what_was_read() {
    let recorder = recorder();
    let producer = keyring(&[
        ("ENCRYPTED_FIELDS_KEY_PII", PII_256),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
        ("ENCRYPTED_FIELDS_KEY_RECORDS", PII_256_NEW),
    ]);
    let account = Account {
        id: 7,
        email: "ada@example.com".into(),
        iban: "DE89370400440532013000".into(),
    };
    let sealed = account.encrypt(&producer).unwrap();
    let pii_only = keyring(&[("ENCRYPTED_FIELDS_KEY_PII", PII_256)]);
    let pii = primary(&pii_only, "pii");
    let text = metrics::with_local_recorder(&recorder, || {
        let partial = sealed.decrypt_partial(&pii_only).unwrap();
        // Re-sealed by a service without the seal key: forwarded as
        // received, after a comparison that is not counted.
        assert_eq!(partial.value.encrypt(&pii_only).unwrap(), sealed);
        recorder.handle().render()
    });
    let count = |operation, alias, key_id: &str, outcome| {
        operations(&text, operation, alias, key_id, outcome)
    };
    assert_eq!(count("decrypt", "pii", &pii, "opened"), Some(1.0), "{text}");
    assert_eq!(count("decrypt", "banking", "", "left_sealed"), Some(1.0));
    assert_eq!(count("encrypt", "pii", &pii, "sealed"), None, "{text}");
}
