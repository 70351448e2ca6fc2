//! One small field sealed and opened, and a struct round trip, against the
//! raw AEAD in the same binary; built with and without `metrics`.

use std::hint::black_box;
use std::time::Duration;

use aes_gcm_siv::aead::{AeadInOut, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use criterion::{Criterion, criterion_group, criterion_main};
use encrypted_fields::{Binding, Decrypt, Encrypt, Sealed};
use metrics_cost::{KEY_BYTES, customer, setup};

fn per_field(c: &mut Criterion) {
    let (keyring, metrics) = setup();
    let mut group = c.benchmark_group(if metrics { "metrics_on" } else { "metrics_off" });
    let cipher = Aes256GcmSiv::new_from_slice(KEY_BYTES).unwrap();
    let nonce = Nonce::from([7; 12]);
    let mut buf = *b"\"0123456789abcdef\"";
    group.bench_function("raw_encrypt_16B", |b| {
        b.iter(|| {
            black_box(cipher.encrypt_inout_detached(&nonce, b"aad", black_box(&mut buf[..]).into()))
        })
    });
    let binding = Binding::new("pii", "Customer", "email");
    let value = "0123456789abcdef".to_owned();
    group.bench_function("seal_16B", |b| {
        b.iter(|| Sealed::seal(&keyring, &binding, black_box(&value)).unwrap())
    });
    let sealed = Sealed::seal(&keyring, &binding, &value).unwrap();
    group.bench_function("open_16B", |b| {
        b.iter(|| black_box(sealed.open(&keyring, &binding).unwrap()))
    });
    let plain = customer();
    group.bench_function("struct_round_trip", |b| {
        b.iter(|| black_box(plain.encrypt(&keyring).unwrap().decrypt(&keyring).unwrap()))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(40);
    targets = per_field
}
criterion_main!(benches);
