//! Encrypt two fields of a struct, print the JSON a service would send, and
//! read it back.
//!
//!     cargo run -p quickstart
//!
//! Uses `ENCRYPTED_FIELDS_KEY_PII` and `ENCRYPTED_FIELDS_KEY_BANKING` when
//! both are set (see `src/bin/keygen.rs`); otherwise makes throwaway demo
//! keys for this run and says so.

use encrypted_fields::{
    Decrypt, Encrypt, EnvKeyring, ExposeSecret, KeySize, Keyring, generate_key,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
struct BankAccount {
    iban: String,
    holder: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
#[encrypt(context = "customer")]
struct Customer {
    id: u64,
    display_name: String,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "banking")]
    bank_account: BankAccount,
    #[encrypt(key = "pii")]
    phone: Option<String>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let keyring = keyring()?;
    println!("keyring: {keyring:?}\n");

    let customer = Customer {
        id: 42,
        display_name: "Ada".into(),
        email: "ada@example.com".into(),
        bank_account: BankAccount {
            iban: "DE89370400440532013000".into(),
            holder: "Ada Lovelace".into(),
        },
        phone: None,
    };
    println!(
        "plain JSON:\n{}\n",
        serde_json::to_string_pretty(&customer)?
    );

    let wire: EncryptedCustomer = customer.encrypt(&keyring)?;
    let json = serde_json::to_string_pretty(&wire)?;
    println!("encrypted JSON (what leaves the process):\n{json}\n");

    let back: Customer = serde_json::from_str::<EncryptedCustomer>(&json)?.decrypt(&keyring)?;
    println!("decrypted again:\n{back:#?}");
    assert_eq!(back, customer);
    Ok(())
}

/// The keys from the environment, or throwaway demo keys if any is missing.
fn keyring() -> Result<EnvKeyring, encrypted_fields::Error> {
    let from_env = EnvKeyring::from_env()?;
    match from_env.require(Customer::KEY_ALIASES) {
        Ok(()) => {
            println!("using keys from the environment");
            Ok(from_env)
        }
        Err(missing) => {
            println!(
                "{missing}: generating throwaway demo keys for this run only.\n\
                 To use your own keys:\n  \
                 export $(cargo run -q -p quickstart --bin keygen -- pii) $(cargo run -q -p quickstart --bin keygen -- banking)\n"
            );
            let demo: Vec<(String, encrypted_fields::SecretString)> = Customer::KEY_ALIASES
                .iter()
                .map(|alias| (EnvKeyring::var_name(alias), generate_key(KeySize::Aes256)))
                .collect();
            EnvKeyring::from_vars(demo.iter().map(|(name, key)| (name, key.expose_secret())))
        }
    }
}
