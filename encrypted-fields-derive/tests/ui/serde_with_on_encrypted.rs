use encrypted_fields::Encrypt;

mod as_upper {}

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii")]
    #[serde(with = "as_upper")]
    email: String,
}

fn main() {}
