//! Partial decryption: fields this keyring can open, and fields it must
//! leave sealed.

use std::fmt;

use crate::sealed::Sealed;

/// One encrypted field after partial decryption: opened, or left sealed
/// because this keyring has no key for its alias.
///
/// `E` is the sealed payload: the same `T` for `#[encrypt(key = "...")]`
/// fields, the child's companion type for `#[encrypt(nested, key = "...")]`.
/// A sealed value re-encrypts byte for byte, so a service can forward what
/// it cannot read. `Debug` never shows the opened value.
pub enum MaybeSealed<T, E = T> {
    /// Decrypted.
    Open(T),
    /// Still sealed: this keyring lacks the alias.
    Sealed(Sealed<E>),
}

impl<T, E> MaybeSealed<T, E> {
    /// The opened value, if this keyring could open it.
    pub fn open(&self) -> Option<&T> {
        match self {
            MaybeSealed::Open(value) => Some(value),
            MaybeSealed::Sealed(_) => None,
        }
    }

    /// The envelope, if the field stayed sealed.
    pub fn sealed(&self) -> Option<&Sealed<E>> {
        match self {
            MaybeSealed::Open(_) => None,
            MaybeSealed::Sealed(sealed) => Some(sealed),
        }
    }

    /// The opened value, consuming `self`.
    pub fn into_open(self) -> Option<T> {
        match self {
            MaybeSealed::Open(value) => Some(value),
            MaybeSealed::Sealed(_) => None,
        }
    }

    /// Whether the field was opened.
    pub fn is_open(&self) -> bool {
        matches!(self, MaybeSealed::Open(_))
    }
}

impl<T: Clone, E> Clone for MaybeSealed<T, E> {
    fn clone(&self) -> Self {
        match self {
            MaybeSealed::Open(value) => MaybeSealed::Open(value.clone()),
            MaybeSealed::Sealed(sealed) => MaybeSealed::Sealed(sealed.clone()),
        }
    }
}

impl<T: PartialEq, E> PartialEq for MaybeSealed<T, E> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (MaybeSealed::Open(a), MaybeSealed::Open(b)) => a == b,
            (MaybeSealed::Sealed(a), MaybeSealed::Sealed(b)) => a == b,
            _ => false,
        }
    }
}

impl<T, E> fmt::Debug for MaybeSealed<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaybeSealed::Open(_) => f.write_str("Open(<redacted>)"),
            MaybeSealed::Sealed(sealed) => sealed.fmt(f),
        }
    }
}

/// What [`Decrypt::decrypt_partial`](crate::Decrypt::decrypt_partial)
/// returns: the partial value, and the aliases it could not open.
#[derive(Debug)]
pub struct PartialDecryption<P> {
    /// The generated partial type: plain fields, opened fields, and
    /// [`MaybeSealed::Sealed`] where the keyring lacked the alias.
    pub value: P,
    /// Every alias this keyring has no key for, sorted, without duplicates;
    /// empty if everything opened.
    pub inaccessible: Vec<String>,
}
