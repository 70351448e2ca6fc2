use encrypted_fields::Encrypt;

#[derive(Encrypt, serde::Serialize, serde::Deserialize, Clone, Debug, PartialEq)]
struct Address {
    #[encrypt(key = "pii")]
    city: String,
}

#[derive(Encrypt)]
struct Customer {
    #[encrypt(nested, key = "pii", bytes)]
    address: Address,
}

fn main() {}
