use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii", deterministic = true)]
    email: String,
}

fn main() {}
