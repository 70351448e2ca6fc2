use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Nothing;

fn main() {}
