use encrypted_fields::Encrypt;

#[derive(Encrypt)]
#[encrypt(key = "pii")]
struct Customer {
    email: String,
}

fn main() {}
