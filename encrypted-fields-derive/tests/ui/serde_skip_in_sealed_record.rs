use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize)]
#[encrypt(seal = "records")]
struct Order {
    #[encrypt(key = "pii")]
    card: String,
    #[serde(default, skip_serializing)]
    approved: bool,
    #[serde(alias = "_seal")]
    note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memo: Option<String>,
}

fn main() {}
