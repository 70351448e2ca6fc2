//! Record seals (FORMAT.md section 13): one more member of a sealed
//! record's JSON, holding a MAC (`seal = "alias"`) or an Ed25519 signature
//! (`sign = "alias"`) over the canonical encoding of every other member, so
//! deleting, nulling, adding, editing or swapping any of them is detected.
//!
//! ```text
//! seal    = 01 || kind (01 MAC, 02 signature) || key id (4) || tag (32) or signature (64)
//! message = domain || u16be len || alias || u16be len || context || canonical(record)
//! ```

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer};
use serde::{Serialize, Serializer};

use crate::binding::Binding;
use crate::canonical;
use crate::error::{Error, ErrorKind};
use crate::key::{KEY_ID_LEN, KeyId};
use crate::keyring::Keyring;
use crate::scope;
use crate::sealed::missing_alias;

const SEAL_VERSION: u8 = 0x01;
const KIND_MAC: u8 = 0x01;
const KIND_SIGNATURE: u8 = 0x02;
const MAC_DOMAIN: &[u8] = b"encrypted-fields record seal v1";
const SIGNATURE_DOMAIN: &[u8] = b"encrypted-fields record signature v1";
/// The longest seal: header and an Ed25519 signature.
const MAX_SEAL_LEN: usize = 2 + KEY_ID_LEN + 64;

/// What protects a record: a MAC under a symmetric alias, or an Ed25519
/// signature whose verifying keys other services hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SealKind {
    /// HMAC-SHA256 under a key derived from the alias's key: every holder
    /// of the alias can seal and check.
    Mac,
    /// Ed25519: only the holder of the signing key can seal; holders of a
    /// verifying key can check (feature `signatures`).
    Signature,
}

/// The record seal the derive declares: its kind and alias, the record's
/// type context and the member that holds it.
#[derive(Clone, Copy, Debug)]
pub struct SealSpec<'a> {
    kind: SealKind,
    alias: &'a str,
    context: &'a str,
    member: &'a str,
}

impl<'a> SealSpec<'a> {
    /// The seal of a record of type `context`.
    pub const fn new(kind: SealKind, alias: &'a str, context: &'a str, member: &'a str) -> Self {
        SealSpec {
            kind,
            alias,
            context,
            member,
        }
    }

    /// Where errors about this seal point: its alias, the type, its member.
    fn binding(&self) -> Binding<'a> {
        Binding::new(self.alias, self.context, self.member)
    }

    /// Seals a record given as JSON text (its seal member, if any, left
    /// out), as the derive seals the type whose JSON it is: for tools that
    /// have no Rust type for the record, such as the command-line tool.
    ///
    /// # Errors
    ///
    /// As the derive's `encrypt` for the seal, and
    /// [`ErrorKind::Deserialize`] for text that is not JSON readers take.
    pub fn seal_json<K: Keyring + ?Sized>(
        &self,
        keyring: &K,
        json: &str,
    ) -> Result<RecordSeal, Error> {
        let canonical =
            canonical::encode_json(json, self.member).map_err(|e| e.at(&self.binding()))?;
        seal_message(keyring, self.message_of(canonical)?, self)
    }

    /// Checks the seal of a record given as JSON text against `seal`.
    ///
    /// # Errors
    ///
    /// As the derive's `decrypt` for the seal, and
    /// [`ErrorKind::Deserialize`] for text that is not JSON readers take.
    pub fn verify_json<K: Keyring + ?Sized>(
        &self,
        keyring: &K,
        json: &str,
        seal: Option<&RecordSeal>,
    ) -> Result<(), Error> {
        let canonical =
            canonical::encode_json(json, self.member).map_err(|e| e.at(&self.binding()))?;
        verify_message(keyring, || self.message_of(canonical), seal, self)
    }

    /// The member that holds the seal.
    pub fn member(&self) -> &'a str {
        self.member
    }

    /// Whether it is a MAC or a signature.
    pub fn kind(&self) -> SealKind {
        self.kind
    }

    /// The alias whose keys make and check it.
    pub fn alias(&self) -> &'a str {
        self.alias
    }

    /// The bytes the MAC or signature covers.
    fn message<T: Serialize + ?Sized>(&self, record: &T) -> Result<Vec<u8>, Error> {
        let canonical =
            canonical::encode(record, self.member).map_err(|e| e.at(&self.binding()))?;
        self.message_of(canonical)
    }

    fn message_of(&self, canonical: Vec<u8>) -> Result<Vec<u8>, Error> {
        let domain = match self.kind {
            SealKind::Mac => MAC_DOMAIN,
            SealKind::Signature => SIGNATURE_DOMAIN,
        };
        let mut message = domain.to_vec();
        for name in [self.alias, self.context] {
            let len = u16::try_from(name.len()).map_err(|_| {
                Error::new(ErrorKind::Serialize).detail("alias or context longer than 65535 bytes")
            })?;
            message.extend_from_slice(&len.to_be_bytes());
            message.extend_from_slice(name.as_bytes());
        }
        message.extend(canonical);
        Ok(message)
    }

    fn kind_byte(&self) -> u8 {
        match self.kind {
            SealKind::Mac => KIND_MAC,
            SealKind::Signature => KIND_SIGNATURE,
        }
    }

    fn fail(&self, kind: ErrorKind, detail: impl Into<String>) -> Error {
        Error::new(kind).detail(detail).at(&self.binding())
    }
}

/// A record seal: the MAC or signature member of a sealed record. In JSON
/// a base64url string; in binary formats, raw bytes. `Debug` shows its kind
/// and key id.
#[derive(Clone, PartialEq, Eq)]
pub struct RecordSeal(Vec<u8>);

impl RecordSeal {
    /// The id of the key that made it, if it is well formed.
    pub fn key_id(&self) -> Option<KeyId> {
        let id = self.0.get(2..2 + KEY_ID_LEN)?;
        Some(KeyId::from_bytes(id.try_into().ok()?))
    }

    /// Its bytes, as a binary format stores them.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Reads the text form (base64url), checking its size only.
    pub(crate) fn from_text(text: &str) -> Result<Self, &'static str> {
        if text.len() > MAX_SEAL_LEN * 2 {
            return Err("invalid record seal: too long");
        }
        crate::envelope::EnvelopeBytes::from_text(text)
            .map(|bytes| RecordSeal(bytes.as_slice().to_vec()))
            .ok_or("invalid record seal: not base64url text")
    }

    /// Reads the binary form, checking its size only.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Result<Self, &'static str> {
        if bytes.len() > MAX_SEAL_LEN {
            return Err("invalid record seal: too long");
        }
        Ok(RecordSeal(bytes.to_vec()))
    }

    fn make(kind: u8, key_id: KeyId, tag: &[u8]) -> Self {
        let mut bytes = vec![SEAL_VERSION, kind];
        bytes.extend_from_slice(key_id.as_bytes());
        bytes.extend_from_slice(tag);
        RecordSeal(bytes)
    }

    /// The key id and tag, checked against the kind the type declares.
    fn parts(&self, spec: &SealSpec<'_>) -> Result<(KeyId, &[u8]), Error> {
        let malformed = |detail: &str| spec.fail(ErrorKind::MalformedEnvelope, detail);
        match self.0.as_slice() {
            [] | [SEAL_VERSION] => Err(malformed("record seal too short")),
            [SEAL_VERSION, kind, rest @ ..] if *kind == spec.kind_byte() => {
                let (id, tag) = rest
                    .split_first_chunk::<KEY_ID_LEN>()
                    .ok_or_else(|| malformed("record seal too short"))?;
                let expected = match spec.kind {
                    SealKind::Mac => 32,
                    SealKind::Signature => 64,
                };
                if tag.len() != expected {
                    return Err(malformed("record seal of the wrong length"));
                }
                Ok((KeyId::from_bytes(*id), tag))
            }
            [SEAL_VERSION, _, ..] => Err(spec.fail(
                ErrorKind::AuthenticationFailed,
                "the record seal is of another kind (MAC or signature) than the type declares",
            )),
            [version, ..] => Err(spec.fail(
                ErrorKind::UnsupportedVersion,
                format!("record seal version {version}; this build reads version 1"),
            )),
        }
    }
}

impl fmt::Debug for RecordSeal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0.get(1) {
            Some(&KIND_MAC) => "MAC",
            Some(&KIND_SIGNATURE) => "signature",
            _ => "unreadable",
        };
        match self.key_id() {
            Some(id) => write!(f, "RecordSeal({kind}, key {id})"),
            None => write!(f, "RecordSeal({kind})"),
        }
    }
}

impl Serialize for RecordSeal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(&crate::envelope::to_text(&self.0))
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for RecordSeal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = RecordSeal;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an encrypted-fields record seal (base64url text without padding)")
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<RecordSeal, E> {
                RecordSeal::from_text(text).map_err(E::custom)
            }
            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<RecordSeal, E> {
                RecordSeal::from_bytes(bytes).map_err(E::custom)
            }
        }
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(Visitor)
        } else {
            deserializer.deserialize_bytes(Visitor)
        }
    }
}

/// Seals `record` (the companion, every envelope in place) under the
/// spec's alias: its primary key's MAC, or its signing key's signature.
pub(crate) fn seal<K: Keyring + ?Sized, T: Serialize + ?Sized>(
    keyring: &K,
    record: &T,
    spec: &SealSpec<'_>,
) -> Result<RecordSeal, Error> {
    seal_message(keyring, spec.message(record)?, spec)
}

fn seal_message<K: Keyring + ?Sized>(
    keyring: &K,
    message: Vec<u8>,
    spec: &SealSpec<'_>,
) -> Result<RecordSeal, Error> {
    match spec.kind {
        SealKind::Mac => {
            let key = keyring
                .key_set(spec.alias)
                .ok_or_else(|| missing_alias(keyring, &spec.binding()))?
                .primary();
            let tag = key
                .record_mac(&message)
                .ok_or_else(|| spec.fail(ErrorKind::InvalidKey, "HMAC refused the seal key"))?;
            Ok(RecordSeal::make(KIND_MAC, key.id(), &tag))
        }
        SealKind::Signature => signature::sign(keyring, &message, spec),
    }
}

/// Checks `record`'s seal, which must be present and under a key of the
/// spec's alias.
pub(crate) fn verify<K: Keyring + ?Sized, T: Serialize + ?Sized>(
    keyring: &K,
    record: &T,
    seal: Option<&RecordSeal>,
    spec: &SealSpec<'_>,
) -> Result<(), Error> {
    verify_message(keyring, || spec.message(record), seal, spec)
}

/// [`verify`], the message computed only once the seal is found well formed.
fn verify_message<K: Keyring + ?Sized>(
    keyring: &K,
    message: impl FnOnce() -> Result<Vec<u8>, Error>,
    seal: Option<&RecordSeal>,
    spec: &SealSpec<'_>,
) -> Result<(), Error> {
    let seal = seal.ok_or_else(|| {
        spec.fail(
            ErrorKind::AuthenticationFailed,
            "the record seal is missing",
        )
    })?;
    let (key_id, tag) = seal.parts(spec)?;
    let message = message()?;
    let valid = match spec.kind {
        SealKind::Mac => {
            let key = keyring
                .opening_key_set(spec.alias)
                .ok_or_else(|| missing_alias(keyring, &spec.binding()))?
                .get(key_id)
                .ok_or_else(|| unknown_key(spec, key_id))?;
            key.verify_record_mac(&message, tag)
        }
        SealKind::Signature => signature::verify(keyring, &message, key_id, tag, spec)?,
    };
    if valid {
        Ok(())
    } else {
        Err(spec.fail(
            ErrorKind::AuthenticationFailed,
            "the record does not match its seal: a member was changed, added, removed or swapped",
        ))
    }
}

/// [`verify`], for a service that may lack the seal's key: then the alias
/// joins `inaccessible` and the record is taken as it is (a later holder
/// of the key checks it). A seal that is there to check and wrong is an
/// error.
pub(crate) fn verify_partial<K: Keyring + ?Sized, T: Serialize + ?Sized>(
    keyring: &K,
    record: &T,
    seal: Option<&RecordSeal>,
    spec: &SealSpec<'_>,
    inaccessible: &mut BTreeSet<String>,
) -> Result<(), Error> {
    if !can_check(keyring, spec) && keyring.load_failure(spec.alias).is_none() {
        // A keyring that could seal the record again must check it first,
        // or it would seal an edit it never looked at.
        if can_seal(keyring, spec) {
            return Err(spec.fail(
                ErrorKind::UnknownAlias,
                "this keyring can seal records of the alias but not check them: give it the keys that open (or verify) them too",
            ));
        }
        inaccessible.insert(spec.alias.to_owned());
        return Ok(());
    }
    verify(keyring, record, seal, spec)
}

/// The seal of a record re-sealed from its partial form by a service that
/// holds the key. A service that does not goes through [`forward`]
/// instead, except while [`forward`] compares (then: no seal).
pub(crate) fn reseal<K: Keyring + ?Sized, T: Serialize + ?Sized>(
    keyring: &K,
    record: &T,
    spec: &SealSpec<'_>,
) -> Result<Option<RecordSeal>, Error> {
    if can_seal(keyring, spec) {
        return seal(keyring, record, spec).map(Some);
    }
    if scope::is_comparing() {
        return Ok(None);
    }
    Err(cannot_reseal(keyring, spec))
}

/// A partial record re-sealed by a service that cannot make its seal: the
/// record as it was received (its seal, and the envelopes of the fields
/// this service opened, byte for byte) if nothing in it changed; an error
/// if anything did, since only the seal key's holder may change a sealed
/// record.
///
/// "Changed" is decided without trial decryption of the new value: the
/// received record is opened again as this keyring opens it, and both
/// partial values are sealed with deterministic nonces ([`scope::comparing`])
/// and compared.
pub(crate) fn forward<K, P>(
    keyring: &K,
    partial: &P,
    received: Option<&P::Encrypted>,
    spec: &SealSpec<'_>,
) -> Result<P::Encrypted, Error>
where
    K: Keyring + ?Sized,
    P: crate::traits::Encrypt,
    P::Encrypted: crate::traits::Decrypt<Partial = P> + Clone + Serialize,
{
    let received = received.ok_or_else(|| cannot_reseal(keyring, spec))?;
    let (now, before) = {
        // Opened again and sealed only to compare: not operations of their
        // own (metrics do not count them).
        let _comparing = scope::comparing();
        let again =
            crate::traits::Decrypt::decrypt_partial_into(received, keyring, &mut BTreeSet::new())?;
        (
            canonical::encode(&partial.encrypt(keyring)?, spec.member)?,
            canonical::encode(&again.encrypt(keyring)?, spec.member)?,
        )
    };
    if now == before {
        Ok(received.clone())
    } else {
        Err(spec.fail(
            ErrorKind::AuthenticationFailed,
            match spec.kind {
                SealKind::Mac => "the record changed, and this service cannot seal it again: only the holder of the seal key may change a sealed record",
                SealKind::Signature => "the record changed, and this service cannot sign it again: only the holder of the signing key may change a signed record",
            },
        ))
    }
}

fn cannot_reseal<K: Keyring + ?Sized>(keyring: &K, spec: &SealSpec<'_>) -> Error {
    let missing = missing_alias(keyring, &spec.binding());
    match spec.kind {
        SealKind::Mac => missing,
        SealKind::Signature => {
            missing.prefixed("no signing key (ENCRYPTED_FIELDS_SIGNING_KEY_...)")
        }
    }
}

/// After re-encryption: a new seal if the record changed or its seal is not
/// under the current primary (or signing) key, else `None`.
pub(crate) fn rotate<K: Keyring + ?Sized, T: Serialize + ?Sized>(
    keyring: &K,
    record: &T,
    old: Option<&RecordSeal>,
    changed: bool,
    spec: &SealSpec<'_>,
) -> Result<Option<RecordSeal>, Error> {
    if !can_seal(keyring, spec) {
        // A MAC alias is needed as any alias is; a signature can stay if
        // nothing it covers changed.
        return match (spec.kind, changed) {
            (SealKind::Signature, false) => Ok(None),
            _ => Err(missing_alias(keyring, &spec.binding())),
        };
    }
    let current = match spec.kind {
        SealKind::Mac => keyring.key_set(spec.alias).map(|set| set.primary().id()),
        SealKind::Signature => signature::current_id(keyring, spec.alias),
    };
    let up_to_date =
        old.and_then(RecordSeal::key_id).is_some() && old.and_then(RecordSeal::key_id) == current;
    if changed || !up_to_date {
        return seal(keyring, record, spec).map(Some);
    }
    Ok(None)
}

pub(crate) fn can_seal<K: Keyring + ?Sized>(keyring: &K, spec: &SealSpec<'_>) -> bool {
    match spec.kind {
        SealKind::Mac => keyring.key_set(spec.alias).is_some(),
        SealKind::Signature => signature::current_id(keyring, spec.alias).is_some(),
    }
}

fn can_check<K: Keyring + ?Sized>(keyring: &K, spec: &SealSpec<'_>) -> bool {
    match spec.kind {
        SealKind::Mac => keyring.opening_key_set(spec.alias).is_some(),
        SealKind::Signature => signature::can_verify(keyring, spec.alias),
    }
}

fn unknown_key(spec: &SealSpec<'_>, key_id: KeyId) -> Error {
    spec.fail(
        ErrorKind::UnknownKeyId,
        format!("record seal key id {key_id}"),
    )
}

#[cfg(feature = "signatures")]
mod signature {
    use super::{KIND_SIGNATURE, RecordSeal, SealSpec, unknown_key};
    use crate::error::Error;
    use crate::key::KeyId;
    use crate::keyring::Keyring;
    use crate::sealed::missing_alias;

    pub(super) fn sign<K: Keyring + ?Sized>(
        keyring: &K,
        message: &[u8],
        spec: &SealSpec<'_>,
    ) -> Result<RecordSeal, Error> {
        let key = keyring.signing_key(spec.alias).ok_or_else(|| {
            missing_alias(keyring, &spec.binding())
                .prefixed("no signing key (ENCRYPTED_FIELDS_SIGNING_KEY_...)")
        })?;
        Ok(RecordSeal::make(
            KIND_SIGNATURE,
            key.id(),
            &key.sign(message),
        ))
    }

    pub(super) fn verify<K: Keyring + ?Sized>(
        keyring: &K,
        message: &[u8],
        key_id: KeyId,
        signature: &[u8],
        spec: &SealSpec<'_>,
    ) -> Result<bool, Error> {
        let listed = keyring.verifying_keys(spec.alias);
        // The signing key's own public half checks too: a signer that is
        // given no verifying keys still checks before it signs again.
        let own = keyring
            .signing_key(spec.alias)
            .map(crate::signing::SigningKey::public);
        if listed.is_none() && own.is_none() {
            return Err(missing_alias(keyring, &spec.binding()));
        }
        let key = listed
            .and_then(|keys| keys.get(key_id).cloned())
            .or_else(|| own.filter(|key| key.id() == key_id))
            .ok_or_else(|| unknown_key(spec, key_id))?;
        Ok(key.verify(message, signature))
    }

    pub(super) fn current_id<K: Keyring + ?Sized>(keyring: &K, alias: &str) -> Option<KeyId> {
        keyring.signing_key(alias).map(|key| key.id())
    }

    pub(super) fn can_verify<K: Keyring + ?Sized>(keyring: &K, alias: &str) -> bool {
        keyring.verifying_keys(alias).is_some() || keyring.signing_key(alias).is_some()
    }
}

#[cfg(not(feature = "signatures"))]
mod signature {
    use super::{RecordSeal, SealSpec};
    use crate::error::{Error, ErrorKind};
    use crate::key::KeyId;
    use crate::keyring::Keyring;

    fn off(spec: &SealSpec<'_>) -> Error {
        spec.fail(
            ErrorKind::InvalidKey,
            "record signatures need the `signatures` feature of encrypted-fields",
        )
    }

    pub(super) fn sign<K: Keyring + ?Sized>(
        _: &K,
        _: &[u8],
        spec: &SealSpec<'_>,
    ) -> Result<RecordSeal, Error> {
        Err(off(spec))
    }

    pub(super) fn verify<K: Keyring + ?Sized>(
        _: &K,
        _: &[u8],
        _: KeyId,
        _: &[u8],
        spec: &SealSpec<'_>,
    ) -> Result<bool, Error> {
        Err(off(spec))
    }

    pub(super) fn current_id<K: Keyring + ?Sized>(_: &K, _: &str) -> Option<KeyId> {
        None
    }

    pub(super) fn can_verify<K: Keyring + ?Sized>(_: &K, _: &str) -> bool {
        false
    }
}
