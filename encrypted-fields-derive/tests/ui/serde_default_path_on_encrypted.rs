use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

fn no_phone() -> Option<String> {
    None
}

#[derive(Encrypt, Serialize, Deserialize)]
struct Customer {
    #[encrypt(key = "pii")]
    #[serde(default = "no_phone")]
    phone: Option<String>,
}

fn main() {}
