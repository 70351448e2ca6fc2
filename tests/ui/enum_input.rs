use encrypted_fields::Encrypt;

#[derive(Encrypt)]
enum Payment {
    Card { number: String },
}

fn main() {}
