use encrypted_fields::Encrypt;

#[derive(Encrypt)]
enum Payment {
    #[serde(rename = "card.v2")]
    Card {
        #[encrypt(key = "banking")]
        number: String,
    },
}

fn main() {}
