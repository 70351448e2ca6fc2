use std::borrow::Cow;
use std::fmt;

use zeroize::Zeroizing;

use super::{Keyring, MemoryKeyring};
use crate::error::{Error, ErrorKind};
use crate::key::{Key, KeySet};

/// Prefix of the variables [`EnvKeyring`] reads.
const PREFIX: &str = "ENCRYPTED_FIELDS_KEY_";
/// Prefix of the variables holding record-signing keys (feature
/// `signatures`): Ed25519 seeds, the first one signs.
pub const SIGNING_PREFIX: &str = "ENCRYPTED_FIELDS_SIGNING_KEY_";
/// Prefix of the variables holding record-verifying keys.
pub const VERIFYING_PREFIX: &str = "ENCRYPTED_FIELDS_VERIFYING_KEY_";
/// What every variable this keyring reads starts with.
const COMMON_PREFIX: &str = "ENCRYPTED_FIELDS_";

/// Which kind of key a variable holds.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Keys,
    Signing,
    Verifying,
}
/// Suffix of a variable that names a file holding the value.
const FILE_SUFFIX: &str = "_FILE";

/// Keys from environment variables (or files they name), the default keyring.
///
/// `ENCRYPTED_FIELDS_KEY_<ALIAS>` holds one or more keys separated by
/// commas, each standard padded base64 of 16 bytes (AES-128-GCM-SIV) or 32
/// bytes (AES-256-GCM-SIV). The first key is the primary and seals new
/// envelopes; all of them open envelopes that name their id, so a key is
/// rotated by prepending the new one. `ENCRYPTED_FIELDS_KEY_<ALIAS>_FILE`
/// names a file holding the same value (as container secrets are mounted).
///
/// `<ALIAS>` is the alias upper-cased with `-` and `.` turned into `_`, so
/// `pii`, `pii-v2` and `eu.pii` read `..._PII`, `..._PII_V2` and
/// `..._EU_PII`. Aliases that differ only in `-`, `.` and `_` therefore
/// share one variable; an alias cannot end in `_file`.
pub struct EnvKeyring(MemoryKeyring);

impl EnvKeyring {
    /// Reads every `ENCRYPTED_FIELDS_KEY_*` variable of this process.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] naming the variable when a value is empty,
    /// not base64, not 16 or 32 bytes, not UTF-8, lists a key twice, or a
    /// `_FILE` cannot be read; the message never contains key material.
    pub fn from_env() -> Result<Self, Error> {
        // Values are key material: hold them in zeroizing strings.
        let mut vars: Vec<(String, Zeroizing<String>)> = Vec::new();
        for (name, value) in std::env::vars_os() {
            let bytes = name.as_encoded_bytes();
            let ours = [PREFIX, SIGNING_PREFIX, VERIFYING_PREFIX]
                .iter()
                .any(|prefix| bytes.starts_with(prefix.as_bytes()));
            if !ours {
                continue;
            }
            let Some(name) = name.to_str() else {
                // Skipping it would drop a key the operator meant to set.
                return Err(Error::new(ErrorKind::InvalidKey).detail(format!(
                    "a variable named {COMMON_PREFIX}... is not UTF-8: {}",
                    name.to_string_lossy()
                )));
            };
            let value = value.into_string().map_err(|_| {
                Error::new(ErrorKind::InvalidKey).detail(format!("{name}: value is not UTF-8"))
            })?;
            vars.push((name.to_owned(), Zeroizing::new(value)));
        }
        Self::from_vars(vars.iter().map(|(name, value)| (name, value.as_str())))
    }

    /// Reads keys from `(name, value)` pairs, exactly as [`from_env`]
    /// reads the environment; names without the prefix are ignored. Tests
    /// use this instead of mutating the process environment.
    ///
    /// ```
    /// use encrypted_fields::{EnvKeyring, Keyring};
    ///
    /// let keyring = EnvKeyring::from_vars([
    ///     ("ENCRYPTED_FIELDS_KEY_PII", "AAECAwQFBgcICQoLDA0ODw=="),
    ///     ("HOME", "/root"),
    /// ])?;
    /// assert!(keyring.key_set("pii").is_some());
    /// # Ok::<(), encrypted_fields::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env).
    ///
    /// [`from_env`]: Self::from_env
    pub fn from_vars<I, N, V>(vars: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let mut keyring = MemoryKeyring::new();
        let mut seen: Vec<(Kind, String, String)> = Vec::new();
        for (name, value) in vars {
            let name = name.as_ref();
            let found = [
                (PREFIX, Kind::Keys),
                (SIGNING_PREFIX, Kind::Signing),
                (VERIFYING_PREFIX, Kind::Verifying),
            ]
            .into_iter()
            .find_map(|(prefix, kind)| name.strip_prefix(prefix).map(|suffix| (suffix, kind)));
            let Some((suffix, kind)) = found else {
                continue;
            };
            let invalid = |detail: &str| {
                Error::new(ErrorKind::InvalidKey).detail(format!("{name}: {detail}"))
            };
            let (alias_part, from_file) = match suffix.strip_suffix(FILE_SUFFIX) {
                Some(alias_part) => (alias_part, true),
                None => (suffix, false),
            };
            if !is_valid_var_alias(alias_part) {
                return Err(invalid(
                    "the part after the prefix must be upper-case letters, digits and `_`",
                ));
            }
            let alias = alias_part.to_ascii_lowercase();
            if let Some((_, _, other)) = seen.iter().find(|(k, a, _)| *k == kind && *a == alias) {
                return Err(invalid(&format!(
                    "alias `{alias}` is also set by {other}; set only one"
                )));
            }
            let file_text: Zeroizing<String>;
            let value = if from_file {
                file_text = read_named_file(name, value.as_ref())?;
                file_text.as_str()
            } else {
                value.as_ref()
            };
            match kind {
                Kind::Keys => {
                    let keys = parse_keys(value).map_err(|e| e.prefixed(name))?;
                    keyring.insert(&alias, keys).map_err(|e| e.prefixed(name))?;
                }
                Kind::Signing | Kind::Verifying => {
                    add_signature_keys(&mut keyring, kind, &alias, value)
                        .map_err(|e| e.prefixed(name))?;
                }
            }
            seen.push((kind, alias, name.to_owned()));
        }
        Ok(EnvKeyring(keyring))
    }

    /// The variable that holds `alias`'s keys: `pii-v2` gives
    /// `ENCRYPTED_FIELDS_KEY_PII_V2`.
    pub fn var_name(alias: &str) -> String {
        prefixed_var_name(PREFIX, alias)
    }

    /// The aliases present (in their variable form, lower-cased), sorted.
    pub fn aliases(&self) -> Vec<&str> {
        self.0.aliases()
    }
}

/// Reads a secret from `name`, or from the file `name_FILE` names: the one
/// rule for every variable this crate reads. Both set is an error; so is a
/// value that is not UTF-8. Errors name the variable, never the value or
/// the path.
#[cfg_attr(not(any(feature = "hpke", feature = "aws-kms")), allow(dead_code))]
pub(crate) fn read_secret_var(name: &str) -> Result<Option<Zeroizing<String>>, Error> {
    let file_name = format!("{name}{FILE_SUFFIX}");
    let invalid = |var: &str, detail: &str| {
        Error::new(ErrorKind::InvalidKey).detail(format!("{var}: {detail}"))
    };
    let utf8 = |var: &str, value: std::ffi::OsString| {
        value
            .into_string()
            .map(Zeroizing::new)
            .map_err(|_| invalid(var, "value is not UTF-8"))
    };
    match (std::env::var_os(name), std::env::var_os(&file_name)) {
        (Some(_), Some(_)) => Err(invalid(
            name,
            &format!("{file_name} is set too; set only one"),
        )),
        (Some(value), None) => utf8(name, value).map(Some),
        (None, Some(path)) => read_named_file(&file_name, &utf8(&file_name, path)?).map(Some),
        (None, None) => Ok(None),
    }
}

/// The largest file a `_FILE` variable may name: a keyset is one line (a
/// few dozen bytes a key), so anything near this is not a keyset.
/// `prefix` and the alias in its variable form: upper-cased, `-` and `.`
/// as `_` (`eu.pii-v2` gives `EU_PII_V2`). Every kind of key variable
/// names its alias this way.
pub(crate) fn prefixed_var_name(prefix: &str, alias: &str) -> String {
    let mut name = String::with_capacity(prefix.len() + alias.len());
    name.push_str(prefix);
    name.extend(alias.chars().map(|c| match c {
        '-' | '.' => '_',
        c => c.to_ascii_uppercase(),
    }));
    name
}

pub(crate) const MAX_SECRET_FILE_LEN: u64 = 64 * 1024;

/// The text of the file the `_FILE` variable `var` names: a regular file
/// (symlinks followed, as Kubernetes secret mounts use them) of at most
/// [`MAX_SECRET_FILE_LEN`] bytes, so `/dev/zero`, a FIFO without a writer
/// or a huge file fail at once instead of hanging or exhausting memory.
/// Never echoes the path: a key pasted into a `_FILE` variable by mistake
/// would reach logs.
fn read_named_file(var: &str, path: &str) -> Result<Zeroizing<String>, Error> {
    use std::io::Read;
    let fail =
        |detail: String| Error::new(ErrorKind::InvalidKey).detail(format!("{var}: {detail}"));
    let unreadable =
        |e: std::io::Error| fail(format!("cannot read the file it names: {}", e.kind()));
    let check = |metadata: std::fs::Metadata| {
        if !metadata.is_file() {
            return Err(fail("the file it names is not a regular file".to_owned()));
        }
        if metadata.len() > MAX_SECRET_FILE_LEN {
            return Err(fail(format!(
                "the file it names is over {MAX_SECRET_FILE_LEN} bytes; a keyset is one line"
            )));
        }
        Ok(())
    };
    // Checked before opening: opening a FIFO would block.
    check(std::fs::metadata(path).map_err(unreadable)?)?;
    let file = std::fs::File::open(path).map_err(unreadable)?;
    check(file.metadata().map_err(unreadable)?)?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_SECRET_FILE_LEN + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > MAX_SECRET_FILE_LEN {
        return Err(fail(format!(
            "the file it names is over {MAX_SECRET_FILE_LEN} bytes; a keyset is one line"
        )));
    }
    match String::from_utf8(std::mem::take(&mut *bytes)) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(error) => {
            Zeroizing::new(error.into_bytes());
            Err(unreadable(std::io::ErrorKind::InvalidData.into()))
        }
    }
}

/// Adds the signing keys (the first signs; all verify) or verifying keys in
/// `value` to `alias`.
#[cfg(feature = "signatures")]
fn add_signature_keys(
    keyring: &mut MemoryKeyring,
    kind: Kind,
    alias: &str,
    value: &str,
) -> Result<(), Error> {
    use crate::signing::{SigningKey, VerifyingKeys};
    if kind == Kind::Verifying {
        return keyring.insert_verifying_keys(alias, VerifyingKeys::from_base64_list(value)?);
    }
    if value.trim_ascii().is_empty() {
        return Err(Error::new(ErrorKind::InvalidKey).detail("value is empty"));
    }
    let mut keys = Vec::new();
    for (i, part) in value.split(',').enumerate() {
        let prefix = format!("key {}", i + 1);
        if part.trim_ascii().is_empty() {
            return Err(Error::new(ErrorKind::InvalidKey).detail(format!("{prefix} is empty")));
        }
        let key = SigningKey::from_base64(part).map_err(|e| e.prefixed(&prefix))?;
        if keys.iter().any(|k: &SigningKey| k.id() == key.id()) {
            return Err(Error::new(ErrorKind::InvalidKey)
                .detail(format!("{prefix}: signing key {} listed twice", key.id())));
        }
        keys.push(key);
    }
    // Older signing keys only verify: their public keys stay known, so
    // records signed before a rotation keep verifying.
    let mut older = VerifyingKeys::default();
    for key in keys.iter().skip(1) {
        older.push(key.public())?;
    }
    let mut keys = keys.into_iter();
    if let Some(primary) = keys.next() {
        keyring.insert_signing_key(alias, primary)?;
    }
    keyring.insert_verifying_keys(alias, older)
}

/// Without the `signatures` feature, signing and verifying keys are not
/// used; a variable that holds them is refused rather than ignored.
#[cfg(not(feature = "signatures"))]
fn add_signature_keys(_: &mut MemoryKeyring, _: Kind, _: &str, _: &str) -> Result<(), Error> {
    Err(Error::new(ErrorKind::InvalidKey)
        .detail("record signatures need the `signatures` feature of encrypted-fields"))
}

/// Parses a comma-separated list of base64 keys, primary first.
pub(crate) fn parse_keys(value: &str) -> Result<KeySet, Error> {
    if value.trim_ascii().is_empty() {
        return Err(Error::new(ErrorKind::InvalidKey).detail("value is empty"));
    }
    let keys = value
        .split(',')
        .enumerate()
        .map(|(i, text)| {
            if text.trim_ascii().is_empty() {
                return Err(
                    Error::new(ErrorKind::InvalidKey).detail(format!("key {} is empty", i + 1))
                );
            }
            Key::from_base64(text).map_err(|e| e.prefixed(&format!("key {}", i + 1)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    KeySet::new(keys)
}

/// `[A-Z0-9][A-Z0-9_]*`: what an alias looks like inside a variable name.
fn is_valid_var_alias(part: &str) -> bool {
    let mut bytes = part.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

/// The form an alias takes in this keyring: lower case, `-` and `.` as `_`.
fn normalize(alias: &str) -> Cow<'_, str> {
    if alias
        .bytes()
        .any(|b| matches!(b, b'-' | b'.' | b'A'..=b'Z'))
    {
        Cow::Owned(
            alias
                .chars()
                .map(|c| match c {
                    '-' | '.' => '_',
                    c => c.to_ascii_lowercase(),
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(alias)
    }
}

impl Keyring for EnvKeyring {
    fn key_set(&self, alias: &str) -> Option<&KeySet> {
        self.0.key_set(&normalize(alias))
    }

    #[cfg(feature = "signatures")]
    fn signing_key(&self, alias: &str) -> Option<&crate::signing::SigningKey> {
        self.0.signing_key(&normalize(alias))
    }

    #[cfg(feature = "signatures")]
    fn verifying_keys(&self, alias: &str) -> Option<&crate::signing::VerifyingKeys> {
        self.0.verifying_keys(&normalize(alias))
    }
}

impl fmt::Debug for EnvKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EnvKeyring").field(&self.0).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K16: &str = "AAECAwQFBgcICQoLDA0ODw==";
    const K32: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn error(vars: &[(&str, &str)]) -> String {
        EnvKeyring::from_vars(vars.iter().copied())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn var_name_maps_alias_punctuation_to_underscores() {
        assert_eq!(EnvKeyring::var_name("pii"), "ENCRYPTED_FIELDS_KEY_PII");
        assert_eq!(
            EnvKeyring::var_name("eu.pii-v2"),
            "ENCRYPTED_FIELDS_KEY_EU_PII_V2"
        );
    }

    #[test]
    fn aliases_with_punctuation_find_their_variable() {
        let keyring = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_EU_PII_V2", K16)]).unwrap();
        assert!(keyring.key_set("eu.pii-v2").is_some());
        assert!(keyring.key_set("eu_pii_v2").is_some());
        assert!(keyring.key_set("eu_pii").is_none());
    }

    #[test]
    fn comma_separated_keys_put_the_first_as_primary() {
        let keyring =
            EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", format!("{K32}, {K16}"))]).unwrap();
        let set = keyring.key_set("pii").unwrap();
        assert_eq!(set.keys().len(), 2);
        assert_eq!(set.primary().bits(), 256);
    }

    #[test]
    fn malformed_values_name_the_variable_and_not_the_key() {
        let cases = [
            ("", "value is empty"),
            ("  ", "value is empty"),
            ("not base64!", "key 1: key is not standard padded base64"),
            (
                "AAECAwQFBgcICQoLDA0ODw",
                "key 1: key is not standard padded base64",
            ),
            ("AAECAwQFBgcICQoLDA0ODxAREhMUFRYX", "key 1: key is 24 bytes"),
            ("AAECAwQFBgcICQoLDA0ODw==,", "key 2 is empty"),
        ];
        for (value, expected) in cases {
            let message = error(&[("ENCRYPTED_FIELDS_KEY_PII", value)]);
            assert!(message.contains("ENCRYPTED_FIELDS_KEY_PII: "), "{message}");
            assert!(message.contains(expected), "{value:?}: {message}");
            if !value.trim().is_empty() {
                assert!(!message.contains(value.trim_end_matches(',')), "{message}");
            }
        }
    }

    /// FORMAT.md section 2: only ASCII whitespace (space, tab, LF, FF,
    /// CR) around a key is ignored.
    #[test]
    fn only_ascii_whitespace_around_keys_is_ignored() {
        let padded = format!(" \t{K16}\r\n,\x0c{K32} ");
        let keyring = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", padded)]).unwrap();
        assert_eq!(keyring.key_set("pii").unwrap().keys().len(), 2);
        for odd in ["\u{a0}", "\u{2003}", "\u{1c}"] {
            let message = error(&[("ENCRYPTED_FIELDS_KEY_PII", &format!("{odd}{K16}"))]);
            assert!(message.contains("not standard padded base64"), "{message}");
        }
    }

    #[test]
    fn invalid_variable_suffixes_are_rejected() {
        assert!(error(&[("ENCRYPTED_FIELDS_KEY_pii", K16)]).contains("ENCRYPTED_FIELDS_KEY_pii"));
        assert!(error(&[("ENCRYPTED_FIELDS_KEY_", K16)]).contains("ENCRYPTED_FIELDS_KEY_:"));
    }

    #[test]
    fn file_variant_reads_the_value_from_a_file() {
        let dir = std::env::temp_dir().join(format!("ef-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("pii.key");
        std::fs::write(&path, format!("{K16}\n")).unwrap();
        let path = path.to_str().unwrap();
        let keyring = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII_FILE", path)]).unwrap();
        assert_eq!(keyring.key_set("pii").unwrap().primary().bits(), 128);

        let both = error(&[
            ("ENCRYPTED_FIELDS_KEY_PII", K16),
            ("ENCRYPTED_FIELDS_KEY_PII_FILE", path),
        ]);
        assert!(
            both.contains("also set by ENCRYPTED_FIELDS_KEY_PII"),
            "{both}"
        );
        let missing = error(&[("ENCRYPTED_FIELDS_KEY_PII_FILE", "/nonexistent/pii.key")]);
        assert!(
            missing.contains("ENCRYPTED_FIELDS_KEY_PII_FILE: cannot read"),
            "{missing}"
        );
        // A key pasted into a `_FILE` variable by mistake is not echoed.
        let pasted = error(&[("ENCRYPTED_FIELDS_KEY_PII_FILE", K32)]);
        assert!(
            !pasted.contains(K32) && !pasted.contains("AAECAwQF"),
            "{pasted}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Before, `/dev/zero` grew until allocation failed, a FIFO without a
    /// writer blocked start-up, and a 500 MB file was read whole.
    #[test]
    fn key_files_must_be_small_regular_files() {
        let dir = std::env::temp_dir().join(format!("ef-env-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.key");
        std::fs::write(&big, vec![b'A'; MAX_SECRET_FILE_LEN as usize + 1]).unwrap();
        let link = dir.join("link.key");
        let target = dir.join("target.key");
        std::fs::write(&target, format!("{K16}\n")).unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let fifo = dir.join("fifo.key");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        let var = "ENCRYPTED_FIELDS_KEY_PII_FILE";
        let refused = |path: &std::path::Path| error(&[(var, path.to_str().unwrap())]);
        assert!(
            refused(&big).contains("over 65536 bytes"),
            "{}",
            refused(&big)
        );
        for special in [std::path::Path::new("/dev/zero"), &dir] {
            let message = refused(special);
            assert!(message.contains("not a regular file"), "{message}");
        }
        if made.is_ok_and(|s| s.success()) {
            let message = refused(&fifo);
            assert!(message.contains("not a regular file"), "{message}");
        }
        // A symlink to a regular file (a Kubernetes secret mount) is fine.
        let keyring = EnvKeyring::from_vars([(var, link.to_str().unwrap())]).unwrap();
        assert!(keyring.key_set("pii").is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_lists_aliases_and_ids_only() {
        let keyring = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", K32)]).unwrap();
        let debug = format!("{keyring:?}");
        let id = keyring.key_set("pii").unwrap().primary().id();
        assert_eq!(
            debug,
            format!("EnvKeyring({{\"pii\": [Key({id}, AES-256-GCM-SIV)]}})")
        );
    }
}
