//! The payment platform example: a transaction between two cash users,
//! whose addresses and bank accounts are sealed under their own aliases.

use encrypted_fields::{Encrypt, EnvKeyring};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Address {
    pub line1: String,
    pub city: String,
    pub zip: String,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct BankAccount {
    pub routing: String,
    pub account: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct CashUser {
    pub cash_tag: String,
    #[encrypt(key = "us_address")]
    pub mailing_address: Address,
    #[encrypt(key = "banking")]
    pub linked_bank_account: BankAccount,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "transaction")]
pub struct Transaction {
    pub id: u64,
    #[encrypt(nested)]
    pub sender: CashUser,
    #[encrypt(nested)]
    pub receiver: CashUser,
    pub amount_cents: i64,
}

pub const US_ADDRESS: &str = "dXMtYWRkcmVzcy1rZXktMDAwMDAwMDAwMDAwMDAwMDA=";
pub const BANKING: &str = "YmFua2luZy1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDA=";

/// `accounts` holds both aliases.
pub fn accounts() -> EnvKeyring {
    EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_US_ADDRESS", US_ADDRESS),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING),
    ])
    .unwrap()
}

/// `banking` holds only `banking`.
pub fn banking() -> EnvKeyring {
    EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_BANKING", BANKING)]).unwrap()
}

/// `web` holds neither.
pub fn web() -> EnvKeyring {
    EnvKeyring::from_vars(Vec::<(String, String)>::new()).unwrap()
}

fn user(tag: &str, city: &str, account: &str) -> CashUser {
    CashUser {
        cash_tag: tag.into(),
        mailing_address: Address {
            line1: "1 Main St".into(),
            city: city.into(),
            zip: "94105".into(),
        },
        linked_bank_account: BankAccount {
            routing: "121000248".into(),
            account: account.into(),
        },
    }
}

pub fn transaction() -> Transaction {
    Transaction {
        id: 9001,
        sender: user("$ada", "San Francisco", "000123456789"),
        receiver: user("$grace", "Arlington", "000987654321"),
        amount_cents: 4_200,
    }
}
