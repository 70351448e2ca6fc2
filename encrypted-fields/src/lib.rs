//! Encrypt individual struct fields for services that talk to each other.
//!
//! Annotate the sensitive fields of a struct with `#[derive(Encrypt)]` and
//! `#[encrypt(key = "alias")]`; [`Encrypt::encrypt`] turns the value into a
//! generated companion type (`Encrypted` + the struct's name) whose
//! annotated fields are [`Sealed`] AES-GCM-SIV envelopes, and which
//! serializes to the same JSON shape with ciphertext strings in those
//! fields. [`Decrypt::decrypt`] is the way back. Keys come from a
//! [`Keyring`]; [`EnvKeyring`] reads them from environment variables.
//!
//! ```
//! use encrypted_fields::{Decrypt, Encrypt, EnvKeyring};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
//! struct Customer {
//!     id: u64,
//!     #[encrypt(key = "pii")]
//!     email: String,
//! }
//!
//! let keyring = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", "AAECAwQFBgcICQoLDA0ODw==")])?;
//! let customer = Customer { id: 7, email: "ada@example.com".into() };
//! let wire: EncryptedCustomer = customer.encrypt(&keyring)?;
//! let json = serde_json::to_string(&wire)?;
//! assert!(!json.contains("ada@"));
//! let back: Customer = serde_json::from_str::<EncryptedCustomer>(&json)?.decrypt(&keyring)?;
//! assert_eq!(back, customer);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The envelope format is specified in `docs/FORMAT.md`.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod cipher;
mod error;
mod format;
mod key;
mod keyring;
mod sealed;

pub use error::{Error, ErrorKind};
pub use format::Binding;
pub use key::{Key, KeyId, KeySet, KeySize, generate_key};
pub use keyring::{EnvKeyring, Keyring, MemoryKeyring, is_valid_alias};
pub use sealed::Sealed;
/// Re-exported so users can read a [`generate_key`] result without
/// depending on `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};

/// Derives [`Encrypt`] for a struct and generates its companion type.
///
/// See the crate README for the attribute syntax.
pub use encrypted_fields_derive::Encrypt;

/// A type with encrypted fields; implemented by `#[derive(Encrypt)]`.
pub trait Encrypt {
    /// The generated companion type: the same fields, with the encrypted
    /// ones as [`Sealed`] envelopes.
    type Encrypted;

    /// Every key alias this type's fields are sealed with, sorted and
    /// without duplicates; pass it to [`Keyring::require`] at start-up.
    const KEY_ALIASES: &'static [&'static str];

    /// Seals every annotated field under its alias's primary key.
    ///
    /// # Errors
    ///
    /// The first field that fails, with its alias and name: see
    /// [`Sealed::seal`].
    fn encrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Encrypted, Error>;
}

/// A companion type that opens back into its plain type; implemented by
/// `#[derive(Encrypt)]`.
pub trait Decrypt {
    /// The plain struct.
    type Plain;

    /// Opens every sealed field.
    ///
    /// # Errors
    ///
    /// The first field that fails, with its alias and name: see
    /// [`Sealed::open`].
    fn decrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Plain, Error>;
}

/// What the derive's generated code calls. Not public API: it may change
/// in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::Binding;
    pub use serde;

    use crate::{Error, Keyring, Sealed};
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    /// Seals a field.
    #[inline]
    pub fn seal<T: Serialize, K: Keyring + ?Sized>(
        keyring: &K,
        value: &T,
        binding: &Binding<'_>,
    ) -> Result<Sealed<T>, Error> {
        Sealed::seal(keyring, binding, value)
    }

    /// Seals an `Option` field: `None` stays `None` (`null` on the wire).
    #[inline]
    pub fn seal_option<T: Serialize, K: Keyring + ?Sized>(
        keyring: &K,
        value: &Option<T>,
        binding: &Binding<'_>,
    ) -> Result<Option<Sealed<T>>, Error> {
        value
            .as_ref()
            .map(|v| Sealed::seal(keyring, binding, v))
            .transpose()
    }

    /// Opens a field.
    #[inline]
    pub fn open<T: DeserializeOwned, K: Keyring + ?Sized>(
        keyring: &K,
        sealed: &Sealed<T>,
        binding: &Binding<'_>,
    ) -> Result<T, Error> {
        sealed.open(keyring, binding)
    }

    /// Opens an `Option` field.
    #[inline]
    pub fn open_option<T: DeserializeOwned, K: Keyring + ?Sized>(
        keyring: &K,
        sealed: &Option<Sealed<T>>,
        binding: &Binding<'_>,
    ) -> Result<Option<T>, Error> {
        sealed
            .as_ref()
            .map(|s| s.open(keyring, binding))
            .transpose()
    }

    /// Stands in for the companion type when the derive reports an error,
    /// so the user sees that error and not a cascade of missing items.
    pub struct Fallback<T>(core::marker::PhantomData<T>);

    impl<T> crate::Decrypt for Fallback<T> {
        type Plain = T;
        fn decrypt<K: Keyring + ?Sized>(&self, _: &K) -> Result<T, Error> {
            Err(fallback_error())
        }
    }

    impl<T> Serialize for Fallback<T> {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("derive(Encrypt) failed"))
        }
    }

    impl<'de, T> serde::Deserialize<'de> for Fallback<T> {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Err(serde::de::Error::custom("derive(Encrypt) failed"))
        }
    }

    /// The error the fallback returns; never reached, since the crate with
    /// the failed derive does not compile.
    pub fn fallback_error() -> Error {
        Error::new(crate::ErrorKind::Serialize).detail("derive(Encrypt) failed")
    }
}
