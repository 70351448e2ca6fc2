//! The event: a payment between two cash users whose contact details are
//! sealed under `pii` and bank accounts under `banking`.

use encrypted_fields::{Encrypt, MaybeSealed};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct BankAccount {
    pub routing: String,
    pub account: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
pub struct CashUser {
    pub cash_tag: String,
    #[encrypt(key = "pii")]
    pub email: String,
    #[encrypt(key = "pii")]
    pub mailing_address: String,
    #[encrypt(key = "banking")]
    pub bank_account: BankAccount,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
#[encrypt(context = "transaction")]
pub struct Transaction {
    pub id: u64,
    #[encrypt(nested)]
    pub sender: CashUser,
    #[encrypt(nested)]
    pub receiver: CashUser,
    pub amount_cents: i64,
}

/// Demo transactions, `count` of them.
pub fn transactions(count: u64) -> Vec<Transaction> {
    let user = |tag: &str, n: u64| CashUser {
        cash_tag: format!("{tag}{n}"),
        email: format!("{}{n}@example.com", &tag[1..]),
        mailing_address: format!("{n} Main St"),
        bank_account: BankAccount {
            routing: "121000248".into(),
            account: format!("{n:012}"),
        },
    };
    (1..=count)
        .map(|id| Transaction {
            id,
            sender: user("$ada", id),
            receiver: user("$grace", id + 1),
            amount_cents: 100 * id as i64,
        })
        .collect()
}

/// Which sensitive fields of a partially decrypted event are readable.
pub fn access(tx: &PartialTransaction) -> Vec<(String, bool)> {
    let mut fields = Vec::new();
    for (side, user) in [("sender", &tx.sender), ("receiver", &tx.receiver)] {
        fields.push((format!("{side}.email"), open(&user.email)));
        fields.push((
            format!("{side}.mailingAddress"),
            open(&user.mailing_address),
        ));
        fields.push((format!("{side}.bankAccount"), open(&user.bank_account)));
    }
    fields
}

fn open<T>(field: &MaybeSealed<T>) -> bool {
    field.is_open()
}
