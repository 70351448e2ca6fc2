//! Records sealed by the crate before record binding, position binding and
//! record seals existed (format version 1 only), frozen in
//! `tests/vectors/records-v1.json`: they must open, unchanged, under the
//! same type declarations forever. The types below are those declarations;
//! never change them.
//!
//! `ENCRYPTED_FIELDS_WRITE_VECTORS=1 cargo test --test compatibility`
//! rewrites the file from the current code: done once, on 2026-11-30,
//! before the version-2 work began; do not run it again.

mod common;

use std::collections::BTreeMap;

use common::payments::{Address, BankAccount, CashUser, Transaction};
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
#[encrypt(context = "customer")]
struct Customer {
    id: u64,
    #[encrypt(key = "pii", deterministic)]
    email: String,
    #[encrypt(key = "pii")]
    phone: Option<String>,
    #[encrypt(key = "banking")]
    bank_account: BankAccount,
    tags: Vec<String>,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", content = "data")]
enum Payment {
    Card {
        #[encrypt(key = "banking")]
        number: String,
        expiry: String,
    },
    Transfer(#[encrypt(key = "banking")] String, u32),
    Cash,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Vault {
    #[encrypt(nested, key = "vault")]
    owner: CashUser,
    #[encrypt(nested)]
    others: Vec<CashUser>,
    #[encrypt(nested)]
    by_tag: BTreeMap<String, CashUser>,
}

const PII: &str = "cGlpLWtleS0wMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=";

fn keyring() -> EnvKeyring {
    EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", PII),
        ("ENCRYPTED_FIELDS_KEY_BANKING", common::payments::BANKING),
        (
            "ENCRYPTED_FIELDS_KEY_US_ADDRESS",
            common::payments::US_ADDRESS,
        ),
        ("ENCRYPTED_FIELDS_KEY_VAULT", common::OTHER_256),
    ])
    .unwrap()
}

fn user(tag: &str) -> CashUser {
    CashUser {
        cash_tag: tag.into(),
        mailing_address: Address {
            line1: format!("1 {tag} St"),
            city: "Springfield".into(),
            zip: "12345".into(),
        },
        linked_bank_account: BankAccount {
            routing: "121000248".into(),
            account: format!("000{}", tag.len()),
        },
    }
}

/// Each record, as a plain value and as its type's name.
fn records() -> Vec<(&'static str, Value)> {
    let customer = Customer {
        id: 7,
        email: "ada@example.com".into(),
        phone: None,
        bank_account: BankAccount {
            routing: "021000021".into(),
            account: "000123456789".into(),
        },
        tags: vec!["vip".into()],
    };
    let with_phone = Customer {
        phone: Some("+44 20 7946 0000".into()),
        ..customer.clone()
    };
    let transaction = Transaction {
        id: 9001,
        sender: user("$ada"),
        receiver: user("$grace"),
        amount_cents: 4200,
    };
    let payments = [
        Payment::Card {
            number: "4111111111111111".into(),
            expiry: "12/30".into(),
        },
        Payment::Transfer("DE89370400440532013000".into(), 3),
        Payment::Cash,
    ];
    let vault = Vault {
        owner: user("$owner"),
        others: vec![user("$a"), user("$b")],
        by_tag: BTreeMap::from([("$c".to_owned(), user("$c"))]),
    };
    let mut out = vec![
        ("Customer", serde_json::to_value(&customer).unwrap()),
        ("Customer", serde_json::to_value(&with_phone).unwrap()),
        ("Transaction", serde_json::to_value(&transaction).unwrap()),
        ("Vault", serde_json::to_value(&vault).unwrap()),
    ];
    out.extend(
        payments
            .iter()
            .map(|p| ("Payment", serde_json::to_value(p).unwrap())),
    );
    out
}

/// Opens `sealed` as the named type and returns the plain value's JSON.
fn open(kind: &str, sealed: &Value) -> Value {
    fn as_plain<T>(sealed: &Value) -> Value
    where
        T: Encrypt + Serialize,
        T::Encrypted: serde::de::DeserializeOwned + Decrypt<Plain = T>,
    {
        let wire: T::Encrypted = serde_json::from_value(sealed.clone()).unwrap();
        serde_json::to_value(wire.decrypt(&keyring()).unwrap()).unwrap()
    }
    match kind {
        "Customer" => as_plain::<Customer>(sealed),
        "Transaction" => as_plain::<Transaction>(sealed),
        "Vault" => as_plain::<Vault>(sealed),
        "Payment" => as_plain::<Payment>(sealed),
        other => panic!("unknown type {other}"),
    }
}

fn seal(kind: &str, plain: &Value) -> Value {
    fn sealed<T>(plain: &Value) -> Value
    where
        T: Encrypt + serde::de::DeserializeOwned,
        T::Encrypted: Serialize,
    {
        let value: T = serde_json::from_value(plain.clone()).unwrap();
        serde_json::to_value(value.encrypt(&keyring()).unwrap()).unwrap()
    }
    match kind {
        "Customer" => sealed::<Customer>(plain),
        "Transaction" => sealed::<Transaction>(plain),
        "Vault" => sealed::<Vault>(plain),
        "Payment" => sealed::<Payment>(plain),
        other => panic!("unknown type {other}"),
    }
}

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/records-v1.json");

#[test]
fn records_sealed_before_version_2_still_open() {
    if std::env::var_os("ENCRYPTED_FIELDS_WRITE_VECTORS").is_some() {
        let entries: Vec<Value> = records()
            .into_iter()
            .map(|(kind, plain)| {
                serde_json::json!({ "type": kind, "plain": plain, "sealed": seal(kind, &plain) })
            })
            .collect();
        let file = serde_json::json!({
            "note": "Records sealed by encrypted-fields before format version 2 (2026-11-30), \
                     by tests/compatibility.rs; never edit or regenerate.",
            "records": entries,
        });
        std::fs::write(FILE, serde_json::to_string_pretty(&file).unwrap() + "\n").unwrap();
    }
    let text = std::fs::read_to_string(FILE).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let stored = file["records"].as_array().unwrap();
    assert_eq!(stored.len(), records().len(), "records went missing");
    for record in stored {
        let kind = record["type"].as_str().unwrap();
        assert_eq!(open(kind, &record["sealed"]), record["plain"], "{kind}");
        // Every envelope in them is version 1.
        let sealed = record["sealed"].to_string();
        assert!(!sealed.contains("\"Ag"), "{sealed}");
    }
}
