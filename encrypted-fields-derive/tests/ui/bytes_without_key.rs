use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(bytes)]
    scan: Vec<u8>,
}

fn main() {}
