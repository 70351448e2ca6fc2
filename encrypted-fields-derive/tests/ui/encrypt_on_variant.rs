use encrypted_fields::Encrypt;

#[derive(Encrypt)]
enum Payment {
    #[encrypt(key = "banking")]
    Card { number: String },
}

fn main() {}
