use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii", redact_debug)]
    email: String,
}

fn main() {}
