//! The record the CLI tests and the `rotate` bench seal: two fields under
//! two aliases, bound as `rotate --context customer` binds them.

use encrypted_fields::Encrypt;
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
