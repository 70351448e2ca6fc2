use encrypted_fields::Encrypt;

#[derive(Encrypt)]
#[serde(tag = "type")]
enum Payment {
    Iban(#[encrypt(key = "banking")] String),
}

fn main() {}
