use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "pii")]
    #[serde(serialize_with = "upper", deserialize_with = "lower")]
    email: String,
}

fn main() {}
