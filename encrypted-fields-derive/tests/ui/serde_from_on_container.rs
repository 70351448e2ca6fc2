use encrypted_fields::Encrypt;

#[derive(Encrypt)]
#[serde(from = "RawCustomer")]
struct Customer {
    #[encrypt(key = "pii")]
    email: String,
}

fn main() {}
