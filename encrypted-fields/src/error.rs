//! The one error type of the crate.
//!
//! Messages name the alias, type and field involved but never carry
//! plaintext, key bytes or ciphertext: they are meant to be logged.

use std::fmt;

use crate::binding::Binding;

/// What went wrong; see [`Error::kind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The keyring holds no key for the alias: this service has no access.
    UnknownAlias,
    /// The keyring knows the alias but not the key id in the envelope,
    /// typically because that key was rotated out.
    UnknownKeyId,
    /// The bytes are not an envelope: too short, or not valid text encoding.
    MalformedEnvelope,
    /// The envelope's version byte is one this build cannot read.
    UnsupportedVersion,
    /// The envelope failed authentication: wrong key, tampered ciphertext, or
    /// an envelope moved from another field, type or alias.
    AuthenticationFailed,
    /// A key or alias given to a keyring is invalid (bad base64, wrong length,
    /// empty value, duplicate key, bad alias name).
    InvalidKey,
    /// The keyring lacks aliases that the types in use need (start-up check).
    MissingAliases,
    /// The field's value could not be serialized to JSON before sealing.
    Serialize,
    /// The decrypted JSON does not fit the field's type.
    Deserialize,
    /// A legacy AES-CBC value could not be decrypted (bad base64, length or
    /// padding, or a wrong key: the legacy format cannot tell them apart).
    LegacyCiphertext,
    /// A key management service refused or could not be reached while
    /// wrapping or unwrapping a keyset; the message carries its error.
    Kms,
}

impl ErrorKind {
    /// The kind in snake case (`authentication_failed`): the `error` label
    /// of the `metrics` feature's failure counter, and the `kind` of the
    /// Python package's errors.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorKind::UnknownAlias => "unknown_alias",
            ErrorKind::UnknownKeyId => "unknown_key_id",
            ErrorKind::MalformedEnvelope => "malformed_envelope",
            ErrorKind::UnsupportedVersion => "unsupported_version",
            ErrorKind::AuthenticationFailed => "authentication_failed",
            ErrorKind::InvalidKey => "invalid_key",
            ErrorKind::MissingAliases => "missing_aliases",
            ErrorKind::Serialize => "serialize",
            ErrorKind::Deserialize => "deserialize",
            ErrorKind::LegacyCiphertext => "legacy_ciphertext",
            ErrorKind::Kms => "kms",
        }
    }
}

/// An encryption, decryption or keyring error.
///
/// The [`Display`](fmt::Display) text names the alias, the type context and
/// the field when they are known, and nothing secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    detail: Option<String>,
    alias: Option<Box<str>>,
    location: Option<(Box<str>, Box<str>)>,
    missing: Vec<String>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Error {
            kind,
            detail: None,
            alias: None,
            location: None,
            missing: Vec::new(),
        }
    }

    /// Adds a short, non-secret explanation.
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Puts `prefix` (a variable name, a key position) before the detail.
    pub(crate) fn prefixed(mut self, prefix: &str) -> Self {
        self.detail = Some(match self.detail {
            Some(detail) => format!("{prefix}: {detail}"),
            None => prefix.to_owned(),
        });
        self
    }

    pub(crate) fn alias(mut self, alias: &str) -> Self {
        self.alias = Some(alias.into());
        self
    }

    /// Names the alias, type context and field the error happened at.
    pub(crate) fn at(mut self, binding: &Binding<'_>) -> Self {
        self.alias = Some(binding.alias().into());
        self.location = Some((binding.context().into(), binding.field().into()));
        self
    }

    pub(crate) fn missing_aliases(missing: Vec<String>) -> Self {
        let mut error = Error::new(ErrorKind::MissingAliases);
        error.missing = missing;
        error
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The key alias involved, when known.
    pub fn key_alias(&self) -> Option<&str> {
        self.alias.as_deref()
    }

    /// The serialized field name involved, when known.
    pub fn field(&self) -> Option<&str> {
        self.location.as_ref().map(|(_, field)| &**field)
    }

    /// The type context (struct name or `#[encrypt(context = "...")]`), when known.
    pub fn context(&self) -> Option<&str> {
        self.location.as_ref().map(|(context, _)| &**context)
    }

    /// For [`ErrorKind::MissingAliases`], every alias the keyring lacks.
    pub fn missing(&self) -> &[String] {
        &self.missing
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alias = self.alias.as_deref().unwrap_or("?");
        match self.kind {
            ErrorKind::UnknownAlias => write!(f, "keyring has no key for alias `{alias}`")?,
            ErrorKind::UnknownKeyId => write!(
                f,
                "keyring has no key with this id for alias `{alias}` (rotated out?)"
            )?,
            ErrorKind::MalformedEnvelope => match &self.alias {
                Some(alias) => write!(f, "malformed envelope for alias `{alias}`")?,
                None => f.write_str("malformed envelope")?,
            },
            ErrorKind::UnsupportedVersion => {
                write!(f, "unsupported envelope version for alias `{alias}`")?
            }
            ErrorKind::AuthenticationFailed => write!(
                f,
                "envelope for alias `{alias}` failed authentication \
                 (wrong key, tampered, or moved from another field, type or alias)"
            )?,
            ErrorKind::InvalidKey => f.write_str("invalid key configuration")?,
            ErrorKind::MissingAliases => write!(
                f,
                "keyring has no key for alias{} `{}`",
                if self.missing.len() == 1 { "" } else { "es" },
                self.missing.join("`, `")
            )?,
            ErrorKind::Serialize => write!(f, "cannot serialize value for alias `{alias}`")?,
            ErrorKind::Deserialize => write!(
                f,
                "decrypted value for alias `{alias}` does not fit the field's type"
            )?,
            ErrorKind::LegacyCiphertext => {
                f.write_str("legacy AES-CBC value could not be decrypted")?
            }
            ErrorKind::Kms => match &self.alias {
                Some(alias) => write!(f, "KMS failed on the keyset for alias `{alias}`")?,
                None => f.write_str("KMS failed on a keyset")?,
            },
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        if let Some((context, field)) = &self.location {
            write!(f, " (field `{field}` of `{context}`)")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug is what `unwrap()` and `?` in `main` print: show the
        // readable message alongside the kind.
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("message", &format_args!("{self}"))
            .finish()
    }
}

impl std::error::Error for Error {}
