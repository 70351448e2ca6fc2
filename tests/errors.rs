//! Each failure has its own error kind, names the alias and field, and
//! never carries plaintext or key material.

mod common;

use common::{BANKING_128, Customer, PII_256, PII_256_NEW, customer, keyring};
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, ErrorKind, Keyring, Sealed};

const SECRETS: &[&str] = &[
    "ada@example.com",
    "DE89370400440532013000",
    PII_256,
    PII_256_NEW,
    BANKING_128,
];

fn assert_clean(message: &str) {
    for secret in SECRETS {
        assert!(!message.contains(secret), "{secret} in {message}");
    }
}

#[test]
fn missing_alias_on_encrypt_names_alias_and_field() {
    let keyring = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", PII_256)]).unwrap();
    let err = customer().encrypt(&keyring).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownAlias);
    assert_eq!(err.key_alias(), Some("banking"));
    assert_eq!(err.field(), Some("account"));
    assert_eq!(
        err.to_string(),
        "keyring has no key for alias `banking` (field `account` of `Customer`)"
    );
}

#[test]
fn missing_alias_on_decrypt_is_its_own_error() {
    let wire = customer().encrypt(&keyring()).unwrap();
    let pii_only = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", PII_256)]).unwrap();
    let err = wire.decrypt(&pii_only).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownAlias);
    assert_eq!(err.key_alias(), Some("banking"));
    assert_clean(&err.to_string());
}

#[test]
fn another_key_under_the_alias_is_an_unknown_key_id() {
    // Key ids come from the key bytes, so a keyring with a different key
    // for `pii` says which key the envelope needs instead of trying it.
    let wire = customer().encrypt(&keyring()).unwrap();
    let other = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", PII_256_NEW),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
    ])
    .unwrap();
    let err = wire.decrypt(&other).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKeyId);
    assert_eq!(err.key_alias(), Some("pii"));
    assert_clean(&format!("{err} {err:?}"));
}

#[test]
fn rotated_out_key_is_an_unknown_key_id() {
    let old = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", PII_256),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
    ])
    .unwrap();
    let wire = customer().encrypt(&old).unwrap();

    // Step 1: new key prepended; old data still opens, new data uses the new key.
    let rotated = EnvKeyring::from_vars([
        (
            "ENCRYPTED_FIELDS_KEY_PII",
            format!("{PII_256_NEW},{PII_256}"),
        ),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128.to_owned()),
    ])
    .unwrap();
    assert_eq!(wire.decrypt(&rotated).unwrap(), customer());
    let fresh = customer().encrypt(&rotated).unwrap();
    assert_ne!(fresh.email.key_id(), wire.email.key_id());
    assert_eq!(
        fresh.email.key_id(),
        Some(rotated.key_set("pii").unwrap().primary().id())
    );

    // Step 2: old key dropped; old data names a key id nobody has.
    let dropped = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", PII_256_NEW),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
    ])
    .unwrap();
    let err = wire.decrypt(&dropped).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKeyId);
    assert_eq!(err.key_alias(), Some("pii"));
    assert!(
        err.to_string()
            .contains(&wire.email.key_id().unwrap().to_string()),
        "{err}"
    );
    assert_eq!(fresh.decrypt(&dropped).unwrap(), customer());
}

#[test]
fn wrong_key_with_the_same_id_fails_authentication() {
    // An envelope whose key id was rewritten to another key's id: the AEAD
    // (with the id bound in the AAD) must reject it.
    let keyring = keyring();
    let mut wire = customer().encrypt(&keyring).unwrap();
    let banking_id = keyring.key_set("banking").unwrap().primary().id();
    let mut bytes = wire.email.as_bytes().to_vec();
    bytes[1..5].copy_from_slice(banking_id.as_bytes());
    let both = EnvKeyring::from_vars([
        (
            "ENCRYPTED_FIELDS_KEY_PII",
            format!("{PII_256},{BANKING_128}"),
        ),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128.to_owned()),
    ])
    .unwrap();
    wire.email = Sealed::from_envelope(bytes);
    let err = wire.decrypt(&both).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(err.key_alias(), Some("pii"));
    assert_eq!(err.field(), Some("email"));
    assert_clean(&format!("{err} {err:?}"));
}

#[test]
fn malformed_and_unknown_version_envelopes_have_their_own_kinds() {
    let keyring = keyring();
    let mut wire = customer().encrypt(&keyring).unwrap();
    wire.email = Sealed::from_envelope(vec![1, 2, 3]);
    let err = wire.decrypt(&keyring).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MalformedEnvelope);
    assert_eq!(err.field(), Some("email"));

    let mut bytes = customer()
        .encrypt(&keyring)
        .unwrap()
        .email
        .as_bytes()
        .to_vec();
    // Versions 1 to 4 exist (3 and 4 hold byte strings); 5 does not.
    bytes[0] = 5;
    wire.email = Sealed::from_envelope(bytes);
    let err = wire.decrypt(&keyring).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedVersion);
    assert!(err.to_string().contains("version 5"), "{err}");
    // Version 2 is bound to a record or position, which `email` is not.
    let mut bytes = wire.email.as_bytes().to_vec();
    bytes[0] = 2;
    wire.email = Sealed::from_envelope(bytes);
    let err = wire.decrypt(&keyring).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedVersion);
}

#[test]
fn decrypted_value_of_the_wrong_type_does_not_echo_it() {
    use encrypted_fields::Binding;
    let keyring = keyring();
    let binding = Binding::new("pii", "Customer", "email");
    let sealed = Sealed::seal(&keyring, &binding, &"not a number".to_owned()).unwrap();
    let as_number = Sealed::<u64>::from_envelope(sealed.as_bytes().into());
    let err = as_number.open(&keyring, &binding).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Deserialize);
    assert!(!err.to_string().contains("not a number"), "{err}");
}

#[test]
fn start_up_check_names_every_missing_alias_at_once() {
    let empty = EnvKeyring::from_vars(Vec::<(String, String)>::new()).unwrap();
    let err = empty.require(Customer::KEY_ALIASES).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingAliases);
    assert_eq!(err.missing(), ["banking", "pii"]);
    assert_eq!(
        err.to_string(),
        "keyring has no key for aliases `banking`, `pii`"
    );
}

#[test]
fn debug_of_values_and_keyrings_shows_no_secrets() {
    let keyring = keyring();
    let wire = customer().encrypt(&keyring).unwrap();
    let json = serde_json::to_value(&wire).unwrap();
    let debug = format!("{wire:?} {keyring:?}");
    assert_clean(&debug);
    assert!(
        !debug.contains(json["email"].as_str().unwrap()),
        "ciphertext in {debug}"
    );
    assert!(
        debug.contains("pii") && debug.contains("banking"),
        "{debug}"
    );
}
