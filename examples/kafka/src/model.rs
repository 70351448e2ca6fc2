//! The event: the payments example's `Transaction` (two cash users whose
//! contact details are sealed under `pii` and bank accounts under
//! `banking`), shared so that both examples speak about one domain.

#[path = "../../payments/model.rs"]
#[allow(dead_code)]
mod payments;

pub use payments::{BankAccount, CashUser, EncryptedTransaction, Transaction, access};

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
