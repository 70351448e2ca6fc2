//! One field, by size: the library's seal and open against the raw AEAD on
//! the same plaintext bytes, and the 1 MiB end-to-end paths (JSON text and
//! postcard, a binary format) against their hand-written equivalents.

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use encrypted_fields::{Binding, Sealed};
use std::hint::black_box;
use support::{Hand, keyring};

const SIZES: [(usize, &str); 5] = [
    (16, "16B"),
    (256, "256B"),
    (1024, "1KiB"),
    (64 * 1024, "64KiB"),
    (1024 * 1024, "1MiB"),
];

fn value(len: usize) -> String {
    "abcdefghijklmnopqrstuvwxyz0123456789"
        .chars()
        .cycle()
        .take(len)
        .collect()
}

fn seal_and_open(c: &mut Criterion) {
    let keyring = keyring();
    let hand = Hand::new();
    let binding = Binding::new("pii", "Customer", "email");
    let aad = hand.aad("pii", "Customer", "email");
    let mut group = c.benchmark_group("field");
    for (len, name) in SIZES {
        let value = value(len);
        // The plaintext the library encrypts: the value's JSON, quotes included.
        let json = serde_json::to_vec(&value).unwrap();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("raw_encrypt", name), &json, |b, json| {
            let mut buf = json.clone();
            b.iter(|| black_box(hand.encrypt_in_place(&aad, black_box(&mut buf))))
        });
        group.bench_with_input(
            BenchmarkId::new("library_seal", name),
            &value,
            |b, value| b.iter(|| Sealed::seal(&keyring, &binding, black_box(value)).unwrap()),
        );
        let sealed = Sealed::seal(&keyring, &binding, &value).unwrap();
        let envelope = sealed.as_bytes().to_vec();
        group.bench_with_input(
            BenchmarkId::new("raw_decrypt", name),
            &envelope,
            |b, envelope| {
                let nonce: [u8; 12] = envelope[5..17].try_into().unwrap();
                let tag: [u8; 16] = envelope[envelope.len() - 16..].try_into().unwrap();
                let mut buf = envelope[17..envelope.len() - 16].to_vec();
                b.iter(|| {
                    buf.copy_from_slice(&envelope[17..envelope.len() - 16]);
                    assert!(hand.decrypt_in_place(&aad, &nonce, black_box(&mut buf), &tag));
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("library_open", name),
            &sealed,
            |b, sealed| b.iter(|| black_box(sealed.open(&keyring, &binding).unwrap())),
        );
    }
    group.finish();
}

/// 1 MiB, end to end: sealed and written as a JSON string, or as postcard.
fn bulk(c: &mut Criterion) {
    let keyring = keyring();
    let hand = Hand::new();
    let binding = Binding::new("pii", "Customer", "email");
    let aad = hand.aad("pii", "Customer", "email");
    let value = value(1024 * 1024);
    let mut group = c.benchmark_group("bulk_1MiB");
    group.throughput(Throughput::Bytes(value.len() as u64));
    group.bench_function("hand_json", |b| {
        // Raw AEAD + base64 + writing the JSON string.
        let mut buf = serde_json::to_vec(&value).unwrap();
        b.iter(|| {
            let (nonce, tag) = hand.encrypt_in_place(&aad, &mut buf);
            let mut envelope = Vec::with_capacity(buf.len() + 33);
            envelope.push(1);
            envelope.extend_from_slice(&[0; 4]);
            envelope.extend_from_slice(&nonce);
            envelope.extend_from_slice(&buf);
            envelope.extend_from_slice(&tag);
            black_box(serde_json::to_string(&URL_SAFE_NO_PAD.encode(&envelope)).unwrap())
        })
    });
    group.bench_function("library_json", |b| {
        b.iter(|| {
            let sealed = Sealed::seal(&keyring, &binding, black_box(&value)).unwrap();
            black_box(serde_json::to_string(&sealed).unwrap())
        })
    });
    group.bench_function("raw_aead", |b| {
        let mut buf = serde_json::to_vec(&value).unwrap();
        b.iter(|| black_box(hand.encrypt_in_place(&aad, &mut buf)))
    });
    group.bench_function("library_postcard", |b| {
        b.iter(|| {
            let sealed = Sealed::seal(&keyring, &binding, black_box(&value)).unwrap();
            black_box(postcard::to_allocvec(&sealed).unwrap())
        })
    });
    group.finish();
}

criterion_group! { name = benches; config = support::config(Duration::from_secs(2)); targets = seal_and_open, bulk }
criterion_main!(benches);
