//! Reading a [`Sealed<T>`] from a database column, for the sqlx and Diesel
//! column types (features `sqlx`, `diesel`): the encoding, the size limit
//! (before the bytes are copied, where the driver lends them) and the
//! envelope's layout ([`Sealed::inspect`]). A column is read where its
//! row is, so something that is not an envelope at all is refused there,
//! not when a field is opened; with a fixed message, as the version byte
//! would be the first byte of whatever the column holds.

use crate::sealed::Sealed;

/// What the drivers take as a decoding error.
pub(crate) type ColumnError = Box<dyn std::error::Error + Send + Sync>;

/// From a text column: the envelope's base64url form.
pub(crate) fn sealed_from_text<T>(text: &str) -> Result<Sealed<T>, ColumnError> {
    checked(Sealed::from_text(text)?)
}

/// From a binary column: the raw envelope, lent (`&[u8]`) or owned.
pub(crate) fn sealed_from_bytes<T, B>(bytes: B) -> Result<Sealed<T>, ColumnError>
where
    B: AsRef<[u8]> + Into<Vec<u8>>,
{
    crate::limits::check_envelope(bytes.as_ref().len())?;
    checked(Sealed::from_envelope(bytes.into()))
}

fn checked<T>(sealed: Sealed<T>) -> Result<Sealed<T>, ColumnError> {
    match sealed.inspect() {
        Ok(_) => Ok(sealed),
        Err(_) => Err("not an encrypted-fields envelope".into()),
    }
}
