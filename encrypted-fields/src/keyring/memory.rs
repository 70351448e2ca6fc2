use std::collections::{BTreeMap, HashMap};
use std::fmt;

use super::Keyring;
use crate::error::{Error, ErrorKind};
use crate::key::KeySet;

/// A keyring held in memory: for tests, and as the storage behind keyrings
/// that load from other secret stores.
#[derive(Default)]
pub struct MemoryKeyring {
    sets: HashMap<Box<str>, KeySet>,
}

impl MemoryKeyring {
    /// An empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the keys of `alias`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if the alias is not a valid alias name
    /// (`[a-z0-9][a-z0-9_.-]*`).
    pub fn insert(&mut self, alias: &str, keys: KeySet) -> Result<(), Error> {
        if !is_valid_alias(alias) {
            return Err(Error::new(ErrorKind::InvalidKey)
                .alias(alias)
                .detail("aliases are lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit, not ending in `_file`"));
        }
        self.sets.insert(alias.into(), keys);
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
}

impl fmt::Debug for MemoryKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Sorted, so the output is stable; key sets show ids and sizes only.
        let sorted: BTreeMap<&str, &KeySet> = self.sets.iter().map(|(a, s)| (&**a, s)).collect();
        f.debug_map().entries(sorted).finish()
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
