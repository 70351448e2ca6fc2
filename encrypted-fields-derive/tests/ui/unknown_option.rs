use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(kye = "pii")]
    email: String,
}

fn main() {}
