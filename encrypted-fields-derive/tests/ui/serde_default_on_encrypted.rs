use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii")]
    #[serde(default)]
    email: String,
}

fn main() {}
