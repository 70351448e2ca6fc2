//! Throwaway keys for the demo, its test and its bench, and the keyring
//! each party holds: the producer seals and signs; `ledger` holds every
//! field key and the producer's verifying key; `screening` only `banking`
//! and the verifying key; `proto` the keys the protobuf messages' `.proto`
//! names (addresses under `us_address` there).

use encrypted_fields::{EnvKeyring, Error, ExposeSecret, KeySize, SigningKey, generate_key};

pub struct Keyrings {
    pub producer: EnvKeyring,
    pub ledger: EnvKeyring,
    pub screening: EnvKeyring,
    pub none: EnvKeyring,
    pub proto: EnvKeyring,
}

impl Keyrings {
    /// New keys, never stored anywhere.
    pub fn generate() -> Result<Keyrings, Error> {
        let key = || generate_key(KeySize::Aes256);
        let (pii, banking, us_address) = (key(), key(), key());
        let (pii, banking) = (pii.expose_secret(), banking.expose_secret());
        let (signing_key, signing) = SigningKey::generate();
        let verifying = signing_key.verifying_key();
        Ok(Keyrings {
            producer: EnvKeyring::from_vars([
                ("ENCRYPTED_FIELDS_KEY_PII", pii),
                ("ENCRYPTED_FIELDS_KEY_BANKING", banking),
                (
                    "ENCRYPTED_FIELDS_SIGNING_KEY_EVENTS",
                    signing.expose_secret(),
                ),
            ])?,
            ledger: EnvKeyring::from_vars([
                ("ENCRYPTED_FIELDS_KEY_PII", pii),
                ("ENCRYPTED_FIELDS_KEY_BANKING", banking),
                ("ENCRYPTED_FIELDS_VERIFYING_KEY_EVENTS", &verifying),
            ])?,
            screening: EnvKeyring::from_vars([
                ("ENCRYPTED_FIELDS_KEY_BANKING", banking),
                ("ENCRYPTED_FIELDS_VERIFYING_KEY_EVENTS", &verifying),
            ])?,
            none: EnvKeyring::from_vars(Vec::<(String, String)>::new())?,
            proto: EnvKeyring::from_vars([
                ("ENCRYPTED_FIELDS_KEY_PII", pii),
                (
                    "ENCRYPTED_FIELDS_KEY_US_ADDRESS",
                    us_address.expose_secret(),
                ),
                ("ENCRYPTED_FIELDS_KEY_BANKING", banking),
            ])?,
        })
    }
}
