use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Email(#[encrypt(key = "pii")] String);

fn main() {}
