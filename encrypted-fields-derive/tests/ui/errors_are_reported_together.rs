use encrypted_fields::{Encrypt, EnvKeyring};

#[derive(Encrypt)]
struct Customer {
    #[encrypt(key = "PII")]
    email: String,
    #[encrypt(kee = "banking")]
    iban: String,
}

fn main() {
    // The stand-in impl keeps this from adding "no method" errors.
    let keyring = EnvKeyring::from_vars([("A", "B")]).unwrap();
    let _ = Customer { email: String::new(), iban: String::new() }.encrypt(&keyring);
}
