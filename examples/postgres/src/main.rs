//! Encrypted columns in PostgreSQL, end to end:
//!
//!     cargo run -p example-postgres
//!
//! It starts a throwaway PostgreSQL (the machine's `initdb` and `pg_ctl`,
//! on a free loopback port; never a database of yours, since it empties
//! its table) and makes throwaway keys, and says so. It stores customers,
//! shows a row as the database holds it, finds a customer by email, makes
//! new keys primary, re-encrypts the table with the rotation job and
//! finds the customer again.
//!
//!     example-postgres rotate [--batch N] [--pause-ms MS]
//!
//! runs one worker of the rotation job against `DATABASE_URL` (a
//! `postgres://` URL) with the keys in the environment: what an operator
//! would schedule. Start it on as many machines or processes as the
//! database can serve; the workers share the table's batches. The table
//! is rotated when a worker ends saying "the run is complete" (or every
//! worker has exited with success).

mod server;
mod store;

use std::time::Duration;

use encrypted_fields::{Encrypt, EnvKeyring, ExposeSecret, KeySize, Keyring, generate_key};
use store::{Customer, Failure};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = runtime.map_err(Failure::from).and_then(|runtime| {
        runtime.block_on(async {
            match args.first().map(String::as_str) {
                None => demo().await,
                Some("rotate") => rotate_job(&args[1..]).await,
                Some(_) => {
                    Err("usage: example-postgres [rotate [--batch N] [--pause-ms MS]]".into())
                }
            }
        })
    });
    if let Err(error) = result {
        eprintln!("example-postgres: {error}");
        std::process::exit(1);
    }
}

/// `rotate`: the job alone, as an operator runs it.
async fn rotate_job(args: &[String]) -> Result<(), Failure> {
    let mut batch = 500;
    let mut pause = Duration::ZERO;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse::<u64>().ok());
        match (arg.as_str(), value) {
            ("--batch", Some(n)) if n > 0 => batch = i64::try_from(n)?,
            ("--pause-ms", Some(ms)) => pause = Duration::from_millis(ms),
            _ => return Err(format!("bad argument {arg}").into()),
        }
    }
    let url = std::env::var("DATABASE_URL").map_err(|_| "DATABASE_URL is not set")?;
    let keyring = EnvKeyring::from_env()?;
    keyring.require(Customer::KEY_ALIASES)?;
    let db = store::connect(&url).await?;
    let run = store::rotate(
        &db,
        &keyring,
        batch,
        pause,
        |first_id, last_id, seen, rewritten| {
            println!(
                "committed batch of ids {}: {seen} rows seen, {rewritten} re-encrypted",
                ids(first_id, last_id)
            );
        },
    )
    .await?;
    let state = if run.complete {
        "the run is complete"
    } else {
        "other workers still hold batches of the run"
    };
    println!(
        "worker done, {state}: {} of {} batches were done when it started; \
         it committed {} batches, {} rows seen, {} re-encrypted",
        run.done_before, run.planned, run.batches, run.rows_seen, run.rows_rewritten
    );
    Ok(())
}

/// A batch's ids as a range; the first and last batch are open-ended.
fn ids(first: i64, last: i64) -> String {
    match (first, last) {
        (i64::MIN, i64::MAX) => "..".to_owned(),
        (i64::MIN, last) => format!("..={last}"),
        (first, i64::MAX) => format!("{first}.."),
        (first, last) => format!("{first}..={last}"),
    }
}

fn keys(pii: &str, banking: &str) -> Result<EnvKeyring, encrypted_fields::Error> {
    EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", pii),
        ("ENCRYPTED_FIELDS_KEY_BANKING", banking),
    ])
}

async fn demo() -> Result<(), Failure> {
    let server = server::Postgres::start()?;
    println!(
        "started a throwaway PostgreSQL for this run ({})",
        server.url
    );
    let url = server.url.clone();
    println!("making throwaway demo keys for this run only (pii, banking)\n");
    let (old_pii, old_banking) = (generate_key(KeySize::Aes256), generate_key(KeySize::Aes256));
    let keyring = keys(old_pii.expose_secret(), old_banking.expose_secret())?;
    let db = store::connect(&url).await?;
    store::create_schema(&db).await?;
    sqlx::query("TRUNCATE customers").execute(&db).await?;
    store::insert(&db, &keyring, &store::customers(1_000)).await?;
    println!(
        "stored 1000 customers; row 42 as the database holds it:\n{}\n",
        store::raw_row(&db, 42).await?
    );

    let found = store::find_by_email(&db, &keyring, "user42@example.com").await?;
    println!(
        "WHERE email_lookup = ANY(<envelopes under every pii key>) found: {:?}",
        names(&found)
    );

    // New primaries; the old keys stay to read what is not rotated yet.
    let (new_pii, new_banking) = (generate_key(KeySize::Aes256), generate_key(KeySize::Aes256));
    let rotated = keys(
        &format!("{},{}", new_pii.expose_secret(), old_pii.expose_secret()),
        &format!(
            "{},{}",
            new_banking.expose_secret(),
            old_banking.expose_secret()
        ),
    )?;
    let before = store::find_by_email(&db, &rotated, "user42@example.com").await?;
    println!(
        "after making new keys primary, before re-encrypting: {:?}",
        names(&before)
    );
    let run = store::rotate(&db, &rotated, 250, Duration::ZERO, |_, _, _, _| {}).await?;
    println!(
        "rotation job: {} batches, {} rows seen, {} re-encrypted",
        run.batches, run.rows_seen, run.rows_rewritten
    );
    let new_only = keys(new_pii.expose_secret(), new_banking.expose_secret())?;
    let after = store::find_by_email(&db, &new_only, "user42@example.com").await?;
    println!(
        "after rotation, with the old keys dropped: {:?}",
        names(&after)
    );
    let all = store::all(&db, &new_only).await?;
    println!(
        "all {} rows decrypt under the new keys alone: {}",
        all.len(),
        all == store::customers(1_000)
    );
    println!("\nrow 42 now:\n{}", store::raw_row(&db, 42).await?);
    Ok(())
}

fn names(customers: &[Customer]) -> Vec<&str> {
    customers.iter().map(|c| c.name.as_str()).collect()
}
