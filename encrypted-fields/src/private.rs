//! What the derive's generated code calls: `encrypted_fields::__private`.
//! Not public API: it may change in any release. Each item is one field's
//! worth of work, so the expansion stays a call per field and the logic
//! lives here, where it is unit-tested.

pub use crate::aliases::AliasList;
pub use crate::binding::Binding;
pub use crate::redact::{Nested, OpaqueChild, Redacted, RedactedChild, RedactedDebug};
#[cfg(feature = "schemars")]
pub use schemars;
pub use serde;
pub use std::collections::BTreeSet;
pub use std::string::String;
pub use std::vec::Vec;
#[cfg(feature = "utoipa")]
pub use utoipa;

use crate::encoding::Encoding;
use crate::error::Error;
use crate::keyring::Keyring;
use crate::nonce::Nonce;
use crate::partial::MaybeSealed;
use crate::record::{self, RecordSeal};
pub use crate::record::{SealKind, SealSpec};
pub use crate::scope::Entered;
use crate::scope::{self, scoped};
use crate::sealed::Sealed;
use crate::traits::{Decrypt, Encrypt};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Enters a value of a type that declares bound fields (their serialized
/// names and values), position binding or `legacy_unbound`; the guard
/// leaves it.
pub fn enter_type(
    context: &str,
    record: &[(&str, &dyn BoundValue)],
    positions: bool,
    legacy: bool,
) -> Result<Entered, Error> {
    scope::enter_type(context, record, positions, legacy)
}

pub use crate::scope::BoundValue;

/// Enters the nested field serialized as `name`; `indexed` binds the list
/// it holds to element indexes.
#[inline]
pub fn enter_member(name: &str, indexed: bool) -> Result<Entered, Error> {
    scope::enter_member(name, indexed)
}

/// The binding of a field in the current scope: a deterministic field's
/// stays unscoped, so equal values match across records.
fn in_scope<R>(
    binding: &Binding<'_>,
    nonce: Nonce,
    f: impl FnOnce(&Binding<'_>) -> Result<R, Error>,
) -> Result<R, Error> {
    match nonce {
        Nonce::Random => scoped(binding, f),
        Nonce::Deterministic => f(binding),
    }
}

/// A `proto` companion's field: the envelope's bytes.
pub fn envelope_bytes<T>(sealed: Sealed<T>) -> Vec<u8> {
    sealed.as_bytes().to_vec()
}

/// A `proto` companion's field read as an envelope, refused over the size
/// limit before it is copied (as the serde path does); opening checks the
/// rest.
pub fn sealed_from_bytes<T>(bytes: &[u8], binding: &Binding<'_>) -> Result<Sealed<T>, Error> {
    crate::limits::check_envelope(bytes.len()).map_err(|detail| {
        Error::new(crate::error::ErrorKind::MalformedEnvelope)
            .detail(detail)
            .at(binding)
    })?;
    Ok(Sealed::from_envelope(bytes.to_vec()))
}

/// Rotates a `proto` companion's envelope in place; 1 if it changed.
pub fn rotate_bytes<K: Keyring + ?Sized>(
    keyring: &K,
    bytes: &mut Vec<u8>,
    binding: &Binding<'_>,
    nonce: Nonce,
) -> Result<usize, Error> {
    let mut sealed = sealed_from_bytes::<()>(bytes, binding)?;
    let changed = rotate(keyring, &mut sealed, binding, nonce)?;
    if changed > 0 {
        *bytes = envelope_bytes(sealed);
    }
    Ok(changed)
}

/// How a `proto` companion's `Debug` shows an envelope: its length only.
pub struct EnvelopeDebug(usize);

impl core::fmt::Debug for EnvelopeDebug {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Sealed({} bytes)", self.0)
    }
}

/// A `proto` companion's envelope field (`Vec<u8>` or `Option<Vec<u8>>`)
/// as its `Debug` shows it.
pub trait DebugEnvelope {
    /// The field without its bytes.
    fn debug_envelope(&self) -> Option<EnvelopeDebug>;
}

impl DebugEnvelope for Vec<u8> {
    fn debug_envelope(&self) -> Option<EnvelopeDebug> {
        Some(EnvelopeDebug(self.len()))
    }
}

impl DebugEnvelope for Option<Vec<u8>> {
    fn debug_envelope(&self) -> Option<EnvelopeDebug> {
        self.as_ref().map(|bytes| EnvelopeDebug(bytes.len()))
    }
}

/// Seals a `#[encrypt(key)]` field.
#[inline]
pub fn seal<T: Serialize, K: Keyring + ?Sized>(
    keyring: &K,
    value: &T,
    binding: &Binding<'_>,
    nonce: Nonce,
    encoding: Encoding,
) -> Result<Sealed<T>, Error> {
    in_scope(binding, nonce, |b| {
        // (Compared, never sent: see `scope::comparing`.)
        let nonce = if scope::is_comparing() {
            Nonce::Deterministic
        } else {
            nonce
        };
        Sealed::seal_as(keyring, b, value, nonce, encoding)
    })
}

/// Opens a `#[encrypt(key)]` field.
#[inline]
pub fn open<T: DeserializeOwned, K: Keyring + ?Sized>(
    keyring: &K,
    sealed: &Sealed<T>,
    binding: &Binding<'_>,
    nonce: Nonce,
) -> Result<T, Error> {
    in_scope(binding, nonce, |b| sealed.open(keyring, b))
}

/// Opens a field if the keyring has its alias; otherwise checks the
/// envelope's structure, records the alias and keeps it sealed.
pub fn open_partial<T: DeserializeOwned, K: Keyring + ?Sized>(
    keyring: &K,
    sealed: &Sealed<T>,
    binding: &Binding<'_>,
    nonce: Nonce,
    inaccessible: &mut BTreeSet<String>,
) -> Result<MaybeSealed<T>, Error> {
    if keyring.opening_key_set(binding.alias()).is_some() {
        return open(keyring, sealed, binding, nonce).map(MaybeSealed::Open);
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
    encoding: Encoding,
) -> Result<Sealed<T>, Error> {
    match field {
        MaybeSealed::Open(value) => seal(keyring, value, binding, nonce, encoding),
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
    encoding: Encoding,
) -> Result<Vec<Sealed<T>>, Error> {
    Sealed::seal_for_lookup_as(keyring, binding, value, encoding)
}

/// Rotates a field to the primary key; 1 if it changed.
#[inline]
pub fn rotate<T, K: Keyring + ?Sized>(
    keyring: &K,
    sealed: &mut Sealed<T>,
    binding: &Binding<'_>,
    nonce: Nonce,
) -> Result<usize, Error> {
    in_scope(binding, nonce, |b| sealed.rotate(keyring, b, nonce)).map(usize::from)
}

/// Seals a `#[encrypt(nested, key)]` field: the child's own fields first
/// (bound to the field's position), then its whole companion.
pub fn seal_nested<T: Encrypt, K: Keyring + ?Sized>(
    keyring: &K,
    value: &T,
    binding: &Binding<'_>,
    indexed: bool,
) -> Result<Sealed<T::Encrypted>, Error>
where
    T::Encrypted: Serialize,
{
    let child = {
        let _member = enter_member(binding.field(), indexed)?;
        value.encrypt(keyring)?
    };
    seal(keyring, &child, binding, Nonce::Random, Encoding::Json)
}

/// Opens a `#[encrypt(nested, key)]` field: the outer envelope, then
/// the child's fields.
pub fn open_nested<E: Decrypt + DeserializeOwned, K: Keyring + ?Sized>(
    keyring: &K,
    sealed: &Sealed<E>,
    binding: &Binding<'_>,
    indexed: bool,
) -> Result<E::Plain, Error> {
    let child = open(keyring, sealed, binding, Nonce::Random)?;
    let _member = enter_member(binding.field(), indexed)?;
    child.decrypt(keyring)
}

/// Partial decryption of a `#[encrypt(nested, key)]` field.
pub fn open_nested_partial<E: Decrypt + DeserializeOwned, K: Keyring + ?Sized>(
    keyring: &K,
    sealed: &Sealed<E>,
    binding: &Binding<'_>,
    indexed: bool,
    inaccessible: &mut BTreeSet<String>,
) -> Result<MaybeSealed<E::Partial, E>, Error> {
    if keyring.opening_key_set(binding.alias()).is_none() {
        return keep_sealed(keyring, sealed, binding, inaccessible);
    }
    let child = open(keyring, sealed, binding, Nonce::Random)?;
    let _member = enter_member(binding.field(), indexed)?;
    child
        .decrypt_partial_into(keyring, inaccessible)
        .map(MaybeSealed::Open)
}

/// Re-seals a partial `#[encrypt(nested, key)]` field.
pub fn reseal_nested<P: Encrypt, K: Keyring + ?Sized>(
    keyring: &K,
    field: &MaybeSealed<P, P::Encrypted>,
    binding: &Binding<'_>,
    indexed: bool,
) -> Result<Sealed<P::Encrypted>, Error>
where
    P::Encrypted: Serialize,
{
    match field {
        MaybeSealed::Open(partial) => seal_nested(keyring, partial, binding, indexed),
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
    indexed: bool,
) -> Result<usize, Error>
where
    E: Decrypt + Serialize + DeserializeOwned,
{
    let mut child = open(keyring, sealed, binding, Nonce::Random)?;
    let changed = {
        let _member = enter_member(binding.field(), indexed)?;
        child.reencrypt(keyring)?
    };
    match changed {
        0 => rotate(keyring, sealed, binding, Nonce::Random),
        changed => {
            *sealed = seal(keyring, &child, binding, Nonce::Random, Encoding::Json)?;
            Ok(changed + 1)
        }
    }
}

/// The canonical encoding of a record given as JSON text (FORMAT.md
/// section 13.2), for the golden-vector tests.
pub fn canonical_json(json: &str, skip: &str) -> Result<Vec<u8>, Error> {
    crate::canonical::encode_json(json, skip)
}

/// The seal of a `#[encrypt(seal)]` or `#[encrypt(sign)]` record, once
/// every field of `record` (the companion) is sealed.
pub fn seal_record<K: Keyring + ?Sized, T: Serialize>(
    keyring: &K,
    record: &T,
    spec: &SealSpec<'_>,
) -> Result<RecordSeal, Error> {
    record::seal(keyring, record, spec)
}

/// Checks a record's seal before any field is opened.
pub fn verify_record<K: Keyring + ?Sized, T: Serialize>(
    keyring: &K,
    record: &T,
    seal: &Option<RecordSeal>,
    spec: &SealSpec<'_>,
) -> Result<(), Error> {
    record::verify(keyring, record, seal.as_ref(), spec)
}

/// Checks a record's seal if this keyring can; else records its alias.
pub fn verify_record_partial<K: Keyring + ?Sized, T: Serialize>(
    keyring: &K,
    record: &T,
    seal: &Option<RecordSeal>,
    spec: &SealSpec<'_>,
    inaccessible: &mut BTreeSet<String>,
) -> Result<(), Error> {
    record::verify_partial(keyring, record, seal.as_ref(), spec, inaccessible)
}

/// The seal of a record re-sealed from its partial form, by a service
/// that can make it (`None` only while comparing, see [`forward_record`]).
pub fn reseal_record<K: Keyring + ?Sized, T: Serialize>(
    keyring: &K,
    record: &T,
    spec: &SealSpec<'_>,
) -> Result<Option<RecordSeal>, Error> {
    record::reseal(keyring, record, spec)
}

/// Whether this keyring cannot make the record's seal, so re-sealing a
/// partial record must forward it as received ([`forward_record`]).
pub fn must_forward<K: Keyring + ?Sized>(keyring: &K, spec: &SealSpec<'_>) -> bool {
    !record::can_seal(keyring, spec) && !scope::is_comparing()
}

/// A partial record re-sealed by a service that cannot make its seal:
/// the record as received, byte for byte, if nothing in it changed.
pub fn forward_record<K, P>(
    keyring: &K,
    partial: &P,
    received: Option<&P::Encrypted>,
    spec: &SealSpec<'_>,
) -> Result<P::Encrypted, Error>
where
    K: Keyring + ?Sized,
    P: Encrypt,
    P::Encrypted: Decrypt<Partial = P> + Clone + Serialize,
{
    record::forward(keyring, partial, received, spec)
}

/// A new seal after re-encryption, if one is due.
pub fn rotate_record_seal<K: Keyring + ?Sized, T: Serialize>(
    keyring: &K,
    record: &T,
    old: &Option<RecordSeal>,
    changed: bool,
    spec: &SealSpec<'_>,
) -> Result<Option<RecordSeal>, Error> {
    record::rotate(keyring, record, old.as_ref(), changed, spec)
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
    Error::new(crate::error::ErrorKind::Serialize).detail("derive(Encrypt) failed")
}

/// A companion's OpenAPI schema (`utoipa::PartialSchema::schema`), from
/// its JSON Schema.
#[cfg(feature = "utoipa")]
pub fn openapi_schema<T: schemars::JsonSchema + ?Sized>()
-> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    crate::schema::openapi::schema::<T>()
}

/// The components a companion's OpenAPI schema refers to
/// (`utoipa::ToSchema::schemas`).
#[cfg(feature = "utoipa")]
pub fn openapi_schemas<T: schemars::JsonSchema + ?Sized>(
    schemas: &mut Vec<(
        String,
        utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    )>,
) {
    crate::schema::openapi::schemas::<T>(schemas);
}
