//! Where keys come from: the [`Keyring`] trait and its implementations.

mod env;
mod memory;

pub use env::EnvKeyring;
#[cfg(feature = "aws-kms")]
pub(crate) use env::parse_keys;
#[cfg(feature = "aws-kms")]
pub(crate) use env::prefixed_var_name;
#[cfg(any(feature = "hpke", feature = "aws-kms"))]
pub(crate) use env::read_secret_var;
#[cfg(feature = "aws-kms")]
pub(crate) use memory::check_alias;
pub use memory::{ALIAS_RULE, MemoryKeyring, is_valid_alias};

use std::sync::Arc;

use crate::error::Error;
use crate::key::KeySet;
#[cfg(feature = "signatures")]
use crate::signing::{SigningKey, VerifyingKeys};

/// A source of keys, looked up by alias.
///
/// The one required method returns every version of an alias's key. A
/// keyring for another secret store loads its keys once (a
/// [`MemoryKeyring`] does the bookkeeping) and answers from memory: it is
/// called once per field, so it must not do I/O.
///
/// `None` means "this service has no access to the alias", which partial
/// decryption treats differently from a bad ciphertext.
///
/// ```
/// use std::collections::HashMap;
/// use encrypted_fields::{KeySet, Keyring};
///
/// struct VaultKeyring(HashMap<String, KeySet>);
///
/// impl Keyring for VaultKeyring {
///     fn key_set(&self, alias: &str) -> Option<&KeySet> {
///         self.0.get(alias)
///     }
/// }
/// ```
pub trait Keyring: Send + Sync {
    /// Every key of `alias`, the primary first; `None` if this keyring has
    /// no such alias.
    fn key_set(&self, alias: &str) -> Option<&KeySet>;

    /// The keys that open envelopes of `alias`: by default the same as
    /// [`key_set`](Self::key_set). A keyring that seals with one key and
    /// opens with another overrides it: a public-key session has one key
    /// per direction, so an envelope sent back to its sender does not open.
    /// A keyring that wraps another must forward this method too; one that
    /// forgets fails closed with a session keyring, whose `key_set` opens
    /// nothing.
    fn opening_key_set(&self, alias: &str) -> Option<&KeySet> {
        self.key_set(alias)
    }

    /// Why this keyring has no key set for `alias` although it was
    /// configured with one: a keyring loaded from a secret store that
    /// started without some aliases (`KmsKeyring` with `allow_partial`)
    /// returns the load's error here. Such an alias is then an error
    /// everywhere, partial decryption included, never "not ours". By
    /// default `None`.
    fn load_failure(&self, alias: &str) -> Option<&Error> {
        let _ = alias;
        None
    }

    /// The key that signs records under `alias` (`#[encrypt(sign =
    /// "alias")]`), if this service may sign them. By default `None`.
    #[cfg(feature = "signatures")]
    fn signing_key(&self, alias: &str) -> Option<&SigningKey> {
        let _ = alias;
        None
    }

    /// The keys that verify records signed under `alias`. By default
    /// `None`.
    #[cfg(feature = "signatures")]
    fn verifying_keys(&self, alias: &str) -> Option<&VerifyingKeys> {
        let _ = alias;
        None
    }

    /// Checks that every alias in `aliases` is present, so a service fails
    /// at start-up rather than on its first request. Pass the
    /// `KEY_ALIASES` of the types the service handles. An alias is present
    /// if it has keys, or (feature `signatures`) a signing key or
    /// verifying keys, which is all a `sign` alias has.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MissingAliases`](crate::ErrorKind::MissingAliases)
    /// naming every missing alias at once.
    fn require(&self, aliases: &[&str]) -> Result<(), Error> {
        let mut missing: Vec<String> = aliases
            .iter()
            .filter(|alias| !holds(self, alias))
            .map(|alias| (*alias).to_owned())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        missing.sort();
        missing.dedup();
        Err(Error::missing_aliases(missing))
    }
}

/// Whether `alias` has keys of any kind in `keyring`.
fn holds<K: Keyring + ?Sized>(keyring: &K, alias: &str) -> bool {
    #[cfg(feature = "signatures")]
    if keyring.signing_key(alias).is_some() || keyring.verifying_keys(alias).is_some() {
        return true;
    }
    keyring.key_set(alias).is_some()
}

impl<K: Keyring + ?Sized> Keyring for &K {
    fn key_set(&self, alias: &str) -> Option<&KeySet> {
        (**self).key_set(alias)
    }

    fn opening_key_set(&self, alias: &str) -> Option<&KeySet> {
        (**self).opening_key_set(alias)
    }

    fn load_failure(&self, alias: &str) -> Option<&Error> {
        (**self).load_failure(alias)
    }

    #[cfg(feature = "signatures")]
    fn signing_key(&self, alias: &str) -> Option<&SigningKey> {
        (**self).signing_key(alias)
    }

    #[cfg(feature = "signatures")]
    fn verifying_keys(&self, alias: &str) -> Option<&VerifyingKeys> {
        (**self).verifying_keys(alias)
    }
}

impl<K: Keyring + ?Sized> Keyring for Box<K> {
    fn key_set(&self, alias: &str) -> Option<&KeySet> {
        (**self).key_set(alias)
    }

    fn opening_key_set(&self, alias: &str) -> Option<&KeySet> {
        (**self).opening_key_set(alias)
    }

    fn load_failure(&self, alias: &str) -> Option<&Error> {
        (**self).load_failure(alias)
    }

    #[cfg(feature = "signatures")]
    fn signing_key(&self, alias: &str) -> Option<&SigningKey> {
        (**self).signing_key(alias)
    }

    #[cfg(feature = "signatures")]
    fn verifying_keys(&self, alias: &str) -> Option<&VerifyingKeys> {
        (**self).verifying_keys(alias)
    }
}

impl<K: Keyring + ?Sized> Keyring for Arc<K> {
    fn key_set(&self, alias: &str) -> Option<&KeySet> {
        (**self).key_set(alias)
    }

    fn opening_key_set(&self, alias: &str) -> Option<&KeySet> {
        (**self).opening_key_set(alias)
    }

    fn load_failure(&self, alias: &str) -> Option<&Error> {
        (**self).load_failure(alias)
    }

    #[cfg(feature = "signatures")]
    fn signing_key(&self, alias: &str) -> Option<&SigningKey> {
        (**self).signing_key(alias)
    }

    #[cfg(feature = "signatures")]
    fn verifying_keys(&self, alias: &str) -> Option<&VerifyingKeys> {
        (**self).verifying_keys(alias)
    }
}
