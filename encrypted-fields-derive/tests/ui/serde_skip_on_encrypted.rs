use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii")]
    #[serde(skip)]
    email: String,
}

fn main() {}
