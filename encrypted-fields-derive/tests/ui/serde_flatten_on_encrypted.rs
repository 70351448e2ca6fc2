use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii")]
    #[serde(flatten)]
    address: std::collections::HashMap<String, String>,
}

fn main() {}
