use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

mod as_text {
    pub fn serialize<S: serde::Serializer>(value: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(value)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[derive(Encrypt, Serialize, Deserialize)]
enum Account {
    #[serde(with = "as_text")]
    Number(#[encrypt(key = "banking")] u64),
    Closed,
}

fn main() {}
