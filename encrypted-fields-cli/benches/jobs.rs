//! `rotate --jobs 2` against `--jobs 1` on 200,000 records, and beside
//! them a reference: two independent `--jobs 1` runs at once, which share
//! no thread, lock or work, only the machine. Each round runs the three in
//! turn, so a noisy spell on a shared machine hits each alike. The last
//! column, the pair's time over twice the two-job time, compares two jobs
//! with the reference without the one-job time, whose noise would move
//! both ratios together.
//!
//! ```sh
//! cargo bench -p encrypted-fields-cli --bench jobs [-- ROUNDS]
//! ```
//!
//! Not criterion: each sample is a whole process over a file (about two
//! seconds), and the figure wanted is a ratio of runs made side by side.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use encrypted_fields::{EnvKeyring, ExposeSecret, KeySize, generate_key};

#[path = "../tests/support/customer.rs"]
mod customer;

const RECORDS: u64 = 200_000;

fn key() -> String {
    generate_key(KeySize::Aes256).expose_secret().to_owned()
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(8)
        .max(1);
    let dir = tempfile::tempdir().expect("a scratch directory");
    let (old_pii, old_banking, new_pii, new_banking) = (key(), key(), key(), key());
    let old = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", &old_pii),
        ("ENCRYPTED_FIELDS_KEY_BANKING", &old_banking),
    ])
    .expect("throwaway keys");
    let input = dir.path().join("rows.jsonl");
    customer::write_sealed(&input, &old, RECORDS).expect("the input records");
    // New primaries first, the old keys still there to open the input.
    let env = [
        ("ENCRYPTED_FIELDS_KEY_PII", format!("{new_pii},{old_pii}")),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            format!("{new_banking},{old_banking}"),
        ),
    ];
    let rotate = |jobs: usize, out: &str| -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_encrypted-fields"));
        command
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k, v)))
            .envs(
                std::env::var_os("ENCRYPTED_FIELDS_CIPHER").map(|v| ("ENCRYPTED_FIELDS_CIPHER", v)),
            )
            .args([
                "rotate",
                "--context",
                "customer",
                "--jobs",
                &jobs.to_string(),
            ])
            .args(customer::FIELDS)
            .arg(&input)
            .arg("-o")
            .arg(dir.path().join(out))
            .arg("--errors")
            .arg(dir.path().join(format!("{out}.errors")))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    };
    // Every process is waited for before any failure is reported, so none
    // is left writing into the scratch directory.
    let timed = |commands: Vec<Command>| {
        let started = Instant::now();
        let spawned: Vec<_> = commands.into_iter().map(|mut c| c.spawn()).collect();
        let outputs: Vec<_> = spawned
            .into_iter()
            .map(|child| child.and_then(|child| child.wait_with_output()))
            .collect();
        let seconds = started.elapsed().as_secs_f64();
        let outputs: Vec<_> = outputs
            .into_iter()
            .map(|output| output.expect("the encrypted-fields binary runs"))
            .collect();
        for output in outputs {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "rotate failed: {stderr}");
        }
        seconds
    };
    // The last round's outputs, removed outside the timed runs.
    let clean = |dir: &Path| {
        for out in ["a", "b"] {
            let _ = std::fs::remove_file(dir.join(out));
        }
    };

    println!(
        "{RECORDS} records, two fields each; seconds per run\n\
         round  1 job  2 jobs  speed-up  two 1-job runs at once  reference  pair / (2 x 2 jobs)"
    );
    let (mut speedups, mut references, mut shares) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        clean(dir.path());
        let one = timed(vec![rotate(1, "a")]);
        clean(dir.path());
        let two = timed(vec![rotate(2, "a")]);
        clean(dir.path());
        let pair = timed(vec![rotate(1, "a"), rotate(1, "b")]);
        // Two runs' work in `pair` seconds, against one run's in `one`.
        let (speedup, reference, share) = (one / two, 2.0 * one / pair, pair / (2.0 * two));
        println!(
            "{round:>5}  {one:>5.2}  {two:>6.2}  {speedup:>7.2}x  {pair:>22.2}  {reference:>8.2}x  {:>18.0}%",
            100.0 * share
        );
        speedups.push(speedup);
        references.push(reference);
        shares.push(share);
    }
    println!(
        "median speed-up {:.2}x; median reference {:.2}x; median pair / (2 x 2 jobs) {:.0}%",
        median(&mut speedups),
        median(&mut references),
        100.0 * median(&mut shares)
    );
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}
