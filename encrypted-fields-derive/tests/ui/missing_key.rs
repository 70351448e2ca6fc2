use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt]
    email: String,
}

fn main() {}
