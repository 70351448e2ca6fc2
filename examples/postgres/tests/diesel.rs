//! `Sealed<T>` as a Diesel column value (features `diesel-postgres`,
//! `diesel-sqlite`), against a real PostgreSQL started by the test and an
//! SQLite file: a companion deriving Diesel's `Queryable`, `Selectable` and
//! `Insertable` with its sealed fields as `Text` and `Binary` columns, a
//! deterministic lookup with `eq_any` matching every key version, rotation
//! in place, and garbage in a column refused without echoing it.

#[path = "common/keys.rs"]
mod keys;
#[path = "../src/server.rs"]
mod server;

use diesel::prelude::*;
use encrypted_fields::{Binding, Decrypt, Encrypt, EnvKeyring, Nonce, Sealed};
use keys::{Keys, keyring};
use serde::{Deserialize, Serialize};

diesel::table! {
    customers (id) {
        id -> BigInt,
        name -> Text,
        email_address -> Text,
        iban -> Binary,
        email_lookup -> Text,
    }
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(
    context = "customer",
    derive(diesel::Queryable, diesel::Selectable, diesel::Insertable)
)]
#[diesel(table_name = customers)]
struct Customer {
    id: i64,
    name: String,
    #[encrypt(key = "pii")]
    #[diesel(column_name = email_address)]
    email: String,
    #[encrypt(key = "banking")]
    iban: String,
}

const EMAIL: Binding<'static> = Binding::new("pii", "customer", "email");
const EMAIL_LOOKUP: Binding<'static> = Binding::new("pii", "customer", "email_lookup");
const IBAN: Binding<'static> = Binding::new("banking", "customer", "iban");

fn customer(id: i64) -> Customer {
    Customer {
        id,
        name: format!("Customer {id}"),
        email: format!("user{id}@example.com"),
        iban: format!("DE89370400440{id:09}"),
    }
}

/// The scenario, written once for both backends (Diesel's traits are
/// per backend): insert, select, lookups across key versions, rotation in
/// place, garbage in each kind of column.
macro_rules! scenario {
    ($db:expr, $keys:expr, $spoil_iban:expr) => {{
        let db = $db;
        let keys: &Keys = $keys;
        let old = keyring(keys.old());
        for id in 1..=3 {
            let row = customer(id).encrypt(&old).unwrap();
            let lookup = Sealed::seal_with(
                &old,
                &EMAIL_LOOKUP,
                &customer(id).email,
                Nonce::Deterministic,
            )
            .unwrap();
            diesel::insert_into(customers::table)
                .values((&row, customers::email_lookup.eq(&lookup)))
                .execute(db)
                .unwrap();
        }
        let stored: String = customers::table
            .find(2)
            .select(customers::email_address)
            .first(db)
            .unwrap();
        assert!(!stored.contains("user2") && Sealed::<String>::from_text(&stored).is_ok());

        let load = |db: &mut _| -> Vec<EncryptedCustomer> {
            customers::table
                .order(customers::id)
                .select(EncryptedCustomer::as_select())
                .load(db)
                .unwrap()
        };
        let rows = load(db);
        let opened: Vec<Customer> = rows
            .iter()
            .map(|r| r.clone().decrypt(&old).unwrap())
            .collect();
        assert_eq!(opened, (1..=3).map(customer).collect::<Vec<_>>());

        // Lookup envelopes under every key of `pii`.
        let find = |db: &mut _, keyring: &EnvKeyring| -> Vec<i64> {
            let envelopes =
                Sealed::seal_for_lookup(keyring, &EMAIL_LOOKUP, &customer(2).email).unwrap();
            customers::table
                .filter(customers::email_lookup.eq_any(envelopes))
                .select(customers::id)
                .load(db)
                .unwrap()
        };
        assert_eq!(find(db, &old), [2]);
        assert_eq!(find(db, &keyring(keys.rotating())), [2]);
        assert!(find(db, &keyring(keys.new_only())).is_empty());

        // Rotation in place.
        let rotating = keyring(keys.rotating());
        for mut row in rows {
            let mut lookup: Sealed<String> = customers::table
                .find(row.id)
                .select(customers::email_lookup)
                .first(db)
                .unwrap();
            row.email.rotate(&rotating, &EMAIL, Nonce::Random).unwrap();
            row.iban.rotate(&rotating, &IBAN, Nonce::Random).unwrap();
            lookup
                .rotate(&rotating, &EMAIL_LOOKUP, Nonce::Deterministic)
                .unwrap();
            diesel::update(customers::table.find(row.id))
                .set((
                    customers::email_address.eq(&row.email),
                    customers::iban.eq(&row.iban),
                    customers::email_lookup.eq(&lookup),
                ))
                .execute(db)
                .unwrap();
        }
        assert_eq!(find(db, &keyring(keys.new_only())), [2]);
        let new_only = keyring(keys.new_only());
        for row in load(db) {
            let id = row.id;
            assert_eq!(row.decrypt(&new_only).unwrap(), customer(id));
        }

        // Garbage: refused where the row is read, without the value.
        for (column, update, cause) in [
            (
                "email_address",
                "UPDATE customers SET email_address = 'not an envelope: user9@example.com' WHERE id = 1",
                "malformed envelope: not base64url text",
            ),
            (
                "email_address",
                "UPDATE customers SET email_address = 'AAAA' WHERE id = 1",
                "not an encrypted-fields envelope",
            ),
            ("iban", $spoil_iban, "not an encrypted-fields envelope"),
        ] {
            diesel::sql_query(update).execute(db).unwrap();
            let error = customers::table
                .find(1)
                .select(EncryptedCustomer::as_select())
                .first::<EncryptedCustomer>(db)
                .unwrap_err();
            // The error and its sources, as a log would print them.
            let mut chain = vec![error.to_string()];
            let mut source = std::error::Error::source(&error);
            while let Some(cause) = source {
                chain.push(cause.to_string());
                source = cause.source();
            }
            let chain = chain.join(": ");
            assert!(chain.contains(&format!("field '{column}'")), "{chain}");
            assert!(chain.contains(cause), "{chain}");
            assert!(!chain.contains("user9"), "{chain}");
        }
    }};
}

#[test]
fn postgres_text_and_bytea_columns_lookups_rotation_and_garbage() {
    let server = server::Postgres::start().unwrap();
    let mut db = PgConnection::establish(&server.url).unwrap();
    diesel::sql_query(
        "CREATE TABLE customers (
             id BIGINT PRIMARY KEY,
             name TEXT NOT NULL,
             email_address TEXT NOT NULL,
             iban BYTEA NOT NULL,
             email_lookup TEXT NOT NULL
         )",
    )
    .execute(&mut db)
    .unwrap();
    scenario!(
        &mut db,
        &Keys::new(),
        "UPDATE customers SET email_address = (SELECT email_address FROM customers WHERE id = 2), iban = '\\x00'::bytea WHERE id = 1"
    );
}

#[test]
fn sqlite_text_and_blob_columns_lookups_rotation_and_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customers.db");
    let mut db = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
    diesel::sql_query(
        "CREATE TABLE customers (
             id BIGINT PRIMARY KEY NOT NULL,
             name TEXT NOT NULL,
             email_address TEXT NOT NULL,
             iban BLOB NOT NULL,
             email_lookup TEXT NOT NULL
         )",
    )
    .execute(&mut db)
    .unwrap();
    scenario!(
        &mut db,
        &Keys::new(),
        "UPDATE customers SET email_address = (SELECT email_address FROM customers WHERE id = 2), iban = x'00' WHERE id = 1"
    );
}
