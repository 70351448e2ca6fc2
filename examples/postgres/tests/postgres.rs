//! Encrypted columns in a real PostgreSQL, started by the test on a free
//! loopback port: lookups across key versions, envelopes bound to their
//! row, and a rotation job killed half way that resumes without losing or
//! double-encrypting a row.

#[path = "common/keys.rs"]
mod keys;
#[path = "../src/server.rs"]
mod server;
#[path = "../src/store.rs"]
mod store;

use keys::{Env, Keys, keyring};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use sqlx::PgPool;
use store::Customer;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn find(db: &PgPool, env: Env) -> Vec<Customer> {
    store::find_by_email(db, &keyring(env), "user42@example.com")
        .await
        .unwrap()
}

#[test]
fn columns_hold_envelopes_and_lookups_match_every_key_version() {
    let server = server::Postgres::start().unwrap();
    let keys = Keys::new();
    runtime().block_on(async {
        let db = store::connect(&server.url).await.unwrap();
        store::create_schema(&db).await.unwrap();
        store::insert(&db, &keyring(keys.old()), &store::customers(200)).await.unwrap();

        let raw = store::raw_row(&db, 42).await.unwrap();
        for plaintext in ["user42@example.com", "42 Main St", "DE89370400440000000042"] {
            assert!(!raw.contains(plaintext), "{raw}");
        }
        let types: Vec<String> = sqlx::query_scalar(
            "SELECT data_type::text FROM information_schema.columns WHERE table_name = 'customers' ORDER BY ordinal_position",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        assert_eq!(types, ["bigint", "text", "text", "text", "bytea", "text"]);

        assert_eq!(find(&db, keys.old()).await, [store::customers(200)[41].clone()]);
        // New primaries: rows not yet rotated are still found.
        assert_eq!(find(&db, keys.rotating()).await.len(), 1);
        assert!(find(&db, keys.new_only()).await.is_empty());

        // A checkpoint left by a run towards other primaries is ignored:
        // the rows before it are not under the keys this run rotates to.
        sqlx::query(
            "INSERT INTO rotation_checkpoints VALUES ('rotate-customers', 'pii:00000000,banking:00000000', 150)",
        )
        .execute(&db)
        .await
        .unwrap();
        let run = store::rotate(&db, &keyring(keys.rotating()), 64, Duration::ZERO, |_, _| {})
            .await
            .unwrap();
        assert_eq!((run.batches, run.rows_seen, run.rows_rewritten), (4, 200, 200));
        assert_eq!(run.resumed_after, i64::MIN);
        assert_eq!(find(&db, keys.new_only()).await, [store::customers(200)[41].clone()]);
        assert!(find(&db, keys.old()).await.is_empty(), "no row is left under the old key");
        assert!(store::find_by_email(&db, &keyring(keys.new_only()), "nobody@example.com")
            .await
            .unwrap()
            .is_empty());
    });
}

#[test]
fn an_interrupted_rotation_resumes_and_loses_nothing() {
    const ROWS: i64 = 2_000;
    let server = server::Postgres::start().unwrap();
    let keys = Keys::new();
    let rt = runtime();
    rt.block_on(async {
        let db = store::connect(&server.url).await.unwrap();
        store::create_schema(&db).await.unwrap();
        store::insert(&db, &keyring(keys.old()), &store::customers(ROWS))
            .await
            .unwrap();
    });
    let job = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_example-postgres"));
        command
            .arg("rotate")
            .args(args)
            .env_clear()
            .env("DATABASE_URL", &server.url)
            .envs(keys.rotating())
            .stdout(Stdio::piped());
        command
    };

    // Kill the job (SIGKILL: no cleanup) after five committed batches.
    let mut child = job(&["--batch", "50", "--pause-ms", "40"]).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for _ in 0..5 {
        let line = lines.next().unwrap().unwrap();
        assert!(line.starts_with("committed batch up to id"), "{line}");
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let checkpoint: i64 = rt.block_on(async {
        let db = store::connect(&server.url).await.unwrap();
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM customers")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(count, ROWS);
        sqlx::query_scalar("SELECT last_id FROM rotation_checkpoints")
            .fetch_one(&db)
            .await
            .unwrap()
    });
    assert!(
        (250..ROWS).contains(&checkpoint),
        "stopped half way: {checkpoint}"
    );

    // Run again: it resumes after the checkpoint and finishes.
    let output = job(&["--batch", "50"]).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let summary = stdout.lines().last().unwrap();
    assert!(
        summary.starts_with(&format!("rotation done: resumed after id {checkpoint}")),
        "{summary}"
    );
    let rewritten: i64 = summary
        .rsplit(", ")
        .next()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(rewritten, ROWS - checkpoint, "{summary}");

    rt.block_on(async {
        let db = store::connect(&server.url).await.unwrap();
        // Every row opens under the new keys alone, exactly as inserted:
        // none lost, none sealed twice.
        assert_eq!(
            store::all(&db, &keyring(keys.new_only())).await.unwrap(),
            store::customers(ROWS)
        );
    });
    // A third run finds nothing to do.
    let again = String::from_utf8(job(&[]).output().unwrap().stdout).unwrap();
    assert!(
        again.trim_end().ends_with("2000 rows seen, 0 re-encrypted"),
        "{again}"
    );

    // A job whose keyring lacks an alias of the table is refused before it
    // reads a row: success would say the old keys can go.
    let pii_only = Command::new(env!("CARGO_BIN_EXE_example-postgres"))
        .arg("rotate")
        .env_clear()
        .env("DATABASE_URL", &server.url)
        .envs(
            keys.rotating()
                .into_iter()
                .filter(|(name, _)| name.ends_with("_PII")),
        )
        .output()
        .unwrap();
    assert!(!pii_only.status.success());
    let stderr = String::from_utf8_lossy(&pii_only.stderr);
    assert!(stderr.contains("`banking`"), "{stderr}");
    assert!(pii_only.stdout.is_empty(), "no batch committed");
}

/// Each envelope is bound to its row's `id`: one moved to another row with
/// SQL fails to decrypt, naming the row and the field; a lookup column
/// moved to another row finds nothing, as the row's bound email differs.
#[test]
fn an_envelope_moved_to_another_row_fails_naming_the_row_and_field() {
    let server = server::Postgres::start().unwrap();
    let keys = Keys::new();
    runtime().block_on(async {
        let db = store::connect(&server.url).await.unwrap();
        store::create_schema(&db).await.unwrap();
        store::insert(&db, &keyring(keys.old()), &store::customers(3))
            .await
            .unwrap();
        // The column names are this test's own.
        let swap = |column: &str| {
            sqlx::AssertSqlSafe(format!(
                "UPDATE customers AS c SET {column} = o.{column} FROM customers AS o
                 WHERE (c.id, o.id) IN ((1, 2), (2, 1))"
            ))
        };
        let restore = |column: &str| swap(column);

        for column in ["email", "address", "iban"] {
            sqlx::raw_sql(swap(column)).execute(&db).await.unwrap();
            let error = store::all(&db, &keyring(keys.old()))
                .await
                .unwrap_err()
                .to_string();
            assert!(error.starts_with("customer 1: "), "{column}: {error}");
            assert!(
                error.contains(&format!("field `{column}`")),
                "{column}: {error}"
            );
            assert!(error.contains("bound to its record"), "{column}: {error}");
            assert!(!error.contains("example.com"), "{error}");
            sqlx::raw_sql(restore(column)).execute(&db).await.unwrap();
        }
        assert_eq!(
            store::all(&db, &keyring(keys.old())).await.unwrap(),
            store::customers(3)
        );

        // The lookup column is deterministic and bound to no row, so it can
        // be moved; the rows it then points to are not returned.
        sqlx::raw_sql(swap("email_lookup"))
            .execute(&db)
            .await
            .unwrap();
        let found = store::find_by_email(&db, &keyring(keys.old()), "user1@example.com")
            .await
            .unwrap();
        assert!(found.is_empty(), "{found:?}");
    });
}
