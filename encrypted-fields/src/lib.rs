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
#![warn(missing_docs)]

// Modules in dependency order: each uses only those above it.
//   leaves:    binding, nonce, limits, cipher, scratch, aliases, redact
//   then:      error -> scope -> key -> json, envelope -> audit -> keyring -> sealed
//              -> partial -> traits -> containers, private
//   features:  metrics (below audit), session, kms, legacy (keys and keyrings),
//              axum (traits, session), schema (sealed, record), column (sealed)
//              -> sqlx_column, diesel_column
mod aliases;
mod audit;
#[cfg(feature = "axum")]
pub mod axum;
mod binding;
mod bytes;
mod canonical;
mod cipher;
#[cfg(any(feature = "sqlx", feature = "diesel"))]
mod column;
mod containers;
#[cfg(feature = "diesel")]
mod diesel_column;
mod encoding;
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
#[cfg(feature = "metrics")]
mod metrics;
mod nonce;
mod partial;
mod record;
mod redact;
#[cfg(feature = "schemars")]
pub mod schema;
mod scope;
mod scratch;
mod sealed;
#[cfg(feature = "hpke")]
pub mod session;
#[cfg(feature = "signatures")]
mod signing;
#[cfg(feature = "sqlx")]
mod sqlx_column;
mod traits;

pub use binding::Binding;
pub use encoding::Encoding;
pub use error::{Error, ErrorKind};
pub use key::{Key, KeyId, KeySet, KeySize, generate_key};
pub use keyring::{ALIAS_RULE, EnvKeyring, Keyring, MemoryKeyring, is_valid_alias};
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
/// Each envelope is bound to its alias, a context (the type's name unless
/// `context` says otherwise) and the field's serialized name. The options
/// of `#[encrypt(...)]`, all in one attribute per field or type:
///
/// On a field:
///
/// - `key = "alias"`: seal the field under the alias's primary key; the
///   field's type is any `Serialize + DeserializeOwned` type, and an
///   `Option`'s `None` stays `null`.
/// - `deterministic` (with `key`): equal values give equal envelopes, so
///   records can be looked up by equality on the ciphertext; this leaks
///   equality. Generates `Encrypted<Name>::lookup_<field>`.
/// - `lookup = "name"` (with `deterministic`): names the generated lookup
///   method (default `lookup_<field>`).
/// - `bytes` (with `key`): seal the bytes of a value serde writes as a byte
///   string (`serde_bytes::ByteBuf`, `bytes::Bytes`, `Vec<u8>`) as they
///   are, not its JSON form ([`Encoding::Bytes`], format version 3).
/// - `nested`: the field's type derives `Encrypt` and seals its own fields
///   (also inside `Option`, `Vec`, `Box`, `HashMap` and `BTreeMap`); with
///   `key = "alias"`, the whole child is sealed once more under `alias`.
/// - `bind` (on a plain field of a struct): bind every envelope in the
///   value to this field's value, such as the record's id.
/// - `bind_index` (with `nested`, on a `Vec`): bind list elements to their
///   index too.
///
/// On the struct or enum:
///
/// - `context = "name"`: bind envelopes to `name` instead of the type's
///   name; set it for persisted data, so the type can be renamed.
/// - `redact_debug`: generate the plain type's `Debug`, printing encrypted
///   fields as `<redacted>` (do not also derive `Debug`).
/// - `bind_positions` (on the outermost type): bind envelopes in nested
///   children to where the child sits.
/// - `legacy_unbound`: also open envelopes sealed before `bind` or
///   `bind_positions` was added.
/// - `seal = "alias"` (struct with named fields): add a record seal, a MAC
///   over every member, under the alias's keys.
/// - `sign = "alias"` (struct with named fields, feature `signatures`): the
///   record seal as an Ed25519 signature instead; a record has one of
///   `seal` and `sign`.
/// - `seal_member = "name"`: the member that holds the record seal
///   (default `_seal`).
/// - `proto` (a prost message, added by `encrypted-fields-build`): the
///   companion is a prost message too, with each envelope in a `bytes`
///   field.
/// - `derive(Path, ...)`: more derives for the companion
///   (`sqlx::FromRow`, `diesel::Queryable`, ...); the type's and fields'
///   `#[sqlx(...)]` or `#[diesel(...)]` attributes carry over to it, and
///   with `FromRow` a record seal is the column named after its member.
/// - `schema` (features `schemars`, `utoipa`): the companion derives
///   `schemars::JsonSchema` (and implements `utoipa::ToSchema`), each
///   encrypted field a string of format `encrypted-fields-envelope`.
///
/// Options that do not fit (an unknown or misplaced option, `deterministic`
/// or `bytes` with `nested`, a serde attribute that cannot apply to a ciphertext) are
/// compile errors.
pub use encrypted_fields_derive::Encrypt;

/// What the derive's generated code calls. Not public API: it may change
/// in any release.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
