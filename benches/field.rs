//! One field, by size: the library's seal and open against the raw AEAD on
//! the same plaintext bytes, and the 1 MiB end-to-end paths (JSON text and
//! postcard, a binary format) against their hand-written equivalents, for a
//! string (JSON plaintext) and a byte string (`Encoding::Bytes`).

#[path = "support/mod.rs"]
mod support;

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use encrypted_fields::{Binding, Encoding, Nonce, Sealed};
use serde_bytes::ByteBuf;
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

/// A 1 MiB byte string sealed as its bytes (format version 3), end to end
/// in postcard and in JSON, against the raw AEAD on the same bytes and
/// against the raw AEAD + base64 + a JSON string.
fn bytes_1mib(c: &mut Criterion) {
    let keyring = keyring();
    let hand = Hand::new();
    let binding = Binding::new("pii", "Customer", "email");
    // The version-3 AAD: the version-1 one with its first byte 03.
    let mut aad = hand.aad("pii", "Customer", "email");
    aad[0] = 3;
    let value = ByteBuf::from(value(1024 * 1024).into_bytes());
    let seal = |value: &ByteBuf| {
        Sealed::seal_as(&keyring, &binding, value, Nonce::Random, Encoding::Bytes).unwrap()
    };
    let sealed = seal(&value);
    let envelope = sealed.as_bytes().to_vec();
    let (nonce, body) = (&envelope[5..17], &envelope[17..]);
    let (ciphertext, tag) = body.split_at(body.len() - 16);
    let (nonce, tag): ([u8; 12], [u8; 16]) = (nonce.try_into().unwrap(), tag.try_into().unwrap());
    let mut group = c.benchmark_group("bytes_1MiB");
    group.throughput(Throughput::Bytes(value.len() as u64));
    group.bench_function("raw_encrypt", |b| {
        let mut buf = value.to_vec();
        b.iter(|| black_box(hand.encrypt_in_place(&aad, black_box(&mut buf))))
    });
    group.bench_function("hand_seal_postcard", |b| {
        // The envelope built around the bytes, encrypted in place, written
        // as a postcard byte string.
        b.iter(|| {
            let mut envelope = Vec::with_capacity(value.len() + 33);
            envelope.push(3);
            envelope.extend_from_slice(&[0; 4]);
            envelope.extend_from_slice(&[0; 12]);
            envelope.extend_from_slice(black_box(&value));
            let (nonce, tag) = hand.encrypt_in_place(&aad, &mut envelope[17..]);
            envelope[5..17].copy_from_slice(&nonce);
            envelope.extend_from_slice(&tag);
            black_box(postcard::to_allocvec(serde_bytes::Bytes::new(&envelope)).unwrap())
        })
    });
    group.bench_function("library_seal_postcard", |b| {
        b.iter(|| black_box(postcard::to_allocvec(&seal(black_box(&value))).unwrap()))
    });
    group.bench_function("raw_decrypt", |b| {
        // As in `field`: the ciphertext copied back in before each decryption.
        let mut buf = ciphertext.to_vec();
        b.iter(|| {
            buf.copy_from_slice(ciphertext);
            assert!(hand.decrypt_in_place(&aad, &nonce, black_box(&mut buf), &tag));
        })
    });
    // A plain `Vec<u8>`, which serde writes and reads a byte at a time.
    let vec = value.to_vec();
    group.bench_function("library_vec_seal_postcard", |b| {
        b.iter(|| {
            let sealed = Sealed::seal_as(
                &keyring,
                &binding,
                black_box(&vec),
                Nonce::Random,
                Encoding::Bytes,
            );
            black_box(postcard::to_allocvec(&sealed.unwrap()).unwrap())
        })
    });
    let wire = postcard::to_allocvec(&sealed).unwrap();
    group.bench_function("library_vec_open_postcard", |b| {
        b.iter(|| {
            let sealed: Sealed<Vec<u8>> = postcard::from_bytes(black_box(&wire)).unwrap();
            black_box(sealed.open(&keyring, &binding).unwrap())
        })
    });
    group.bench_function("hand_open_postcard", |b| {
        // Read as an owned byte string, decrypted in place, the bytes
        // moved to the front.
        b.iter(|| {
            let mut envelope: ByteBuf = postcard::from_bytes(black_box(&wire)).unwrap();
            let len = envelope.len();
            let nonce: [u8; 12] = envelope[5..17].try_into().unwrap();
            let tag: [u8; 16] = envelope[len - 16..].try_into().unwrap();
            assert!(hand.decrypt_in_place(&aad, &nonce, &mut envelope[17..len - 16], &tag));
            let mut plaintext = envelope.into_vec();
            plaintext.truncate(len - 16);
            plaintext.drain(..17);
            black_box(plaintext)
        })
    });
    group.bench_function("library_open_postcard", |b| {
        b.iter(|| {
            let sealed: Sealed<ByteBuf> = postcard::from_bytes(black_box(&wire)).unwrap();
            black_box(sealed.open(&keyring, &binding).unwrap())
        })
    });
    group.bench_function("hand_seal_json", |b| {
        // Raw AEAD + base64 + writing the JSON string.
        let mut buf = value.to_vec();
        b.iter(|| {
            let (nonce, tag) = hand.encrypt_in_place(&aad, &mut buf);
            let mut envelope = Vec::with_capacity(buf.len() + 33);
            envelope.push(3);
            envelope.extend_from_slice(&[0; 4]);
            envelope.extend_from_slice(&nonce);
            envelope.extend_from_slice(&buf);
            envelope.extend_from_slice(&tag);
            black_box(serde_json::to_string(&URL_SAFE_NO_PAD.encode(&envelope)).unwrap())
        })
    });
    group.bench_function("library_seal_json", |b| {
        b.iter(|| black_box(serde_json::to_string(&seal(black_box(&value))).unwrap()))
    });
    let json = serde_json::to_string(&sealed).unwrap();
    group.bench_function("hand_open_json", |b| {
        // Reading the JSON string + base64 + raw AEAD.
        b.iter(|| {
            let text: String = serde_json::from_str(black_box(&json)).unwrap();
            let mut envelope = URL_SAFE_NO_PAD.decode(text).unwrap();
            let len = envelope.len();
            let nonce: [u8; 12] = envelope[5..17].try_into().unwrap();
            let tag: [u8; 16] = envelope[len - 16..].try_into().unwrap();
            assert!(hand.decrypt_in_place(&aad, &nonce, &mut envelope[17..len - 16], &tag));
            black_box(envelope)
        })
    });
    group.bench_function("library_open_json", |b| {
        b.iter(|| {
            let sealed: Sealed<ByteBuf> = serde_json::from_str(black_box(&json)).unwrap();
            black_box(sealed.open(&keyring, &binding).unwrap())
        })
    });
    group.finish();
}

criterion_group! { name = benches; config = support::config(Duration::from_secs(2)); targets = seal_and_open, bulk, bytes_1mib }
criterion_main!(benches);
