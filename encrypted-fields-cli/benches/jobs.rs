//! `rotate --jobs 2` against `--jobs 1` on 200,000 records, and the
//! ceiling this machine sets: two independent `--jobs 1` runs at once,
//! which share nothing but the cores. Rounds alternate the three, so a
//! noisy spell on a shared machine hits each alike.
//!
//! ```sh
//! cargo bench -p encrypted-fields-cli --bench jobs [-- ROUNDS]
//! ```
//!
//! Not criterion: each sample is a whole process over a file (about two
//! seconds), and the figure wanted is a ratio of runs made side by side.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use encrypted_fields::{Encrypt, EnvKeyring, ExposeSecret, KeySize, generate_key};

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
    let mut file = std::io::BufWriter::new(std::fs::File::create(&input).expect("input"));
    for id in 0..RECORDS {
        let sealed = customer::customer(id).encrypt(&old).expect("seal");
        serde_json::to_writer(&mut file, &sealed).expect("write");
        file.write_all(b"\n").expect("write");
    }
    file.flush().expect("write");
    drop(file);
    // New primaries first, the old keys still there to open the input.
    let env = [
        ("ENCRYPTED_FIELDS_KEY_PII", format!("{new_pii},{old_pii}")),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            format!("{new_banking},{old_banking}"),
        ),
    ];
    let rotate = |jobs: usize, out: &str| -> Child {
        Command::new(env!("CARGO_BIN_EXE_encrypted-fields"))
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
            .stderr(Stdio::null())
            .spawn()
            .expect("the encrypted-fields binary")
    };
    let timed = |children: Vec<Child>| {
        let started = Instant::now();
        for mut child in children {
            assert!(child.wait().expect("wait").success(), "rotate failed");
        }
        started.elapsed().as_secs_f64()
    };
    let clean = |dir: &Path| {
        for out in ["a", "b"] {
            let _ = std::fs::remove_file(dir.join(out));
        }
    };

    println!(
        "{RECORDS} records, two fields each; seconds per run\n\
         round  1 job  2 jobs  speed-up  two 1-job runs at once  machine's ceiling  of ceiling"
    );
    let (mut speedups, mut ceilings) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        clean(dir.path());
        let one = timed(vec![rotate(1, "a")]);
        clean(dir.path());
        let two = timed(vec![rotate(2, "a")]);
        clean(dir.path());
        let pair = timed(vec![rotate(1, "a"), rotate(1, "b")]);
        // Two runs' work in `pair` seconds, against one run's in `one`.
        let (speedup, ceiling) = (one / two, 2.0 * one / pair);
        println!(
            "{round:>5}  {one:>5.2}  {two:>6.2}  {speedup:>7.2}x  {pair:>22.2}  {ceiling:>16.2}x  {:>9.0}%",
            100.0 * speedup / ceiling
        );
        speedups.push(speedup);
        ceilings.push(ceiling);
    }
    println!(
        "median speed-up {:.2}x; median ceiling {:.2}x",
        median(&mut speedups),
        median(&mut ceilings)
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
