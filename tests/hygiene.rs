//! The generated code uses absolute paths only: with the prelude's names
//! shadowed, and every warning denied, the derive still compiles and works.
#![deny(warnings)]

#[allow(dead_code)]
mod shadows {
    pub struct Result;
    pub struct Option;
    pub struct Vec;
    pub struct String;
    pub struct Box;
    pub struct Clone;
    pub struct Sized;
    pub struct Error;
}

use shadows::{Box, Clone, Error, Option, Result, Sized, String, Vec};

#[derive(
    encrypted_fields::Encrypt,
    serde::Serialize,
    serde::Deserialize,
    std::clone::Clone,
    std::fmt::Debug,
    std::cmp::PartialEq,
)]
pub struct Hygienic<T> {
    pub id: u64,
    #[encrypt(key = "pii")]
    pub email: std::string::String,
    #[encrypt(key = "pii")]
    pub maybe: std::option::Option<std::vec::Vec<T>>,
    #[encrypt(key = "pii")]
    pub boxed: std::boxed::Box<u32>,
    pub r#type: std::string::String,
}

#[test]
fn derive_compiles_with_prelude_names_shadowed() {
    use encrypted_fields::{Decrypt, Encrypt};
    let _unused: (Result, Option, Vec, String, Box, Clone, Sized, Error) =
        (Result, Option, Vec, String, Box, Clone, Sized, Error);
    let keyring = encrypted_fields::EnvKeyring::from_vars([(
        "ENCRYPTED_FIELDS_KEY_PII",
        "AAECAwQFBgcICQoLDA0ODw==",
    )])
    .unwrap();
    let value = Hygienic {
        id: 1,
        email: "a@b.c".into(),
        maybe: Some(vec![1u8]),
        boxed: std::boxed::Box::new(7),
        r#type: "kind".into(),
    };
    let wire: EncryptedHygienic<u8> = value.encrypt(&keyring).unwrap();
    let json = serde_json::to_value(&wire).unwrap();
    assert!(
        json.get("type").is_some(),
        "raw identifiers are unraw-ed: {json}"
    );
    assert_eq!(wire.decrypt(&keyring).unwrap(), value);
}
