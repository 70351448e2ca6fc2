//! The event: the payments example's `Transaction` (two cash users whose
//! contact details are sealed under `pii` and bank accounts under
//! `banking`), shared so that both examples speak about one domain.

#[path = "../../payments/model.rs"]
#[allow(dead_code)]
mod payments;

use encrypted_fields::MaybeSealed;
pub use payments::{BankAccount, CashUser, EncryptedTransaction, PartialTransaction, Transaction};

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
