//! Record seals and record binding alongside partial decryption,
//! forwarding and rotation (issue 14, item 5): a service that lacks the
//! seal's key reports its alias and forwards the record byte for byte; one
//! that changes a record must hold the key that seals it; a seal that is
//! there to check and wrong is always an error; `reencrypt` rotates seals.

mod common;

use encrypted_fields::{
    Decrypt, Encrypt, EnvKeyring, ErrorKind, MaybeSealed, RecordSeal, SigningKey,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(seal = "records")]
struct Account {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "banking")]
    iban: String,
    balance: i64,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(sign = "records")]
struct SignedAccount {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "banking")]
    iban: String,
    balance: i64,
}

const RECORDS: &str = "cmVjb3Jkcy1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDA=";
const RECORDS_NEXT: &str = "bmV4dC1yZWNvcmRzLWtleS0wMDAwMDAwMDAwMDAwMDA=";
const SIGNING: &str = "c2lnbmluZy1zZWVkLTAwMDAwMDAwMDAwMDAwMDAwMDA=";
const SIGNING_NEXT: &str = "bmV4dC1zaWduaW5nLXNlZWQtMDAwMDAwMDAwMDAwMDA=";

/// A keyring of the named parts: `pii`, `banking`, `records` (MAC key),
/// `sign` (signing key), `verify` (verifying key only).
fn keyring(parts: &[&str]) -> EnvKeyring {
    let mut vars: Vec<(&str, String)> = Vec::new();
    for part in parts {
        match *part {
            "pii" => vars.push(("ENCRYPTED_FIELDS_KEY_PII", common::PII_256.into())),
            "banking" => vars.push((
                "ENCRYPTED_FIELDS_KEY_BANKING",
                common::payments::BANKING.into(),
            )),
            "records" => vars.push(("ENCRYPTED_FIELDS_KEY_RECORDS", RECORDS.into())),
            "sign" => vars.push(("ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS", SIGNING.into())),
            "verify" => vars.push((
                "ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS",
                SigningKey::from_base64(SIGNING).unwrap().verifying_key(),
            )),
            other => panic!("no part {other}"),
        }
    }
    EnvKeyring::from_vars(vars).unwrap()
}

fn account(id: u64) -> Account {
    Account {
        id,
        email: format!("user{id}@example.com"),
        iban: format!("DE8937040044053201300{id}"),
        balance: 1_000,
    }
}

fn signed(id: u64) -> SignedAccount {
    let Account {
        id,
        email,
        iban,
        balance,
    } = account(id);
    SignedAccount {
        id,
        email,
        iban,
        balance,
    }
}

fn seal_of(json: &str) -> RecordSeal {
    let value: Value = serde_json::from_str(json).unwrap();
    serde_json::from_value(value["_seal"].clone()).unwrap()
}

#[test]
fn a_service_without_the_seal_key_lists_it_and_forwards_byte_for_byte() {
    let sent = serde_json::to_string(
        &account(1)
            .encrypt(&keyring(&["pii", "banking", "records"]))
            .unwrap(),
    )
    .unwrap();
    let wire: EncryptedAccount = serde_json::from_str(&sent).unwrap();
    let pii_only = keyring(&["pii"]);
    let partial = wire.decrypt_partial(&pii_only).unwrap();
    assert_eq!(partial.inaccessible, ["banking", "records"]);
    assert_eq!(
        partial.value.email.open().map(String::as_str),
        Some("user1@example.com")
    );
    let forwarded = serde_json::to_string(&partial.value.encrypt(&pii_only).unwrap()).unwrap();
    assert_eq!(forwarded, sent, "forwarded byte for byte");

    // The same with a signature and a service holding no verifying key.
    let producer = keyring(&["pii", "banking", "sign"]);
    let sent = serde_json::to_string(&signed(1).encrypt(&producer).unwrap()).unwrap();
    let wire: EncryptedSignedAccount = serde_json::from_str(&sent).unwrap();
    let partial = wire.decrypt_partial(&pii_only).unwrap();
    assert_eq!(partial.inaccessible, ["banking", "records"]);
    let forwarded = serde_json::to_string(&partial.value.encrypt(&pii_only).unwrap()).unwrap();
    assert_eq!(forwarded, sent);
    let consumer = keyring(&["pii", "banking", "verify"]);
    let back: EncryptedSignedAccount = serde_json::from_str(&forwarded).unwrap();
    assert_eq!(back.decrypt(&consumer).unwrap(), signed(1));
}

#[test]
fn a_wrong_seal_is_an_error_wherever_it_can_be_checked() {
    let full = keyring(&["pii", "banking", "records"]);
    let sent = serde_json::to_value(account(1).encrypt(&full).unwrap()).unwrap();
    let mut edited = sent.clone();
    edited["balance"] = 1_000_000.into();
    let mut no_seal = sent.clone();
    no_seal.as_object_mut().unwrap().remove("_seal");
    let mut other_seal = sent.clone();
    other_seal["_seal"] =
        serde_json::to_value(account(2).encrypt(&full).unwrap()).unwrap()["_seal"].clone();
    // A service holding the MAC key but neither field key still checks.
    let checkers = [full, keyring(&["pii", "records"]), keyring(&["records"])];
    for (case, attacked) in [
        ("edited", &edited),
        ("no seal", &no_seal),
        ("other seal", &other_seal),
    ] {
        let wire: EncryptedAccount = serde_json::from_value(attacked.clone()).unwrap();
        for checker in &checkers {
            let error = wire.decrypt_partial(checker).unwrap_err();
            assert_eq!(
                error.kind(),
                ErrorKind::AuthenticationFailed,
                "{case}: {error}"
            );
            assert_eq!(error.key_alias(), Some("records"), "{case}");
            let message = error.to_string();
            assert!(!message.contains("user1"), "{message}");
        }
    }
    // A signature checked with the verifying key alone.
    let producer = keyring(&["pii", "banking", "sign"]);
    let mut edited = serde_json::to_value(signed(1).encrypt(&producer).unwrap()).unwrap();
    edited["balance"] = 0.into();
    let wire: EncryptedSignedAccount = serde_json::from_value(edited).unwrap();
    let error = wire.decrypt_partial(&keyring(&["verify"])).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed, "{error}");
}

#[test]
fn a_service_that_changes_a_record_must_hold_its_sealing_key() {
    let full = keyring(&["pii", "banking", "records"]);
    let wire = account(1).encrypt(&full).unwrap();

    // Holding `pii` and the MAC key: the change is sealed again.
    let editor = keyring(&["pii", "records"]);
    let mut view = wire.decrypt_partial(&editor).unwrap().value;
    view.email = MaybeSealed::Open("new@example.com".into());
    view.balance = 5;
    let changed = view.encrypt(&editor).unwrap();
    let back = changed.decrypt(&full).unwrap();
    assert_eq!((back.email.as_str(), back.balance), ("new@example.com", 5));

    // Without the MAC key a changed record cannot be sent on: it is refused
    // where it is changed, not only downstream.
    let pii_only = keyring(&["pii"]);
    let mut view = wire.decrypt_partial(&pii_only).unwrap().value;
    view.balance = 5;
    let error = view.encrypt(&pii_only).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed, "{error}");
    assert!(
        error
            .to_string()
            .contains("only the holder of the seal key"),
        "{error}"
    );
    // An opened field set to another value is a change too.
    let mut view = wire.decrypt_partial(&pii_only).unwrap().value;
    view.email = MaybeSealed::Open("user2@example.com".into());
    assert!(view.encrypt(&pii_only).is_err());

    // A signed record: a service with field keys and the verifying key,
    // but not the signing key, cannot send a changed record on.
    let producer = keyring(&["pii", "banking", "sign"]);
    let wire = signed(1).encrypt(&producer).unwrap();
    let reader = keyring(&["pii", "banking", "verify"]);
    let mut view = wire.decrypt_partial(&reader).unwrap().value;
    view.iban = MaybeSealed::Open("GB33BUKB20201555555555".into());
    let error = view.encrypt(&reader).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed, "{error}");
    assert!(
        error
            .to_string()
            .contains("only the holder of the signing key"),
        "{error}"
    );
    // Unchanged, it forwards.
    let view = wire.decrypt_partial(&reader).unwrap().value;
    assert_eq!(
        view.encrypt(&reader).unwrap().decrypt(&reader).unwrap(),
        signed(1)
    );
}

#[test]
fn reencrypt_rotates_the_seal_with_the_fields() {
    let old = keyring(&["pii", "banking", "records"]);
    let mut wire = account(1).encrypt(&old).unwrap();
    let old_seal = seal_of(&serde_json::to_string(&wire).unwrap());

    let rotating = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", common::PII_256.to_owned()),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            common::payments::BANKING.to_owned(),
        ),
        (
            "ENCRYPTED_FIELDS_KEY_RECORDS",
            format!("{RECORDS_NEXT},{RECORDS}"),
        ),
    ])
    .unwrap();
    assert_eq!(
        wire.reencrypt(&rotating).unwrap(),
        1,
        "the seal alone changed"
    );
    let new_seal = seal_of(&serde_json::to_string(&wire).unwrap());
    assert_ne!(new_seal.key_id(), old_seal.key_id());
    let new_only = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", common::PII_256.to_owned()),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            common::payments::BANKING.to_owned(),
        ),
        ("ENCRYPTED_FIELDS_KEY_RECORDS", RECORDS_NEXT.to_owned()),
    ])
    .unwrap();
    assert_eq!(wire.decrypt(&new_only).unwrap(), account(1));
    assert_eq!(
        wire.reencrypt(&rotating).unwrap(),
        0,
        "nothing left to rotate"
    );

    // A new signing key: the record is signed again, and consumers holding
    // both verifying keys read old and new records.
    let producer = keyring(&["pii", "banking", "sign"]);
    let mut wire = signed(1).encrypt(&producer).unwrap();
    let unrotated = wire.clone();
    let next = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", common::PII_256.to_owned()),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            common::payments::BANKING.to_owned(),
        ),
        (
            "ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS",
            format!("{SIGNING_NEXT},{SIGNING}"),
        ),
    ])
    .unwrap();
    assert_eq!(wire.reencrypt(&next).unwrap(), 1);
    let both = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", common::PII_256.to_owned()),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            common::payments::BANKING.to_owned(),
        ),
        (
            "ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS",
            format!(
                "{},{}",
                SigningKey::from_base64(SIGNING_NEXT)
                    .unwrap()
                    .verifying_key(),
                SigningKey::from_base64(SIGNING).unwrap().verifying_key()
            ),
        ),
    ])
    .unwrap();
    assert_eq!(wire.decrypt(&both).unwrap(), signed(1));
    assert_eq!(unrotated.decrypt(&both).unwrap(), signed(1));
    let error = wire
        .decrypt(&keyring(&["pii", "banking", "verify"]))
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnknownKeyId, "{error}");
}

/// An envelope pasted into another record's JSON fails naming the field.
#[test]
fn an_envelope_moved_to_another_record_names_the_field() {
    let full = keyring(&["pii", "banking", "records"]);
    // Bound but unsealed, so only the binding stands in the way.
    #[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
    struct Customer {
        #[encrypt(bind)]
        id: u64,
        #[encrypt(key = "pii")]
        email: String,
    }
    let one = serde_json::to_value(
        Customer {
            id: 1,
            email: "a@example.com".into(),
        }
        .encrypt(&full)
        .unwrap(),
    )
    .unwrap();
    let mut two = serde_json::to_value(
        Customer {
            id: 2,
            email: "b@example.com".into(),
        }
        .encrypt(&full)
        .unwrap(),
    )
    .unwrap();
    two["email"] = one["email"].clone();
    let wire: EncryptedCustomer = serde_json::from_value(two).unwrap();
    let error = wire.decrypt(&full).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed, "{error}");
    assert_eq!(error.field(), Some("email"));
    assert!(error.to_string().contains("record"), "{error}");
}

/// Before, `require(KEY_ALIASES)` of a signed type failed for a consumer
/// holding only the verifying key, and the same key given as signing and
/// verifying key loaded or failed depending on the variables' order.
#[test]
fn signature_aliases_count_as_held_and_keys_load_in_any_order() {
    use encrypted_fields::Keyring;
    let consumer = keyring(&["pii", "banking", "verify"]);
    consumer.require(SignedAccount::KEY_ALIASES).unwrap();
    let error = keyring(&["pii", "banking"])
        .require(SignedAccount::KEY_ALIASES)
        .unwrap_err();
    assert_eq!(error.missing(), ["records"]);

    let verifying = SigningKey::from_base64(SIGNING).unwrap().verifying_key();
    let signing = ("ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS", SIGNING.to_owned());
    let verify = ("ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS", verifying);
    for vars in [[signing.clone(), verify.clone()], [verify, signing]] {
        let both = EnvKeyring::from_vars(vars).unwrap();
        both.require(&["records"]).unwrap();
    }
}

#[test]
fn a_truncated_seal_is_malformed() {
    let full = keyring(&["pii", "banking", "records"]);
    let mut sent = serde_json::to_value(account(1).encrypt(&full).unwrap()).unwrap();
    sent["_seal"] = "AQ".into(); // the one byte 01
    let wire: EncryptedAccount = serde_json::from_value(sent).unwrap();
    let error = wire.decrypt(&full).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MalformedEnvelope, "{error}");
}

/// Before, `reencrypt` never checked the seal: a record edited and
/// unsealed (or edited before a key rotation) came out sealed again, and a
/// producer's rotation job signed a consumer's forgery.
#[test]
fn reencrypt_refuses_a_record_whose_seal_does_not_hold() {
    let full = keyring(&["pii", "banking", "records"]);
    let sent = serde_json::to_value(account(1).encrypt(&full).unwrap()).unwrap();
    let mut unsealed = sent.clone();
    unsealed["balance"] = 1_000_000.into();
    unsealed.as_object_mut().unwrap().remove("_seal");
    let mut edited = sent.clone();
    edited["balance"] = 1_000_000.into();
    let rotating = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", common::PII_256.to_owned()),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            common::payments::BANKING.to_owned(),
        ),
        (
            "ENCRYPTED_FIELDS_KEY_RECORDS",
            format!("{RECORDS_NEXT},{RECORDS}"),
        ),
    ])
    .unwrap();
    for attacked in [unsealed, edited] {
        for rotation in [&full, &rotating] {
            let mut wire: EncryptedAccount = serde_json::from_value(attacked.clone()).unwrap();
            let error = wire.reencrypt(rotation).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::AuthenticationFailed, "{error}");
        }
    }
    let producer = keyring(&["pii", "banking", "sign"]);
    let mut forged = serde_json::to_value(signed(1).encrypt(&producer).unwrap()).unwrap();
    forged["balance"] = 1_000_000.into();
    forged.as_object_mut().unwrap().remove("_seal");
    let mut wire: EncryptedSignedAccount = serde_json::from_value(forged).unwrap();
    assert!(wire.reencrypt(&producer).is_err());
}

/// A keyring that can seal a record must check it before sealing it again:
/// a producer holding only its signing key checks with that key's public
/// half, and one that can seal a MAC but not open with it is an error.
#[test]
fn a_keyring_that_can_seal_checks_first() {
    let producer = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", common::PII_256),
        ("ENCRYPTED_FIELDS_KEY_BANKING", common::payments::BANKING),
        ("ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS", SIGNING),
    ])
    .unwrap();
    let mut forged = serde_json::to_value(signed(1).encrypt(&producer).unwrap()).unwrap();
    forged["balance"] = 1_000_000.into();
    let wire: EncryptedSignedAccount = serde_json::from_value(forged).unwrap();
    let error = wire.decrypt_partial(&producer).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed, "{error}");

    /// Seals under `records` but opens nothing with it.
    struct SealOnly(EnvKeyring);
    impl encrypted_fields::Keyring for SealOnly {
        fn key_set(&self, alias: &str) -> Option<&encrypted_fields::KeySet> {
            self.0.key_set(alias)
        }
        fn opening_key_set(&self, alias: &str) -> Option<&encrypted_fields::KeySet> {
            (alias != "records")
                .then(|| self.0.key_set(alias))
                .flatten()
        }
    }
    let full = keyring(&["pii", "banking", "records"]);
    let wire = account(1).encrypt(&full).unwrap();
    let error = wire.decrypt_partial(&SealOnly(full)).unwrap_err();
    assert_eq!(error.key_alias(), Some("records"), "{error}");
}

/// A bound value goes into the AAD of every envelope below it: a long one
/// is refused rather than hashed once per envelope.
#[test]
fn bound_values_are_short() {
    let full = keyring(&["pii", "banking", "records"]);
    #[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
    struct Batch {
        #[encrypt(bind)]
        id: String,
        #[encrypt(key = "pii")]
        note: String,
    }
    let long = Batch {
        id: "x".repeat(5_000),
        note: "n".into(),
    };
    let error = long.encrypt(&full).unwrap_err();
    assert!(error.to_string().contains("4096"), "{error}");
    let short = Batch {
        id: "x".repeat(1_000),
        note: "n".into(),
    };
    assert_eq!(short.encrypt(&full).unwrap().decrypt(&full).unwrap(), short);
}

#[test]
fn a_signing_key_listed_twice_is_refused() {
    let twice = format!("{SIGNING},{SIGNING_NEXT},{SIGNING}");
    let error =
        EnvKeyring::from_vars([("ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS", twice)]).unwrap_err();
    assert!(error.to_string().contains("listed twice"), "{error}");
}
