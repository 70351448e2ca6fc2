use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "Customer PII")]
    email: String,
}

fn main() {}
