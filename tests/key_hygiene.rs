//! Nothing the library prints shows key bytes or plaintext: Debug and
//! Display of keys, keyrings, errors, envelopes, companion and partial
//! values. (Wiping on drop is checked at compile time in the crate's unit
//! tests: the key types are `ZeroizeOnDrop`.)

mod common;

use base64::Engine as _;
use common::{BANKING_128, PII_256, customer, keyring};
use encrypted_fields::legacy::LegacyKey;
use encrypted_fields::{
    Decrypt, Encrypt, EnvKeyring, Key, KeySize, Keyring, MemoryKeyring, Sealed, generate_key,
};

/// Every way the test keys could appear in text.
fn key_forms() -> Vec<String> {
    let mut forms = Vec::new();
    for b64 in [PII_256, BANKING_128] {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        forms.push(b64.to_owned());
        forms.push(b64[..12].to_owned());
        forms.push(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()[..16].to_owned());
        forms.push(
            format!("{:?}", &bytes[..4])
                .trim_end_matches(']')
                .to_owned(),
        );
        forms.push(String::from_utf8_lossy(&bytes[..8]).into_owned());
    }
    forms
}

fn assert_clean(text: &str) {
    for form in key_forms() {
        assert!(!text.contains(&form), "key material {form:?} in {text}");
    }
    for plaintext in ["ada@example.com", "DE89370400440532013000", "Ada Lovelace"] {
        assert!(
            !text.contains(plaintext),
            "plaintext {plaintext:?} in {text}"
        );
    }
}

#[test]
fn keys_and_keyrings_print_ids_only() {
    let keyring = keyring();
    let set = keyring.key_set("pii").unwrap();
    let memory = MemoryKeyring::new()
        .with(
            "pii",
            encrypted_fields::KeySet::new(vec![Key::from_base64(PII_256).unwrap()]).unwrap(),
        )
        .unwrap();
    let legacy = LegacyKey::from_base64(BANKING_128).unwrap();
    let generated = generate_key(KeySize::Aes256);
    for text in [
        format!("{keyring:?}"),
        format!("{set:?}"),
        format!("{:?} {}", set.primary(), set.primary().id()),
        format!("{memory:?}"),
        format!("{legacy:?}"),
        format!("{generated:?}"),
    ] {
        assert_clean(&text);
    }
    assert!(
        !format!("{generated:?}")
            .contains(encrypted_fields::ExposeSecret::expose_secret(&generated))
    );
}

#[test]
fn errors_of_every_kind_print_no_secrets() {
    let keyring = keyring();
    let wire = customer().encrypt(&keyring).unwrap();
    let mut errors = Vec::new();
    let pii_only = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", PII_256)]).unwrap();
    errors.push(customer().encrypt(&pii_only).unwrap_err());
    errors.push(wire.decrypt(&pii_only).unwrap_err());
    let mut tampered = wire.clone();
    tampered.email = Sealed::from_envelope(vec![1; 40]);
    errors.push(tampered.decrypt(&keyring).unwrap_err());
    tampered.email = Sealed::from_envelope(vec![1]);
    errors.push(tampered.decrypt(&keyring).unwrap_err());
    tampered.email = Sealed::from_envelope(vec![2; 40]);
    errors.push(tampered.decrypt(&keyring).unwrap_err());
    errors.push(EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", &PII_256[..20])]).unwrap_err());
    errors.push(
        EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", format!("{PII_256},{PII_256}"))])
            .unwrap_err(),
    );
    errors.push(EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII_FILE", PII_256)]).unwrap_err());
    errors.push(
        Key::from_base64(&base64::engine::general_purpose::STANDARD.encode(b"ada@example.com"))
            .unwrap_err(),
    );
    errors.push(
        LegacyKey::from_base64(BANKING_128)
            .unwrap()
            .decrypt("ada@example.com")
            .unwrap_err(),
    );
    errors.push(keyring.require(&["nope"]).unwrap_err());
    assert!(errors.len() >= 11);
    for error in errors {
        assert_clean(&format!("{error} {error:?}"));
    }
}

#[test]
fn companion_partial_and_envelope_values_print_no_plaintext_or_ciphertext() {
    let keyring = keyring();
    let wire = customer().encrypt(&keyring).unwrap();
    let json = serde_json::to_value(&wire).unwrap();
    let partial = wire.decrypt_partial(&keyring).unwrap();
    let info = wire.email.inspect().unwrap();
    for text in [
        format!("{wire:?}"),
        format!("{partial:?}"),
        format!("{:?}", wire.email),
        format!("{info:?}"),
    ] {
        assert_clean(&text);
        for field in ["email", "account"] {
            assert!(
                !text.contains(json[field].as_str().unwrap()),
                "ciphertext in {text}"
            );
        }
    }
}
