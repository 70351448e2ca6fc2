//! A platform's keyring at start-up: 1,000 aliases with 3 key versions
//! each, loaded from `ENCRYPTED_FIELDS_KEY_*` text, timed and weighed
//! (bytes still held once the text is dropped), against loading 1 alias in
//! the same run. Run with `cargo bench --bench keyring` (AWS-LC, as the
//! root package builds), and with `ENCRYPTED_FIELDS_CIPHER=rustcrypto`.

use std::alloc::System;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use encrypted_fields::{EnvKeyring, ExposeSecret, KeySize, generate_key};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ALIASES: usize = 1_000;
const VERSIONS: usize = 3;

/// `aliases` variables, each with `VERSIONS` AES-256 keys.
fn vars(aliases: usize) -> Vec<(String, String)> {
    (0..aliases)
        .map(|i| {
            let keys: Vec<String> = (0..VERSIONS)
                .map(|_| generate_key(KeySize::Aes256).expose_secret().to_owned())
                .collect();
            (format!("ENCRYPTED_FIELDS_KEY_SVC{i}_PII"), keys.join(","))
        })
        .collect()
}

fn keyring(c: &mut Criterion) {
    let platform = vars(ALIASES);
    let one = vars(1);
    // What a loaded keyring holds on to: Rust's allocations, counted, and
    // the growth of the resident set, which also sees what AWS-LC
    // allocates with C's malloc (the `aws-lc` backend's key contexts).
    let rss_before = resident_bytes();
    let region = Region::new(GLOBAL);
    let loaded = EnvKeyring::from_vars(platform.iter().map(|(n, v)| (n, v))).unwrap();
    let held = region.change();
    let rss_growth = resident_bytes().saturating_sub(rss_before);
    eprintln!(
        "keyring ({} backend): {ALIASES} aliases x {VERSIONS} keys hold {} KiB of Rust \
         allocations ({} bytes per key); resident set grew {} KiB ({} bytes per key)",
        std::env::var("ENCRYPTED_FIELDS_CIPHER").unwrap_or_else(|_| "default".into()),
        (held.bytes_allocated - held.bytes_deallocated) / 1024,
        (held.bytes_allocated - held.bytes_deallocated) / (ALIASES * VERSIONS),
        rss_growth / 1024,
        rss_growth / (ALIASES * VERSIONS),
    );
    drop(loaded);

    let mut group = c.benchmark_group("keyring_load");
    group.bench_function("one_alias", |b| {
        b.iter(|| EnvKeyring::from_vars(black_box(&one).iter().map(|(n, v)| (n, v))).unwrap())
    });
    group.bench_function("thousand_aliases_three_versions", |b| {
        b.iter(|| EnvKeyring::from_vars(black_box(&platform).iter().map(|(n, v)| (n, v))).unwrap())
    });
    group.finish();
}

/// The resident set size, from `/proc/self/statm` (Linux; 0 elsewhere).
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}

criterion_group! {
    name = benches;
    config = criterion::Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20);
    targets = keyring
}
criterion_main!(benches);
