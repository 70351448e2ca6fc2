//! Enums, tuple structs, flatten, raw identifiers and boxes round-trip, and
//! the redacted `Debug`.

mod common;

use std::collections::BTreeMap;

use common::{keyring, round_trip};
use encrypted_fields::{Decrypt, Encrypt, ErrorKind, Sealed};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
enum Payment {
    Card {
        #[encrypt(key = "banking")]
        number: String,
        expiry: String,
    },
    Transfer(#[encrypt(key = "banking")] String, u32),
    Cash,
}

#[test]
fn enums_with_named_tuple_and_unit_variants_round_trip() {
    let card = Payment::Card {
        number: "4111111111111111".into(),
        expiry: "12/30".into(),
    };
    assert_eq!(
        round_trip(&card),
        json!({"Card": {"number": "<sealed>", "expiry": "12/30"}})
    );
    let transfer = Payment::Transfer("DE89370400440532013000".into(), 7);
    assert_eq!(round_trip(&transfer), json!({"Transfer": ["<sealed>", 7]}));
    assert_eq!(round_trip(&Payment::Cash), json!("Cash"));
    assert_eq!(Payment::KEY_ALIASES, ["banking"]);
}

#[test]
fn an_envelope_moved_to_another_variant_fails() {
    let keyring = keyring();
    let EncryptedPayment::Card { number, .. } = Payment::Card {
        number: "4111".into(),
        expiry: "x".into(),
    }
    .encrypt(&keyring)
    .unwrap() else {
        panic!("card stays a card");
    };
    let moved = EncryptedPayment::Transfer(number, 1);
    let err = moved.decrypt(&keyring).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(err.field(), Some("Transfer.0"));
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(
    tag = "type",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
enum Internally {
    BankCard {
        #[encrypt(key = "banking")]
        card_number: String,
        holder_name: String,
    },
    Voucher {
        code: u32,
    },
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "t", content = "c")]
enum Adjacently {
    Secret(#[encrypt(key = "pii")] BTreeMap<String, u32>),
    Public(String),
}

#[test]
fn serde_enum_representations_carry_over() {
    let card = Internally::BankCard {
        card_number: "4111".into(),
        holder_name: "Ada".into(),
    };
    assert_eq!(
        round_trip(&card),
        json!({"type": "bank_card", "cardNumber": "<sealed>", "holderName": "Ada"})
    );
    assert_eq!(
        round_trip(&Internally::Voucher { code: 5 }),
        json!({"type": "voucher", "code": 5})
    );
    let secret = Adjacently::Secret(BTreeMap::from([("a".into(), 1)]));
    assert_eq!(round_trip(&secret), json!({"t": "Secret", "c": "<sealed>"}));
    assert_eq!(
        round_trip(&Adjacently::Public("p".into())),
        json!({"t": "Public", "c": "p"})
    );
}

#[test]
fn enum_fields_are_bound_to_their_serialized_variant_and_field_names() {
    let keyring = keyring();
    let wire = Internally::BankCard {
        card_number: "4111".into(),
        holder_name: "Ada".into(),
    }
    .encrypt(&keyring)
    .unwrap();
    let EncryptedInternally::BankCard { card_number, .. } = wire else {
        panic!("variant kept")
    };
    let binding = encrypted_fields::Binding::new("banking", "Internally", "bank_card.cardNumber");
    assert_eq!(card_number.open(&keyring, &binding).unwrap(), "4111");
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Pair(#[encrypt(key = "pii")] String, u8);

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Ssn(#[encrypt(key = "pii")] String);

#[test]
fn tuple_and_newtype_structs_round_trip() {
    assert_eq!(
        round_trip(&Pair("secret".into(), 3)),
        json!(["<sealed>", 3])
    );
    assert_eq!(round_trip(&Ssn("078-05-1120".into())), json!("<sealed>"));
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Meta {
    source: String,
    version: u32,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Address {
    #[encrypt(key = "pii")]
    street: String,
    city: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Flattened {
    #[encrypt(key = "pii")]
    email: String,
    #[serde(flatten)]
    meta: Meta,
    #[encrypt(nested)]
    #[serde(flatten)]
    address: Address,
}

#[test]
fn flatten_works_on_plain_and_nested_fields() {
    let value = Flattened {
        email: "a@b.c".into(),
        meta: Meta {
            source: "api".into(),
            version: 2,
        },
        address: Address {
            street: "1 Main St".into(),
            city: "Oslo".into(),
        },
    };
    assert_eq!(
        round_trip(&value),
        json!({"email": "<sealed>", "source": "api", "version": 2, "street": "<sealed>", "city": "Oslo"})
    );
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[allow(non_camel_case_types)]
struct r#struct {
    #[encrypt(key = "pii")]
    r#type: String,
    r#match: u8,
}

#[test]
fn raw_identifiers_are_unraw_ed_in_names_and_aad() {
    let value = r#struct {
        r#type: "secret".into(),
        r#match: 1,
    };
    assert_eq!(round_trip(&value), json!({"type": "<sealed>", "match": 1}));
    let keyring = keyring();
    let wire: Encryptedstruct = value.encrypt(&keyring).unwrap();
    let binding = encrypted_fields::Binding::new("pii", "struct", "type");
    assert_eq!(wire.r#type.open(&keyring, &binding).unwrap(), "secret");
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Boxed {
    #[encrypt(key = "pii")]
    sealed: Box<u64>,
    #[encrypt(nested)]
    nested: Box<Address>,
    #[encrypt(nested)]
    recursive: Option<Box<Boxed>>,
}

#[test]
fn boxes_seal_and_nest_including_recursive_types() {
    let inner = Boxed {
        sealed: Box::new(2),
        nested: Box::new(Address {
            street: "2 Side St".into(),
            city: "Bergen".into(),
        }),
        recursive: None,
    };
    let outer = Boxed {
        sealed: Box::new(1),
        nested: Box::new(Address {
            street: "1 Main St".into(),
            city: "Oslo".into(),
        }),
        recursive: Some(Box::new(inner)),
    };
    let shape = round_trip(&outer);
    assert_eq!(shape["recursive"]["nested"]["street"], "<sealed>");
    assert_eq!(shape["recursive"]["sealed"], "<sealed>");
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq)]
#[encrypt(redact_debug)]
struct Patient {
    id: u32,
    #[encrypt(key = "pii")]
    name: String,
    #[encrypt(nested)]
    address: Address,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq)]
#[encrypt(redact_debug)]
enum Contact {
    Email(#[encrypt(key = "pii")] String),
    Phone {
        #[encrypt(key = "pii")]
        number: String,
        country: String,
    },
    Nothing,
}

fn patient() -> Patient {
    Patient {
        id: 7,
        name: "Ada Lovelace".into(),
        address: Address {
            street: "12 St James's Sq".into(),
            city: "London".into(),
        },
    }
}

#[test]
fn redacted_debug_hides_encrypted_fields_of_the_plain_type() {
    let patient = patient();
    assert_eq!(
        format!("{patient:?}"),
        "Patient { id: 7, name: <redacted>, address: Address { street: <redacted>, city: \"London\" } }"
    );
    // Address derives an ordinary Debug, which shows the street: the
    // redacted parent prints the child's redacted form instead.
    assert!(format!("{:?}", patient.address).contains("12 St James"));
    assert_eq!(
        format!("{:?}", Contact::Email("a@b.c".into())),
        "Email(<redacted>)"
    );
    assert_eq!(
        format!(
            "{:?}",
            Contact::Phone {
                number: "555".into(),
                country: "NO".into()
            }
        ),
        "Phone { number: <redacted>, country: \"NO\" }"
    );
    assert_eq!(format!("{:?}", Contact::Nothing), "Nothing");
}

#[test]
fn companion_debug_shows_envelopes_never_plaintext() {
    let keyring = keyring();
    let patient = patient();
    let wire = patient.encrypt(&keyring).unwrap();
    let debug = format!("{wire:?}");
    assert!(
        debug.starts_with("EncryptedPatient { id: 7, name: Sealed(key "),
        "{debug}"
    );
    assert!(
        !debug.contains("Ada") && !debug.contains("St James"),
        "{debug}"
    );
    let text = serde_json::to_value(&wire).unwrap()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!debug.contains(&text), "no ciphertext either");
    let _: &Sealed<String> = &wire.name;
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Card {
    #[encrypt(key = "pii")]
    pan: String,
    brand: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq)]
#[encrypt(redact_debug)]
struct Order {
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(nested)]
    card: Card,
    #[encrypt(nested)]
    cards: Vec<Card>,
    #[encrypt(nested)]
    spare: Option<Box<Card>>,
    #[encrypt(nested)]
    by_name: BTreeMap<String, Card>,
    #[encrypt(nested)]
    address: Option<Address>,
}

/// Before, a redacted parent printed nested children with their own
/// `Debug`, card numbers included.
#[test]
fn redacted_debug_hides_encrypted_fields_at_every_depth() {
    let card = |pan: &str| Card {
        pan: pan.into(),
        brand: "visa".into(),
    };
    let order = Order {
        email: "ada@example.com".into(),
        card: card("4111111111111111"),
        cards: vec![card("4012888888881881")],
        spare: Some(Box::new(card("4222222222222"))),
        by_name: BTreeMap::from([("work".to_owned(), card("4000056655665556"))]),
        address: None,
    };
    let shown = format!("{order:?}");
    let redacted = "Card { pan: <redacted>, brand: \"visa\" }";
    assert_eq!(
        shown,
        format!(
            "Order {{ email: <redacted>, card: {redacted}, cards: [{redacted}], \
             spare: Some({redacted}), by_name: {{\"work\": {redacted}}}, address: None }}"
        )
    );
    for secret in ["ada@", "4111", "4012", "4222", "4000"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(format!("{:#?}", order).contains("pan: <redacted>"));
}

/// A child with a hand-written `Encrypt` (no redacted form of its own)
/// prints as `<redacted>` whole inside a redacted parent.
#[test]
fn a_hand_written_child_prints_as_redacted() {
    use encrypted_fields::{Error, Keyring};

    #[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
    struct Pin(String);

    impl Encrypt for Pin {
        type Encrypted = Pin;
        const KEY_ALIASES: &'static [&'static str] = &[];
        fn encrypt<K: Keyring + ?Sized>(&self, _: &K) -> Result<Pin, Error> {
            Ok(self.clone())
        }
    }

    impl Decrypt for Pin {
        type Plain = Pin;
        type Partial = Pin;
        fn decrypt<K: Keyring + ?Sized>(&self, _: &K) -> Result<Pin, Error> {
            Ok(self.clone())
        }
        fn decrypt_partial_into<K: Keyring + ?Sized>(
            &self,
            _: &K,
            _: &mut std::collections::BTreeSet<String>,
        ) -> Result<Pin, Error> {
            Ok(self.clone())
        }
        fn reencrypt<K: Keyring + ?Sized>(&mut self, _: &K) -> Result<usize, Error> {
            Ok(0)
        }
    }

    #[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq)]
    #[encrypt(redact_debug)]
    struct Terminal {
        #[encrypt(nested)]
        pin: Pin,
        #[encrypt(key = "pii")]
        owner: String,
    }

    let terminal = Terminal {
        pin: Pin("1234".into()),
        owner: "Ada".into(),
    };
    assert_eq!(
        format!("{terminal:?}"),
        "Terminal { pin: <redacted>, owner: <redacted> }"
    );
}
