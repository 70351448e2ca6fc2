//! Nested types, depth-first sealing, partial decryption and forwarding,
//! on the payment platform's `Transaction`.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::payments::{
    BankAccount, CashUser, EncryptedTransaction, Transaction, accounts, banking, transaction, web,
};
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, ErrorKind, Keyring, Sealed};
use serde::{Deserialize, Serialize};
use serde_json::Value;

fn wire() -> EncryptedTransaction {
    transaction().encrypt(&accounts()).unwrap()
}

#[test]
fn nested_fields_are_sealed_with_their_own_aliases() {
    let json = serde_json::to_value(wire()).unwrap();
    assert_eq!(json["amount_cents"], 4_200);
    assert_eq!(json["sender"]["cash_tag"], "$ada");
    assert!(json["sender"]["mailing_address"].is_string());
    assert!(json["receiver"]["linked_bank_account"].is_string());
    let text = json.to_string();
    for secret in ["San Francisco", "Arlington", "000123456789", "121000248"] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
    let back: Transaction = serde_json::from_value::<EncryptedTransaction>(json)
        .unwrap()
        .decrypt(&accounts())
        .unwrap();
    assert_eq!(back, transaction());
}

#[test]
fn key_aliases_include_nested_types() {
    assert_eq!(Transaction::KEY_ALIASES, ["banking", "us_address"]);
    let err = web().require(Transaction::KEY_ALIASES).unwrap_err();
    assert_eq!(err.missing(), ["banking", "us_address"]);
    let err = banking().require(Transaction::KEY_ALIASES).unwrap_err();
    assert_eq!(err.missing(), ["us_address"]);
    assert!(accounts().require(Transaction::KEY_ALIASES).is_ok());
}

#[test]
fn encrypting_without_a_nested_alias_fails_loudly() {
    let err = transaction().encrypt(&banking()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownAlias);
    assert_eq!(err.key_alias(), Some("us_address"));
    assert_eq!(err.context(), Some("CashUser"));
}

#[test]
fn web_reads_amounts_and_cash_tags_only() {
    let partial = wire().decrypt_partial(&web()).unwrap();
    assert_eq!(partial.inaccessible, ["banking", "us_address"]);
    let view = partial.value;
    assert_eq!(view.amount_cents, 4_200);
    assert_eq!(view.sender.cash_tag, "$ada");
    assert_eq!(view.receiver.cash_tag, "$grace");
    for user in [&view.sender, &view.receiver] {
        assert!(user.mailing_address.open().is_none() && user.mailing_address.sealed().is_some());
        assert!(user.linked_bank_account.open().is_none());
    }
}

#[test]
fn banking_reads_bank_accounts_but_not_addresses() {
    let partial = wire().decrypt_partial(&banking()).unwrap();
    assert_eq!(partial.inaccessible, ["us_address"]);
    let view = partial.value;
    assert_eq!(
        view.sender.linked_bank_account.open(),
        Some(&BankAccount {
            routing: "121000248".into(),
            account: "000123456789".into()
        })
    );
    assert!(view.sender.mailing_address.sealed().is_some());
    assert!(view.receiver.mailing_address.open().is_none());
}

#[test]
fn accounts_reads_everything_and_nothing_is_inaccessible() {
    let partial = wire().decrypt_partial(&accounts()).unwrap();
    assert!(partial.inaccessible.is_empty());
    assert_eq!(
        partial.value.sender.mailing_address.open().unwrap().city,
        "San Francisco"
    );
}

#[test]
fn what_a_service_cannot_read_is_forwarded_byte_for_byte() {
    let original = serde_json::to_string(&wire()).unwrap();
    for keyring in [web(), banking()] {
        let received: EncryptedTransaction = serde_json::from_str(&original).unwrap();
        let view = received.decrypt_partial(&keyring).unwrap().value;
        let forwarded = view.encrypt(&keyring).unwrap();
        let forwarded_json = serde_json::to_string(&forwarded).unwrap();
        let (a, b): (Value, Value) = (
            serde_json::from_str(&original).unwrap(),
            serde_json::from_str(&forwarded_json).unwrap(),
        );
        for user in ["sender", "receiver"] {
            assert_eq!(
                a[user]["mailing_address"], b[user]["mailing_address"],
                "sealed field passed through"
            );
        }
        if keyring.key_set("banking").is_none() {
            assert_eq!(
                forwarded_json, original,
                "web forwards the whole message unchanged"
            );
        }
        assert_eq!(forwarded.decrypt(&accounts()).unwrap(), transaction());
    }
}

#[test]
fn a_service_can_change_what_it_reads_and_forward_the_rest() {
    let mut view = wire().decrypt_partial(&banking()).unwrap().value;
    if let encrypted_fields::MaybeSealed::Open(account) = &mut view.sender.linked_bank_account {
        account.account = "000111111111".into();
    }
    view.amount_cents = 5_000;
    let forwarded = view.encrypt(&banking()).unwrap();
    let back = forwarded.decrypt(&accounts()).unwrap();
    assert_eq!(back.sender.linked_bank_account.account, "000111111111");
    assert_eq!(back.amount_cents, 5_000);
    assert_eq!(
        back.sender.mailing_address,
        transaction().sender.mailing_address
    );
}

#[test]
fn decrypt_ignoring_accepts_only_the_listed_aliases_missing() {
    let view = wire()
        .decrypt_ignoring(&banking(), &["us_address"])
        .unwrap();
    assert!(view.sender.linked_bank_account.open().is_some());
    let err = wire().decrypt_ignoring(&web(), &["banking"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingAliases);
    assert_eq!(err.missing(), ["us_address"]);
}

#[test]
fn tampered_or_wrong_key_envelopes_are_errors_not_left_sealed() {
    let mut tampered = wire();
    let mut bytes = tampered.sender.linked_bank_account.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    tampered.sender.linked_bank_account = Sealed::from_envelope(bytes);
    let err = tampered.decrypt_partial(&banking()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);

    let other_banking = EnvKeyring::from_vars([(
        "ENCRYPTED_FIELDS_KEY_BANKING",
        "b3RoZXItYmFua2luZy1rZXktMDAwMDAwMDAwMDAwMDA=",
    )])
    .unwrap();
    let err = wire().decrypt_partial(&other_banking).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKeyId);

    // Without the key, only the envelope's structure can be checked.
    let mut garbled = wire();
    garbled.sender.mailing_address = Sealed::from_envelope(vec![9, 9, 9]);
    let err = garbled.decrypt_partial(&web()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedVersion);
    assert_eq!(err.field(), Some("mailing_address"));
}

#[test]
fn partial_debug_never_shows_opened_values() {
    let view = wire().decrypt_partial(&accounts()).unwrap().value;
    let debug = format!("{view:?}");
    assert!(debug.contains("Open(<redacted>)"), "{debug}");
    assert!(
        !debug.contains("San Francisco") && !debug.contains("000123456789"),
        "{debug}"
    );
    assert!(debug.contains("$ada"), "plain fields still show: {debug}");
}

/// `nested` + `key`: the child's fields are sealed first, then the whole
/// child companion under the outer alias.
#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Vault {
    label: String,
    #[encrypt(nested, key = "outer")]
    owner: CashUser,
    #[encrypt(nested, key = "outer")]
    backup: Option<CashUser>,
}

fn outer_and(inner: &[(&str, &str)]) -> EnvKeyring {
    let mut vars = vec![("ENCRYPTED_FIELDS_KEY_OUTER", common::OTHER_256)];
    vars.extend_from_slice(inner);
    EnvKeyring::from_vars(vars).unwrap()
}

#[test]
fn nested_with_key_seals_depth_first_and_needs_both_keys() {
    let all = outer_and(&[
        (
            "ENCRYPTED_FIELDS_KEY_US_ADDRESS",
            common::payments::US_ADDRESS,
        ),
        ("ENCRYPTED_FIELDS_KEY_BANKING", common::payments::BANKING),
    ]);
    assert_eq!(Vault::KEY_ALIASES, ["banking", "outer", "us_address"]);
    let vault = Vault {
        label: "v".into(),
        owner: transaction().sender,
        backup: None,
    };
    let wire = vault.encrypt(&all).unwrap();
    let json = serde_json::to_value(&wire).unwrap();
    assert!(json["owner"].is_string(), "the whole child is one envelope");
    assert_eq!(json["backup"], Value::Null);
    assert_eq!(wire.decrypt(&all).unwrap(), vault);

    // The outer key alone opens the child's companion, whose fields stay sealed.
    let outer_only = outer_and(&[]);
    let partial = wire.decrypt_partial(&outer_only).unwrap();
    assert_eq!(partial.inaccessible, ["banking", "us_address"]);
    let owner = partial.value.owner.open().expect("outer layer opened");
    assert_eq!(owner.cash_tag, "$ada");
    assert!(owner.mailing_address.sealed().is_some());

    // The inner keys alone cannot get past the outer layer.
    let inner_only = accounts();
    assert_eq!(
        wire.decrypt(&inner_only).unwrap_err().key_alias(),
        Some("outer")
    );
    let partial = wire.decrypt_partial(&inner_only).unwrap();
    assert_eq!(partial.inaccessible, ["outer"]);
    assert!(partial.value.owner.sealed().is_some());
    let forwarded = partial.value.encrypt(&inner_only).unwrap();
    assert_eq!(forwarded, wire, "sealed outer layer forwarded unchanged");
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Directory {
    #[encrypt(nested)]
    primary: Box<CashUser>,
    #[encrypt(nested)]
    maybe: Option<CashUser>,
    #[encrypt(nested)]
    list: Vec<CashUser>,
    #[encrypt(nested)]
    by_tag: HashMap<String, CashUser>,
    #[encrypt(nested)]
    sorted: BTreeMap<String, Vec<Option<CashUser>>>,
}

#[test]
fn nested_works_through_option_vec_box_and_maps() {
    let keyring = accounts();
    let (ada, grace) = (transaction().sender, transaction().receiver);
    let directory = Directory {
        primary: Box::new(ada.clone()),
        maybe: None,
        list: vec![ada.clone(), grace.clone()],
        by_tag: HashMap::from([("$grace".to_owned(), grace.clone())]),
        sorted: BTreeMap::from([("a".to_owned(), vec![Some(ada.clone()), None])]),
    };
    let wire = directory.encrypt(&keyring).unwrap();
    let json = serde_json::to_value(&wire).unwrap();
    assert!(json["list"][1]["mailing_address"].is_string());
    assert!(json["by_tag"]["$grace"]["linked_bank_account"].is_string());
    assert!(json["sorted"]["a"][0]["mailing_address"].is_string());
    assert_eq!(json["sorted"]["a"][1], Value::Null);
    assert!(!json.to_string().contains("Arlington"));
    let back: Directory = serde_json::from_value::<EncryptedDirectory>(json)
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    assert_eq!(back, directory);

    let partial = wire.decrypt_partial(&banking()).unwrap();
    assert_eq!(partial.inaccessible, ["us_address"]);
    assert!(partial.value.list[1].linked_bank_account.open().is_some());
    let forwarded = partial.value.encrypt(&banking()).unwrap();
    assert_eq!(
        forwarded.list[1].mailing_address,
        wire.list[1].mailing_address
    );
    assert_eq!(
        forwarded.by_tag["$grace"].mailing_address,
        wire.by_tag["$grace"].mailing_address
    );
    assert_eq!(forwarded.decrypt(&keyring).unwrap(), directory);
    let untouched = wire
        .decrypt_partial(&web())
        .unwrap()
        .value
        .encrypt(&web())
        .unwrap();
    assert_eq!(
        untouched, wire,
        "a service that opens nothing forwards everything unchanged"
    );
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Envelope<T> {
    #[encrypt(nested)]
    body: T,
    #[encrypt(key = "banking")]
    note: String,
}

#[test]
fn generic_nested_fields_work() {
    let keyring = accounts();
    let envelope = Envelope {
        body: transaction().sender,
        note: "n".into(),
    };
    assert_eq!(
        <Envelope<CashUser> as Encrypt>::KEY_ALIASES,
        ["banking", "us_address"]
    );
    let wire: EncryptedEnvelope<CashUser> = envelope.encrypt(&keyring).unwrap();
    assert_eq!(wire.decrypt(&keyring).unwrap(), envelope);
}
