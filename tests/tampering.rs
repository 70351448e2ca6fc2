//! Envelopes are authenticated and bound to their place: any change, and
//! any move to another field, type or alias, is rejected.

mod common;

use common::{EncryptedCustomer, customer, keyring};
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, ErrorKind, Sealed};
use serde::{Deserialize, Serialize};

#[test]
fn every_single_byte_change_of_an_envelope_is_rejected() {
    let keyring = keyring();
    let wire = customer().encrypt(&keyring).unwrap();
    let envelope = wire.email.as_bytes().to_vec();
    for i in 0..envelope.len() {
        for delta in [0x01u8, 0x80, 0xff] {
            let mut changed = envelope.clone();
            changed[i] ^= delta;
            let mut tampered = wire.clone();
            tampered.email = Sealed::from_envelope(changed);
            let err = tampered.decrypt(&keyring).unwrap_err();
            assert_eq!(err.key_alias(), Some("pii"), "byte {i}: {err}");
        }
    }
}

#[test]
fn truncated_and_extended_envelopes_are_rejected() {
    let keyring = keyring();
    let wire = customer().encrypt(&keyring).unwrap();
    let envelope = wire.email.as_bytes().to_vec();
    for len in 0..envelope.len() {
        let mut tampered = wire.clone();
        tampered.email = Sealed::from_envelope(envelope[..len].into());
        assert!(tampered.decrypt(&keyring).is_err(), "truncated to {len}");
    }
    let mut longer = envelope.clone();
    longer.push(0);
    let mut tampered = wire.clone();
    tampered.email = Sealed::from_envelope(longer);
    assert_eq!(
        tampered.decrypt(&keyring).unwrap_err().kind(),
        ErrorKind::AuthenticationFailed
    );
}

#[test]
fn every_single_character_change_of_the_json_text_is_rejected() {
    let keyring = keyring();
    let json = serde_json::to_value(customer().encrypt(&keyring).unwrap()).unwrap();
    let text = json["email"].as_str().unwrap().to_owned();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for i in 0..text.len() {
        for replacement in alphabet.chars().filter(|c| !text[i..].starts_with(*c)) {
            let mut changed = text.clone();
            changed.replace_range(i..=i, &replacement.to_string());
            let mut doc = json.clone();
            doc["email"] = changed.into();
            let decrypted = serde_json::from_value::<EncryptedCustomer>(doc)
                .map_err(|e| e.to_string())
                .and_then(|w| w.decrypt(&keyring).map_err(|e| e.to_string()));
            assert!(decrypted.is_err(), "char {i} -> {replacement} accepted");
        }
    }
}

#[test]
fn a_non_string_where_an_envelope_belongs_is_not_echoed() {
    // A producer that never encrypted may send the plaintext number itself.
    for value in [
        serde_json::json!(4111111111111111u64),
        serde_json::json!(-4111.5),
        serde_json::json!(true),
        serde_json::json!(["4111"]),
        serde_json::json!({"n": "4111"}),
    ] {
        let mut doc = serde_json::to_value(customer().encrypt(&keyring()).unwrap()).unwrap();
        doc["email"] = value.clone();
        let err = serde_json::from_value::<EncryptedCustomer>(doc.clone())
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid envelope"), "{err}");
        assert!(
            !err.contains("4111") && !err.contains("true"),
            "{value}: {err}"
        );
        let text_err = serde_json::from_str::<EncryptedCustomer>(&doc.to_string())
            .unwrap_err()
            .to_string();
        assert!(!text_err.contains("4111"), "{text_err}");
    }
}

#[test]
fn non_base64_text_is_a_serde_error_that_does_not_echo_it() {
    let mut doc = serde_json::to_value(customer().encrypt(&keyring()).unwrap()).unwrap();
    doc["email"] = "ada@example.com".into();
    let err = serde_json::from_value::<EncryptedCustomer>(doc)
        .unwrap_err()
        .to_string();
    assert!(err.contains("invalid envelope"), "{err}");
    assert!(!err.contains("ada@"), "{err}");
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Pair {
    #[encrypt(key = "pii")]
    first: String,
    #[encrypt(key = "pii")]
    second: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Twin {
    #[encrypt(key = "pii")]
    first: String,
    #[encrypt(key = "pii")]
    second: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct OtherAlias {
    #[encrypt(key = "other")]
    first: String,
    #[encrypt(key = "pii")]
    second: String,
}

fn pair() -> Pair {
    Pair {
        first: "one".into(),
        second: "two".into(),
    }
}

#[test]
fn envelope_moved_to_another_field_is_rejected() {
    let keyring = keyring();
    let mut wire = pair().encrypt(&keyring).unwrap();
    wire.second = wire.first.clone();
    let err = wire.decrypt(&keyring).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(err.field(), Some("second"));
}

#[test]
fn envelope_moved_to_another_type_is_rejected() {
    let keyring = keyring();
    let json = serde_json::to_string(&pair().encrypt(&keyring).unwrap()).unwrap();
    let twin: EncryptedTwin = serde_json::from_str(&json).unwrap();
    let err = twin.decrypt(&keyring).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(err.context(), Some("Twin"));
}

#[test]
fn envelope_moved_to_another_alias_is_rejected() {
    // Same key bytes under both aliases, so only the AAD can tell them apart.
    let keyring = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", common::PII_256),
        ("ENCRYPTED_FIELDS_KEY_OTHER", common::PII_256),
    ])
    .unwrap();
    let json = serde_json::to_string(&pair().encrypt(&keyring).unwrap()).unwrap();
    let moved: EncryptedOtherAlias = serde_json::from_str(&json).unwrap();
    let err = moved.decrypt(&keyring).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(err.key_alias(), Some("other"));
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "pair.v1")]
struct RenamedPair {
    #[encrypt(key = "pii")]
    first: String,
    #[encrypt(key = "pii")]
    second: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "pair.v1")]
struct PairV2 {
    #[encrypt(key = "pii")]
    first: String,
    #[encrypt(key = "pii")]
    second: String,
}

#[test]
fn a_context_lets_a_type_be_renamed_without_losing_data() {
    let keyring = keyring();
    let old = RenamedPair {
        first: "one".into(),
        second: "two".into(),
    };
    let json = serde_json::to_string(&old.encrypt(&keyring).unwrap()).unwrap();
    let new: PairV2 = serde_json::from_str::<EncryptedPairV2>(&json)
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    assert_eq!((new.first.as_str(), new.second.as_str()), ("one", "two"));
    // And the context, not the struct name, is what is bound.
    let as_pair = serde_json::from_str::<EncryptedPair>(&json)
        .unwrap()
        .decrypt(&keyring);
    assert_eq!(as_pair.unwrap_err().kind(), ErrorKind::AuthenticationFailed);
}

mod billing {
    #[derive(encrypted_fields::Encrypt, serde::Serialize, serde::Deserialize)]
    pub struct Address {
        #[encrypt(key = "pii")]
        pub street: String,
    }
}

mod shipping {
    #[derive(encrypted_fields::Encrypt, serde::Serialize, serde::Deserialize)]
    pub struct Address {
        #[encrypt(key = "pii")]
        pub street: String,
    }

    #[derive(encrypted_fields::Encrypt, serde::Serialize, serde::Deserialize)]
    #[encrypt(context = "shipping.address")]
    pub struct Labelled {
        #[encrypt(key = "pii")]
        pub street: String,
    }
}

/// What SECURITY.md says: the default context is the type's name without
/// its module path, so same-named types share it; a context separates them.
#[test]
fn same_named_types_in_other_modules_share_a_context_unless_one_is_set() {
    let keyring = keyring();
    let billing = billing::Address {
        street: "1 Bill St".into(),
    }
    .encrypt(&keyring)
    .unwrap();
    let json = serde_json::to_string(&billing).unwrap();
    let shipping: shipping::EncryptedAddress = serde_json::from_str(&json).unwrap();
    assert_eq!(shipping.decrypt(&keyring).unwrap().street, "1 Bill St");
    let labelled: shipping::EncryptedLabelled = serde_json::from_str(&json).unwrap();
    let error = labelled.decrypt(&keyring).err().expect("another context");
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
}
