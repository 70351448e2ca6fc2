use encrypted_fields::Encrypt;

#[derive(Encrypt)]
#[encrypt(context = "")]
struct Customer {
    #[encrypt(key = "pii")]
    email: String,
}

fn main() {}
