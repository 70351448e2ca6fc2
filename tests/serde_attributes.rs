//! Serde attributes next to and on encrypted fields: the companion's JSON
//! has the plain type's shape (names, tags, defaults) and round-trips.
//! The layouts the derive refuses have trybuild cases in `tests/ui/`.

mod common;

use common::{keyring, round_trip};
use encrypted_fields::{Decrypt, Encrypt, ErrorKind};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind")]
struct Customer {
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
}

/// Before, the companion wrote `"kind": "EncryptedCustomer"`.
#[test]
fn a_struct_tag_names_the_plain_type() {
    let customer = Customer {
        id: 7,
        email: "ada@example.com".into(),
    };
    assert_eq!(
        round_trip(&customer),
        json!({"kind": "Customer", "id": 7, "email": "<sealed>"})
    );
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", rename(serialize = "customer.v2"))]
struct Renamed {
    #[encrypt(key = "pii")]
    email: String,
}

#[test]
fn a_one_sided_rename_keeps_the_other_side_plain() {
    let value = Renamed {
        email: "ada@example.com".into(),
    };
    assert_eq!(
        round_trip(&value),
        json!({"kind": "customer.v2", "email": "<sealed>"})
    );
}

/// serde's messages name the plain type, not the generated one (except
/// in messages about one variant: docs/guide/types.md, "Enums").
#[test]
fn serde_errors_name_the_plain_type() {
    let error = serde_json::from_str::<EncryptedCustomer>("[1]").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("expected struct Customer"), "{message}");
    let error = serde_json::from_str::<EncryptedOrder>("7").unwrap_err();
    let message = error.to_string();
    assert!(message.contains("struct Order"), "{message}");
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Line {
    #[encrypt(key = "pii")]
    note: String,
}

/// Before, `default` on a nested collection was refused ("there is no
/// default ciphertext"), though the companion's field is an ordinary `Vec`.
#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Order {
    id: u64,
    #[encrypt(nested)]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    lines: Vec<Line>,
    #[encrypt(nested)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    gift: Option<Line>,
}

#[test]
fn default_and_skip_serializing_if_on_nested_collections() {
    let empty = Order {
        id: 1,
        lines: vec![],
        gift: None,
    };
    assert_eq!(round_trip(&empty), json!({"id": 1}));
    let full = Order {
        id: 2,
        lines: vec![Line { note: "a".into() }],
        gift: Some(Line { note: "b".into() }),
    };
    assert_eq!(
        round_trip(&full),
        json!({"id": 2, "lines": [{"note": "<sealed>"}], "gift": {"note": "<sealed>"}})
    );
}

/// Before, a `.` in any name of an enum was refused, even on fields that
/// bind no envelope.
#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
enum Event {
    #[serde(rename = "user.created")]
    Created {
        #[serde(rename = "user.id")]
        id: u64,
    },
    Updated {
        #[encrypt(key = "pii")]
        email: String,
    },
}

#[test]
fn dotted_names_are_fine_where_no_envelope_is_bound() {
    assert_eq!(
        round_trip(&Event::Created { id: 3 }),
        json!({"user.created": {"user.id": 3}})
    );
    let updated = Event::Updated {
        email: "ada@example.com".into(),
    };
    assert_eq!(
        round_trip(&updated),
        json!({"Updated": {"email": "<sealed>"}})
    );
}

/// Before, both fields generated `lookup_a_b_c`: a duplicate definition.
#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
enum Handle {
    A {
        #[encrypt(key = "pii", deterministic)]
        b_c: String,
    },
    #[allow(clippy::upper_case_acronyms)]
    AB {
        #[encrypt(key = "pii", deterministic, lookup = "lookup_ab_c")]
        c: String,
    },
}

#[test]
fn colliding_lookup_methods_can_be_renamed() {
    let keyring = keyring();
    let a = Handle::A { b_c: "x".into() }.encrypt(&keyring).unwrap();
    let EncryptedHandle::A { b_c } = &a else {
        unreachable!()
    };
    assert_eq!(
        EncryptedHandle::lookup_a_b_c(&keyring, &"x".to_owned()).unwrap()[0],
        *b_c
    );
    let ab = Handle::AB { c: "x".into() }.encrypt(&keyring).unwrap();
    let EncryptedHandle::AB { c } = &ab else {
        unreachable!()
    };
    assert_eq!(
        EncryptedHandle::lookup_ab_c(&keyring, &"x".to_owned()).unwrap()[0],
        *c
    );
}

mod before {
    #[derive(encrypted_fields::Encrypt, serde::Serialize, serde::Deserialize)]
    #[encrypt(context = "customer")]
    pub struct Customer {
        #[encrypt(key = "pii")]
        pub mail: String,
    }
}

mod after {
    #[derive(encrypted_fields::Encrypt, serde::Serialize, serde::Deserialize)]
    #[encrypt(context = "customer")]
    pub struct Customer {
        #[encrypt(key = "pii")]
        #[serde(rename = "email", alias = "mail")]
        pub email: String,
    }
}

/// `alias` lets serde read the old member name, but the envelope is bound
/// to the field name it was sealed under: rows sealed as `mail` fail under
/// `email` (docs/guide/types.md, "Renaming a sealed field"), and the migration reads
/// them with the old type and writes them with the new one.
#[test]
fn a_serde_alias_does_not_move_the_binding_and_a_migration_does() {
    let keyring = keyring();
    let old = before::Customer {
        mail: "ada@example.com".into(),
    }
    .encrypt(&keyring)
    .unwrap();
    let row = serde_json::to_string(&old).unwrap();

    let read_as_new: after::EncryptedCustomer = serde_json::from_str(&row).unwrap();
    let error = read_as_new
        .decrypt(&keyring)
        .err()
        .expect("bound to `mail`");
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(error.field(), Some("email"));

    let plain = serde_json::from_str::<before::EncryptedCustomer>(&row)
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    let migrated = after::Customer { email: plain.mail }
        .encrypt(&keyring)
        .unwrap();
    let row = serde_json::to_string(&migrated).unwrap();
    assert!(row.starts_with(r#"{"email":""#), "{row}");
    let back = serde_json::from_str::<after::EncryptedCustomer>(&row)
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    assert_eq!(back.email, "ada@example.com");
}
