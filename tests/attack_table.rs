//! The attack table of SECURITY.md, cell by cell: each attack performed on
//! real serialized JSON against the same record declared in each mode
//! (default, record binding, position binding, record seal, signature),
//! and what the reader then sees: the attack detected (an error), or not
//! (the changed record opens).

mod common;

use std::collections::BTreeMap;

use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, Sealed};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CashUser {
    cash_tag: String,
    #[encrypt(key = "us_address")]
    mailing_address: String,
    #[encrypt(key = "banking")]
    bank_account: String,
}

/// One transaction type per mode, alike but for their declarations: the
/// options on the struct, on `id`, and on the `witnesses` list.
macro_rules! transaction {
    ($name:ident [$($container:tt)*] [$($id:tt)*] [$($list:tt)*]) => {
        #[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
        #[serde(rename_all = "camelCase")]
        #[encrypt(context = "transaction" $($container)*)]
        pub struct $name {
            $(#[encrypt($id)])*
            id: u64,
            #[encrypt(nested)]
            sender: CashUser,
            #[encrypt(nested)]
            receiver: CashUser,
            amount_cents: i64,
            #[encrypt(nested $($list)*)]
            witnesses: Vec<CashUser>,
            #[encrypt(nested)]
            by_role: BTreeMap<String, CashUser>,
            #[encrypt(key = "pii")]
            memo: Option<String>,
            #[encrypt(key = "pii")]
            ssn: String,
        }
    };
}

transaction!(DefaultTx [] [] []);
transaction!(RecordTx [] [bind] []);
transaction!(PositionTx [, bind_positions] [] [, bind_index]);
transaction!(SealTx [, seal = "records"] [] []);
transaction!(SignTx [, sign = "records"] [] []);

const SIGNING_SEED: &str = "c2lnbmluZy1zZWVkLTAwMDAwMDAwMDAwMDAwMDAwMDA=";
const RECORDS: &str = "cmVjb3Jkcy1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDA=";

fn vars(signing: bool) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("ENCRYPTED_FIELDS_KEY_PII", common::PII_256.to_owned()),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            common::payments::BANKING.to_owned(),
        ),
        (
            "ENCRYPTED_FIELDS_KEY_US_ADDRESS",
            common::payments::US_ADDRESS.to_owned(),
        ),
        ("ENCRYPTED_FIELDS_KEY_RECORDS", RECORDS.to_owned()),
    ];
    if signing {
        vars.push((
            "ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS",
            SIGNING_SEED.to_owned(),
        ));
    }
    vars
}

/// The producer: every key, and the signing key.
fn producer() -> EnvKeyring {
    EnvKeyring::from_vars(vars(true)).unwrap()
}

/// A consumer: every field key and the MAC key, but only the verifying key.
fn consumer() -> EnvKeyring {
    let verifying = encrypted_fields::SigningKey::from_base64(SIGNING_SEED)
        .unwrap()
        .verifying_key();
    let mut vars = vars(false);
    vars.push(("ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS", verifying));
    EnvKeyring::from_vars(vars).unwrap()
}

fn user(tag: &str) -> Value {
    json!({
        "cashTag": tag,
        "mailingAddress": format!("1 {tag} Street"),
        "bankAccount": format!("acct-{tag}"),
    })
}

/// Record `id` as plain JSON, the same for every mode.
fn plain(id: u64, amount: i64) -> Value {
    json!({
        "id": id,
        "sender": user("$ada"),
        "receiver": user("$grace"),
        "amountCents": amount,
        "witnesses": [user("$w1"), user("$w2")],
        "byRole": {"auditor": user("$aud"), "notary": user("$not")},
        "memo": "rent",
        "ssn": format!("078-05-{id:04}"),
    })
}

/// The five modes, as functions over JSON: seal a plain record, and open a
/// (possibly attacked) sealed one back into plain JSON.
trait Mode {
    fn seal(plain: &Value) -> Value;
    fn open(sealed: &Value) -> Result<Value, String>;
    /// A service holding every field key (and the MAC key, as every
    /// checker does) but not the signing key rewrites the sender's bank
    /// account and seals the record again as well as it can.
    fn forge(sealed: &Value) -> Value;
}

macro_rules! mode {
    ($ty:ident) => {
        impl Mode for $ty {
            fn seal(plain: &Value) -> Value {
                let value: $ty = serde_json::from_value(plain.clone()).unwrap();
                serde_json::to_value(value.encrypt(&producer()).unwrap()).unwrap()
            }
            fn open(sealed: &Value) -> Result<Value, String> {
                let wire: <$ty as Encrypt>::Encrypted =
                    serde_json::from_value(sealed.clone()).map_err(|e| e.to_string())?;
                let plain = wire.decrypt(&consumer()).map_err(|e| e.to_string())?;
                Ok(serde_json::to_value(plain).unwrap())
            }
            fn forge(sealed: &Value) -> Value {
                let forger = consumer();
                let wire: <$ty as Encrypt>::Encrypted =
                    serde_json::from_value(sealed.clone()).unwrap();
                let mut plain = wire.decrypt(&forger).unwrap();
                plain.sender.bank_account = "666".into();
                match plain.encrypt(&forger) {
                    Ok(resealed) => serde_json::to_value(resealed).unwrap(),
                    // It cannot sign: the forged fields under the old seal.
                    Err(_) => {
                        let unsigned: SealTx =
                            serde_json::from_value(serde_json::to_value(&plain).unwrap()).unwrap();
                        let mut forged =
                            serde_json::to_value(unsigned.encrypt(&forger).unwrap()).unwrap();
                        forged["_seal"] = sealed["_seal"].clone();
                        forged
                    }
                }
            }
        }
    };
}

mode!(DefaultTx);
mode!(RecordTx);
mode!(PositionTx);
mode!(SealTx);
mode!(SignTx);

/// An attack on sealed JSON: `record` is the target, `other` another
/// record of the same type (a source of envelopes), `older` an earlier
/// version of the target.
type Attack = fn(&mut Value, &Value, &Value);

fn swap(value: &mut Value, a: &str, b: &str) {
    let (x, y) = (
        value.pointer(a).unwrap().clone(),
        value.pointer(b).unwrap().clone(),
    );
    *value.pointer_mut(a).unwrap() = y;
    *value.pointer_mut(b).unwrap() = x;
}

const ATTACKS: &[(&str, Attack)] = &[
    ("bit flip", |r, _, _| {
        let text = r["ssn"].as_str().unwrap();
        let mut bytes = Sealed::<String>::from_text(text)
            .unwrap()
            .as_bytes()
            .to_vec();
        bytes[20] ^= 1;
        r["ssn"] = Sealed::<String>::from_envelope(bytes).to_text().into();
    }),
    ("envelope moved to another field", |r, _, _| {
        r["memo"] = r["ssn"].clone();
    }),
    ("envelope moved to another type", |r, _, _| {
        let other = Sealed::<String>::seal(
            &producer(),
            &encrypted_fields::Binding::new("pii", "customer", "ssn"),
            &"078-05-9999".to_owned(),
        )
        .unwrap();
        r["ssn"] = other.to_text().into();
    }),
    ("envelope moved to another alias", |r, _, _| {
        r["sender"]["mailingAddress"] = r["sender"]["bankAccount"].clone();
    }),
    ("envelope moved to another record", |r, other, _| {
        r["ssn"] = other["ssn"].clone();
    }),
    ("sender and receiver swapped", |r, _, _| {
        swap(r, "/sender/mailingAddress", "/receiver/mailingAddress");
    }),
    ("map entries swapped", |r, _, _| {
        swap(
            r,
            "/byRole/auditor/bankAccount",
            "/byRole/notary/bankAccount",
        );
    }),
    ("Vec elements swapped", |r, _, _| {
        swap(r, "/witnesses/0/bankAccount", "/witnesses/1/bankAccount");
    }),
    ("Option nulled", |r, _, _| {
        r["memo"] = Value::Null;
    }),
    ("Option removed", |r, _, _| {
        r.as_object_mut().unwrap().remove("memo");
    }),
    ("plain field edited", |r, _, _| {
        r["amountCents"] = json!(9_999_999);
    }),
    ("field added", |r, _, _| {
        r["approvedBy"] = json!("mallory");
    }),
    ("older version replayed", |r, _, older| {
        *r = older.clone();
    }),
    // Mode-specific: see `Mode::forge`.
    ("forged by a holder of the field key", |_, _, _| {}),
];

/// Whether each mode detects each attack: the table in SECURITY.md, in the
/// same order (default, record binding, position binding, record seal,
/// signature).
const TABLE: &[(&str, [bool; 5])] = &[
    ("bit flip", [true, true, true, true, true]),
    (
        "envelope moved to another field",
        [true, true, true, true, true],
    ),
    (
        "envelope moved to another type",
        [true, true, true, true, true],
    ),
    (
        "envelope moved to another alias",
        [true, true, true, true, true],
    ),
    (
        "envelope moved to another record",
        [false, true, false, true, true],
    ),
    (
        "sender and receiver swapped",
        [false, false, true, true, true],
    ),
    ("map entries swapped", [false, false, true, true, true]),
    ("Vec elements swapped", [false, false, true, true, true]),
    ("Option nulled", [false, false, false, true, true]),
    ("Option removed", [false, false, false, true, true]),
    ("plain field edited", [false, false, false, true, true]),
    ("field added", [false, false, false, true, true]),
    (
        "older version replayed",
        [false, false, false, false, false],
    ),
    (
        "forged by a holder of the field key",
        [false, false, false, false, true],
    ),
];

fn run<M: Mode>(column: usize) {
    let target = M::seal(&plain(7, 4200));
    let other = M::seal(&plain(8, 100));
    let older = M::seal(&plain(7, 1));
    assert!(
        M::open(&target).is_ok(),
        "column {column}: the record opens"
    );
    for ((name, attack), (row, cells)) in ATTACKS.iter().zip(TABLE) {
        assert_eq!(name, row);
        let mut attacked = target.clone();
        attack(&mut attacked, &other, &older);
        if *name == "forged by a holder of the field key" {
            attacked = M::forge(&target);
        }
        assert_ne!(attacked, target, "{name}: the attack changed nothing");
        let outcome = M::open(&attacked);
        let detected = cells[column];
        match (&outcome, detected) {
            (Err(_), true) => {}
            (Ok(opened), false) if *name == "field added" => {
                // Not detected: the member the type does not know never
                // reaches the reader.
                assert_eq!(opened, &plain(7, 4200), "{name}: column {column}");
            }
            (Ok(opened), false) => {
                // Not detected: the reader takes the changed record as it is.
                assert_ne!(opened, &plain(7, 4200), "{name}: column {column}");
            }
            (Err(error), false) => panic!("{name}, column {column}: detected ({error})"),
            (Ok(_), true) => panic!("{name}, column {column}: not detected"),
        }
    }
}

#[test]
fn default_mode() {
    run::<DefaultTx>(0);
}

#[test]
fn record_binding() {
    run::<RecordTx>(1);
}

#[test]
fn position_binding() {
    run::<PositionTx>(2);
}

#[test]
fn record_seal() {
    run::<SealTx>(3);
}

#[test]
fn signature() {
    run::<SignTx>(4);
}

/// Every row of SECURITY.md's table is here, with the same cells.
#[test]
fn security_md_states_this_table() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/SECURITY.md")).unwrap();
    for (row, cells) in TABLE {
        let line = text
            .lines()
            .find(|line| line.starts_with(&format!("| {row} |")))
            .unwrap_or_else(|| panic!("SECURITY.md has no row `{row}`"));
        let found: Vec<bool> = line
            .split('|')
            .skip(2)
            .filter(|cell| !cell.trim().is_empty())
            .map(|cell| cell.trim() == "detected")
            .collect();
        assert_eq!(found, cells, "{row}");
    }
}
