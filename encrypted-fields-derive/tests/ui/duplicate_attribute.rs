use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii")]
    #[encrypt(key = "banking")]
    email: String,
}

fn main() {}
