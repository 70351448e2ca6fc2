use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    id: u64,
    email: String,
}

fn main() {}
