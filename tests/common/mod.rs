//! Keys and types shared by the integration tests.
#![allow(dead_code)]

pub mod payments;

use encrypted_fields::{Decrypt, Encrypt, EnvKeyring};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Fixed test keys (standard base64): never use these outside tests.
pub const PII_256: &str = "cGlpLWtleS0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=";
pub const PII_256_NEW: &str = "cGlpLWtleS0xMTExMTExMTExMTExMTExMTExMTExMTE=";
pub const BANKING_128: &str = "YmFua2luZy1rZXktMDAwMA==";
pub const OTHER_256: &str = "b3RoZXIta2V5LTAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=";

pub fn keyring() -> EnvKeyring {
    EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", PII_256),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
    ])
    .expect("test keys load")
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct BankAccount {
    pub iban: String,
    pub holder: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Customer {
    pub id: u64,
    #[encrypt(key = "pii")]
    pub email: String,
    #[encrypt(key = "banking")]
    pub account: BankAccount,
    pub tags: Vec<String>,
}

pub fn customer() -> Customer {
    Customer {
        id: 42,
        email: "ada@example.com".into(),
        account: BankAccount {
            iban: "DE89370400440532013000".into(),
            holder: "Ada Lovelace".into(),
        },
        tags: vec!["vip".into()],
    }
}

/// Replaces every string that is not in `plain` at the same place with
/// `"<sealed>"`, so shapes can be compared.
pub fn shape(encrypted: &Value, plain: &Value) -> Value {
    match (encrypted, plain) {
        (Value::Object(e), Value::Object(p)) => Value::Object(
            e.iter()
                .map(|(k, v)| (k.clone(), shape(v, p.get(k).unwrap_or(&Value::Null))))
                .collect(),
        ),
        (Value::Array(e), Value::Array(p)) => {
            Value::Array(e.iter().zip(p).map(|(e, p)| shape(e, p)).collect())
        }
        (Value::String(_), p) if p != encrypted => json!("<sealed>"),
        (e, _) => e.clone(),
    }
}

pub fn round_trip<T>(value: &T) -> Value
where
    T: Encrypt + Serialize + PartialEq + std::fmt::Debug,
    T::Encrypted: Serialize + serde::de::DeserializeOwned + Decrypt<Plain = T>,
{
    let keyring = keyring();
    let json = serde_json::to_value(value.encrypt(&keyring).unwrap()).unwrap();
    let back = serde_json::from_value::<T::Encrypted>(json.clone())
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    assert_eq!(&back, value);
    shape(&json, &serde_json::to_value(value).unwrap())
}
