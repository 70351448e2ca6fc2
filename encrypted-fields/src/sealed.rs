//! [`Sealed<T>`]: one encrypted field value, and the code that seals,
//! opens and rotates it.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::audit::{self, Op};

use crate::binding::Binding;
use crate::bytes;
use crate::encoding::Encoding;
use crate::envelope::{self, EnvelopeBytes, ParseError, Parts};
use crate::error::{Error, ErrorKind};
use crate::json;
use crate::key::{Key, KeyId};
use crate::keyring::Keyring;
use crate::limits;
use crate::nonce::Nonce;
use crate::scratch::{WipingBuf, with_scratch};

/// An envelope holding a `T` that only a key of the right alias can open.
///
/// The plaintext is `T`'s JSON text, or with [`Encoding::Bytes`] the bytes
/// of a `T` that serde writes as a byte string. In human-readable formats (JSON) it is a base64url string; in binary
/// formats, the raw envelope bytes. `T` is only a marker: it tells
/// [`open`](Sealed::open) what to deserialize, it is never stored.
/// `Debug` shows the key id and length, never the ciphertext.
#[cfg_attr(
    feature = "diesel",
    derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow),
    diesel(sql_type = diesel::sql_types::Text, sql_type = diesel::sql_types::Binary)
)]
pub struct Sealed<T> {
    envelope: EnvelopeBytes,
    marker: PhantomData<fn() -> T>,
}

/// What [`Sealed::inspect`] reads from an envelope without a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvelopeInfo {
    /// The format version: 1, or 2 for an envelope bound to a record or
    /// position; 3 and 4 are the same with a byte-string plaintext.
    pub version: u8,
    /// The id of the key that sealed it.
    pub key_id: KeyId,
    /// The length of the plaintext in bytes.
    pub plaintext_len: usize,
}

impl EnvelopeInfo {
    /// How the plaintext is encoded, which the version says.
    pub fn encoding(&self) -> Encoding {
        envelope::encoding(self.version)
    }
}

impl<T: Serialize> Sealed<T> {
    /// Seals `value` under the primary key of `binding`'s alias, with a
    /// random nonce.
    ///
    /// The value is serialized to JSON, encrypted with AES-GCM-SIV, and
    /// bound to `binding` through the AAD.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownAlias`] if the keyring lacks the alias;
    /// [`ErrorKind::Serialize`] if `value` cannot be written as JSON.
    pub fn seal<K: Keyring + ?Sized>(
        keyring: &K,
        binding: &Binding<'_>,
        value: &T,
    ) -> Result<Self, Error> {
        Self::seal_with(keyring, binding, value, Nonce::Random)
    }

    /// Seals `value` with the nonce chosen as `nonce` says.
    ///
    /// # Errors
    ///
    /// As [`seal`](Self::seal).
    pub fn seal_with<K: Keyring + ?Sized>(
        keyring: &K,
        binding: &Binding<'_>,
        value: &T,
        nonce: Nonce,
    ) -> Result<Self, Error> {
        Self::seal_as(keyring, binding, value, nonce, Encoding::Json)
    }

    /// Seals `value` with the nonce chosen as `nonce` says and the plaintext
    /// encoded as `encoding` says. [`Encoding::Bytes`] seals the bytes of a
    /// value serde writes as a byte string (or a sequence of `u8`) as they
    /// are: format version 3 (4 when bound to a record or position), which
    /// only this release's readers and later open.
    ///
    /// # Errors
    ///
    /// As [`seal`](Self::seal); with [`Encoding::Bytes`],
    /// [`ErrorKind::Serialize`] for a value that is not a byte string.
    pub fn seal_as<K: Keyring + ?Sized>(
        keyring: &K,
        binding: &Binding<'_>,
        value: &T,
        nonce: Nonce,
        encoding: Encoding,
    ) -> Result<Self, Error> {
        let mut key_id = None;
        let binding = &sealing_binding(binding, nonce);
        let sealed = primary(keyring, binding).and_then(|key| {
            key_id = Some(key.id());
            seal_value(key, binding, nonce, encoding, value)
        });
        audit::record(Op::Encrypt, binding, || key_id, &sealed);
        sealed.map(Sealed::wrap)
    }

    /// The deterministic envelopes of `value` under every key of the alias,
    /// the primary first: what a stored deterministic field may hold while
    /// a rotation is under way. Use them for `WHERE column IN (...)`.
    ///
    /// # Errors
    ///
    /// As [`seal`](Self::seal).
    pub fn seal_for_lookup<K: Keyring + ?Sized>(
        keyring: &K,
        binding: &Binding<'_>,
        value: &T,
    ) -> Result<Vec<Self>, Error> {
        Self::seal_for_lookup_as(keyring, binding, value, Encoding::Json)
    }

    /// [`seal_for_lookup`](Self::seal_for_lookup) for a field sealed with
    /// `encoding`. Equal values sealed with the other encoding give other
    /// envelopes, so for [`Encoding::Bytes`] each key's JSON envelope
    /// follows its byte-string one: rows sealed before the field took
    /// `bytes` are still found. A JSON envelope over this process's size
    /// limit (a byte string over about a quarter of it) is left out: this
    /// process could not open it either.
    ///
    /// # Errors
    ///
    /// As [`seal_as`](Self::seal_as).
    pub fn seal_for_lookup_as<K: Keyring + ?Sized>(
        keyring: &K,
        binding: &Binding<'_>,
        value: &T,
        encoding: Encoding,
    ) -> Result<Vec<Self>, Error> {
        let binding = &binding.unscoped();
        let sealed = keyring
            .key_set(binding.alias())
            .ok_or_else(|| missing_alias(keyring, binding))
            .and_then(|keys| {
                let mut envelopes = Vec::new();
                for key in keys.keys() {
                    let sealed = seal_value(key, binding, Nonce::Deterministic, encoding, value)?;
                    envelopes.push(Sealed::wrap(sealed));
                    if encoding == Encoding::Bytes {
                        envelopes.extend(json_lookup(key, binding, value)?.map(Sealed::wrap));
                    }
                }
                Ok(envelopes)
            });
        audit::record(Op::Lookup, binding, || None, &sealed);
        sealed
    }
}

impl<T: DeserializeOwned> Sealed<T> {
    /// Opens the envelope with the key its id names, checking that it was
    /// sealed for `binding`. A byte-string plaintext (format versions 3
    /// and 4) is handed to `T` as a byte string, which a type that reads
    /// no bytes reads as a sequence of `u8`, as it reads the JSON
    /// `[1,2,3]`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnknownAlias`], [`ErrorKind::UnknownKeyId`],
    /// [`ErrorKind::MalformedEnvelope`], [`ErrorKind::UnsupportedVersion`],
    /// [`ErrorKind::AuthenticationFailed`] or [`ErrorKind::Deserialize`],
    /// each naming the binding's alias, context and field.
    pub fn open<K: Keyring + ?Sized>(
        &self,
        keyring: &K,
        binding: &Binding<'_>,
    ) -> Result<T, Error> {
        let opened = checked(self.as_bytes(), keyring, binding).and_then(|(key, parts)| {
            match envelope::encoding(parts.version) {
                Encoding::Json => envelope::open(key, &parts, binding, |plaintext| {
                    // serde_json's message may quote the plaintext; keep only the fact.
                    json::read_json(plaintext)
                        .map_err(|_| Error::new(ErrorKind::Deserialize).at(binding))
                }),
                Encoding::Bytes => bytes::open(key, &parts, binding),
            }
        });
        audit::record(Op::Decrypt, binding, || self.key_id(), &opened);
        opened
    }
}

impl<T> Sealed<T> {
    /// Wraps envelope bytes without checking them; [`open`](Self::open)
    /// checks everything.
    pub fn from_envelope(envelope: Vec<u8>) -> Self {
        Sealed::wrap(EnvelopeBytes::from_vec(envelope))
    }

    fn wrap(envelope: EnvelopeBytes) -> Self {
        Sealed {
            envelope,
            marker: PhantomData,
        }
    }

    /// The envelope bytes (before text encoding).
    pub fn as_bytes(&self) -> &[u8] {
        self.envelope.as_slice()
    }

    /// The text form, as it appears in JSON (base64url, no padding).
    pub fn to_text(&self) -> String {
        envelope::to_text(self.as_bytes()).to_string()
    }

    /// Reads the text form, as a text column or a header holds it: the
    /// inverse of [`to_text`](Self::to_text). Checks the encoding and the
    /// size limit only; [`open`](Self::open) checks everything else.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MalformedEnvelope`], never quoting the text.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        decode_text(text)
            .map(Sealed::wrap)
            .map_err(|detail| Error::new(ErrorKind::MalformedEnvelope).detail(detail))
    }

    /// Reads the version, key id and plaintext length, without a key.
    /// The alias is not stored in the envelope (it is bound through the
    /// AAD); it comes from the field's declaration.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MalformedEnvelope`] or [`ErrorKind::UnsupportedVersion`].
    pub fn inspect(&self) -> Result<EnvelopeInfo, Error> {
        let parts = envelope::parse(self.as_bytes()).map_err(parse_error)?;
        Ok(EnvelopeInfo {
            version: parts.version,
            key_id: parts.key_id,
            plaintext_len: parts.ciphertext.len(),
        })
    }

    /// The key id in the envelope, or `None` if it is not a readable
    /// envelope.
    pub fn key_id(&self) -> Option<KeyId> {
        self.inspect().ok().map(|info| info.key_id)
    }

    /// Re-seals the envelope under the alias's current primary key if it
    /// was sealed with another one, keeping the plaintext bytes as they
    /// are. Returns whether it changed. An envelope already under the
    /// primary is left as it is without being opened, so this does not
    /// authenticate it: [`open`](Self::open) does. The plaintext keeps its
    /// encoding.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open), for the old envelope.
    pub fn rotate<K: Keyring + ?Sized>(
        &mut self,
        keyring: &K,
        binding: &Binding<'_>,
        nonce: Nonce,
    ) -> Result<bool, Error> {
        let old_id = self.key_id();
        let binding = &sealing_binding(binding, nonce);
        let up_to_date =
            self.as_bytes().first().copied().map(envelope::is_scoped) == Some(binding.is_scoped());
        let rotated = primary(keyring, binding).and_then(|key| {
            if old_id == Some(key.id()) && up_to_date {
                return Ok(None);
            }
            // The plaintext bytes and their encoding are carried over as they are.
            let (old_key, parts) = checked(self.as_bytes(), keyring, binding)?;
            let encoding = envelope::encoding(parts.version);
            envelope::open(old_key, &parts, binding, |plaintext| {
                envelope::seal_bytes(key, binding, nonce, encoding, plaintext)
            })
            .map(|envelope| Some((key.id(), envelope)))
        });
        let (key_id, outcome) = match rotated {
            Ok(None) => return Ok(false),
            Ok(Some((new_id, envelope))) => {
                self.envelope = envelope;
                (Some(new_id), Ok(true))
            }
            Err(error) => (old_id, Err(error)),
        };
        audit::record(Op::Rotate, binding, || key_id, &outcome);
        outcome
    }
}

/// What a new envelope is bound to: a deterministic one never to a record
/// or position, since equal values must give equal envelopes across
/// records (the record seal covers them instead).
fn sealing_binding<'a>(binding: &Binding<'a>, nonce: Nonce) -> Binding<'a> {
    match nonce {
        Nonce::Random => *binding,
        Nonce::Deterministic => binding.unscoped(),
    }
}

/// The primary key of the binding's alias.
fn primary<'k, K: Keyring + ?Sized>(
    keyring: &'k K,
    binding: &Binding<'_>,
) -> Result<&'k Key, Error> {
    keyring
        .key_set(binding.alias())
        .map(|set| set.primary())
        .ok_or_else(|| missing_alias(keyring, binding))
}

/// The error for an alias the keyring has no keys for: why it failed to
/// load, if it was configured and did not load, else [`ErrorKind::UnknownAlias`].
pub(crate) fn missing_alias<K: Keyring + ?Sized>(keyring: &K, binding: &Binding<'_>) -> Error {
    match keyring.load_failure(binding.alias()) {
        Some(failure) => failure.clone().at(binding),
        None => Error::new(ErrorKind::UnknownAlias).at(binding),
    }
}

/// Seals `value` under `key`, its plaintext encoded as `encoding` says.
fn seal_value<T: Serialize + ?Sized>(
    key: &Key,
    binding: &Binding<'_>,
    nonce: Nonce,
    encoding: Encoding,
    value: &T,
) -> Result<EnvelopeBytes, Error> {
    match encoding {
        Encoding::Json => envelope::seal(key, binding, nonce, encoding, |buf| {
            write_json(buf, value, binding)
        }),
        Encoding::Bytes => bytes::seal(key, binding, nonce, value),
    }
}

/// The deterministic JSON envelope of a byte-string field's `value`, for
/// its lookups; `None` if it would be over this process's size limit,
/// which could neither have stored nor open it.
fn json_lookup<T: Serialize + ?Sized>(
    key: &Key,
    binding: &Binding<'_>,
    value: &T,
) -> Result<Option<EnvelopeBytes>, Error> {
    with_scratch(|buf| {
        write_json(buf, value, binding)?;
        if envelope::check_plaintext(buf.as_slice().len()).is_err() {
            return Ok(None);
        }
        let json = Encoding::Json;
        envelope::seal_bytes(key, binding, Nonce::Deterministic, json, buf.as_slice()).map(Some)
    })
}

/// Serializes `value` as the plaintext.
fn write_json<T: Serialize + ?Sized>(
    buf: &mut WipingBuf,
    value: &T,
    binding: &Binding<'_>,
) -> Result<(), Error> {
    json::write_json(buf, value).map_err(|_| Error::new(ErrorKind::Serialize).at(binding))
}

/// Checks an envelope's size, layout and version against `binding`, and
/// finds the key its id names; authentication is left to the opening.
fn checked<'e, 'k, K: Keyring + ?Sized>(
    envelope: &'e [u8],
    keyring: &'k K,
    binding: &Binding<'_>,
) -> Result<(&'k Key, Parts<'e>), Error> {
    if let Err(detail) = limits::check_envelope(envelope.len()) {
        return Err(Error::new(ErrorKind::MalformedEnvelope)
            .detail(detail)
            .at(binding));
    }
    let parts = envelope::parse(envelope).map_err(|e| parse_error(e).at(binding))?;
    check_version(parts.version, binding)?;
    let key = keyring
        .opening_key_set(binding.alias())
        .ok_or_else(|| missing_alias(keyring, binding))?
        .get(parts.key_id)
        .ok_or_else(|| {
            Error::new(ErrorKind::UnknownKeyId)
                .detail(format!("key id {}", parts.key_id))
                .at(binding)
        })?;
    Ok((key, parts))
}

/// Refuses an envelope whose version's AAD is not the binding's: the
/// version says which AAD to rebuild, so no key is tried in vain. Either
/// encoding opens in any field. An unscoped envelope (version 1 or 3)
/// where a record binding belongs could have been moved from another
/// record, and is refused unless the binding accepts unbound envelopes (a
/// migration). Either way it is a version this field does not read:
/// `UnsupportedVersion`, as for a version no field reads.
fn check_version(version: u8, binding: &Binding<'_>) -> Result<(), Error> {
    let scoped = envelope::is_scoped(version);
    if scoped == binding.is_scoped() || (!scoped && binding.accepts_unbound()) {
        return Ok(());
    }
    let detail = if scoped {
        format!(
            "sealed with a record or position binding (format version {version}) this field \
             does not have"
        )
    } else {
        format!(
            "sealed without the record or position binding this field has (format version \
             {version}): it may come from another record"
        )
    };
    Err(Error::new(ErrorKind::UnsupportedVersion)
        .detail(detail)
        .at(binding))
}

fn parse_error(error: ParseError) -> Error {
    match error {
        ParseError::TooShort(len) => Error::new(ErrorKind::MalformedEnvelope)
            .detail(format!("{len} bytes is shorter than any envelope")),
        ParseError::Version(v) => Error::new(ErrorKind::UnsupportedVersion).detail(format!(
            "version {v}; this build reads versions {} to {}",
            envelope::VERSION_1,
            envelope::VERSION_4
        )),
    }
}

impl<T> Clone for Sealed<T> {
    fn clone(&self) -> Self {
        Sealed::wrap(self.envelope.clone())
    }
}

impl<T> PartialEq for Sealed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl<T> Eq for Sealed<T> {}

impl<T> fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key_id() {
            Some(id) => write!(f, "Sealed(key {id}, {} bytes)", self.as_bytes().len()),
            None => write!(f, "Sealed(unreadable, {} bytes)", self.as_bytes().len()),
        }
    }
}

impl<T> Serialize for Sealed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(&envelope::to_text(self.as_bytes()))
        } else {
            serializer.serialize_bytes(self.as_bytes())
        }
    }
}

impl<'de, T> Deserialize<'de> for Sealed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            // `deserialize_any`, not `deserialize_str`: for a number where a
            // string belongs, serde_json's own error would quote the number,
            // which may be a plaintext from a producer that never encrypted.
            deserializer.deserialize_any(EnvelopeVisitor)
        } else {
            deserializer.deserialize_bytes(EnvelopeVisitor)
        }
        .map(Sealed::wrap)
    }
}

/// Decodes the text form; the message never echoes the text (it is
/// ciphertext), and the size limit is checked before decoding.
fn decode_text(text: &str) -> Result<EnvelopeBytes, String> {
    limits::check_text(text.len())?;
    EnvelopeBytes::from_text(text).ok_or_else(|| "not base64url text without padding".to_owned())
}

/// Accepts an envelope as base64url text or as raw bytes.
struct EnvelopeVisitor;

impl<'de> de::Visitor<'de> for EnvelopeVisitor {
    type Value = EnvelopeBytes;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an encrypted-fields envelope (base64url text without padding)")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        decode_text(text).map_err(|detail| E::custom(format_args!("invalid envelope: {detail}")))
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
        check_len(bytes.len())?;
        Ok(EnvelopeBytes::from_slice(bytes))
    }

    fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
        check_len(bytes.len())?;
        Ok(EnvelopeBytes::from_vec(bytes))
    }

    // Anything else is refused without quoting it.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(not_an_envelope("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(not_an_envelope("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(not_an_envelope("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(not_an_envelope("a number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Err(not_an_envelope("null"))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(not_an_envelope("an array"))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(not_an_envelope("an object"))
    }
}

fn not_an_envelope<E: de::Error>(found: &str) -> E {
    E::custom(format_args!(
        "invalid envelope: found {found}, expected a base64url string"
    ))
}

/// Rejects binary envelopes over the limit before copying them.
fn check_len<E: de::Error>(len: usize) -> Result<(), E> {
    limits::check_envelope(len)
        .map_err(|detail| E::custom(format_args!("invalid envelope: {detail}")))
}
