//! Raw AES-256-GCM-SIV encryption in place, 0.11 against 0.12, same run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SIZES: [(usize, &str); 5] = [(16, "16B"), (256, "256B"), (1024, "1KiB"), (64 * 1024, "64KiB"), (1024 * 1024, "1MiB")];
const KEY: [u8; 32] = [7; 32];
const AAD: [u8; 40] = [1; 40];

fn versions(c: &mut Criterion) {
    use aes_gcm_siv_011::aead::{AeadInPlace as _, KeyInit as _};
    use aes_gcm_siv_012::aead::{AeadInOut as _, KeyInit as _};
    let v011 = aes_gcm_siv_011::Aes256GcmSiv::new_from_slice(&KEY).unwrap();
    let v012 = aes_gcm_siv_012::Aes256GcmSiv::new_from_slice(&KEY).unwrap();
    let mut group = c.benchmark_group("aes256_encrypt");
    for (len, name) in SIZES {
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_function(BenchmarkId::new("0.11", name), |b| {
            let mut buf = vec![0u8; len];
            let nonce = aes_gcm_siv_011::Nonce::from_slice(&[3; 12]);
            b.iter(|| black_box(v011.encrypt_in_place_detached(nonce, &AAD, black_box(&mut buf)).unwrap()))
        });
        group.bench_function(BenchmarkId::new("0.12", name), |b| {
            let mut buf = vec![0u8; len];
            let nonce = aes_gcm_siv_012::Nonce::from([3; 12]);
            b.iter(|| black_box(v012.encrypt_inout_detached(&nonce, &AAD, black_box(&mut buf[..]).into()).unwrap()))
        });
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
}

criterion_group! { name = benches; config = config(); targets = versions }
criterion_main!(benches);
