//! Golden vectors freeze envelope format v1: every vector in
//! `tests/vectors/v1.json` must open (or fail) exactly as recorded, forever.
//! They were written by an implementation independent of this crate
//! (`tests/vectors/generate.py`, from `docs/FORMAT.md`), so they check the
//! spec as much as the code.

use encrypted_fields::{Binding, ErrorKind, Key, KeySet, MemoryKeyring, Nonce, Sealed};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct File {
    vectors: Vec<Vector>,
}

#[derive(Deserialize)]
struct Vector {
    description: String,
    result: String,
    key: String,
    key_id: String,
    alias: String,
    context: String,
    field: String,
    value: Value,
    envelope: String,
    #[serde(default)]
    deterministic: bool,
    /// A plaintext no writer produces (whitespace, duplicates, invalid
    /// JSON): a vector for readers only.
    #[serde(default)]
    raw_plaintext: bool,
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("vectors/v1.json");
    serde_json::from_str::<File>(text)
        .expect("vector file parses")
        .vectors
}

impl Vector {
    fn keyring(&self) -> MemoryKeyring {
        let key = Key::from_base64(&self.key).unwrap();
        MemoryKeyring::new()
            .with(&self.alias, KeySet::new(vec![key]).unwrap())
            .unwrap()
    }

    fn binding(&self) -> Binding<'_> {
        Binding::new(&self.alias, &self.context, &self.field)
    }

    fn sealed(&self) -> Sealed<Value> {
        serde_json::from_value(Value::String(self.envelope.clone())).unwrap()
    }

    /// Reads the text, then opens it: a malformed text fails in the first
    /// step, without an alias (it is not bound to one yet).
    fn open(&self) -> Result<Value, encrypted_fields::Error> {
        Sealed::<Value>::from_text(&self.envelope)?.open(&self.keyring(), &self.binding())
    }
}

#[test]
fn golden_vectors_open_or_fail_as_recorded() {
    let vectors = vectors();
    assert!(vectors.len() >= 34, "vectors went missing");
    for v in &vectors {
        let result = v.open();
        match (v.result.as_str(), result) {
            ("ok", Ok(value)) => assert_eq!(value, v.value, "{}", v.description),
            (expected, Err(err)) => {
                let kind = match expected {
                    "authentication_failed" => ErrorKind::AuthenticationFailed,
                    "unsupported_version" => ErrorKind::UnsupportedVersion,
                    "malformed_envelope" => ErrorKind::MalformedEnvelope,
                    "unknown_key_id" => ErrorKind::UnknownKeyId,
                    "deserialize" => ErrorKind::Deserialize,
                    other => panic!("{}: unexpected error {other}: {err}", v.description),
                };
                assert_eq!(err.kind(), kind, "{}: {err}", v.description);
                if let Some(alias) = err.key_alias() {
                    assert_eq!(alias, v.alias, "{}", v.description);
                } else {
                    assert_eq!(kind, ErrorKind::MalformedEnvelope, "{}", v.description);
                }
            }
            (expected, Ok(value)) => {
                panic!("{}: expected {expected}, opened {value}", v.description)
            }
        }
    }
}

#[test]
fn key_ids_are_derived_as_the_spec_says() {
    for v in vectors() {
        let key = Key::from_base64(&v.key).unwrap();
        assert_eq!(key.id().to_string(), v.key_id, "{}", v.description);
    }
}

#[test]
fn envelopes_written_now_have_the_vectors_layout() {
    for v in vectors()
        .into_iter()
        .filter(|v| v.result == "ok" && !v.raw_plaintext)
    {
        let keyring = v.keyring();
        let fresh = Sealed::seal(&keyring, &v.binding(), &v.value).unwrap();
        let golden = v.sealed();
        assert_eq!(
            fresh.as_bytes().len(),
            golden.as_bytes().len(),
            "{}",
            v.description
        );
        assert_eq!(
            fresh.as_bytes()[..5],
            golden.as_bytes()[..5],
            "{}",
            v.description
        );
        assert_eq!(fresh.open(&keyring, &v.binding()).unwrap(), v.value);
    }
}

#[test]
fn deterministic_envelopes_are_reproduced_exactly() {
    let deterministic: Vec<Vector> = vectors().into_iter().filter(|v| v.deterministic).collect();
    assert_eq!(deterministic.len(), 4);
    for v in deterministic {
        let sealed =
            Sealed::seal_with(&v.keyring(), &v.binding(), &v.value, Nonce::Deterministic).unwrap();
        assert_eq!(sealed.to_text(), v.envelope, "{}", v.description);
    }
}
