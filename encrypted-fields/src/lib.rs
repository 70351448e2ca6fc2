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

mod aliases;
mod audit;
#[cfg(feature = "axum")]
pub mod axum;
mod cipher;
mod containers;
mod error;
mod format;
mod key;
mod keyring;
#[cfg(feature = "aws-kms")]
pub mod kms;
#[cfg(feature = "legacy-cbc")]
pub mod legacy;
mod limits;
mod partial;
mod redact;
mod sealed;
#[cfg(feature = "hpke")]
pub mod session;

use std::collections::BTreeSet;

pub use error::{Error, ErrorKind};
pub use format::Binding;
pub use key::{Key, KeyId, KeySet, KeySize, generate_key};
pub use keyring::{EnvKeyring, Keyring, MemoryKeyring, is_valid_alias};
pub use limits::{DEFAULT_MAX_ENVELOPE_LEN, max_envelope_len, set_max_envelope_len};
pub use partial::{MaybeSealed, PartialDecryption};
pub use sealed::{EnvelopeInfo, Nonce, Sealed};
/// Re-exported so users can read a [`generate_key`] result without
/// depending on `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};

/// Derives [`Encrypt`] for a struct or enum and generates its companion
/// (`Encrypted` + name) and partial (`Partial` + name) types.
///
/// See the crate README for the attribute syntax.
pub use encrypted_fields_derive::Encrypt;

/// A type with encrypted fields; implemented by `#[derive(Encrypt)]`, and
/// through `Option`, `Box`, `Vec`, `HashMap` and `BTreeMap` of such types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Encrypt`",
    label = "`#[encrypt(nested)]` needs a type that derives `Encrypt`",
    note = "add `#[derive(Encrypt)]` to the type, or seal it whole with `#[encrypt(key = \"...\")]`"
)]
pub trait Encrypt {
    /// The generated companion type: the same fields, with the encrypted
    /// ones as [`Sealed`] envelopes and nested ones as their companions.
    type Encrypted: Decrypt;

    /// Every key alias this type's fields are sealed with, nested types'
    /// included, sorted and without duplicates; pass it to
    /// [`Keyring::require`] at start-up.
    const KEY_ALIASES: &'static [&'static str];

    /// Seals every annotated field under its alias's primary key, nested
    /// types depth first.
    ///
    /// # Errors
    ///
    /// The first field that fails, with its alias and name: see
    /// [`Sealed::seal`].
    fn encrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Encrypted, Error>;
}

/// A companion type that opens back into its plain type; implemented by
/// `#[derive(Encrypt)]` and through containers.
pub trait Decrypt {
    /// The plain type.
    type Plain;

    /// The generated partial type: every encrypted field a
    /// [`MaybeSealed`]. It encrypts back into this companion type, passing
    /// still-sealed fields through byte for byte.
    type Partial: Encrypt<Encrypted = Self>;

    /// Opens every sealed field.
    ///
    /// # Errors
    ///
    /// The first field that fails, with its alias and name: see
    /// [`Sealed::open`].
    fn decrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Plain, Error>;

    /// Opens what this keyring can and leaves sealed the fields whose alias
    /// it has no key for, reporting those aliases.
    ///
    /// Only a missing alias leaves a field sealed: a tampered envelope, a
    /// wrong key or a rotated-out key id is still an error.
    ///
    /// # Errors
    ///
    /// As [`decrypt`](Self::decrypt), except [`ErrorKind::UnknownAlias`].
    fn decrypt_partial<K: Keyring + ?Sized>(
        &self,
        keyring: &K,
    ) -> Result<PartialDecryption<Self::Partial>, Error> {
        let mut inaccessible = BTreeSet::new();
        let value = self.decrypt_partial_into(keyring, &mut inaccessible)?;
        Ok(PartialDecryption {
            value,
            inaccessible: inaccessible.into_iter().collect(),
        })
    }

    /// [`decrypt_partial`](Self::decrypt_partial) for a service that
    /// expects to lack exactly some aliases: succeeds if every alias it
    /// could not open is in `ignored`.
    ///
    /// # Errors
    ///
    /// As [`decrypt_partial`](Self::decrypt_partial), and
    /// [`ErrorKind::MissingAliases`] naming the missing aliases that were
    /// not in `ignored`.
    fn decrypt_ignoring<K: Keyring + ?Sized>(
        &self,
        keyring: &K,
        ignored: &[&str],
    ) -> Result<Self::Partial, Error> {
        let PartialDecryption {
            value,
            inaccessible,
        } = self.decrypt_partial(keyring)?;
        let unexpected: Vec<String> = inaccessible
            .into_iter()
            .filter(|alias| !ignored.contains(&alias.as_str()))
            .collect();
        if unexpected.is_empty() {
            Ok(value)
        } else {
            Err(Error::missing_aliases(unexpected))
        }
    }

    /// The work of [`decrypt_partial`](Self::decrypt_partial), adding the
    /// aliases it could not open to `inaccessible`.
    ///
    /// # Errors
    ///
    /// As [`decrypt_partial`](Self::decrypt_partial).
    #[doc(hidden)]
    fn decrypt_partial_into<K: Keyring + ?Sized>(
        &self,
        keyring: &K,
        inaccessible: &mut BTreeSet<String>,
    ) -> Result<Self::Partial, Error>;

    /// Re-seals, in place, every envelope whose key id is not its alias's
    /// current primary, and returns how many envelopes changed. Data stays
    /// readable throughout: run it after making a new key primary, before
    /// dropping the old one.
    ///
    /// The keyring must hold every alias of the type (check with
    /// [`Keyring::require`] and the plain type's `KEY_ALIASES`): an
    /// envelope it cannot open might be under an old key, so `Ok` always
    /// means that every envelope in the value is under its primary.
    ///
    /// # Errors
    ///
    /// As [`decrypt`](Self::decrypt), for the envelopes it re-seals, and
    /// [`ErrorKind::UnknownAlias`] naming the first alias (and field) the
    /// keyring lacks, at any depth. Envelopes before the failing one may
    /// already be re-sealed; each of them still opens.
    fn reencrypt<K: Keyring + ?Sized>(&mut self, keyring: &K) -> Result<usize, Error>;
}

/// What the derive's generated code calls. Not public API: it may change
/// in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::Binding;
    pub use crate::aliases::AliasList;
    pub use crate::redact::{Nested, OpaqueChild, Redacted, RedactedChild, RedactedDebug};
    pub use serde;
    pub use std::collections::BTreeSet;
    pub use std::string::String;
    pub use std::vec::Vec;

    use crate::{Decrypt, Encrypt, Error, Keyring, MaybeSealed, Nonce, Sealed};
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    /// Seals a `#[encrypt(key)]` field.
    #[inline]
    pub fn seal<T: Serialize, K: Keyring + ?Sized>(
        keyring: &K,
        value: &T,
        binding: &Binding<'_>,
        nonce: Nonce,
    ) -> Result<Sealed<T>, Error> {
        Sealed::seal_with(keyring, binding, value, nonce)
    }

    /// Opens a `#[encrypt(key)]` field.
    #[inline]
    pub fn open<T: DeserializeOwned, K: Keyring + ?Sized>(
        keyring: &K,
        sealed: &Sealed<T>,
        binding: &Binding<'_>,
    ) -> Result<T, Error> {
        sealed.open(keyring, binding)
    }

    /// Opens a field if the keyring has its alias; otherwise checks the
    /// envelope's structure, records the alias and keeps it sealed.
    pub fn open_partial<T: DeserializeOwned, K: Keyring + ?Sized>(
        keyring: &K,
        sealed: &Sealed<T>,
        binding: &Binding<'_>,
        inaccessible: &mut BTreeSet<String>,
    ) -> Result<MaybeSealed<T>, Error> {
        if keyring.opening_key_set(binding.alias()).is_some() {
            return sealed.open(keyring, binding).map(MaybeSealed::Open);
        }
        keep_sealed(keyring, sealed, binding, inaccessible)
    }

    /// Keeps a field sealed whose alias this keyring does not hold; an
    /// alias it was configured with but failed to load is an error instead.
    fn keep_sealed<T, E, K: Keyring + ?Sized>(
        keyring: &K,
        sealed: &Sealed<E>,
        binding: &Binding<'_>,
        inaccessible: &mut BTreeSet<String>,
    ) -> Result<MaybeSealed<T, E>, Error> {
        if let Some(failure) = keyring.load_failure(binding.alias()) {
            return Err(failure.clone().at(binding));
        }
        let info = sealed.inspect().map_err(|e| e.at(binding))?;
        crate::audit::inaccessible(binding, Some(info.key_id));
        if !inaccessible.contains(binding.alias()) {
            inaccessible.insert(binding.alias().to_owned());
        }
        Ok(MaybeSealed::Sealed(sealed.clone()))
    }

    /// Seals an opened field of a partial value again; passes a sealed one
    /// through unchanged.
    pub fn reseal<T: Serialize, K: Keyring + ?Sized>(
        keyring: &K,
        field: &MaybeSealed<T>,
        binding: &Binding<'_>,
        nonce: Nonce,
    ) -> Result<Sealed<T>, Error> {
        match field {
            MaybeSealed::Open(value) => Sealed::seal_with(keyring, binding, value, nonce),
            MaybeSealed::Sealed(sealed) => Ok(sealed.clone()),
        }
    }

    /// The envelopes of a deterministic field's value under every key of
    /// its alias.
    #[inline]
    pub fn lookup<T: Serialize, K: Keyring + ?Sized>(
        keyring: &K,
        value: &T,
        binding: &Binding<'_>,
    ) -> Result<Vec<Sealed<T>>, Error> {
        Sealed::seal_for_lookup(keyring, binding, value)
    }

    /// Rotates a field to the primary key; 1 if it changed.
    #[inline]
    pub fn rotate<T, K: Keyring + ?Sized>(
        keyring: &K,
        sealed: &mut Sealed<T>,
        binding: &Binding<'_>,
        nonce: Nonce,
    ) -> Result<usize, Error> {
        sealed.rotate(keyring, binding, nonce).map(usize::from)
    }

    /// Seals a `#[encrypt(nested, key)]` field: the child's own fields
    /// first, then its whole companion.
    pub fn seal_nested<T: Encrypt, K: Keyring + ?Sized>(
        keyring: &K,
        value: &T,
        binding: &Binding<'_>,
    ) -> Result<Sealed<T::Encrypted>, Error>
    where
        T::Encrypted: Serialize,
    {
        Sealed::seal(keyring, binding, &value.encrypt(keyring)?)
    }

    /// Opens a `#[encrypt(nested, key)]` field: the outer envelope, then
    /// the child's fields.
    pub fn open_nested<E: Decrypt + DeserializeOwned, K: Keyring + ?Sized>(
        keyring: &K,
        sealed: &Sealed<E>,
        binding: &Binding<'_>,
    ) -> Result<E::Plain, Error> {
        sealed.open(keyring, binding)?.decrypt(keyring)
    }

    /// Partial decryption of a `#[encrypt(nested, key)]` field.
    pub fn open_nested_partial<E: Decrypt + DeserializeOwned, K: Keyring + ?Sized>(
        keyring: &K,
        sealed: &Sealed<E>,
        binding: &Binding<'_>,
        inaccessible: &mut BTreeSet<String>,
    ) -> Result<MaybeSealed<E::Partial, E>, Error> {
        if keyring.opening_key_set(binding.alias()).is_none() {
            return keep_sealed(keyring, sealed, binding, inaccessible);
        }
        let child = sealed.open(keyring, binding)?;
        child
            .decrypt_partial_into(keyring, inaccessible)
            .map(MaybeSealed::Open)
    }

    /// Re-seals a partial `#[encrypt(nested, key)]` field.
    pub fn reseal_nested<P: Encrypt, K: Keyring + ?Sized>(
        keyring: &K,
        field: &MaybeSealed<P, P::Encrypted>,
        binding: &Binding<'_>,
    ) -> Result<Sealed<P::Encrypted>, Error>
    where
        P::Encrypted: Serialize,
    {
        match field {
            MaybeSealed::Open(partial) => seal_nested(keyring, partial, binding),
            MaybeSealed::Sealed(sealed) => Ok(sealed.clone()),
        }
    }

    /// Rotates a `#[encrypt(nested, key)]` field: the child's envelopes,
    /// then the outer one. If a child envelope changed, the child companion
    /// is serialized again and sealed under the primary (fields this
    /// version does not know are dropped, as in any deserialize/serialize
    /// round trip); if none did, the outer envelope's bytes are carried
    /// over as they are. A keyring that lacks one of the child's aliases
    /// fails here, naming it, as it does for a child that is not sealed
    /// again: the child's envelopes under that alias could be under an old
    /// key, and success would tell the operator the old key can go.
    pub fn rotate_nested<E, K: Keyring + ?Sized>(
        keyring: &K,
        sealed: &mut Sealed<E>,
        binding: &Binding<'_>,
    ) -> Result<usize, Error>
    where
        E: Decrypt + Serialize + DeserializeOwned,
    {
        let mut child = sealed.open(keyring, binding)?;
        match child.reencrypt(keyring)? {
            0 => rotate(keyring, sealed, binding, Nonce::Random),
            changed => {
                *sealed = Sealed::seal(keyring, binding, &child)?;
                Ok(changed + 1)
            }
        }
    }

    /// Stands in for the companion type when the derive reports an error,
    /// so the user sees that error and not a cascade of missing items.
    pub struct Fallback<T>(core::marker::PhantomData<T>);

    impl<T> Encrypt for Fallback<T> {
        type Encrypted = Fallback<T>;
        const KEY_ALIASES: &'static [&'static str] = &[];
        fn encrypt<K: Keyring + ?Sized>(&self, _: &K) -> Result<Self, Error> {
            Err(fallback_error())
        }
    }

    impl<T> Decrypt for Fallback<T> {
        type Plain = T;
        type Partial = Fallback<T>;
        fn decrypt<K: Keyring + ?Sized>(&self, _: &K) -> Result<T, Error> {
            Err(fallback_error())
        }
        fn decrypt_partial_into<K: Keyring + ?Sized>(
            &self,
            _: &K,
            _: &mut BTreeSet<String>,
        ) -> Result<Self, Error> {
            Err(fallback_error())
        }
        fn reencrypt<K: Keyring + ?Sized>(&mut self, _: &K) -> Result<usize, Error> {
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
