//! The rotation job with one worker and with two, on one table, in one run
//! (BENCHMARKS.md, "Scaling out"): a throwaway PostgreSQL, 20,000 rows, each
//! run timed from the workers' start to the last one's exit. Workers are
//! separate processes of `example-postgres rotate`, as an operator starts
//! them; between runs the table is rotated back (not timed).
//!
//!     cargo bench -p example-postgres --bench workers

#[path = "../src/server.rs"]
mod server;
#[path = "../src/store.rs"]
#[allow(
    dead_code,
    reason = "the bench uses the schema, inserts and rotation only"
)]
mod store;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use encrypted_fields::{EnvKeyring, ExposeSecret, KeySize, generate_key};

const ROWS: i64 = 20_000;

fn env(pii: String, banking: String) -> [(&'static str, String); 2] {
    [
        ("ENCRYPTED_FIELDS_KEY_PII", pii),
        ("ENCRYPTED_FIELDS_KEY_BANKING", banking),
    ]
}

fn main() {
    let server = server::Postgres::start().unwrap();
    let key = || generate_key(KeySize::Aes256).expose_secret().to_owned();
    let (a, b) = ((key(), key()), (key(), key()));
    // Towards b (a still opens what is not rotated yet), and back to a.
    let to_b = env(format!("{},{}", b.0, a.0), format!("{},{}", b.1, a.1));
    let to_a = env(format!("{},{}", a.0, b.0), format!("{},{}", a.1, b.1));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = rt.block_on(async {
        let db = store::connect(&server.url).await.unwrap();
        store::create_schema(&db).await.unwrap();
        let keyring = EnvKeyring::from_vars(env(a.0.clone(), a.1.clone())).unwrap();
        store::insert(&db, &keyring, &store::customers(ROWS))
            .await
            .unwrap();
        db
    });
    let run = |workers: usize| -> Duration {
        let start = Instant::now();
        let children: Vec<_> = (0..workers)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_example-postgres"))
                    .args(["rotate", "--batch", "500"])
                    .env_clear()
                    .envs(
                        std::env::var_os("ENCRYPTED_FIELDS_CIPHER")
                            .map(|v| ("ENCRYPTED_FIELDS_CIPHER", v)),
                    )
                    .env("DATABASE_URL", &server.url)
                    .envs(to_b.clone())
                    .stdout(Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut child in children {
            assert!(child.wait().unwrap().success());
        }
        let elapsed = start.elapsed();
        rt.block_on(async {
            let back = EnvKeyring::from_vars(to_a.clone()).unwrap();
            let run = store::rotate(&db, &back, 500, Duration::ZERO, |_, _, _, _| {})
                .await
                .unwrap();
            assert_eq!(run.rows_rewritten, ROWS as usize);
        });
        elapsed
    };
    run(1); // warm the table, the caches and the binary
    for round in 1..=3 {
        let one = run(1);
        let two = run(2);
        println!(
            "round {round}: 1 worker {:.2} s, 2 workers {:.2} s: {:.2}x",
            one.as_secs_f64(),
            two.as_secs_f64(),
            one.as_secs_f64() / two.as_secs_f64()
        );
    }
}
