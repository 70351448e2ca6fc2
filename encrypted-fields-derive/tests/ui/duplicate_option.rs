use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii", key = "banking")]
    email: String,
}

fn main() {}
