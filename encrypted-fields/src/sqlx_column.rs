//! [`Sealed<T>`] as a column type for sqlx (feature `sqlx`), generic over
//! the database (tested: PostgreSQL, SQLite): written as text (the
//! base64url of JSON), read from a text column or from a binary one holding
//! the raw envelope (`bytea`, `BLOB`).
//! With `sqlx-postgres`, a `Vec<Sealed<T>>` binds as a `text[]`, which a
//! deterministic lookup needs (`WHERE col = ANY($1)`). A [`RecordSeal`]
//! is a column the same way, for sealed records stored as rows.
//!
//! Decoding a `Sealed<T>` checks what [`crate::column`] says; opening
//! checks the rest. A column holding anything else is a decode error,
//! which sqlx reports naming the column; the error never echoes the
//! value.

use ::sqlx::ValueRef as _;
use ::sqlx::database::Database;
use ::sqlx::decode::Decode;
use ::sqlx::encode::{Encode, IsNull};
use ::sqlx::error::BoxDynError;
use ::sqlx::types::Type;

use crate::record::RecordSeal;
use crate::sealed::Sealed;

/// `Type`, `Encode` and `Decode` for a value written as text and read from
/// text or bytes: `$ty<$param>` (generic or not), its text form, and how it
/// is read from each.
macro_rules! text_or_bytes_column {
    ($ty:ty, [$($param:ident)?], $to_text:expr, $from_text:expr, $from_bytes:expr) => {
        impl<$($param,)? DB: Database> Type<DB> for $ty
        where
            String: Type<DB>,
            Vec<u8>: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <String as Type<DB>>::type_info()
            }

            fn compatible(ty: &DB::TypeInfo) -> bool {
                <String as Type<DB>>::compatible(ty) || <Vec<u8> as Type<DB>>::compatible(ty)
            }
        }

        impl<'q, $($param,)? DB: Database> Encode<'q, DB> for $ty
        where
            String: Encode<'q, DB>,
        {
            fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <String as Encode<'q, DB>>::encode($to_text(self), buf)
            }
        }

        // Borrowed, so the size limit is checked before anything is copied.
        impl<'r, $($param,)? DB: Database> Decode<'r, DB> for $ty
        where
            String: Type<DB>,
            &'r str: Decode<'r, DB>,
            &'r [u8]: Decode<'r, DB>,
        {
            fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let ty = value.type_info().into_owned();
                if <String as Type<DB>>::compatible(&ty) {
                    $from_text(<&'r str as Decode<'r, DB>>::decode(value)?)
                } else {
                    $from_bytes(<&'r [u8] as Decode<'r, DB>>::decode(value)?)
                }
            }
        }
    };
}

text_or_bytes_column!(
    Sealed<T>,
    [T],
    Sealed::to_text,
    crate::column::sealed_from_text,
    crate::column::sealed_from_bytes
);

text_or_bytes_column!(
    RecordSeal,
    [],
    |seal: &RecordSeal| crate::envelope::to_text(seal.as_bytes()).to_string(),
    |text: &str| Ok(RecordSeal::from_text(text)?),
    |bytes: &[u8]| Ok(RecordSeal::from_bytes(bytes)?)
);

#[cfg(feature = "sqlx-postgres")]
impl<T> ::sqlx::postgres::PgHasArrayType for Sealed<T> {
    fn array_type_info() -> ::sqlx::postgres::PgTypeInfo {
        <String as ::sqlx::postgres::PgHasArrayType>::array_type_info()
    }

    fn array_compatible(ty: &::sqlx::postgres::PgTypeInfo) -> bool {
        <String as ::sqlx::postgres::PgHasArrayType>::array_compatible(ty)
            || <Vec<u8> as ::sqlx::postgres::PgHasArrayType>::array_compatible(ty)
    }
}
