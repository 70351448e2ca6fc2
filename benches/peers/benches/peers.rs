//! The library next to tink-rust and a hand-written baseline, in one run:
//! the reference record's round trip through JSON (three encrypted fields,
//! `benches/support/customer.rs`), and one 16-byte field sealed and opened;
//! and the two AES-GCM-SIV backends' raw AEADs side by side, by size.
//!
//! tink-rust is used as its users would for field encryption: one
//! `Aead` primitive (AES-256-GCM, Tink's 5-byte key prefix), each field's
//! JSON encrypted with the field's name as associated data, the ciphertext
//! as base64url in the JSON. Ours binds alias, type and field (FORMAT.md);
//! the baseline writes exactly our format with `aes-gcm-siv` directly.

#[path = "../../support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{Criterion, criterion_group, criterion_main};
use encrypted_fields::{Binding, Decrypt, Encrypt, Nonce, Sealed};
use serde::{Deserialize, Serialize};
use support::customer::{
    Address, Customer, CustomerAads, EncryptedCustomer, customer, hand_decrypt, hand_encrypt,
};
use support::{Hand, keyring};
use tink_core::Aead;

/// AWS-LC's AES-256-GCM-SIV on the bench key, used as the hand-written
/// baseline uses RustCrypto's: one key, in place, a fresh nonce per seal.
struct AwsLc(aws_lc_rs::aead::LessSafeKey);

impl AwsLc {
    fn new() -> Self {
        use aws_lc_rs::aead::{AES_256_GCM_SIV, LessSafeKey, UnboundKey};
        AwsLc(LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM_SIV, support::KEY_BYTES).unwrap(),
        ))
    }

    /// Seals `buf` in place, then opens it into `out` (same length).
    fn seal_open(&self, aad: &[u8], buf: &mut [u8], out: &mut [u8]) {
        use aws_lc_rs::aead::{Aad, Nonce};
        let mut nonce = [0; 12];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
        let tag = self
            .0
            .seal_in_place_separate_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), buf)
            .unwrap();
        self.0
            .open_separate_gather(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                buf,
                tag.as_ref(),
                out,
            )
            .unwrap();
    }
}

/// Which backend the library runs on in this run (BENCHMARKS.md reports
/// both runs).
fn backend() -> String {
    std::env::var("ENCRYPTED_FIELDS_CIPHER").unwrap_or_else(|_| "aws-lc".into())
}

/// The record as a tink-rust user would write it: each encrypted field's
/// JSON under the field's name, base64url in the JSON.
#[derive(Serialize, Deserialize)]
struct TinkCustomer {
    id: u64,
    name: String,
    email: String,
    ssn: String,
    address: String,
    balance_cents: i64,
}

fn tink_seal<T: Serialize>(aead: &dyn Aead, aad: &[u8], value: &T) -> String {
    let plaintext = serde_json::to_vec(value).unwrap();
    URL_SAFE_NO_PAD.encode(aead.encrypt(&plaintext, aad).unwrap())
}

fn tink_open<T: serde::de::DeserializeOwned>(aead: &dyn Aead, aad: &[u8], text: &str) -> T {
    let ciphertext = URL_SAFE_NO_PAD.decode(text).unwrap();
    serde_json::from_slice(&aead.decrypt(&ciphertext, aad).unwrap()).unwrap()
}

fn tink_encrypt(aead: &dyn Aead, c: &Customer) -> String {
    let wire = TinkCustomer {
        id: c.id,
        name: c.name.clone(),
        email: tink_seal(aead, b"Customer.email", &c.email),
        ssn: tink_seal(aead, b"Customer.ssn", &c.ssn),
        address: tink_seal(aead, b"Customer.address", &c.address),
        balance_cents: c.balance_cents,
    };
    serde_json::to_string(&wire).unwrap()
}

fn tink_decrypt(aead: &dyn Aead, json: &str) -> Customer {
    let wire: TinkCustomer = serde_json::from_str(json).unwrap();
    Customer {
        id: wire.id,
        name: wire.name,
        email: tink_open(aead, b"Customer.email", &wire.email),
        ssn: tink_open(aead, b"Customer.ssn", &wire.ssn),
        address: tink_open::<Address>(aead, b"Customer.address", &wire.address),
        balance_cents: wire.balance_cents,
    }
}

fn tink_aead() -> Box<dyn Aead> {
    tink_aead::init();
    let handle = tink_core::keyset::Handle::new(&tink_aead::aes256_gcm_key_template()).unwrap();
    tink_aead::new(&handle).unwrap()
}

fn config() -> Criterion {
    support::config(Duration::from_secs(3))
}

fn record(c: &mut Criterion) {
    let keyring = keyring();
    let hand = Hand::new();
    let aads = CustomerAads::new(&hand);
    let tink = tink_aead();
    let value = customer();
    assert_eq!(
        hand_decrypt(&hand, &aads, &hand_encrypt(&hand, &aads, &value)),
        value
    );
    assert_eq!(tink_decrypt(&*tink, &tink_encrypt(&*tink, &value)), value);

    let mut group = c.benchmark_group("record_round_trip");
    group.bench_function("hand", |b| {
        b.iter(|| hand_decrypt(&hand, &aads, &hand_encrypt(&hand, &aads, black_box(&value))))
    });
    group.bench_function("library", |b| {
        b.iter(|| {
            let json =
                serde_json::to_string(&black_box(&value).encrypt(&keyring).unwrap()).unwrap();
            serde_json::from_str::<EncryptedCustomer>(&json)
                .unwrap()
                .decrypt(&keyring)
                .unwrap()
        })
    });
    group.bench_function("tink", |b| {
        b.iter(|| tink_decrypt(&*tink, &tink_encrypt(&*tink, black_box(&value))))
    });
    group.finish();
}

fn field(c: &mut Criterion) {
    let keyring = keyring();
    let hand = Hand::new();
    let aad = hand.aad("pii", "Customer", "email");
    let tink = tink_aead();
    let binding = Binding::new("pii", "Customer", "email");
    // 16 bytes of JSON: a 14-character string and its quotes.
    let value = "ada@example.io".to_owned();
    let mut raw = serde_json::to_vec(&value).unwrap();
    assert_eq!(raw.len(), 16);

    let mut group = c.benchmark_group("field_16B_seal_open");
    group.bench_function("raw_aead", |b| {
        b.iter(|| {
            let (nonce, tag) = hand.encrypt_in_place(&aad, black_box(&mut raw[..]));
            assert!(hand.decrypt_in_place(&aad, &nonce, &mut raw[..], &tag));
        })
    });
    let aws = AwsLc::new();
    group.bench_function("raw_aead_aws_lc", |b| {
        let mut out = raw.clone();
        b.iter(|| aws.seal_open(&aad, black_box(&mut raw[..]), &mut out))
    });
    group.bench_function("library", |b| {
        b.iter(|| {
            let sealed =
                Sealed::seal_with(&keyring, &binding, black_box(&value), Nonce::Random).unwrap();
            sealed.open(&keyring, &binding).unwrap()
        })
    });
    group.bench_function("tink", |b| {
        b.iter(|| {
            let ciphertext = tink.encrypt(black_box(&raw), b"Customer.email").unwrap();
            tink.decrypt(&ciphertext, b"Customer.email").unwrap()
        })
    });
    group.finish();
}

/// The raw AEADs of both backends by size, seal and open in place, and
/// the library's seal and open of a string of that size on this run's
/// backend.
fn backends(c: &mut Criterion) {
    let keyring = keyring();
    let hand = Hand::new();
    let aws = AwsLc::new();
    let aad = hand.aad("pii", "Customer", "email");
    let binding = Binding::new("pii", "Customer", "email");
    println!("library backend in this run: {}", backend());
    for (len, name) in [
        (16, "16B"),
        (256, "256B"),
        (1024, "1KiB"),
        (64 * 1024, "64KiB"),
        (1 << 20, "1MiB"),
    ] {
        let mut group = c.benchmark_group(format!("backends_{name}"));
        // The string's JSON is `len` bytes: its quotes and `len - 2` letters.
        let value: String = "abcdefghijklmnopqrstuvwxyz"
            .chars()
            .cycle()
            .take(len - 2)
            .collect();
        let mut raw = serde_json::to_vec(&value).unwrap();
        assert_eq!(raw.len(), len);
        group.bench_function("raw_rustcrypto", |b| {
            b.iter(|| {
                let (nonce, tag) = hand.encrypt_in_place(&aad, black_box(&mut raw[..]));
                assert!(hand.decrypt_in_place(&aad, &nonce, &mut raw[..], &tag));
            })
        });
        group.bench_function("raw_aws_lc", |b| {
            let mut out = raw.clone();
            b.iter(|| aws.seal_open(&aad, black_box(&mut raw[..]), &mut out))
        });
        group.bench_function("library", |b| {
            b.iter(|| {
                let sealed = Sealed::seal(&keyring, &binding, black_box(&value)).unwrap();
                sealed.open(&keyring, &binding).unwrap()
            })
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = config();
    targets = record, field, backends
}
criterion_main!(benches);
