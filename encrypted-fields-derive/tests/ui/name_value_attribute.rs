use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt = "pii"]
    email: String,
}

fn main() {}
