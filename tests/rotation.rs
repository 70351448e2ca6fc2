//! Key rotation, step by step as docs/guide/keys.md describes it, and
//! deterministic fields (equality lookups that survive rotation).

mod common;

use common::{BANKING_128, OTHER_256, PII_256, PII_256_NEW};
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, ErrorKind, Keyring, Nonce, Sealed};
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "member")]
struct Member {
    id: u32,
    #[encrypt(key = "pii", deterministic)]
    email: String,
    #[encrypt(key = "pii")]
    phone: Option<String>,
    #[encrypt(key = "pii")]
    notes: Vec<String>,
    #[encrypt(nested, key = "vault")]
    profile: Option<Profile>,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Profile {
    #[encrypt(key = "pii")]
    birthday: String,
}

fn keyring(pii: &str) -> EnvKeyring {
    EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", pii),
        ("ENCRYPTED_FIELDS_KEY_VAULT", OTHER_256),
    ])
    .unwrap()
}

fn member(id: u32) -> Member {
    Member {
        id,
        email: format!("user{id}@example.com"),
        phone: Some("+1 555 0100".into()),
        notes: vec!["vip".into()],
        profile: Some(Profile {
            birthday: "1815-12-10".into(),
        }),
    }
}

fn pii_id(keyring: &EnvKeyring) -> encrypted_fields::KeyId {
    keyring.key_set("pii").unwrap().primary().id()
}

#[test]
fn inspect_reads_version_key_id_and_length_without_a_key() {
    let old = keyring(PII_256);
    let wire = member(1).encrypt(&old).unwrap();
    let info = wire.email.inspect().unwrap();
    assert_eq!(info.version, 1);
    assert_eq!(info.key_id, pii_id(&old));
    assert_eq!(info.plaintext_len, "\"user1@example.com\"".len());
    let err = Sealed::<String>::from_envelope(vec![7; 40])
        .inspect()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnsupportedVersion);
}

#[test]
fn rotation_procedure_keeps_data_readable_at_every_step() {
    let old = keyring(PII_256);
    let table: Vec<String> = (0..3)
        .map(|id| serde_json::to_string(&member(id).encrypt(&old).unwrap()).unwrap())
        .collect();
    let rows = |table: &[String]| -> Vec<EncryptedMember> {
        table
            .iter()
            .map(|row| serde_json::from_str(row).unwrap())
            .collect()
    };

    // Step 1: add the new key everywhere, after the old one. Nothing
    // changes yet: the old key is still primary, so services that have not
    // got the new key can read everything written in this step.
    let added = keyring(&format!("{PII_256},{PII_256_NEW}"));
    for (id, mut row) in rows(&table).into_iter().enumerate() {
        assert_eq!(row.decrypt(&added).unwrap(), member(id as u32));
        assert_eq!(
            row.reencrypt(&added).unwrap(),
            0,
            "old key is still primary"
        );
    }
    assert_eq!(
        member(9).encrypt(&added).unwrap().email.key_id(),
        Some(pii_id(&old))
    );

    // Step 2: make the new key primary. New data uses it; old data still opens.
    let promoted = keyring(&format!("{PII_256_NEW},{PII_256}"));
    assert_eq!(
        member(9).encrypt(&promoted).unwrap().email.key_id(),
        Some(pii_id(&promoted))
    );
    assert_eq!(rows(&table)[0].decrypt(&promoted).unwrap(), member(0));

    // Step 3: re-encrypt. Only envelopes under the old key change:
    // email, phone, notes, and the profile's birthday plus its outer layer.
    let mut rotated = Vec::new();
    for mut row in rows(&table) {
        assert_eq!(row.reencrypt(&promoted).unwrap(), 5);
        assert_eq!(row.reencrypt(&promoted).unwrap(), 0, "idempotent");
        assert_eq!(row.email.key_id(), Some(pii_id(&promoted)));
        rotated.push(serde_json::to_string(&row).unwrap());
    }

    // Step 4: drop the old key. Rotated rows open; a row that was missed
    // names the key id it needs.
    let dropped = keyring(PII_256_NEW);
    for (id, row) in rows(&rotated).into_iter().enumerate() {
        assert_eq!(row.decrypt(&dropped).unwrap(), member(id as u32));
    }
    let err = rows(&table)[0].decrypt(&dropped).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnknownKeyId);
    assert_eq!(err.key_alias(), Some("pii"));
}

#[test]
fn reencrypt_leaves_fields_under_the_primary_untouched() {
    let promoted = keyring(&format!("{PII_256_NEW},{PII_256}"));
    let mut row = member(1).encrypt(&keyring(PII_256)).unwrap();
    row.phone = Sealed::seal(
        &promoted,
        &encrypted_fields::Binding::new("pii", "member", "phone"),
        &"+1".to_owned(),
    )
    .map(Some)
    .unwrap();
    let phone = row.phone.clone();
    assert_eq!(row.reencrypt(&promoted).unwrap(), 4);
    assert_eq!(
        row.phone, phone,
        "already under the primary: byte for byte the same"
    );
}

#[test]
fn deterministic_fields_give_equal_envelopes_for_equal_values() {
    let keys = keyring(PII_256);
    let a = member(1).encrypt(&keys).unwrap();
    let b = member(1).encrypt(&keys).unwrap();
    assert_eq!(
        a.email, b.email,
        "same value, context and key: same envelope"
    );
    assert_ne!(a.phone, b.phone, "randomized stays the default");
    let c = member(2).encrypt(&keys).unwrap();
    assert_ne!(a.email, c.email);
    assert_eq!(a.decrypt(&keys).unwrap(), member(1));

    // Equal values in another field (another AAD) do not collide.
    let binding = encrypted_fields::Binding::new("pii", "member", "other");
    let elsewhere = Sealed::seal_with(
        &keys,
        &binding,
        &"user1@example.com".to_owned(),
        Nonce::Deterministic,
    )
    .unwrap();
    assert_ne!(elsewhere.as_bytes(), a.email.as_bytes());
}

#[test]
fn lookup_envelopes_cover_every_key_version_during_rotation() {
    let old = keyring(PII_256);
    let stored = member(1).encrypt(&old).unwrap();
    let promoted = keyring(&format!("{PII_256_NEW},{PII_256}"));

    let candidates =
        EncryptedMember::lookup_email(&promoted, &"user1@example.com".to_owned()).unwrap();
    assert_eq!(candidates.len(), 2);
    assert_eq!(
        candidates[0].key_id(),
        Some(pii_id(&promoted)),
        "primary first"
    );
    assert!(
        candidates.contains(&stored.email),
        "finds rows not yet rotated"
    );

    let mut rotated = stored.clone();
    rotated.reencrypt(&promoted).unwrap();
    assert!(candidates.contains(&rotated.email), "finds rotated rows");
    assert_eq!(rotated.email, member(1).encrypt(&promoted).unwrap().email);

    let texts: Vec<String> = candidates.iter().map(Sealed::to_text).collect();
    let json = serde_json::to_value(&stored).unwrap();
    assert!(
        texts.iter().any(|t| json["email"] == t.as_str()),
        "text form matches the JSON column"
    );
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Locker {
    #[encrypt(nested, key = "vault")]
    contact: Contact,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Contact {
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "banking")]
    iban: String,
}

fn locker_keys(pii: &str, vault: &str, banking: Option<&str>) -> EnvKeyring {
    let mut vars = vec![
        ("ENCRYPTED_FIELDS_KEY_PII", pii.to_owned()),
        ("ENCRYPTED_FIELDS_KEY_VAULT", vault.to_owned()),
    ];
    if let Some(banking) = banking {
        vars.push(("ENCRYPTED_FIELDS_KEY_BANKING", banking.to_owned()));
    }
    EnvKeyring::from_vars(vars).unwrap()
}

/// A rotation job whose keyring lacks one of a sealed child's aliases
/// fails naming it: before, it re-sealed only the outer envelope, threw the
/// rotated `pii` envelope away and reported success, and dropping the old
/// `pii` key then lost the email.
#[test]
fn reencrypt_fails_naming_an_inner_alias_the_keyring_lacks() {
    let old = locker_keys(PII_256, OTHER_256, Some(BANKING_128));
    let stored = Locker {
        contact: Contact {
            email: "ada@example.com".into(),
            iban: "DE89370400440532013000".into(),
        },
    }
    .encrypt(&old)
    .unwrap();

    let without_banking = locker_keys(&format!("{PII_256_NEW},{PII_256}"), OTHER_256, None);
    let mut attempt = stored.clone();
    let error = attempt.reencrypt(&without_banking).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::UnknownAlias);
    assert_eq!(error.key_alias(), Some("banking"));
    assert_eq!(error.field(), Some("iban"));

    // The same layout without the outer seal fails the same way.
    let mut contact = stored.decrypt(&old).unwrap().contact.encrypt(&old).unwrap();
    let error = contact.reencrypt(&without_banking).unwrap_err();
    assert_eq!(error.key_alias(), Some("banking"));

    // With every alias, the inner `pii` envelope reaches the new primary,
    // and the email opens once the old `pii` key is dropped.
    let rotated_pii = format!("{PII_256_NEW},{PII_256}");
    let all = locker_keys(&rotated_pii, OTHER_256, Some(BANKING_128));
    let mut rotated = stored.clone();
    assert_eq!(
        rotated.reencrypt(&all).unwrap(),
        2,
        "pii inside, then vault"
    );
    let new_only = locker_keys(PII_256_NEW, OTHER_256, Some(BANKING_128));
    assert_eq!(
        rotated.decrypt(&new_only).unwrap().contact.email,
        "ada@example.com"
    );
    assert_eq!(
        stored.decrypt(&new_only).unwrap_err().kind(),
        ErrorKind::UnknownKeyId
    );
}
