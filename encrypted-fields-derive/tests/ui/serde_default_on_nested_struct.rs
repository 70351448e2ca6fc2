use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize, Default)]
struct Address {
    #[encrypt(key = "pii")]
    street: String,
}

#[derive(Encrypt, Serialize, Deserialize)]
struct Customer {
    #[encrypt(nested)]
    #[serde(default)]
    address: Address,
}

fn main() {}
