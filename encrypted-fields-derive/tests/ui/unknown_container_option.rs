use encrypted_fields::Encrypt;

#[derive(Encrypt)]
#[encrypt(contxt = "customer")]
struct Customer {
    #[encrypt(key = "pii")]
    email: String,
}

fn main() {}
