//! [`Sealed<T>`] as a Diesel column value (features `diesel-postgres`,
//! `diesel-sqlite`): `Text` (the base64url of JSON) or `Binary` (`bytea`,
//! `BLOB`: the raw envelope), in inserts, updates, filters (`eq_any` for
//! lookups) and results. Reading checks what [`crate::column`] says;
//! opening checks the rest.
//! Unlike sqlx's, Diesel's value is copied before the size check (its
//! borrowing reads are not public): at most one more copy of a value the
//! driver already holds.
//! Diesel reports a failed column as a deserialization error naming the
//! field; the error never echoes the value.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::sql_types::{Binary, Text};

use crate::sealed::Sealed;

impl<T, DB: Backend> FromSql<Text, DB> for Sealed<T>
where
    String: FromSql<Text, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        crate::column::sealed_from_text(&String::from_sql(value)?)
    }
}

impl<T, DB: Backend> FromSql<Binary, DB> for Sealed<T>
where
    Vec<u8>: FromSql<Binary, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        crate::column::sealed_from_bytes(Vec::<u8>::from_sql(value)?)
    }
}

#[cfg(feature = "diesel-postgres")]
mod pg {
    use std::io::Write;

    use diesel::pg::Pg;
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sql_types::{Binary, Text};

    use crate::sealed::Sealed;

    impl<T> ToSql<Text, Pg> for Sealed<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            write!(out, "{}", crate::envelope::to_text(self.as_bytes()))?;
            Ok(IsNull::No)
        }
    }

    impl<T> ToSql<Binary, Pg> for Sealed<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
            out.write_all(self.as_bytes())?;
            Ok(IsNull::No)
        }
    }
}

#[cfg(feature = "diesel-sqlite")]
mod sqlite {
    use diesel::serialize::{self, IsNull, Output, ToSql};
    use diesel::sql_types::{Binary, Text};
    use diesel::sqlite::Sqlite;

    use crate::sealed::Sealed;

    impl<T> ToSql<Text, Sqlite> for Sealed<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.to_text());
            Ok(IsNull::No)
        }
    }

    impl<T> ToSql<Binary, Sqlite> for Sealed<T> {
        fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
            out.set_value(self.as_bytes());
            Ok(IsNull::No)
        }
    }
}
