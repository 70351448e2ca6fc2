use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer<'a> {
    #[encrypt(key = "pii")]
    email: &'a str,
}

fn main() {}
