//! A platform's keyring at start-up from KMS-wrapped keysets: 1,000
//! aliases with 3 key versions each, one KMS `Decrypt` per alias, timed
//! and weighed against the same keysets read as plain environment text in
//! the same run. Two KMS APIs on loopback: moto (a real KMS API, in
//! Python: its own time per call dominates) and the tests' fake KMS (a
//! Rust server that answers at once: what is left is the library's and the
//! AWS SDK's own work). Neither has the network round trip of AWS KMS.
//!
//! ```sh
//! cargo bench -p encrypted-fields-cli --bench kms_keyring [-- ROUNDS]
//! ```
//!
//! Not criterion: a sample is a whole start-up against a server, and the
//! figures wanted are its time, its calls and what the keyring holds.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use encrypted_fields::kms::{self, KmsKeyring};
use encrypted_fields::{EnvKeyring, ExposeSecret, KeySize, generate_key};
use support::{FakeKms, Moto, Reply, create_key, runtime};

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
    let vars: Vec<(String, &str)> = (0..ALIASES)
        .map(|i| {
            (
                format!("ENCRYPTED_FIELDS_KEY_SVC{i}"),
                keysets[i].1.as_str(),
            )
        })
        .collect();
    let rt = runtime();

    // What a loaded keyring holds, seen as the growth of the resident set
    // (the first load of this process, before any other).
    let rss = resident_bytes();
    let env = EnvKeyring::from_vars(vars.iter().map(|(n, v)| (n, v))).expect("plain keysets");
    let env_held = resident_bytes().saturating_sub(rss);
    drop(env);

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
    let rss = resident_bytes();
    let (_, keyring) = load(&client, &wrapped, Some(&kms_key));
    let kms_held = resident_bytes().saturating_sub(rss);
    assert_eq!(keyring.aliases().len(), ALIASES);
    drop(keyring);

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
        "{ALIASES} aliases x {VERSIONS} keys; resident set growth: plain {} KiB, KMS-wrapped {} KiB",
        env_held / 1024,
        kms_held / 1024
    );
    println!(
        "round  plain text  moto: 1 alias  moto: {ALIASES}  fake KMS: {ALIASES}  fake KMS calls"
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
            "{round:>5}  {:>7.1} ms  {:>10.1} ms  {:>7.0} ms  {:>12.0} ms  {calls:>14}",
            ms(plain_time),
            ms(one),
            ms(all),
            ms(fast)
        );
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

/// The resident set size, from `/proc/self/statm` (Linux; 0 elsewhere).
fn resident_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<usize>().ok())
        .map_or(0, |pages| pages * 4096)
}
