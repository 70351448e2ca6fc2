//! Encrypted columns in a real PostgreSQL, started by the test on a free
//! loopback port: lookups across key versions, envelopes bound to their
//! row, and two rotation workers sharing a table, one killed half way,
//! without a row lost or encrypted twice.

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

        // A plan left by a run towards other primaries is dropped: the
        // batch it marked done is not under the keys this run rotates to.
        sqlx::query(
            "INSERT INTO rotation_batches VALUES
             ('rotate-customers', 'pii:00000000,banking:00000000', -9223372036854775808, 150, true)",
        )
        .execute(&db)
        .await
        .unwrap();
        let run = store::rotate(&db, &keyring(keys.rotating()), 64, Duration::ZERO, |_, _, _, _| {})
            .await
            .unwrap();
        assert_eq!((run.batches, run.rows_seen, run.rows_rewritten), (4, 200, 200));
        assert_eq!((run.done_before, run.planned, run.complete), (0, 4, true));
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM rotation_batches")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(left, 0, "a finished run leaves no plan behind");
        assert_eq!(find(&db, keys.new_only()).await, [store::customers(200)[41].clone()]);
        assert!(find(&db, keys.old()).await.is_empty(), "no row is left under the old key");
        assert!(store::find_by_email(&db, &keyring(keys.new_only()), "nobody@example.com")
            .await
            .unwrap()
            .is_empty());
    });
}

/// The rows a worker's "committed batch" line says it saw and re-encrypted.
fn batch_counts(line: &str) -> (usize, usize) {
    let counts = line
        .strip_prefix("committed batch of ids ")
        .and_then(|rest| rest.split_once(": "))
        .and_then(|(_, counts)| counts.strip_suffix(" re-encrypted"))
        .and_then(|counts| counts.split_once(" rows seen, "))
        .unwrap_or_else(|| panic!("not a batch line: {line}"));
    (counts.0.parse().unwrap(), counts.1.parse().unwrap())
}

fn sum(counts: impl Iterator<Item = (usize, usize)>) -> (usize, usize) {
    counts.fold((0, 0), |(s, r), (seen, rewritten)| {
        (s + seen, r + rewritten)
    })
}

#[test]
fn workers_share_a_rotation_and_one_killed_half_way_loses_nothing() {
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
            // The cipher backend this test run uses (README: both are run).
            .envs(
                std::env::var_os("ENCRYPTED_FIELDS_CIPHER").map(|v| ("ENCRYPTED_FIELDS_CIPHER", v)),
            )
            .stdout(Stdio::piped());
        command
    };

    // Two workers on one run of 40 batches; the first is killed (SIGKILL:
    // no cleanup, its open transaction dies with its connection) after
    // three committed batches, while it works on a fourth or pauses.
    let worker = || {
        job(&["--batch", "50", "--pause-ms", "100"])
            .spawn()
            .unwrap()
    };
    let (mut first, second) = (worker(), worker());
    let mut lines = BufReader::new(first.stdout.take().unwrap()).lines();
    let mut first_lines = Vec::new();
    for _ in 0..3 {
        first_lines.push(lines.next().unwrap().unwrap());
    }
    first.kill().unwrap();
    first.wait().unwrap();
    // Anything it committed and printed before it died.
    first_lines.extend(lines.map(Result::unwrap));
    let (first_seen, first_rewrote) = sum(first_lines.iter().map(|l| batch_counts(l)));

    // The second finishes the run, the first's abandoned batch included.
    let output = second.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let (batches, summary) = stdout.trim_end().rsplit_once('\n').unwrap();
    let (second_seen, second_rewrote) = sum(batches.lines().map(batch_counts));
    assert!(
        second_rewrote > 0,
        "the second worker took batches: {stdout}"
    );
    assert!(
        summary.starts_with("worker done, the run is complete: ")
            && summary.ends_with(&format!(", {second_rewrote} re-encrypted")),
        "{summary}"
    );
    // Every row was in exactly one committed batch, and re-encrypted there.
    let rows = usize::try_from(ROWS).unwrap();
    assert_eq!(first_seen + second_seen, rows, "{first_lines:?} {stdout}");
    assert_eq!(
        first_rewrote + second_rewrote,
        rows,
        "{first_lines:?} {stdout}"
    );

    rt.block_on(async {
        let db = store::connect(&server.url).await.unwrap();
        // Every row opens under the new keys alone, exactly as inserted:
        // none lost, none sealed twice.
        assert_eq!(
            store::all(&db, &keyring(keys.new_only())).await.unwrap(),
            store::customers(ROWS)
        );
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM rotation_batches")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(left, 0, "the last worker ended the run");
    });
    // A new run plans afresh and finds nothing to do.
    let again = String::from_utf8(job(&[]).output().unwrap().stdout).unwrap();
    assert!(
        again.trim_end().ends_with(
            "the run is complete: 0 of 4 batches were done when it started; \
             it committed 4 batches, 2000 rows seen, 0 re-encrypted"
        ),
        "{again}"
    );

    // While a run has a live worker, a worker whose keys make other keys
    // primary (here a stale configuration, the old keys first) refuses to
    // start: taking the run over would move rows back. Once the run's
    // workers are gone, it plans afresh and rotates the table to its keys.
    let reverting: Vec<(&str, String)> = keys
        .rotating()
        .into_iter()
        .map(|(name, value)| {
            let (new, old) = value.split_once(',').unwrap();
            (name, format!("{old},{new}"))
        })
        .collect();
    let mut slow = job(&["--batch", "50", "--pause-ms", "500"])
        .spawn()
        .unwrap();
    let mut slow_lines = BufReader::new(slow.stdout.take().unwrap()).lines();
    batch_counts(&slow_lines.next().unwrap().unwrap());
    let mut stale = job(&[]);
    let refused = stale.envs(reverting.clone()).output().unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("has workers running"), "{stderr}");
    assert!(refused.stdout.is_empty(), "no batch committed");
    slow.kill().unwrap();
    slow.wait().unwrap();
    let mut stale = job(&[]);
    let taken_over = stale.envs(reverting).output().unwrap();
    let stdout = String::from_utf8_lossy(&taken_over.stdout);
    assert!(taken_over.status.success(), "{taken_over:?}");
    assert!(
        stdout
            .trim_end()
            .ends_with("2000 rows seen, 2000 re-encrypted"),
        "{stdout}"
    );
    rt.block_on(async {
        let db = store::connect(&server.url).await.unwrap();
        assert_eq!(
            store::all(&db, &keyring(keys.old())).await.unwrap(),
            store::customers(ROWS)
        );
    });

    // A job whose keyring lacks an alias of the table is refused before it
    // reads a row: success would say the old keys can go.
    let pii_only = Command::new(env!("CARGO_BIN_EXE_example-postgres"))
        .arg("rotate")
        .env_clear()
        .env("DATABASE_URL", &server.url)
        .envs(std::env::var_os("ENCRYPTED_FIELDS_CIPHER").map(|v| ("ENCRYPTED_FIELDS_CIPHER", v)))
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
