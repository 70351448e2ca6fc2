//! [`Sealed<T>`]: one encrypted field value, and the code that seals and
//! opens it.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::cipher::{self, TAG_LEN};
use crate::error::{Error, ErrorKind};
use crate::format::{self, Binding, HEADER_LEN, ParseError};
use crate::key::KeyId;
use crate::keyring::Keyring;

/// An envelope holding a `T` that only a key of the right alias can open.
///
/// In human-readable formats (JSON) it is a base64url string; in binary
/// formats, the raw envelope bytes. `T` is only a marker: it tells
/// [`open`](Sealed::open) what to deserialize, it is never stored.
/// `Debug` shows the key id and length, never the ciphertext.
pub struct Sealed<T> {
    envelope: Box<[u8]>,
    marker: PhantomData<fn() -> T>,
}

impl<T: Serialize> Sealed<T> {
    /// Seals `value` under the primary key of `binding`'s alias.
    ///
    /// The value is serialized to JSON, encrypted with AES-GCM-SIV under a
    /// fresh random nonce, and bound to `binding` through the AAD.
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
        let key = keyring
            .key_set(binding.alias())
            .ok_or_else(|| Error::new(ErrorKind::UnknownAlias).at(binding))?
            .primary();
        let aad = format::aad(key.id(), binding).ok_or_else(|| name_too_long(binding))?;
        let mut envelope = Vec::with_capacity(HEADER_LEN + 64 + TAG_LEN);
        let nonce = cipher::random_nonce();
        format::write_header(&mut envelope, key.id(), &nonce);
        let sealed = serde_json::to_writer(&mut envelope, value)
            .map_err(|_| Error::new(ErrorKind::Serialize).at(binding))
            .and_then(|()| {
                key.cipher()
                    .seal(&nonce, &aad, &mut envelope[HEADER_LEN..])
                    .ok_or_else(|| {
                        Error::new(ErrorKind::Serialize)
                            .detail("value too large")
                            .at(binding)
                    })
            });
        match sealed {
            Ok(tag) => {
                envelope.extend_from_slice(&tag);
                Ok(Sealed::from_envelope(envelope.into_boxed_slice()))
            }
            Err(error) => {
                // Whatever plaintext was written before the failure.
                zeroize::Zeroize::zeroize(&mut envelope);
                Err(error)
            }
        }
    }
}

impl<T: DeserializeOwned> Sealed<T> {
    /// Opens the envelope with the key its id names, checking that it was
    /// sealed for `binding`.
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
        let parts = format::parse(&self.envelope).map_err(|e| match e {
            ParseError::TooShort(len) => Error::new(ErrorKind::MalformedEnvelope)
                .detail(format!("{len} bytes is shorter than any envelope"))
                .at(binding),
            ParseError::Version(v) => Error::new(ErrorKind::UnsupportedVersion)
                .detail(format!(
                    "version {v}; this build reads version {}",
                    format::VERSION_1
                ))
                .at(binding),
        })?;
        let key = keyring
            .key_set(binding.alias())
            .ok_or_else(|| Error::new(ErrorKind::UnknownAlias).at(binding))?
            .get(parts.key_id)
            .ok_or_else(|| {
                Error::new(ErrorKind::UnknownKeyId)
                    .detail(format!("key id {}", parts.key_id))
                    .at(binding)
            })?;
        let aad = format::aad(parts.key_id, binding).ok_or_else(|| name_too_long(binding))?;
        let mut plaintext = Zeroizing::new(parts.ciphertext.to_vec());
        key.cipher()
            .open(parts.nonce, &aad, &mut plaintext, parts.tag)
            .map_err(|_| Error::new(ErrorKind::AuthenticationFailed).at(binding))?;
        // serde_json's message may quote the plaintext; keep only the fact.
        serde_json::from_slice(&plaintext)
            .map_err(|_| Error::new(ErrorKind::Deserialize).at(binding))
    }
}

impl<T> Sealed<T> {
    /// Wraps envelope bytes without checking them; [`open`](Self::open)
    /// checks everything.
    pub fn from_envelope(envelope: Box<[u8]>) -> Self {
        Sealed {
            envelope,
            marker: PhantomData,
        }
    }

    /// The envelope bytes (before text encoding).
    pub fn as_bytes(&self) -> &[u8] {
        &self.envelope
    }

    /// The key id in the envelope, or `None` if it is not a readable
    /// version-1 envelope.
    pub fn key_id(&self) -> Option<KeyId> {
        format::parse(&self.envelope).ok().map(|p| p.key_id)
    }
}

fn name_too_long(binding: &Binding<'_>) -> Error {
    Error::new(ErrorKind::Serialize)
        .detail("alias, context or field name longer than 65535 bytes")
        .at(binding)
}

impl<T> Clone for Sealed<T> {
    fn clone(&self) -> Self {
        Sealed::from_envelope(self.envelope.clone())
    }
}

impl<T> PartialEq for Sealed<T> {
    fn eq(&self, other: &Self) -> bool {
        self.envelope == other.envelope
    }
}

impl<T> Eq for Sealed<T> {}

impl<T> fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key_id() {
            Some(id) => write!(f, "Sealed(key {id}, {} bytes)", self.envelope.len()),
            None => write!(f, "Sealed(unreadable, {} bytes)", self.envelope.len()),
        }
    }
}

impl<T> Serialize for Sealed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(&format::to_text(&self.envelope))
        } else {
            serializer.serialize_bytes(&self.envelope)
        }
    }
}

impl<'de, T> Deserialize<'de> for Sealed<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(EnvelopeVisitor)
        } else {
            deserializer.deserialize_bytes(EnvelopeVisitor)
        }
        .map(Sealed::from_envelope)
    }
}

/// Accepts an envelope as base64url text or as raw bytes.
struct EnvelopeVisitor;

impl<'de> de::Visitor<'de> for EnvelopeVisitor {
    type Value = Box<[u8]>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an encrypted-fields envelope (base64url text without padding)")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        format::from_text(text)
            .map(Vec::into_boxed_slice)
            // Never echo the text: it is ciphertext.
            .ok_or_else(|| E::custom("invalid envelope: not base64url text without padding"))
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<Self::Value, E> {
        Ok(bytes.into())
    }

    fn visit_byte_buf<E: de::Error>(self, bytes: Vec<u8>) -> Result<Self::Value, E> {
        Ok(bytes.into_boxed_slice())
    }
}
