//! The public contract: derive, encrypt, JSON, decrypt.

mod common;

use std::collections::BTreeMap;

use common::{Customer, EncryptedCustomer, customer, keyring};
use encrypted_fields::{Decrypt, Encrypt, Keyring, Sealed};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[test]
fn json_round_trip_with_several_aliases() {
    let keyring = keyring();
    let customer = customer();
    let wire: EncryptedCustomer = customer.encrypt(&keyring).unwrap();
    let json = serde_json::to_string(&wire).unwrap();
    let back: Customer = serde_json::from_str::<EncryptedCustomer>(&json)
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    assert_eq!(back, customer);
}

#[test]
fn encrypted_fields_are_strings_without_plaintext() {
    let json = serde_json::to_value(customer().encrypt(&keyring()).unwrap()).unwrap();
    assert!(json["email"].is_string());
    assert!(json["account"].is_string());
    let text = json.to_string();
    for secret in ["ada@example.com", "DE89370400440532013000", "Lovelace"] {
        assert!(!text.contains(secret), "{secret} leaked into {text}");
    }
}

#[test]
fn plain_fields_serialize_byte_identical_to_serde() {
    let customer = customer();
    let plain = serde_json::to_value(&customer).unwrap();
    let encrypted = serde_json::to_value(customer.encrypt(&keyring()).unwrap()).unwrap();
    let (Value::Object(plain), Value::Object(encrypted)) = (plain, encrypted) else {
        panic!("both serialize as objects");
    };
    let keys = |m: &serde_json::Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(
        keys(&plain),
        keys(&encrypted),
        "same field names in the same order"
    );
    for name in ["id", "tags"] {
        assert_eq!(
            serde_json::to_string(&plain[name]).unwrap(),
            serde_json::to_string(&encrypted[name]).unwrap()
        );
    }
}

#[test]
fn encrypted_json_is_the_plain_json_with_ciphertext_strings_in_place() {
    let customer = customer();
    let plain = serde_json::to_string(&customer).unwrap();
    let wire = customer.encrypt(&keyring()).unwrap();
    let mut rebuilt = serde_json::to_string(&wire).unwrap();
    // Put each encrypted field's plain JSON where its ciphertext string is:
    // the rest of the text must then be the plain struct's, byte for byte.
    for (sealed, plain_value) in [
        (
            serde_json::to_string(&wire.email).unwrap(),
            serde_json::to_string(&customer.email).unwrap(),
        ),
        (
            serde_json::to_string(&wire.account).unwrap(),
            serde_json::to_string(&customer.account).unwrap(),
        ),
    ] {
        assert_eq!(rebuilt.matches(&sealed).count(), 1);
        rebuilt = rebuilt.replace(&sealed, &plain_value);
    }
    assert_eq!(rebuilt, plain);
}

#[test]
fn two_encryptions_of_one_value_differ() {
    let keyring = keyring();
    let a = customer().encrypt(&keyring).unwrap();
    let b = customer().encrypt(&keyring).unwrap();
    assert_ne!(a.email, b.email);
    assert_ne!(a.account, b.account);
    assert_eq!(a.decrypt(&keyring).unwrap(), b.decrypt(&keyring).unwrap());
}

#[test]
fn works_through_a_dyn_keyring() {
    let keyring: Box<dyn Keyring> = Box::new(keyring());
    let dyn_ref: &dyn Keyring = &*keyring;
    let wire = customer().encrypt(dyn_ref).unwrap();
    assert_eq!(wire.decrypt(&keyring).unwrap(), customer());
}

#[test]
fn key_aliases_lists_every_alias_once_sorted() {
    assert_eq!(Customer::KEY_ALIASES, ["banking", "pii"]);
    assert!(keyring().require(Customer::KEY_ALIASES).is_ok());
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Everything {
    #[encrypt(key = "pii")]
    text: String,
    #[encrypt(key = "pii")]
    empty: String,
    #[encrypt(key = "pii")]
    number: i64,
    #[encrypt(key = "pii")]
    float: f64,
    #[encrypt(key = "pii")]
    flag: bool,
    #[encrypt(key = "pii")]
    list: Vec<u32>,
    #[encrypt(key = "pii")]
    map: BTreeMap<String, Vec<String>>,
    #[encrypt(key = "pii")]
    maybe: Option<String>,
    #[encrypt(key = "pii")]
    nothing: Option<String>,
    #[encrypt(key = "pii")]
    unit: (),
}

#[test]
fn every_serde_type_round_trips() {
    let keyring = keyring();
    let value = Everything {
        text: "ünïcødé ✓ \"quoted\" \n".into(),
        empty: String::new(),
        number: -9_007_199_254_740_993,
        float: 1.5,
        flag: true,
        list: vec![1, 2, 3],
        map: BTreeMap::from([("k".into(), vec!["v".into()])]),
        maybe: Some("here".into()),
        nothing: None,
        unit: (),
    };
    let json = serde_json::to_string(&value.encrypt(&keyring).unwrap()).unwrap();
    let back = serde_json::from_str::<EncryptedEverything>(&json)
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    assert_eq!(back, value);
}

#[test]
fn none_stays_null_and_some_is_sealed() {
    let value = serde_json::to_value(
        Everything {
            text: String::new(),
            empty: String::new(),
            number: 0,
            float: 0.0,
            flag: false,
            list: vec![],
            map: BTreeMap::new(),
            maybe: Some("x".into()),
            nothing: None,
            unit: (),
        }
        .encrypt(&keyring())
        .unwrap(),
    )
    .unwrap();
    assert_eq!(value["nothing"], Value::Null);
    assert!(value["maybe"].is_string());
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Renamed {
    user_id: u32,
    #[encrypt(key = "pii")]
    home_address: String,
    #[serde(rename = "mail")]
    #[encrypt(key = "pii")]
    e_mail: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[encrypt(key = "pii")]
    nick_name: Option<String>,
    #[serde(default)]
    score: u8,
}

#[test]
fn serde_attributes_carry_over_to_the_companion() {
    let keyring = keyring();
    let value = Renamed {
        user_id: 1,
        home_address: "1 Main St".into(),
        e_mail: "a@b.c".into(),
        nick_name: None,
        score: 3,
    };
    let encrypted = serde_json::to_value(value.encrypt(&keyring).unwrap()).unwrap();
    let plain = serde_json::to_value(&value).unwrap();
    let names = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&encrypted), names(&plain));
    assert_eq!(
        names(&encrypted),
        ["homeAddress", "mail", "score", "userId"]
    );

    let mut with_extra = encrypted.clone();
    with_extra["unexpected"] = json!(1);
    assert!(serde_json::from_value::<EncryptedRenamed>(with_extra).is_err());

    let mut without_defaults = encrypted;
    without_defaults.as_object_mut().unwrap().remove("score");
    let back = serde_json::from_value::<EncryptedRenamed>(without_defaults).unwrap();
    assert_eq!(
        back.decrypt(&keyring).unwrap(),
        Renamed { score: 0, ..value }
    );
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Generic<T, U> {
    #[encrypt(key = "pii")]
    secret: Vec<T>,
    label: U,
}

#[test]
fn generic_structs_round_trip() {
    let keyring = keyring();
    let value = Generic {
        secret: vec![1u8, 2],
        label: "x".to_string(),
    };
    let wire: EncryptedGeneric<u8, String> = value.encrypt(&keyring).unwrap();
    assert_eq!(wire.decrypt(&keyring).unwrap(), value);
}

#[test]
fn sealed_fields_can_be_used_directly() {
    let keyring = keyring();
    let binding = encrypted_fields::Binding::new("pii", "Adhoc", "note");
    let sealed = Sealed::seal(&keyring, &binding, &vec!["a", "b"]).unwrap();
    let opened: Vec<String> = Sealed::<Vec<String>>::from_envelope(sealed.as_bytes().into())
        .open(&keyring, &binding)
        .unwrap();
    assert_eq!(opened, ["a", "b"]);
    let debug = format!("{sealed:?}");
    assert!(
        debug.starts_with("Sealed(key ") && debug.ends_with(" bytes)"),
        "{debug}"
    );
}
