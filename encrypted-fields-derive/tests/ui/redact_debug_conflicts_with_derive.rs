use encrypted_fields::Encrypt;

#[derive(Encrypt, Debug)]
#[encrypt(redact_debug)]
struct Customer {
    #[encrypt(key = "pii")]
    email: String,
}

fn main() {}
