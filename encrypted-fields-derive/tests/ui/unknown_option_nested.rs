use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(nestd)]
    address: String,
}

fn main() {}
