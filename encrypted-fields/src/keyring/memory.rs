use std::collections::BTreeMap;
use std::fmt;

use rustc_hash::FxHashMap;

use super::Keyring;
use crate::error::{Error, ErrorKind};
use crate::key::KeySet;
#[cfg(feature = "signatures")]
use crate::signing::{SigningKey, VerifyingKeys};

/// A keyring held in memory: for tests, and as the storage behind keyrings
/// that load from other secret stores.
///
/// Every field's seal and open looks its alias up here, so the maps hash
/// with rustc's FxHash: a few multiplies for a short alias, where SipHash
/// cost about 200 instructions. The keys are the operator's aliases and
/// the lookups the types' declared ones, never a sender's bytes, so a
/// keyed hash (against collision flooding) buys nothing.
#[derive(Default)]
pub struct MemoryKeyring {
    sets: FxHashMap<Box<str>, KeySet>,
    #[cfg(feature = "signatures")]
    signing: FxHashMap<Box<str>, SigningKey>,
    #[cfg(feature = "signatures")]
    verifying: FxHashMap<Box<str>, VerifyingKeys>,
}

impl MemoryKeyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the keys of `alias`. With the `metrics` feature,
    /// sets the `encrypted_fields_keys` gauge of the alias to their number.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if the alias is not a valid alias name
    /// (`[a-z0-9][a-z0-9_.-]*`).
    pub fn insert(&mut self, alias: &str, keys: KeySet) -> Result<(), Error> {
        check_alias(alias)?;
        #[cfg(feature = "metrics")]
        crate::metrics::keys_loaded(alias, &keys);
        self.sets.insert(alias.into(), keys);
        Ok(())
    }

    /// Makes `key` the key that signs records under `alias`; its verifying
    /// key joins the alias's verifying keys (feature `signatures`).
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert), and [`ErrorKind::InvalidKey`] if the
    /// alias already has a key with its id.
    #[cfg(feature = "signatures")]
    pub fn insert_signing_key(&mut self, alias: &str, key: SigningKey) -> Result<(), Error> {
        check_alias(alias)?;
        let verifying = self.verifying.entry(alias.into()).or_default();
        if verifying.get(key.id()).is_none() {
            verifying.push(key.public())?;
        }
        self.signing.insert(alias.into(), key);
        Ok(())
    }

    /// Adds verifying keys for records signed under `alias` (feature
    /// `signatures`). A key the alias has already (its signing key's, say)
    /// is kept once, so the order keys are added in does not matter.
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    #[cfg(feature = "signatures")]
    pub fn insert_verifying_keys(&mut self, alias: &str, keys: VerifyingKeys) -> Result<(), Error> {
        check_alias(alias)?;
        let verifying = self.verifying.entry(alias.into()).or_default();
        for key in keys.keys() {
            if verifying.get(key.id()).is_none() {
                verifying.push(key.clone())?;
            }
        }
        Ok(())
    }

    /// Builder form of [`insert`](Self::insert).
    ///
    /// # Errors
    ///
    /// As [`insert`](Self::insert).
    pub fn with(mut self, alias: &str, keys: KeySet) -> Result<Self, Error> {
        self.insert(alias, keys)?;
        Ok(self)
    }

    /// The aliases present, sorted.
    pub fn aliases(&self) -> Vec<&str> {
        let mut aliases: Vec<&str> = self.sets.keys().map(|a| &**a).collect();
        aliases.sort_unstable();
        aliases
    }
}

impl Keyring for MemoryKeyring {
    fn key_set(&self, alias: &str) -> Option<&KeySet> {
        self.sets.get(alias)
    }

    #[cfg(feature = "signatures")]
    fn signing_key(&self, alias: &str) -> Option<&SigningKey> {
        self.signing.get(alias)
    }

    #[cfg(feature = "signatures")]
    fn verifying_keys(&self, alias: &str) -> Option<&VerifyingKeys> {
        self.verifying.get(alias)
    }
}

/// The alias rule in words, as every message about an invalid alias says it.
pub const ALIAS_RULE: &str = "lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit, not ending in `_file`, `-file` or `.file`";

/// Refuses an alias [`is_valid_alias`] refuses.
pub(crate) fn check_alias(alias: &str) -> Result<(), Error> {
    if is_valid_alias(alias) {
        return Ok(());
    }
    Err(Error::new(ErrorKind::InvalidKey)
        .alias(alias)
        .detail(format!("invalid alias: {ALIAS_RULE}")))
}

impl fmt::Debug for MemoryKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Sorted, so the output is stable; key sets show ids and sizes only.
        let sorted: BTreeMap<&str, &KeySet> = self.sets.iter().map(|(a, s)| (&**a, s)).collect();
        let mut map = f.debug_map();
        map.entries(sorted);
        #[cfg(feature = "signatures")]
        {
            let signing: BTreeMap<&str, &SigningKey> =
                self.signing.iter().map(|(a, k)| (&**a, k)).collect();
            let verifying: BTreeMap<&str, &VerifyingKeys> =
                self.verifying.iter().map(|(a, k)| (&**a, k)).collect();
            if !signing.is_empty() {
                map.entry(&"signing", &signing);
            }
            if !verifying.is_empty() {
                map.entry(&"verifying", &verifying);
            }
        }
        map.finish()
    }
}

/// Whether `alias` follows the alias rule, `[a-z0-9][a-z0-9_.-]*`, and does
/// not end in `_file`, `-file` or `.file` (its variable would end in
/// `_FILE`, which names a file): the rule `#[encrypt(key = "...")]`
/// enforces at compile time.
pub fn is_valid_alias(alias: &str) -> bool {
    let mut bytes = alias.bytes();
    let well_formed = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b));
    let names_a_file = ["_file", "-file", ".file"]
        .iter()
        .any(|suffix| alias.ends_with(suffix));
    well_formed && !names_a_file
}

#[cfg(test)]
mod tests {
    use super::is_valid_alias;

    #[test]
    fn alias_rule_matches_the_derive() {
        for ok in ["pii", "eu.pii-v2", "0day", "a_b", "profile"] {
            assert!(is_valid_alias(ok), "{ok}");
        }
        for bad in [
            "",
            "PII",
            "-pii",
            "_pii",
            "pii key",
            "ü",
            "audit_file",
            "x-file",
            "y.file",
        ] {
            assert!(!is_valid_alias(bad), "{bad}");
        }
    }
}
