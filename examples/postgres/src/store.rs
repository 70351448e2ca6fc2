//! The `customers` table: the companion type's envelopes, each bound to its
//! row's `id`, in text columns (`email`, `address`) and in a `bytea` column
//! (`iban`, the raw envelope bytes); a deterministic `email_lookup` column
//! to find rows by email, matching every key version; and a rotation job
//! that re-encrypts the table in batches, each in one transaction with the
//! mark that it is done, with as many workers as you start. Through sqlx:
//! the companion derives `sqlx::FromRow`, and its `Sealed<T>` fields are
//! the columns (the `sqlx-postgres` feature).
//!
//! Why two email columns: a deterministic envelope is the same in every
//! row, so it cannot be bound to one (lookups would stop matching). The
//! bound `email` envelope is what the row's email is; `email_lookup` only
//! finds candidate rows, and a row is returned only if its bound email is
//! the one looked up. Moving an envelope to another row (`UPDATE ... SET
//! email = (SELECT email ... WHERE id = 2) WHERE id = 1`) makes that row
//! fail to decrypt, naming it and the field.

use std::time::Duration;

use encrypted_fields::{Binding, Decrypt, Encrypt, Keyring, Nonce, RecordBinding, Sealed};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgPool, PgPoolOptions};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(context = "customer", derive(sqlx::FromRow))]
pub struct Customer {
    #[encrypt(bind)]
    pub id: i64,
    pub name: String,
    #[encrypt(key = "pii")]
    pub email: String,
    #[encrypt(key = "pii")]
    pub address: String,
    #[encrypt(key = "banking")]
    pub iban: String,
}

/// A stored row: the companion's columns and the lookup column.
#[derive(sqlx::FromRow)]
struct Stored {
    #[sqlx(flatten)]
    customer: EncryptedCustomer,
    email_lookup: Sealed<String>,
}

/// The bindings of the columns, as the derive binds the fields (then in
/// the row's record, see `record`); `email_lookup` is the deterministic
/// lookup column, bound to no row.
const EMAIL: Binding<'static> = Binding::new("pii", "customer", "email");
const EMAIL_LOOKUP: Binding<'static> = Binding::new("pii", "customer", "email_lookup");
const ADDRESS: Binding<'static> = Binding::new("pii", "customer", "address");
const IBAN: Binding<'static> = Binding::new("banking", "customer", "iban");
const JOB: &str = "rotate-customers";

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// A pool of connections to `url` (`postgres://user@host:port/db`).
pub async fn connect(url: &str) -> Result<PgPool, Failure> {
    Ok(PgPoolOptions::new().max_connections(2).connect(url).await?)
}

/// Demo customers `1..=count`: not real people.
pub fn customers(count: i64) -> Vec<Customer> {
    (1..=count)
        .map(|id| Customer {
            id,
            name: format!("Customer {id}"),
            email: format!("user{id}@example.com"),
            address: format!("{id} Main St, Springfield"),
            iban: format!("DE89370400440{id:09}"),
        })
        .collect()
}

pub async fn create_schema(db: &PgPool) -> Result<(), Failure> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS customers (
             id      BIGINT PRIMARY KEY,
             name    TEXT NOT NULL,
             email   TEXT NOT NULL,   -- envelope bound to the row, base64url
             address TEXT NOT NULL,   -- envelope bound to the row, base64url
             iban    BYTEA NOT NULL,  -- envelope bound to the row, raw bytes
             email_lookup TEXT NOT NULL -- deterministic envelope, for lookups
         );
         CREATE INDEX IF NOT EXISTS customers_email_lookup ON customers (email_lookup);
         CREATE TABLE IF NOT EXISTS rotation_batches (
             job      TEXT NOT NULL,
             target   TEXT NOT NULL,   -- the primary key ids it rotates to
             first_id BIGINT NOT NULL, -- the ids first_id..=last_id; the
             last_id  BIGINT NOT NULL, -- batches tile every possible id
             done     BOOLEAN NOT NULL DEFAULT false,
             PRIMARY KEY (job, first_id)
         );",
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Inserts customers, sealed, in one statement per row.
pub async fn insert(
    db: &PgPool,
    keyring: &dyn Keyring,
    customers: &[Customer],
) -> Result<(), Failure> {
    for customer in customers {
        let row = customer.encrypt(keyring)?;
        let lookup = Sealed::seal_with(
            keyring,
            &EMAIL_LOOKUP,
            &customer.email,
            Nonce::Deterministic,
        )?;
        sqlx::query(
            "INSERT INTO customers (id, name, email, address, iban, email_lookup)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.id)
        .bind(&row.name)
        .bind(&row.email)
        .bind(&row.address)
        // A bytea column takes the raw envelope.
        .bind(row.iban.as_bytes())
        .bind(&lookup)
        .execute(db)
        .await?;
    }
    Ok(())
}

/// What the row's envelopes are bound to: its `id`, as `#[encrypt(bind)]`
/// binds it (the JSON text of the value).
fn record(id: i64) -> Result<RecordBinding, encrypted_fields::Error> {
    let mut record = RecordBinding::new();
    record.push_type("customer", &[("id", &id.to_string())])?;
    Ok(record)
}

/// Decrypts a row; an error names the row, and the field that failed.
fn open(row: EncryptedCustomer, keyring: &dyn Keyring) -> Result<Customer, Failure> {
    let id = row.id;
    Ok(row
        .decrypt(keyring)
        .map_err(|e| format!("customer {id}: {e}"))?)
}

/// The customers with this email: rows whose lookup envelope is the
/// email's under any key of `pii` (so rows not yet rotated are found too),
/// kept only if their bound `email` opens to it.
pub async fn find_by_email(
    db: &PgPool,
    keyring: &dyn Keyring,
    email: &str,
) -> Result<Vec<Customer>, Failure> {
    let envelopes = Sealed::seal_for_lookup(keyring, &EMAIL_LOOKUP, &email.to_owned())?;
    let rows: Vec<EncryptedCustomer> =
        sqlx::query_as("SELECT * FROM customers WHERE email_lookup = ANY($1) ORDER BY id")
            .bind(envelopes)
            .fetch_all(db)
            .await?;
    let mut found = Vec::new();
    for row in rows {
        let customer = open(row, keyring)?;
        if customer.email == email {
            found.push(customer);
        }
    }
    Ok(found)
}

/// Every customer, decrypted, in id order.
pub async fn all(db: &PgPool, keyring: &dyn Keyring) -> Result<Vec<Customer>, Failure> {
    let rows: Vec<EncryptedCustomer> = sqlx::query_as("SELECT * FROM customers ORDER BY id")
        .fetch_all(db)
        .await?;
    rows.into_iter().map(|row| open(row, keyring)).collect()
}

/// One stored row as text, to show what the database holds.
pub async fn raw_row(db: &PgPool, id: i64) -> Result<String, Failure> {
    let (id, name, email, address, iban, email_lookup): (i64, String, String, String, String, String) =
        sqlx::query_as(
            "SELECT id, name, email, address, encode(iban, 'hex'), email_lookup FROM customers WHERE id = $1",
        )
        .bind(id)
        .fetch_one(db)
        .await?;
    Ok(format!(
        "id={id} name={name} email={email} address={address} iban=\\x{iban} email_lookup={email_lookup}"
    ))
}

/// The primary key ids a rotation moves every envelope to.
fn target(keyring: &dyn Keyring) -> Result<String, Failure> {
    let ids: Vec<String> = Customer::KEY_ALIASES
        .iter()
        .map(|alias| {
            keyring
                .key_set(alias)
                .map(|set| format!("{alias}:{}", set.primary().id()))
                .ok_or_else(|| format!("no key for alias `{alias}`"))
        })
        .collect::<Result<_, _>>()?;
    Ok(ids.join(","))
}

/// What one worker of a rotation did.
#[derive(Debug, Default, PartialEq)]
pub struct Rotation {
    /// Batches of the run already committed, by any worker, when this one
    /// started (0 for a worker that starts a run, or joins one before its
    /// first batch is committed).
    pub done_before: usize,
    /// Batches in the run's plan.
    pub planned: usize,
    /// Batches this worker committed.
    pub batches: usize,
    pub rows_seen: usize,
    pub rows_rewritten: usize,
    /// Whether every batch of the run was done when this worker stopped:
    /// only then is the table under the new primaries. A worker that finds
    /// nothing left to claim while others still hold batches stops with
    /// this false; if one of those is killed, its batch waits for the
    /// next run.
    pub complete: bool,
}

/// One worker of the rotation job: re-seals every envelope not under its
/// alias's current primary key, batch by batch, alongside any number of
/// other workers running this on the same database, here or on other
/// machines. No coordinator: the first worker plans the run as batches
/// of `batch` rows by id, in a table; each worker then claims the next
/// batch nobody holds (`FOR UPDATE SKIP LOCKED`), rewrites its rows and
/// marks it done in one transaction. A worker killed at any point loses
/// only its open transaction: its batch goes back to the others, or to
/// the next run. Within a run each row is rewritten in exactly one
/// committed batch, and re-sealing an envelope already under the primary
/// is a no-op. A worker towards other primaries than a run whose workers
/// are alive refuses to start (see [`plan`]). `on_batch` hears about each
/// committed batch (its first and last id, the rows seen and the rows
/// rewritten); `pause` between batches limits the load.
pub async fn rotate(
    db: &PgPool,
    keyring: &dyn Keyring,
    batch: i64,
    pause: Duration,
    mut on_batch: impl FnMut(i64, i64, usize, usize),
) -> Result<Rotation, Failure> {
    if batch < 1 {
        return Err(format!("a batch of {batch} rows: it takes at least one").into());
    }
    let target = target(keyring)?;
    // Held for as long as this worker lives, on a connection of its own
    // (closed, and so released, when the worker stops or dies): the sign
    // that this run has a live worker, which `plan` checks.
    let mut alive = db.acquire().await?.detach();
    sqlx::query("SELECT pg_advisory_lock_shared(hashtext($1))")
        .bind(run_name(&target))
        .execute(&mut alive)
        .await?;
    let (done_before, planned) = plan(db, &target, batch).await?;
    let mut run = Rotation {
        done_before,
        planned,
        ..Rotation::default()
    };
    loop {
        let mut tx = db.begin().await?;
        let claimed: Option<(i64, i64)> = sqlx::query_as(
            "SELECT first_id, last_id FROM rotation_batches
             WHERE job = $1 AND target = $2 AND NOT done
             ORDER BY first_id LIMIT 1 FOR UPDATE SKIP LOCKED",
        )
        .bind(JOB)
        .bind(&target)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((first_id, last_id)) = claimed else {
            tx.commit().await?;
            run.complete = finish(db, &target).await?;
            return Ok(run);
        };
        let rows: Vec<Stored> = sqlx::query_as(
            "SELECT * FROM customers WHERE id BETWEEN $1 AND $2 ORDER BY id FOR UPDATE",
        )
        .bind(first_id)
        .bind(last_id)
        .fetch_all(&mut *tx)
        .await?;
        let seen = rows.len();
        let mut rewritten = 0;
        for Stored {
            customer: mut row,
            email_lookup: mut lookup,
        } in rows
        {
            let id = row.id;
            let fail = |e: encrypted_fields::Error| format!("customer {id}: {e}");
            let record = record(id).map_err(fail)?;
            let bound = |binding: Binding<'static>| binding.in_record(&record);
            let changed = [
                row.email
                    .rotate(keyring, &bound(EMAIL), Nonce::Random)
                    .map_err(fail)?,
                row.address
                    .rotate(keyring, &bound(ADDRESS), Nonce::Random)
                    .map_err(fail)?,
                row.iban
                    .rotate(keyring, &bound(IBAN), Nonce::Random)
                    .map_err(fail)?,
                lookup
                    .rotate(keyring, &EMAIL_LOOKUP, Nonce::Deterministic)
                    .map_err(fail)?,
            ];
            if changed.contains(&true) {
                sqlx::query(
                    "UPDATE customers SET email = $2, address = $3, iban = $4, email_lookup = $5
                     WHERE id = $1",
                )
                .bind(id)
                .bind(&row.email)
                .bind(&row.address)
                .bind(row.iban.as_bytes())
                .bind(&lookup)
                .execute(&mut *tx)
                .await?;
                rewritten += 1;
            }
        }
        sqlx::query("UPDATE rotation_batches SET done = true WHERE job = $1 AND first_id = $2")
            .bind(JOB)
            .bind(first_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        run.batches += 1;
        run.rows_seen += seen;
        run.rows_rewritten += rewritten;
        on_batch(first_id, last_id, seen, rewritten);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
    }
}

/// The name of the run towards `target`, for its advisory lock.
fn run_name(target: &str) -> String {
    format!("{JOB} {target}")
}

/// Plans the run towards `target` unless one is under way: batches of
/// `batch` rows by id, which tile every possible id (so rows inserted
/// later fall in one, once the table has any). A plan towards other
/// primaries is dropped if none of its workers is alive (keys rotated
/// again after a run stopped half way: the rows it marked done are not
/// under these keys); if one is, this worker refuses to start, whether
/// its keys are newer or a stale configuration's, since taking the run
/// over would move rows back and forth between primaries.
/// Returns how many batches are done already, and how many there are.
async fn plan(db: &PgPool, target: &str, batch: i64) -> Result<(usize, usize), Failure> {
    let mut tx = db.begin().await?;
    // One planner at a time; workers starting together find one plan.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind(JOB)
        .execute(&mut *tx)
        .await?;
    let others: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT target FROM rotation_batches WHERE job = $1 AND target <> $2",
    )
    .bind(JOB)
    .bind(target)
    .fetch_all(&mut *tx)
    .await?;
    for other in others {
        // Exclusive, so it fails while any worker of that run holds its
        // shared lock; held until this transaction ends.
        let idle: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext($1))")
            .bind(run_name(&other))
            .fetch_one(&mut *tx)
            .await?;
        if !idle {
            return Err(format!(
                "a rotation towards other primary keys ({other}) has workers running; \
                 this worker's keys make {target} primary. Start it once that run's \
                 workers have stopped, with the keys you mean to keep"
            )
            .into());
        }
    }
    sqlx::query("DELETE FROM rotation_batches WHERE job = $1 AND target <> $2")
        .bind(JOB)
        .bind(target)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "INSERT INTO rotation_batches (job, target, first_id, last_id)
         SELECT $1, $2,
                CASE WHEN n = 0 THEN -9223372036854775808 ELSE min(id) END,
                coalesce(lead(min(id)) OVER (ORDER BY n) - 1, 9223372036854775807)
         FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / $3 AS n FROM customers)
              AS numbered
         WHERE NOT EXISTS (SELECT 1 FROM rotation_batches WHERE job = $1)
         GROUP BY n",
    )
    .bind(JOB)
    .bind(target)
    .bind(batch)
    .execute(&mut *tx)
    .await?;
    let (done, planned): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE done), count(*) FROM rotation_batches WHERE job = $1",
    )
    .bind(JOB)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((usize::try_from(done)?, usize::try_from(planned)?))
}

/// Ends the run once every batch is done, so the next run starts over
/// (and finds nothing to change), and says whether it is. A batch another
/// worker still holds is not done, so the last worker to finish ends it.
async fn finish(db: &PgPool, target: &str) -> Result<bool, Failure> {
    sqlx::query(
        "DELETE FROM rotation_batches WHERE job = $1
         AND NOT EXISTS (SELECT 1 FROM rotation_batches WHERE job = $1 AND NOT done)",
    )
    .bind(JOB)
    .execute(db)
    .await?;
    let undone: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM rotation_batches WHERE job = $1 AND target = $2 AND NOT done)",
    )
    .bind(JOB)
    .bind(target)
    .fetch_one(db)
    .await?;
    Ok(!undone)
}
