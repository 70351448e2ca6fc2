//! The bodies of the fuzz targets in `fuzz/`, here so that the stable
//! test suite (`tests/fuzz_corpus.rs`) replays the committed corpus through
//! exactly the code the fuzzer runs. A panic is a finding.

use std::sync::OnceLock;

use encrypted_fields::{Binding, Decrypt, Encrypt, EnvKeyring, Nonce, Sealed};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Fixed fuzzing keys (standard base64); never use them for real data.
const KEYS: [(&str, &str); 3] = [
    (
        "ENCRYPTED_FIELDS_KEY_PII",
        "ZnV6ei1waWkta2V5LTAwMDAwMDAwMDAwMDAwMDAwMDA=",
    ),
    ("ENCRYPTED_FIELDS_KEY_BANKING", "ZnV6ei1iYW5raW5nLWtleQ=="),
    (
        "ENCRYPTED_FIELDS_KEY_VAULT",
        "ZnV6ei12YXVsdC1rZXktMDAwMDAwMDAwMDAwMDAwMDA=",
    ),
];

/// Every fuzzing key.
pub fn keyring() -> &'static EnvKeyring {
    static KEYRING: OnceLock<EnvKeyring> = OnceLock::new();
    KEYRING.get_or_init(|| EnvKeyring::from_vars(KEYS).expect("fuzzing keys load"))
}

/// All but `vault`, for partial decryption.
fn partial_keyring() -> &'static EnvKeyring {
    static KEYRING: OnceLock<EnvKeyring> = OnceLock::new();
    KEYRING.get_or_init(|| {
        EnvKeyring::from_vars(KEYS[..2].iter().copied()).expect("fuzzing keys load")
    })
}

/// A bank account, sealed as a nested value.
#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct FuzzAccount {
    #[encrypt(key = "banking")]
    pub iban: String,
    pub bank: String,
}

/// An adjacently tagged enum with sealed fields.
#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "kind", content = "data")]
pub enum FuzzContact {
    /// A newtype variant.
    Email(#[encrypt(key = "pii")] String),
    /// A struct variant with a deterministic field.
    Phone {
        #[encrypt(key = "pii", deterministic)]
        number: String,
    },
    /// A unit variant.
    Nothing,
}

/// The type whose JSON the `json_decrypt` target feeds on: every field mode.
#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct FuzzCustomer {
    pub id: u64,
    #[encrypt(key = "pii")]
    pub email: String,
    #[encrypt(key = "pii")]
    pub phone: Option<String>,
    #[encrypt(key = "banking")]
    pub balance: f64,
    #[encrypt(nested)]
    pub accounts: Vec<FuzzAccount>,
    #[encrypt(nested, key = "vault")]
    pub backup: Option<FuzzAccount>,
    #[encrypt(nested)]
    pub contact: FuzzContact,
}

/// Target `envelope`: arbitrary bytes as an envelope (raw, and as text in
/// JSON) through opening, inspection, rotation and partial opening.
pub fn envelope(data: &[u8]) {
    let binding = Binding::new("pii", "Fuzz", "field");
    let raw = Sealed::<Value>::from_envelope(data.to_vec());
    let opened = raw.open(keyring(), &binding);
    let inspected = raw.inspect();
    let mut rotated = raw.clone();
    let rotation = rotated.rotate(keyring(), &binding, Nonce::Random);
    // Whatever opens must be a well-formed envelope, and must still open to
    // the same value after a rotation.
    if let Ok(value) = &opened {
        assert!(inspected.is_ok(), "an envelope opened but does not inspect");
        assert!(rotation.is_ok(), "an envelope opened but does not rotate");
        assert_eq!(
            rotated.open(keyring(), &binding).as_ref(),
            Ok(value),
            "rotation changed the value"
        );
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let json = Value::String(text.to_owned());
        if let Ok(sealed) = serde_json::from_value::<Sealed<Value>>(json) {
            let _ = sealed.open(keyring(), &binding);
        }
        let _ = serde_json::from_str::<Sealed<Value>>(text);
    }
}

/// Target `json_decrypt`: arbitrary bytes as the JSON of a companion type,
/// decrypted fully and partially, rotated, and, when it opens, checked to
/// survive another round trip.
pub fn json_decrypt(data: &[u8]) {
    let Ok(document) = serde_json::from_slice::<EncryptedFuzzCustomer>(data) else {
        return;
    };
    let _ = document.decrypt_partial(partial_keyring());
    let _ = document.decrypt_ignoring(partial_keyring(), &["vault"]);
    let mut rotated = document.clone();
    let _ = rotated.reencrypt(keyring());
    if let Ok(plain) = document.decrypt(keyring()) {
        let again = plain
            .encrypt(keyring())
            .and_then(|wire| wire.decrypt(keyring()));
        assert_eq!(
            again.as_ref(),
            Ok(&plain),
            "a decrypted value did not survive a round trip"
        );
    }
}

/// Valid inputs for both targets, to seed the corpus: real envelopes and
/// real documents, so the fuzzer starts from the paths that matter.
pub fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let binding = Binding::new("pii", "Fuzz", "field");
    let mut seeds = Vec::new();
    for value in [
        Value::from("ada@example.com"),
        Value::from(""),
        serde_json::json!({"a": [1, 2.5, null]}),
    ] {
        if let Ok(sealed) = Sealed::seal(keyring(), &binding, &value) {
            seeds.push(("envelope", sealed.as_bytes().to_vec()));
            seeds.push(("envelope", sealed.to_text().into_bytes()));
        }
    }
    let account = |iban: &str| FuzzAccount {
        iban: iban.into(),
        bank: "Fuzz Bank".into(),
    };
    let customers = [
        FuzzCustomer {
            id: 1,
            email: "ada@example.com".into(),
            phone: Some("+1 555 0100".into()),
            balance: 12.5,
            accounts: vec![account("DE89370400440532013000")],
            backup: Some(account("GB82WEST12345698765432")),
            contact: FuzzContact::Phone {
                number: "555".into(),
            },
        },
        FuzzCustomer {
            id: 2,
            email: String::new(),
            phone: None,
            balance: -0.0,
            accounts: vec![],
            backup: None,
            contact: FuzzContact::Email("e@x".into()),
        },
        FuzzCustomer {
            id: u64::MAX,
            email: "ü✓".into(),
            phone: None,
            balance: 1e300,
            accounts: vec![account("a"), account("b")],
            backup: None,
            contact: FuzzContact::Nothing,
        },
    ];
    for customer in customers {
        let Ok(wire) = customer.encrypt(keyring()) else {
            continue;
        };
        if let Ok(json) = serde_json::to_vec(&wire) {
            seeds.push(("json_decrypt", json));
        }
    }
    seeds
}
