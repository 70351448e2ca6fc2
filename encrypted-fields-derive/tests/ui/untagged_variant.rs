use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize)]
enum TaxId {
    Numeric(#[encrypt(key = "pii")] u64),
    #[serde(untagged)]
    Other(serde_json::Value),
}

fn main() {}
