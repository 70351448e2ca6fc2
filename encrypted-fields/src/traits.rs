//! The two traits the derive implements: [`Encrypt`] on the plain type,
//! [`Decrypt`] on its companion.

use std::collections::BTreeSet;

use crate::error::Error;
use crate::keyring::Keyring;
use crate::partial::PartialDecryption;

/// A type with encrypted fields; implemented by `#[derive(Encrypt)]`, and
/// through `Option`, `Box`, `Vec`, `HashMap` and `BTreeMap` of such types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not implement `Encrypt`",
    label = "`#[encrypt(nested)]` needs a type that derives `Encrypt`",
    note = "add `#[derive(Encrypt)]` to the type, or seal it whole with `#[encrypt(key = \"...\")]`"
)]
pub trait Encrypt {
    /// The generated companion type: the same fields, with the encrypted
    /// ones as [`Sealed`](crate::Sealed) envelopes and nested ones as their companions.
    type Encrypted: Decrypt;

    /// Every key alias this type's fields are sealed with, nested types'
    /// included, sorted and without duplicates; pass it to
    /// [`Keyring::require`](crate::Keyring::require) at start-up.
    const KEY_ALIASES: &'static [&'static str];

    /// Seals every annotated field under its alias's primary key, nested
    /// types depth first.
    ///
    /// # Errors
    ///
    /// The first field that fails, with its alias and name: see
    /// [`Sealed::seal`](crate::Sealed::seal).
    fn encrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Encrypted, Error>;
}

/// A companion type that opens back into its plain type; implemented by
/// `#[derive(Encrypt)]` and through containers.
///
/// The trait is open: a hand-written impl (for a type the derive cannot
/// describe) implements `decrypt`, `decrypt_partial_into` and `reencrypt`;
/// `decrypt_partial` and `decrypt_ignoring` come with it.
pub trait Decrypt {
    /// The plain type.
    type Plain;

    /// The generated partial type: every encrypted field a
    /// [`MaybeSealed`](crate::MaybeSealed). It encrypts back into this companion type, passing
    /// still-sealed fields through byte for byte.
    type Partial: Encrypt<Encrypted = Self>;

    /// Opens every sealed field.
    ///
    /// # Errors
    ///
    /// The first field that fails, with its alias and name: see
    /// [`Sealed::open`](crate::Sealed::open).
    fn decrypt<K: Keyring + ?Sized>(&self, keyring: &K) -> Result<Self::Plain, Error>;

    /// Opens what this keyring can and leaves sealed the fields whose alias
    /// it has no key for, reporting those aliases.
    ///
    /// Only a missing alias leaves a field sealed: a tampered envelope, a
    /// wrong key or a rotated-out key id is still an error.
    ///
    /// # Errors
    ///
    /// As [`decrypt`](Self::decrypt), except [`ErrorKind::UnknownAlias`](crate::ErrorKind::UnknownAlias).
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
    /// [`ErrorKind::MissingAliases`](crate::ErrorKind::MissingAliases) naming the missing aliases that were
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
    /// aliases it could not open to `inaccessible`: the one partial method
    /// an implementation writes (the derive writes it; a hand-written impl
    /// for a type nested in derived ones opens what it can and records the
    /// rest), so that nested values share one set of aliases.
    ///
    /// # Errors
    ///
    /// As [`decrypt_partial`](Self::decrypt_partial).
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
    /// [`Keyring::require`](crate::Keyring::require) and the plain type's `KEY_ALIASES`): an
    /// envelope it cannot open might be under an old key, so `Ok` always
    /// means that every envelope in the value is under its primary.
    ///
    /// # Errors
    ///
    /// As [`decrypt`](Self::decrypt), for the envelopes it re-seals, and
    /// [`ErrorKind::UnknownAlias`](crate::ErrorKind::UnknownAlias) naming the first alias (and field) the
    /// keyring lacks, at any depth. Envelopes before the failing one may
    /// already be re-sealed; each of them still opens.
    fn reencrypt<K: Keyring + ?Sized>(&mut self, keyring: &K) -> Result<usize, Error>;
}
