use encrypted_fields::Encrypt;

struct NotSerialize;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii")]
    secret: NotSerialize,
}

fn main() {}
