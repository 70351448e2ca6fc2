//! `Sealed<T>` as an sqlx column type (features `sqlx`, `sqlx-postgres`),
//! against a real PostgreSQL started by the test and an SQLite file: text
//! and binary columns (bytea, BLOB), a row type deriving `sqlx::FromRow`
//! with sealed columns, a deterministic lookup matching every key version,
//! rotation in place, and a column holding garbage reported as a decode
//! error naming the column, never a panic or the value.

#[path = "common/keys.rs"]
mod keys;
#[path = "../src/server.rs"]
mod server;

use encrypted_fields::{Binding, EnvKeyring, Keyring, Nonce, Sealed};
use keys::{Keys, keyring};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Connection, FromRow, PgConnection, SqliteConnection};

const EMAIL: Binding<'static> = Binding::new("pii", "customer", "email");
const EMAIL_LOOKUP: Binding<'static> = Binding::new("pii", "customer", "email_lookup");
const IBAN: Binding<'static> = Binding::new("banking", "customer", "iban");

/// A row as stored: each sealed column decodes to a `Sealed<T>` (the
/// email and lookup from text, the IBAN from bytea or BLOB).
#[derive(FromRow, Debug)]
struct CustomerRow {
    id: i64,
    email: Sealed<String>,
    iban: Sealed<String>,
    email_lookup: Sealed<String>,
}

fn email(id: i64) -> String {
    format!("user{id}@example.com")
}

fn iban(id: i64) -> String {
    format!("DE89370400440{id:09}")
}

/// The sealed columns of customer `id`.
fn seal(keyring: &dyn Keyring, id: i64) -> (Sealed<String>, Sealed<String>, Sealed<String>) {
    (
        Sealed::seal_with(keyring, &EMAIL, &email(id), Nonce::Random).unwrap(),
        Sealed::seal_with(keyring, &IBAN, &iban(id), Nonce::Random).unwrap(),
        Sealed::seal_with(keyring, &EMAIL_LOOKUP, &email(id), Nonce::Deterministic).unwrap(),
    )
}

/// Opens a row's columns; each must be customer `row.id`'s.
fn check(keyring: &dyn Keyring, row: &CustomerRow) {
    assert_eq!(row.email.open(keyring, &EMAIL).unwrap(), email(row.id));
    assert_eq!(row.iban.open(keyring, &IBAN).unwrap(), iban(row.id));
    assert_eq!(
        row.email_lookup.open(keyring, &EMAIL_LOOKUP).unwrap(),
        email(row.id)
    );
}

/// Re-seals a row's columns under the primaries; whether any changed.
fn rotate(keyring: &dyn Keyring, row: &mut CustomerRow) -> bool {
    let changed = [
        row.email.rotate(keyring, &EMAIL, Nonce::Random).unwrap(),
        row.iban.rotate(keyring, &IBAN, Nonce::Random).unwrap(),
        row.email_lookup
            .rotate(keyring, &EMAIL_LOOKUP, Nonce::Deterministic)
            .unwrap(),
    ];
    changed.contains(&true)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn postgres_text_and_bytea_columns_lookups_rotation_and_garbage() {
    let server = server::Postgres::start().unwrap();
    let keys = Keys::new();
    runtime().block_on(async {
        let mut db = PgConnection::connect(&server.url).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE customers (
                 id BIGINT PRIMARY KEY,
                 email TEXT NOT NULL,
                 iban BYTEA NOT NULL,
                 email_lookup TEXT NOT NULL
             )",
        )
        .execute(&mut db)
        .await
        .unwrap();
        let old = keyring(keys.old());
        for id in 1..=3 {
            let (email, iban, lookup) = seal(&old, id);
            sqlx::query("INSERT INTO customers VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(&email)
                // A bytea column takes the raw envelope.
                .bind(iban.as_bytes())
                .bind(&lookup)
                .execute(&mut db)
                .await
                .unwrap();
        }
        let stored: (String, Vec<u8>) =
            sqlx::query_as("SELECT email, iban FROM customers WHERE id = 2")
                .fetch_one(&mut db)
                .await
                .unwrap();
        assert!(!stored.0.contains("user2") && Sealed::<String>::from_text(&stored.0).is_ok());
        assert_eq!(
            Sealed::<String>::from_envelope(stored.1.clone()).as_bytes(),
            stored.1
        );

        let rows: Vec<CustomerRow> = sqlx::query_as("SELECT * FROM customers ORDER BY id")
            .fetch_all(&mut db)
            .await
            .unwrap();
        assert_eq!(rows.len(), 3);
        rows.iter().for_each(|row| check(&old, row));

        // The lookup envelopes of an email under every key of `pii`, bound
        // as a text[]: rows not rotated yet are found with new primaries.
        async fn find(db: &mut PgConnection, keyring: &EnvKeyring) -> Vec<i64> {
            let envelopes = Sealed::seal_for_lookup(keyring, &EMAIL_LOOKUP, &email(2)).unwrap();
            sqlx::query_scalar("SELECT id FROM customers WHERE email_lookup = ANY($1)")
                .bind(envelopes)
                .fetch_all(db)
                .await
                .unwrap()
        }
        assert_eq!(find(&mut db, &keyring(keys.old())).await, [2]);
        assert_eq!(find(&mut db, &keyring(keys.rotating())).await, [2]);
        assert!(find(&mut db, &keyring(keys.new_only())).await.is_empty());

        // Rotation in place, then only the new keys are needed.
        let rotating = keyring(keys.rotating());
        for mut row in rows {
            assert!(rotate(&rotating, &mut row));
            sqlx::query(
                "UPDATE customers SET email = $2, iban = $3, email_lookup = $4 WHERE id = $1",
            )
            .bind(row.id)
            .bind(&row.email)
            .bind(row.iban.as_bytes())
            .bind(&row.email_lookup)
            .execute(&mut db)
            .await
            .unwrap();
        }
        assert_eq!(find(&mut db, &keyring(keys.new_only())).await, [2]);
        let rows: Vec<CustomerRow> = sqlx::query_as("SELECT * FROM customers ORDER BY id")
            .fetch_all(&mut db)
            .await
            .unwrap();
        let new_only = keyring(keys.new_only());
        for mut row in rows {
            check(&new_only, &row);
            assert!(!rotate(&new_only, &mut row), "already under the primaries");
        }

        // Garbage in a sealed column: a decode error naming the column,
        // without the value.
        // Copies of rows 1..3 as 10..12, one spoiled column each.
        sqlx::query(
            "INSERT INTO customers SELECT id + 9, email, iban, email_lookup FROM customers",
        )
        .execute(&mut db)
        .await
        .unwrap();
        for (id, column, update) in [
            (
                10_i64,
                "email",
                "UPDATE customers SET email = 'not an envelope: user9@example.com' WHERE id = 10",
            ),
            (
                11,
                "iban",
                "UPDATE customers SET iban = '\\x00'::bytea WHERE id = 11",
            ),
            // base64url, but not an envelope.
            (
                12,
                "email_lookup",
                "UPDATE customers SET email_lookup = 'AAAA' WHERE id = 12",
            ),
        ] {
            sqlx::query(update).execute(&mut db).await.unwrap();
            let error = sqlx::query_as::<_, CustomerRow>("SELECT * FROM customers WHERE id = $1")
                .bind(id)
                .fetch_one(&mut db)
                .await
                .unwrap_err()
                .to_string();
            assert!(error.contains(&format!("\"{column}\"")), "{error}");
            assert!(!error.contains("user9"), "{error}");
        }
    });
}

#[test]
fn sqlite_text_and_blob_columns_lookups_rotation_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    runtime().block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("customers.db"))
            .create_if_missing(true);
        let mut db = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE customers (
                 id INTEGER PRIMARY KEY,
                 email TEXT NOT NULL,
                 iban BLOB NOT NULL,
                 email_lookup TEXT NOT NULL
             )",
        )
        .execute(&mut db)
        .await
        .unwrap();
        let old = keyring(keys.old());
        for id in 1..=3 {
            let (email, iban, lookup) = seal(&old, id);
            sqlx::query("INSERT INTO customers VALUES (?, ?, ?, ?)")
                .bind(id)
                .bind(&email)
                .bind(iban.as_bytes())
                .bind(&lookup)
                .execute(&mut db)
                .await
                .unwrap();
        }
        let rows: Vec<CustomerRow> = sqlx::query_as("SELECT * FROM customers ORDER BY id")
            .fetch_all(&mut db)
            .await
            .unwrap();
        rows.iter().for_each(|row| check(&old, row));

        // SQLite has no arrays: one placeholder per key version.
        async fn find(db: &mut SqliteConnection, keyring: &EnvKeyring) -> Vec<i64> {
            let envelopes = Sealed::seal_for_lookup(keyring, &EMAIL_LOOKUP, &email(2)).unwrap();
            let marks = vec!["?"; envelopes.len()].join(", ");
            let sql = format!("SELECT id FROM customers WHERE email_lookup IN ({marks})");
            // Only placeholders are formatted in.
            let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
            for envelope in envelopes {
                query = query.bind(envelope);
            }
            query.fetch_all(db).await.unwrap()
        }
        assert_eq!(find(&mut db, &keyring(keys.rotating())).await, [2]);
        let rotating = keyring(keys.rotating());
        for mut row in rows {
            assert!(rotate(&rotating, &mut row));
            sqlx::query("UPDATE customers SET email = ?, iban = ?, email_lookup = ? WHERE id = ?")
                .bind(&row.email)
                .bind(row.iban.as_bytes())
                .bind(&row.email_lookup)
                .bind(row.id)
                .execute(&mut db)
                .await
                .unwrap();
        }
        assert_eq!(find(&mut db, &keyring(keys.new_only())).await, [2]);
        let rows: Vec<CustomerRow> = sqlx::query_as("SELECT * FROM customers ORDER BY id")
            .fetch_all(&mut db)
            .await
            .unwrap();
        rows.iter()
            .for_each(|row| check(&keyring(keys.new_only()), row));

        sqlx::query(
            "INSERT INTO customers SELECT id + 9, email, iban, email_lookup FROM customers",
        )
        .execute(&mut db)
        .await
        .unwrap();
        for (id, column, update) in [
            (
                10_i64,
                "email",
                "UPDATE customers SET email = 'not an envelope: user9@example.com' WHERE id = 10",
            ),
            (
                11,
                "iban",
                "UPDATE customers SET iban = x'00' WHERE id = 11",
            ),
            (
                12,
                "email_lookup",
                "UPDATE customers SET email_lookup = 42 WHERE id = 12",
            ),
        ] {
            sqlx::query(update).execute(&mut db).await.unwrap();
            let error = sqlx::query_as::<_, CustomerRow>("SELECT * FROM customers WHERE id = ?")
                .bind(id)
                .fetch_one(&mut db)
                .await
                .unwrap_err()
                .to_string();
            assert!(error.contains(&format!("\"{column}\"")), "{error}");
            assert!(!error.contains("user9"), "{error}");
        }
    });
}

/// A sealed record whose companion derives `FromRow`: the `#[sqlx]`
/// attributes carry over, and the seal is the column named after its
/// member.
#[derive(
    encrypted_fields::Encrypt, serde::Serialize, serde::Deserialize, Clone, PartialEq, Debug,
)]
#[encrypt(seal = "banking", derive(sqlx::FromRow))]
#[sqlx(rename_all = "camelCase")]
struct Account {
    #[encrypt(bind)]
    id: i64,
    owner_name: String,
    #[encrypt(key = "pii")]
    #[sqlx(rename = "mail")]
    email: String,
}

#[test]
fn a_companion_deriving_from_row_reads_its_columns_and_its_seal() {
    use encrypted_fields::{Decrypt, Encrypt};
    let dir = tempfile::tempdir().unwrap();
    let keys = Keys::new();
    let keyring = keyring(keys.old());
    runtime().block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("accounts.db"))
            .create_if_missing(true);
        let mut db = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::raw_sql(
            "CREATE TABLE accounts (id INTEGER PRIMARY KEY, ownerName TEXT, mail TEXT, _seal TEXT)",
        )
        .execute(&mut db)
        .await
        .unwrap();
        let account = Account {
            id: 7,
            owner_name: "Ada".into(),
            email: "ada@example.com".into(),
        };
        let sealed = account.encrypt(&keyring).unwrap();
        sqlx::query("INSERT INTO accounts VALUES (?, ?, ?, ?)")
            .bind(sealed.id)
            .bind(&sealed.owner_name)
            .bind(&sealed.email)
            .bind(sealed.record_seal().unwrap())
            .execute(&mut db)
            .await
            .unwrap();
        let read: EncryptedAccount = sqlx::query_as("SELECT * FROM accounts")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(read, sealed);
        assert_eq!(read.decrypt(&keyring).unwrap(), account);

        // A plain column changed behind the seal's back: refused.
        sqlx::query("UPDATE accounts SET ownerName = 'Mallory'")
            .execute(&mut db)
            .await
            .unwrap();
        let changed: EncryptedAccount = sqlx::query_as("SELECT * FROM accounts")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert!(changed.decrypt(&keyring).is_err());
        // Without the seal column the seal is absent, and so refused.
        let unsealed: EncryptedAccount = sqlx::query_as("SELECT id, ownerName, mail FROM accounts")
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(unsealed.record_seal(), None);
        assert!(unsealed.decrypt(&keyring).is_err());
    });
}
