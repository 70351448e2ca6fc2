//! [`Sealed<T>`] as a column type for sqlx (feature `sqlx`), in any
//! database whose driver maps `String` and `Vec<u8>` (PostgreSQL, SQLite,
//! MySQL): written as text (the base64url of JSON), read from a text
//! column or from a binary one holding the raw envelope (`bytea`, `BLOB`).
//! With `sqlx-postgres`, a `Vec<Sealed<T>>` binds as a `text[]`, which a
//! deterministic lookup needs (`WHERE col = ANY($1)`).
//!
//! Decoding checks the encoding, the size limit and the envelope's layout
//! (version, key id, length: [`Sealed::inspect`]); opening checks the
//! rest. A column holding anything else is a decode error, which sqlx
//! reports naming the column; the error never echoes the value.

use ::sqlx::ValueRef as _;
use ::sqlx::database::Database;
use ::sqlx::decode::Decode;
use ::sqlx::encode::{Encode, IsNull};
use ::sqlx::error::BoxDynError;
use ::sqlx::types::Type;

use crate::sealed::Sealed;

impl<T, DB: Database> Type<DB> for Sealed<T>
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

impl<'q, T, DB: Database> Encode<'q, DB> for Sealed<T>
where
    String: Encode<'q, DB>,
{
    fn encode_by_ref(&self, buf: &mut DB::ArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<'q, DB>>::encode(self.to_text(), buf)
    }
}

impl<'r, T, DB: Database> Decode<'r, DB> for Sealed<T>
where
    String: Type<DB> + Decode<'r, DB>,
    Vec<u8>: Type<DB> + Decode<'r, DB>,
{
    fn decode(value: DB::ValueRef<'r>) -> Result<Self, BoxDynError> {
        let ty = value.type_info().into_owned();
        let sealed = if <String as Type<DB>>::compatible(&ty) {
            Sealed::from_text(&<String as Decode<'r, DB>>::decode(value)?)?
        } else {
            let bytes = <Vec<u8> as Decode<'r, DB>>::decode(value)?;
            crate::limits::check_envelope(bytes.len())?;
            Sealed::from_envelope(bytes)
        };
        // A column is read where its row is, so something that is not an
        // envelope at all is refused here, naming the column, rather than
        // when a field is opened.
        sealed.inspect()?;
        Ok(sealed)
    }
}

#[cfg(feature = "sqlx-postgres")]
impl<T> ::sqlx::postgres::PgHasArrayType for Sealed<T> {
    fn array_type_info() -> ::sqlx::postgres::PgTypeInfo {
        <String as ::sqlx::postgres::PgHasArrayType>::array_type_info()
    }
}
