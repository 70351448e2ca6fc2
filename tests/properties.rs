//! Property tests: for arbitrary values and inputs, the round trip holds,
//! every single-bit change is caught, no envelope carries its plaintext,
//! and no input makes decryption panic.

mod common;

use std::collections::BTreeMap;

use common::keyring;
use encrypted_fields::{Binding, Decrypt, Encrypt, Sealed};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Inner {
    #[encrypt(key = "banking")]
    secret: String,
    visible: u16,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Everything {
    #[encrypt(key = "pii")]
    text: String,
    #[encrypt(key = "pii")]
    bytes: Vec<u8>,
    #[encrypt(key = "pii")]
    maybe: Option<String>,
    #[encrypt(key = "banking")]
    number: i64,
    #[encrypt(key = "banking")]
    float: f64,
    #[encrypt(key = "pii", deterministic)]
    flag: bool,
    #[encrypt(key = "pii")]
    map: BTreeMap<String, Vec<i32>>,
    #[encrypt(nested)]
    inner: Inner,
    #[encrypt(nested)]
    many: Vec<Option<Inner>>,
    #[encrypt(nested, key = "banking")]
    wrapped: Option<Box<Inner>>,
    plain: String,
}

fn inner() -> impl Strategy<Value = Inner> {
    (any::<String>(), any::<u16>()).prop_map(|(secret, visible)| Inner { secret, visible })
}

/// Mostly small strings, sometimes empty, sometimes large (up to 64 KiB).
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => any::<String>(),
        1 => Just(String::new()),
        // A repeated random chunk: large, varied, and cheap to generate.
        1 => (any::<String>(), 100..3000usize).prop_map(|(chunk, n)| format!("{chunk}ü✓").repeat(n)),
    ]
}

fn everything() -> impl Strategy<Value = Everything> {
    (
        text(),
        prop::collection::vec(any::<u8>(), 0..512),
        prop::option::of(any::<String>()),
        any::<i64>(),
        // JSON has no NaN or infinity.
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        any::<bool>(),
        prop::collection::btree_map(
            any::<String>(),
            prop::collection::vec(any::<i32>(), 0..4),
            0..4,
        ),
        inner(),
        prop::collection::vec(prop::option::of(inner()), 0..3),
        prop::option::of(inner().prop_map(Box::new)),
        any::<String>(),
    )
        .prop_map(
            |(text, bytes, maybe, number, float, flag, map, inner, many, wrapped, plain)| {
                Everything {
                    text,
                    bytes,
                    maybe,
                    number,
                    float,
                    flag,
                    map,
                    inner,
                    many,
                    wrapped,
                    plain,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn every_supported_type_round_trips_through_json(value in everything()) {
        let keyring = keyring();
        let json = serde_json::to_string(&value.encrypt(&keyring).unwrap()).unwrap();
        let back = serde_json::from_str::<EncryptedEverything>(&json).unwrap().decrypt(&keyring).unwrap();
        prop_assert_eq!(back, value);
    }

    #[test]
    fn any_single_bit_flip_of_an_envelope_fails(value in any::<String>(), bit in any::<prop::sample::Index>()) {
        let keyring = keyring();
        let binding = Binding::new("pii", "Prop", "field");
        let sealed = Sealed::seal(&keyring, &binding, &value).unwrap();
        let mut bytes = sealed.as_bytes().to_vec();
        let bit = bit.index(bytes.len() * 8);
        bytes[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(Sealed::<String>::from_envelope(bytes).open(&keyring, &binding).is_err());
    }

    #[test]
    fn envelopes_never_contain_the_plaintext(value in "\\PC{8,200}") {
        let keyring = keyring();
        let binding = Binding::new("pii", "Prop", "field");
        let sealed = Sealed::seal(&keyring, &binding, &value).unwrap();
        let plaintext = serde_json::to_vec(&value).unwrap();
        let envelope = sealed.as_bytes();
        prop_assert!(!envelope.windows(plaintext.len()).any(|w| w == plaintext.as_slice()));
        prop_assert!(!sealed.to_text().contains(value.as_str()));
        let debug = format!("{:?}", sealed);
        prop_assert!(!debug.contains(value.as_str()));
    }

    #[test]
    fn decrypting_arbitrary_text_never_panics(text in any::<String>()) {
        let keyring = keyring();
        let json = serde_json::json!({"text": text, "bytes": text, "maybe": text, "number": text, "float": text,
            "flag": text, "map": text, "inner": {"secret": text, "visible": 1}, "many": [], "wrapped": text,
            "plain": text});
        if let Ok(wire) = serde_json::from_value::<EncryptedEverything>(json) {
            prop_assert!(wire.decrypt(&keyring).is_err());
            let _ = wire.decrypt_partial(&keyring);
        }
    }

    #[test]
    fn opening_arbitrary_bytes_never_panics_or_succeeds(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let keyring = keyring();
        let binding = Binding::new("pii", "Prop", "field");
        let sealed = Sealed::<serde_json::Value>::from_envelope(bytes);
        prop_assert!(sealed.open(&keyring, &binding).is_err());
        let _ = sealed.inspect();
        let mut rotated = sealed.clone();
        let _ = rotated.rotate(&keyring, &binding, encrypted_fields::Nonce::Random);
    }
}
