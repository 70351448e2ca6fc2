//! The reference record of the struct benches (three encrypted fields, one
//! a struct) and its hand-written equivalent on the same cipher crate.

use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

use super::Hand;

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Address {
    pub line1: String,
    pub city: String,
    pub zip: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Customer {
    pub id: u64,
    pub name: String,
    #[encrypt(key = "pii")]
    pub email: String,
    #[encrypt(key = "pii")]
    pub ssn: String,
    #[encrypt(key = "pii")]
    pub address: Address,
    pub balance_cents: i64,
}

pub fn customer() -> Customer {
    Customer {
        id: 1_234_567,
        name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        ssn: "078-05-1120".into(),
        address: Address {
            line1: "12 St James's Square".into(),
            city: "London".into(),
            zip: "SW1Y 4LB".into(),
        },
        balance_cents: 1_000_000,
    }
}

/// The hand-written wire type: sealed fields as base64url strings.
#[derive(Serialize, Deserialize)]
pub struct HandCustomer {
    pub id: u64,
    pub name: String,
    pub email: String,
    pub ssn: String,
    pub address: String,
    pub balance_cents: i64,
}

/// The AAD of each sealed field, computed once.
pub struct CustomerAads {
    pub email: Vec<u8>,
    pub ssn: Vec<u8>,
    pub address: Vec<u8>,
}

impl CustomerAads {
    pub fn new(hand: &Hand) -> Self {
        CustomerAads {
            email: hand.aad("pii", "Customer", "email"),
            ssn: hand.aad("pii", "Customer", "ssn"),
            address: hand.aad("pii", "Customer", "address"),
        }
    }
}

pub fn hand_encrypt(hand: &Hand, aads: &CustomerAads, c: &Customer) -> String {
    let wire = HandCustomer {
        id: c.id,
        name: c.name.clone(),
        email: hand.seal_text(&aads.email, &c.email),
        ssn: hand.seal_text(&aads.ssn, &c.ssn),
        address: hand.seal_text(&aads.address, &c.address),
        balance_cents: c.balance_cents,
    };
    serde_json::to_string(&wire).unwrap()
}

pub fn hand_decrypt(hand: &Hand, aads: &CustomerAads, json: &str) -> Customer {
    let wire: HandCustomer = serde_json::from_str(json).unwrap();
    Customer {
        id: wire.id,
        name: wire.name,
        email: hand.open_text(&aads.email, &wire.email).unwrap(),
        ssn: hand.open_text(&aads.ssn, &wire.ssn).unwrap(),
        address: hand.open_text(&aads.address, &wire.address).unwrap(),
        balance_cents: wire.balance_cents,
    }
}
