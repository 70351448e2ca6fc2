use encrypted_fields::Encrypt;

struct Address {
    city: String,
}

#[derive(Encrypt)]
struct Customer {
    #[encrypt(nested)]
    address: Address,
}

fn main() {}
