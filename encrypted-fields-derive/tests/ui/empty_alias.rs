use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "")]
    email: String,
}

fn main() {}
