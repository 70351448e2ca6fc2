//! Whole values: the reference `Customer` to JSON and back, partial
//! decryption of a nested `Transaction`, and two threads sharing one
//! keyring, each against a hand-written equivalent in the same run.

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use encrypted_fields::{Decrypt, Encrypt};
use serde::{Deserialize, Serialize};
use support::customer::{
    Address, Customer, CustomerAads, EncryptedCustomer, customer, hand_decrypt, hand_encrypt,
};
use support::{Hand, keyring};

fn customer_json(c: &mut Criterion) {
    let keyring = keyring();
    let hand = Hand::new();
    let aads = CustomerAads::new(&hand);
    let value = customer();
    let json = serde_json::to_string(&value.encrypt(&keyring).unwrap()).unwrap();
    assert_eq!(
        hand_decrypt(&hand, &aads, &json),
        value,
        "the baseline reads the library's format"
    );
    assert_eq!(
        serde_json::from_str::<EncryptedCustomer>(&hand_encrypt(&hand, &aads, &value))
            .unwrap()
            .decrypt(&keyring)
            .unwrap(),
        value
    );

    let mut group = c.benchmark_group("customer");
    group.bench_function("hand_encrypt", |b| {
        b.iter(|| hand_encrypt(&hand, &aads, black_box(&value)))
    });
    group.bench_function("library_encrypt", |b| {
        b.iter(|| serde_json::to_string(&black_box(&value).encrypt(&keyring).unwrap()).unwrap())
    });
    group.bench_function("hand_decrypt", |b| {
        b.iter(|| hand_decrypt(&hand, &aads, black_box(&json)))
    });
    group.bench_function("library_decrypt", |b| {
        b.iter(|| {
            serde_json::from_str::<EncryptedCustomer>(black_box(&json))
                .unwrap()
                .decrypt(&keyring)
                .unwrap()
        })
    });
    group.finish();
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
struct BankAccount {
    routing: String,
    account: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct CashUser {
    cash_tag: String,
    #[encrypt(key = "us_address")]
    mailing_address: Address,
    #[encrypt(key = "banking")]
    linked_bank_account: BankAccount,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Transaction {
    #[encrypt(nested)]
    sender: CashUser,
    #[encrypt(nested)]
    receiver: CashUser,
    amount_cents: i64,
}

#[derive(Deserialize)]
struct HandCashUser {
    cash_tag: String,
    mailing_address: String,
    linked_bank_account: String,
}

#[derive(Deserialize)]
struct HandTransaction {
    sender: HandCashUser,
    receiver: HandCashUser,
    amount_cents: i64,
}

/// What the banking service reads: tags, amount, bank accounts.
type BankingView = (String, String, i64, BankAccount, BankAccount);

fn hand_banking_view(hand: &Hand, aad: &[u8], json: &str) -> BankingView {
    let wire: HandTransaction = serde_json::from_str(json).unwrap();
    let _still_sealed = (&wire.sender.mailing_address, &wire.receiver.mailing_address);
    (
        wire.sender.cash_tag,
        wire.receiver.cash_tag,
        wire.amount_cents,
        hand.open_text(aad, &wire.sender.linked_bank_account)
            .unwrap(),
        hand.open_text(aad, &wire.receiver.linked_bank_account)
            .unwrap(),
    )
}

fn partial_nested(c: &mut Criterion) {
    let all = keyring();
    let banking =
        encrypted_fields::EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_BANKING", support::KEY)])
            .unwrap();
    let hand = Hand::new();
    let aad = hand.aad("banking", "CashUser", "linked_bank_account");
    let user = |tag: &str| CashUser {
        cash_tag: tag.into(),
        mailing_address: Address {
            line1: "1 Main St".into(),
            city: "Oakland".into(),
            zip: "94607".into(),
        },
        linked_bank_account: BankAccount {
            routing: "121000248".into(),
            account: "000123456789".into(),
        },
    };
    let transaction = Transaction {
        sender: user("$ada"),
        receiver: user("$grace"),
        amount_cents: 4200,
    };
    let json = serde_json::to_string(&transaction.encrypt(&all).unwrap()).unwrap();
    assert_eq!(
        hand_banking_view(&hand, &aad, &json).3.account,
        "000123456789"
    );

    let mut group = c.benchmark_group("partial_nested");
    group.bench_function("hand_banking_view", |b| {
        b.iter(|| hand_banking_view(&hand, &aad, black_box(&json)))
    });
    group.bench_function("library_decrypt_partial", |b| {
        b.iter(|| {
            let wire: EncryptedTransaction = serde_json::from_str(black_box(&json)).unwrap();
            wire.decrypt_partial(&banking).unwrap()
        })
    });
    group.finish();
}

/// One round trip (encrypt, JSON, parse, decrypt) of the reference customer.
fn round_trip(keyring: &encrypted_fields::EnvKeyring, value: &Customer) -> Customer {
    let json = serde_json::to_string(&value.encrypt(keyring).unwrap()).unwrap();
    serde_json::from_str::<EncryptedCustomer>(&json)
        .unwrap()
        .decrypt(keyring)
        .unwrap()
}

fn threads(c: &mut Criterion) {
    let keyring = keyring();
    let value = customer();
    let mut group = c.benchmark_group("threads");
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_thread", |b| {
        b.iter(|| round_trip(&keyring, black_box(&value)))
    });
    group.throughput(Throughput::Elements(2));
    group.bench_function("two_threads", |b| {
        // Each iteration is one round trip on each of two threads sharing
        // the keyring: perfect scaling keeps the time per iteration equal
        // to one thread's.
        b.iter_custom(|iters| {
            let start = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| {
                        for _ in 0..iters {
                            black_box(round_trip(&keyring, black_box(&value)));
                        }
                    });
                }
            });
            start.elapsed()
        })
    });
    group.finish();
}

criterion_group! { name = benches; config = support::config(Duration::from_secs(3)); targets = customer_json, partial_nested, threads }
criterion_main!(benches);
