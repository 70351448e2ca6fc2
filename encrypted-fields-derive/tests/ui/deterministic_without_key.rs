use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(deterministic)]
    email: String,
}

fn main() {}
