//! The protobuf `Transaction` sealed and encoded by the library against
//! prost encoding of the same message with its fields sealed by hand (the
//! same envelope format, the AEAD called directly), in the same run.

#[path = "../src/model.rs"]
#[allow(dead_code, unused_imports)]
mod model;
#[path = "../../../benches/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use encrypted_fields::{Decrypt, Encrypt};
use model::payments::{EncryptedCashUser, EncryptedTransaction, Transaction};
use prost::Message;
use support::Hand;

fn transaction() -> Transaction {
    let users = model::directory();
    Transaction {
        id: 1_234_567,
        sender: Some(users[0].clone()),
        receiver: Some(users[1].clone()),
        amount_cents: 4_200,
        notes: vec!["rent".into()],
    }
}

/// The version-2 AAD of a CashUser field in a transaction (FORMAT.md
/// section 4.1): bound to the transaction's id and the user's place.
fn aad(hand: &Hand, alias: &str, field: &str, record: &[u8], position: &[u8]) -> Vec<u8> {
    let mut aad = hand.aad(alias, "payments.CashUser", field);
    aad[0] = 2;
    for part in [position, record] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part);
    }
    aad
}

fn seal<T: serde::Serialize>(hand: &Hand, aad: &[u8], value: &T) -> Vec<u8> {
    let mut envelope = hand.seal_bytes(aad, value);
    envelope[0] = 2;
    envelope
}

/// What a careful engineer writes without the library: the record and
/// positions encoded per message, each field sealed, then prost encoding.
fn hand_encrypt(hand: &Hand, tx: &Transaction) -> Vec<u8> {
    let id = tx.id.to_string();
    let mut record = Vec::new();
    record.extend_from_slice(&11u16.to_be_bytes());
    record.extend_from_slice(b"transaction");
    record.extend_from_slice(&1u16.to_be_bytes());
    record.extend_from_slice(&2u16.to_be_bytes());
    record.extend_from_slice(b"id");
    record.extend_from_slice(&(id.len() as u32).to_be_bytes());
    record.extend_from_slice(id.as_bytes());
    let user = |side: &str, user: &model::CashUser| {
        let mut position = vec![0];
        position.extend_from_slice(&11u32.to_be_bytes());
        position.extend_from_slice(b"transaction");
        position.push(1);
        position.extend_from_slice(&(side.len() as u32).to_be_bytes());
        position.extend_from_slice(side.as_bytes());
        EncryptedCashUser {
            cash_tag: user.cash_tag.clone(),
            email: seal(
                hand,
                &aad(hand, "pii", "email", &record, &position),
                &user.email,
            ),
            mailing_address: seal(
                hand,
                &aad(hand, "us_address", "mailing_address", &record, &position),
                &user.mailing_address,
            ),
            linked_bank_account: Some(seal(
                hand,
                &aad(hand, "banking", "linked_bank_account", &record, &position),
                &user.linked_bank_account,
            )),
        }
    };
    EncryptedTransaction {
        id: tx.id,
        sender: tx.sender.as_ref().map(|u| user("sender", u)),
        receiver: tx.receiver.as_ref().map(|u| user("receiver", u)),
        amount_cents: tx.amount_cents,
        notes: tx.notes.clone(),
    }
    .encode_to_vec()
}

fn proto(c: &mut Criterion) {
    let keyring = support::keyring();
    let hand = Hand::new();
    let tx = transaction();
    // The hand-written bytes open with the library: the same format.
    let hand_bytes = hand_encrypt(&hand, &tx);
    let opened = EncryptedTransaction::decode(hand_bytes.as_slice())
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    assert_eq!(opened, tx);

    let mut group = c.benchmark_group("proto_transaction");
    group.bench_function("plain_prost_encode", |b| {
        b.iter(|| black_box(&tx).encode_to_vec())
    });
    group.bench_function("hand_seal_and_encode", |b| {
        b.iter(|| hand_encrypt(&hand, black_box(&tx)))
    });
    group.bench_function("library_encrypt_and_encode", |b| {
        b.iter(|| black_box(&tx).encrypt(&keyring).unwrap().encode_to_vec())
    });
    let wire = tx.encrypt(&keyring).unwrap().encode_to_vec();
    group.bench_function("library_decode_and_decrypt", |b| {
        b.iter(|| {
            EncryptedTransaction::decode(black_box(wire.as_slice()))
                .unwrap()
                .decrypt(&keyring)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::config(Duration::from_secs(2));
    targets = proto
}
criterion_main!(benches);
