//! Ed25519 keys for record signatures (feature `signatures`): the producer
//! holds a [`SigningKey`], consumers hold [`VerifyingKeys`], so a consumer
//! can check who wrote a record and cannot forge one.
//!
//! In text a signing key is standard padded base64 of its 32-byte seed, a
//! verifying key of its 32-byte public key (RFC 8032). A key id is the
//! first four bytes of SHA-256 over a domain string and the public key.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind};
use crate::key::KeyId;

/// Domain separation for verifying-key ids.
const KEY_ID_DOMAIN: &[u8] = b"encrypted-fields verifying key id v1\0";

/// The id of a verifying key (and of its signing key).
fn key_id(public: &ed25519_dalek::VerifyingKey) -> KeyId {
    let digest = Sha256::new()
        .chain_update(KEY_ID_DOMAIN)
        .chain_update(public.as_bytes())
        .finalize();
    KeyId::from_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn decode32(text: &str, what: &str) -> Result<Zeroizing<[u8; 32]>, Error> {
    let invalid = |detail: String| Error::new(ErrorKind::InvalidKey).detail(detail);
    let bytes = Zeroizing::new(
        STANDARD
            .decode(text.trim_ascii())
            .map_err(|_| invalid(format!("{what} is not standard padded base64")))?,
    );
    let array: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| invalid(format!("{what} is {} bytes; expected 32", bytes.len())))?;
    Ok(Zeroizing::new(array))
}

/// An Ed25519 signing key and its id. The seed is wiped on drop; `Debug`
/// shows the id only.
pub struct SigningKey {
    id: KeyId,
    key: ed25519_dalek::SigningKey,
}

impl SigningKey {
    /// A signing key from standard padded base64 of its 32-byte seed.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`], never quoting the text.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let seed = decode32(text, "signing key")?;
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        Ok(SigningKey {
            id: key_id(&key.verifying_key()),
            key,
        })
    }

    /// A fresh signing key and its text, for `ENCRYPTED_FIELDS_SIGNING_KEY_*`.
    pub fn generate() -> (Self, SecretString) {
        let mut seed = Zeroizing::new([0u8; 32]);
        crate::cipher::random_bytes(&mut seed[..]);
        let text = SecretString::from(STANDARD.encode(&seed[..]));
        let key = ed25519_dalek::SigningKey::from_bytes(&seed);
        let id = key_id(&key.verifying_key());
        (SigningKey { id, key }, text)
    }

    /// The key's id, which every signature names.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The verifying key, as consumers' `ENCRYPTED_FIELDS_VERIFYING_KEY_*`
    /// holds it: standard padded base64 of 32 bytes.
    pub fn verifying_key(&self) -> String {
        STANDARD.encode(self.key.verifying_key().as_bytes())
    }

    pub(crate) fn public(&self) -> VerifyingKey {
        VerifyingKey {
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The Ed25519 signature of `message` (RFC 8032, pure Ed25519).
    pub(crate) fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.id)
    }
}

/// One Ed25519 verifying key and its id.
#[derive(Clone)]
pub struct VerifyingKey {
    id: KeyId,
    key: ed25519_dalek::VerifyingKey,
}

impl VerifyingKey {
    /// A verifying key from standard padded base64 of its 32 bytes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if it is not one.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let bytes = decode32(text, "verifying key")?;
        let key = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| {
            Error::new(ErrorKind::InvalidKey).detail("verifying key is not a point on Ed25519")
        })?;
        Ok(VerifyingKey {
            id: key_id(&key),
            key,
        })
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// Whether `signature` is this key's over `message`: strict RFC 8032
    /// verification (no malleable or small-order forms).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        ed25519_dalek::Signature::from_slice(signature)
            .is_ok_and(|signature| self.key.verify_strict(message, &signature).is_ok())
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({})", self.id)
    }
}

/// Every verifying key of an alias: the current signer's and earlier ones,
/// so records signed before a rotation keep verifying.
#[derive(Clone, Default)]
pub struct VerifyingKeys {
    keys: Vec<VerifyingKey>,
}

impl VerifyingKeys {
    /// The keys in `text`: standard padded base64 keys, comma-separated.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] for an empty value or entry, a key that is
    /// not one, or a key listed twice.
    pub fn from_base64_list(text: &str) -> Result<Self, Error> {
        if text.trim_ascii().is_empty() {
            return Err(Error::new(ErrorKind::InvalidKey).detail("value is empty"));
        }
        let mut keys = VerifyingKeys::default();
        for (i, part) in text.split(',').enumerate() {
            let prefix = format!("key {}", i + 1);
            if part.trim_ascii().is_empty() {
                return Err(Error::new(ErrorKind::InvalidKey).detail(format!("{prefix} is empty")));
            }
            keys.push(VerifyingKey::from_base64(part).map_err(|e| e.prefixed(&prefix))?)?;
        }
        Ok(keys)
    }

    /// Adds `key`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if a key with its id is there already.
    pub fn push(&mut self, key: VerifyingKey) -> Result<(), Error> {
        if self.get(key.id).is_some() {
            return Err(Error::new(ErrorKind::InvalidKey)
                .detail(format!("verifying key {} listed twice", key.id)));
        }
        self.keys.push(key);
        Ok(())
    }

    /// The key with this id.
    pub fn get(&self, id: KeyId) -> Option<&VerifyingKey> {
        self.keys.iter().find(|k| k.id == id)
    }

    /// Every key.
    pub fn keys(&self) -> &[VerifyingKey] {
        &self.keys
    }
}

impl fmt::Debug for VerifyingKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}
