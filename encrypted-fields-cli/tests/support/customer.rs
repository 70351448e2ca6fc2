//! The record the CLI tests and the `rotate` bench seal: two fields under
//! two aliases, bound as `rotate --context customer` binds them.

use std::io::Write;
use std::path::Path;

use encrypted_fields::{Encrypt, Keyring};
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "customer")]
pub struct Customer {
    pub id: u64,
    #[encrypt(key = "pii")]
    pub email: String,
    #[encrypt(key = "banking")]
    pub account: Account,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Account {
    pub iban: String,
    pub holder: String,
}

/// Customer `id`, with an email and account of its own.
pub fn customer(id: u64) -> Customer {
    Customer {
        id,
        email: format!("user{id}@example.com"),
        account: Account {
            iban: format!("DE89370400440532{id:06}"),
            holder: "Ada Lovelace".into(),
        },
    }
}

/// The command-line fields that name the record's sealed fields.
pub const FIELDS: [&str; 4] = ["--field", "/email=pii", "--field", "/account=banking"];

/// Writes customers `0..count`, sealed under `keyring`, to `path` as JSON
/// Lines: the input `rotate` is tested and measured on.
pub fn write_sealed(path: &Path, keyring: &impl Keyring, count: u64) -> std::io::Result<()> {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for id in 0..count {
        let sealed = customer(id)
            .encrypt(keyring)
            .map_err(std::io::Error::other)?;
        serde_json::to_writer(&mut file, &sealed)?;
        file.write_all(b"\n")?;
    }
    file.flush()
}
