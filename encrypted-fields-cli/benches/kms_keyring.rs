//! A platform's keyring at start-up from KMS-wrapped keysets: 1,000
//! aliases with 3 key versions each, one KMS `Decrypt` per alias, timed
//! and weighed against the same keysets read as plain environment text in
//! the same run. Two KMS APIs on loopback: moto (an emulator of the KMS
//! API, in Python: its own time per call dominates) and the tests' fake
//! KMS (a Rust server that answers at once over plain HTTP: what is left
//! is the library's and the AWS SDK's own work). Neither has the network
//! round trip or the TLS of AWS KMS.
//!
//! What a keyring holds is what dropping it frees, counted by an
//! instrumented allocator: unlike the resident set, that is not blurred by
//! memory the allocator kept from earlier work.
//!
//! ```sh
//! cargo bench -p encrypted-fields-cli --bench kms_keyring [-- ROUNDS]
//! ```
//!
//! Not criterion: a sample is a whole start-up against a server, and the
//! figures wanted are its time, its calls and what the keyring holds.

#[path = "../tests/support/mod.rs"]
mod support;

use std::alloc::System;
use std::time::{Duration, Instant};

use encrypted_fields::kms::{self, KmsKeyring};
use encrypted_fields::{EnvKeyring, ExposeSecret, KeySize, generate_key};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use support::{FakeKms, Moto, Reply, create_key, runtime};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const ALIASES: usize = 1_000;
const VERSIONS: usize = 3;

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(5)
        .max(1);
    // Alias `svcN` holds three AES-256 keys, primary first.
    let keysets: Vec<(String, String)> = (0..ALIASES)
        .map(|i| {
            let keys: Vec<String> = (0..VERSIONS)
                .map(|_| generate_key(KeySize::Aes256).expose_secret().to_owned())
                .collect();
            (format!("svc{i}"), keys.join(","))
        })
        .collect();
    let vars: Vec<(String, &str)> = keysets
        .iter()
        .enumerate()
        .map(|(i, (_, keys))| (format!("ENCRYPTED_FIELDS_KEY_SVC{i}"), keys.as_str()))
        .collect();
    let rt = runtime();

    let env = EnvKeyring::from_vars(vars.iter().map(|(n, v)| (n, v))).expect("plain keysets");
    let env_held = held_by(env);

    let moto = Moto::start();
    let client = moto.client();
    let (kms_key, wrapped) = rt.block_on(async {
        let kms_key = create_key(&client).await;
        let mut wrapped = Vec::with_capacity(ALIASES);
        for (alias, keys) in &keysets {
            let line = kms::wrap_keyset(&client, &kms_key, alias, keys).await;
            wrapped.push(line.expect("moto wraps the keyset"));
        }
        (kms_key, wrapped)
    });
    let load = |client: &aws_sdk_kms::Client, wrapped: &[String], kms_key: Option<&str>| {
        let started = Instant::now();
        let keyring = rt.block_on(async {
            let mut builder =
                KmsKeyring::builder(client.clone()).deadline(Duration::from_secs(600));
            if let Some(kms_key) = kms_key {
                builder = builder.kms_key_id(kms_key);
            }
            for line in wrapped {
                builder = builder.keyset(line);
            }
            builder.load().await.expect("every keyset loads")
        });
        (started.elapsed(), keyring)
    };
    let (_, keyring) = load(&client, &wrapped, Some(&kms_key));
    assert_eq!(keyring.aliases().len(), ALIASES);
    let kms_held = held_by(keyring);

    // The fake KMS hands back each alias's keyset; every call is counted.
    let plain: std::collections::HashMap<String, String> = keysets.iter().cloned().collect();
    let fake = FakeKms::start(move |alias, _| {
        plain.get(alias).cloned().map_or(Reply::Deny, Reply::Keyset)
    });
    let fake_client = fake.client();
    let fake_wrapped: Vec<String> = keysets
        .iter()
        .map(|(a, _)| support::fake_wrapped(a))
        .collect();

    println!(
        "{ALIASES} aliases x {VERSIONS} keys; held: plain {} KiB, KMS-wrapped {} KiB",
        env_held / 1024,
        kms_held / 1024
    );
    println!(
        "round  plain text  moto: 1 alias  moto: {ALIASES}  fake KMS: {ALIASES}  fake KMS calls  \
         fake KMS / plain"
    );
    for round in 1..=rounds {
        let started = Instant::now();
        let env = EnvKeyring::from_vars(vars.iter().map(|(n, v)| (n, v))).expect("plain keysets");
        let plain_time = started.elapsed();
        drop(env);
        let (one, _) = load(&client, &wrapped[..1], Some(&kms_key));
        let (all, _) = load(&client, &wrapped, Some(&kms_key));
        let calls_before = fake.calls.load(std::sync::atomic::Ordering::SeqCst);
        let (fast, _) = load(&fake_client, &fake_wrapped, None);
        let calls = fake.calls.load(std::sync::atomic::Ordering::SeqCst) - calls_before;
        println!(
            "{round:>5}  {:>7.1} ms  {:>10.1} ms  {:>7.0} ms  {:>12.0} ms  {calls:>14}  {:>14.1}x",
            ms(plain_time),
            ms(one),
            ms(all),
            ms(fast),
            fast.as_secs_f64() / plain_time.as_secs_f64()
        );
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The bytes `value` holds on the heap: what dropping it frees. The count
/// is process-wide, so it is taken while nothing else runs: before the
/// fake KMS's threads start, with the current-thread runtime idle.
fn held_by<T>(value: T) -> usize {
    let region = Region::new(GLOBAL);
    drop(value);
    region.change().bytes_deallocated
}
