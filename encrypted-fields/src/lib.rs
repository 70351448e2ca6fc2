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

// Modules in dependency order: each uses only those above it.
//   leaves:    binding, nonce, limits, cipher, scratch, aliases, redact
//   then:      error -> scope -> key -> json, envelope -> audit -> keyring -> sealed
//              -> partial -> traits -> containers, private
//   features:  session, kms, legacy (keys and keyrings), axum (traits, session)
mod aliases;
mod audit;
#[cfg(feature = "axum")]
pub mod axum;
mod binding;
mod canonical;
mod cipher;
mod containers;
mod envelope;
mod error;
mod json;
mod key;
mod keyring;
#[cfg(feature = "aws-kms")]
pub mod kms;
#[cfg(feature = "legacy-cbc")]
pub mod legacy;
mod limits;
mod nonce;
mod partial;
mod record;
mod redact;
mod scope;
mod scratch;
mod sealed;
#[cfg(feature = "hpke")]
pub mod session;
#[cfg(feature = "signatures")]
mod signing;
mod traits;

pub use binding::Binding;
pub use error::{Error, ErrorKind};
pub use key::{Key, KeyId, KeySet, KeySize, generate_key};
pub use keyring::{EnvKeyring, Keyring, MemoryKeyring, is_valid_alias};
pub use limits::{DEFAULT_MAX_ENVELOPE_LEN, max_envelope_len, set_max_envelope_len};
pub use nonce::Nonce;
pub use partial::{MaybeSealed, PartialDecryption};
pub use record::{RecordSeal, SealKind, SealSpec};
pub use scope::{Position, RecordBinding};
pub use sealed::{EnvelopeInfo, Sealed};
/// Re-exported so users can read a [`generate_key`] result without
/// depending on `secrecy` themselves.
pub use secrecy::{ExposeSecret, SecretString};
#[cfg(feature = "signatures")]
pub use signing::{SigningKey, VerifyingKey, VerifyingKeys};
pub use traits::{Decrypt, Encrypt};

/// Derives [`Encrypt`] for a struct or enum and generates its companion
/// (`Encrypted` + name) and partial (`Partial` + name) types.
///
/// See the crate README for the attribute syntax.
pub use encrypted_fields_derive::Encrypt;

/// What the derive's generated code calls. Not public API: it may change
/// in any release.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
