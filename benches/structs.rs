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
use support::{Hand, keyring};

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Address {
    line1: String,
    city: String,
    zip: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Customer {
    id: u64,
    name: String,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "pii")]
    ssn: String,
    #[encrypt(key = "pii")]
    address: Address,
    balance_cents: i64,
}

fn customer() -> Customer {
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
struct HandCustomer {
    id: u64,
    name: String,
    email: String,
    ssn: String,
    address: String,
    balance_cents: i64,
}

struct CustomerAads {
    email: Vec<u8>,
    ssn: Vec<u8>,
    address: Vec<u8>,
}

fn hand_encrypt(hand: &Hand, aads: &CustomerAads, c: &Customer) -> String {
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

fn hand_decrypt(hand: &Hand, aads: &CustomerAads, json: &str) -> Customer {
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

fn customer_json(c: &mut Criterion) {
    let keyring = keyring();
    let hand = Hand::new();
    let aads = CustomerAads {
        email: hand.aad("pii", "Customer", "email"),
        ssn: hand.aad("pii", "Customer", "ssn"),
        address: hand.aad("pii", "Customer", "address"),
    };
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
