use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = pii)]
    email: String,
}

fn main() {}
