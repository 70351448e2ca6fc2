use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize)]
#[serde(untagged)]
enum UserRef {
    Handle(String),
    Ssn(#[encrypt(key = "pii")] u64),
}

fn main() {}
