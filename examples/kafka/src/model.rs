//! The event: the payments example's `Transaction` (two cash users whose
//! contact details are sealed under `pii` and bank accounts under
//! `banking`), shared so that both examples speak about one domain,
//! bound to its id and signed by the producer.

#[path = "../../payments/model.rs"]
#[allow(dead_code)]
mod payments;

use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

pub use payments::{BankAccount, CashUser, Transaction};

/// What the producer publishes: a transaction, every envelope in it bound
/// to the event id, and the whole event signed with the producer's Ed25519
/// key (`sign = "events"`, member `_seal`). Consumers hold only the
/// verifying key: they can check who wrote an event, and cannot forge or
/// change one.
#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "transaction-event", sign = "events")]
pub struct Event {
    #[encrypt(bind)]
    pub id: u64,
    #[encrypt(nested)]
    pub transaction: Transaction,
}

/// Which sensitive fields of the event are open to a keyring.
pub fn access(event: &PartialEvent) -> Vec<(String, bool)> {
    payments::access(&event.transaction)
}

/// Demo events, `count` of them.
pub fn events(count: u64) -> Vec<Event> {
    transactions(count)
        .into_iter()
        .map(|transaction| Event {
            id: transaction.id,
            transaction,
        })
        .collect()
}

fn transactions(count: u64) -> Vec<Transaction> {
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
