//! The gRPC example's protobuf messages (`examples/grpc/proto/payments.proto`),
//! generated with `Encrypt` derived from their options by
//! encrypted-fields-build (`build.rs`).

#![allow(clippy::all, dead_code)]

include!(concat!(env!("OUT_DIR"), "/payments.rs"));

/// The demo's transactions as protobuf messages.
pub fn transactions(count: u64) -> Vec<Transaction> {
    let user = |u: crate::model::CashUser| CashUser {
        cash_tag: u.cash_tag,
        email: u.email,
        mailing_address: u.mailing_address,
        linked_bank_account: Some(BankAccount {
            routing: u.bank_account.routing,
            account: u.bank_account.account,
        }),
    };
    crate::model::events(count)
        .into_iter()
        .map(|event| {
            let tx = event.transaction;
            Transaction {
                id: tx.id,
                sender: Some(user(tx.sender)),
                receiver: Some(user(tx.receiver)),
                amount_cents: tx.amount_cents,
                notes: Vec::new(),
            }
        })
        .collect()
}
