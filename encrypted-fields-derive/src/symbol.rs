//! The option keywords of `#[encrypt(...)]`, named once (as serde_derive's
//! `symbol.rs` does), so parsing, checks and messages agree on spelling.

/// `key = "alias"`: seal the field under this alias.
pub(crate) const KEY: &str = "key";
/// `nested`: the field's type derives `Encrypt` and seals its own fields.
pub(crate) const NESTED: &str = "nested";
/// `deterministic`: equal values give equal envelopes.
pub(crate) const DETERMINISTIC: &str = "deterministic";
/// `bytes`: the value's bytes are sealed as they are, not its JSON text.
pub(crate) const BYTES: &str = "bytes";
/// `lookup = "name"`: the name of a deterministic field's lookup method.
pub(crate) const LOOKUP: &str = "lookup";
/// `bind`: this plain field identifies the record; envelopes bind to it.
pub(crate) const BIND: &str = "bind";
/// `bind_index`: a nested list's elements bind to their indexes.
pub(crate) const BIND_INDEX: &str = "bind_index";
/// `context = "name"`: replaces the type name in every binding.
pub(crate) const CONTEXT: &str = "context";
/// `redact_debug`: a `Debug` that prints encrypted fields as `<redacted>`.
pub(crate) const REDACT_DEBUG: &str = "redact_debug";
/// `bind_positions`: nested children's envelopes bind to where they sit.
pub(crate) const BIND_POSITIONS: &str = "bind_positions";
/// `legacy_unbound`: also open version-1 envelopes (migration).
pub(crate) const LEGACY_UNBOUND: &str = "legacy_unbound";
/// `seal = "alias"`: a MAC over the whole record, under this alias.
pub(crate) const SEAL: &str = "seal";
/// `sign = "alias"`: an Ed25519 signature over the whole record.
pub(crate) const SIGN: &str = "sign";
/// `seal_member = "name"`: the JSON member that holds the seal.
pub(crate) const SEAL_MEMBER: &str = "seal_member";
/// `proto`: a prost message; the companion is one too, envelopes as bytes.
pub(crate) const PROTO: &str = "proto";
/// `schema`: the companion describes itself (`JsonSchema` with the
/// `schemars` feature, `utoipa::ToSchema` too with `utoipa`).
pub(crate) const SCHEMA: &str = "schema";
/// `derive(Path, ...)`: derives the companion carries besides its own
/// (`sqlx::FromRow`, say).
pub(crate) const DERIVE: &str = "derive";
