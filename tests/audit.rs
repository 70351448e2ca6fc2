//! Audit events (feature `tracing`): one per operation, with alias, key id,
//! type and field and outcome; never plaintext, key bytes or ciphertext.

mod common;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use common::{BANKING_128, PII_256, customer, keyring};
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, Keyring, Sealed};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber, span};

type Record = (Level, BTreeMap<String, String>);

/// Records every field of every audit event. Copy it as a starting point
/// for a subscriber that counts operations per alias and outcome.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Record>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        if event.metadata().target() == "encrypted_fields::audit" {
            let mut fields = BTreeMap::new();
            event.record(&mut Fields(&mut fields));
            self.0
                .lock()
                .unwrap()
                .push((*event.metadata().level(), fields));
        }
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}

fn captured(run: impl FnOnce()) -> Vec<Record> {
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.clone(), run);
    let events = capture.0.lock().unwrap();
    events.clone()
}

fn find<'a>(events: &'a [Record], pairs: &[(&str, &str)]) -> Vec<&'a Record> {
    events
        .iter()
        .filter(|(_, fields)| {
            pairs
                .iter()
                .all(|(k, v)| fields.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

/// One test function for every scenario: `tracing` caches per call site
/// whether anyone listens, and thread-local subscribers installed by tests
/// running in parallel race on that cache.
#[test]
fn audit_events() {
    every_operation_emits_an_event_with_its_place_and_no_secrets();
    rotation_and_lookups_are_audited();
}

fn every_operation_emits_an_event_with_its_place_and_no_secrets() {
    let keyring = keyring();
    let pii_id = keyring.key_set("pii").unwrap().primary().id().to_string();
    let mut ciphertexts = Vec::new();
    let events = captured(|| {
        let wire = customer().encrypt(&keyring).unwrap();
        ciphertexts.push(
            serde_json::to_value(&wire).unwrap()["email"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
        wire.decrypt(&keyring).unwrap();

        let mut tampered = wire.clone();
        let mut bytes = tampered.email.as_bytes().to_vec();
        bytes[20] ^= 1;
        tampered.email = Sealed::from_envelope(bytes);
        assert!(tampered.decrypt(&keyring).is_err());

        let pii_only = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", PII_256)]).unwrap();
        assert!(customer().encrypt(&pii_only).is_err());
        wire.decrypt_partial(&pii_only).unwrap();
    });

    let ok = [
        ("outcome", "ok"),
        ("alias", "pii"),
        ("context", "Customer"),
        ("field", "email"),
    ];
    let encrypted = find(&events, &[&ok[..], &[("op", "encrypt")]].concat());
    // Two encryptions seal `email`: one with every key, one that then fails on `banking`.
    assert_eq!(encrypted.len(), 2, "{events:#?}");
    assert_eq!(encrypted[0].0, Level::DEBUG);
    assert_eq!(encrypted[0].1["key_id"], pii_id);
    assert_eq!(
        find(&events, &[&ok[..], &[("op", "decrypt")]].concat()).len(),
        2
    );

    let failed = find(
        &events,
        &[
            ("op", "decrypt"),
            ("outcome", "error"),
            ("error", "AuthenticationFailed"),
        ],
    );
    assert_eq!(failed.len(), 1, "{events:#?}");
    assert_eq!(
        (failed[0].0, failed[0].1["field"].as_str()),
        (Level::WARN, "email")
    );

    let no_alias = find(
        &events,
        &[
            ("op", "encrypt"),
            ("alias", "banking"),
            ("error", "UnknownAlias"),
        ],
    );
    assert_eq!(no_alias.len(), 1, "{events:#?}");
    assert_eq!(no_alias[0].1["key_id"], "", "no key, no key id");

    let inaccessible = find(
        &events,
        &[("alias", "banking"), ("outcome", "inaccessible")],
    );
    assert_eq!(inaccessible.len(), 1, "{events:#?}");

    let everything = format!("{events:?}");
    for secret in [
        "ada@example.com",
        "DE89370400440532013000",
        PII_256,
        BANKING_128,
        &ciphertexts[0],
    ] {
        assert!(!everything.contains(secret), "{secret} in audit events");
    }
}

fn rotation_and_lookups_are_audited() {
    let old = keyring();
    let mut wire = customer().encrypt(&old).unwrap();
    let rotated_keys = EnvKeyring::from_vars([
        (
            "ENCRYPTED_FIELDS_KEY_PII",
            format!("{},{PII_256}", common::PII_256_NEW),
        ),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128.to_owned()),
    ])
    .unwrap();
    let events = captured(|| {
        assert_eq!(wire.reencrypt(&rotated_keys).unwrap(), 1);
        let binding = encrypted_fields::Binding::new("pii", "Customer", "email");
        Sealed::seal_for_lookup(&rotated_keys, &binding, &"x".to_owned()).unwrap();
    });
    let rotated = find(
        &events,
        &[("op", "rotate"), ("outcome", "ok"), ("field", "email")],
    );
    assert_eq!(rotated.len(), 1, "{events:#?}");
    assert_eq!(
        rotated[0].1["key_id"],
        rotated_keys
            .key_set("pii")
            .unwrap()
            .primary()
            .id()
            .to_string()
    );
    assert_eq!(
        find(&events, &[("op", "lookup"), ("outcome", "ok")]).len(),
        1
    );
}
