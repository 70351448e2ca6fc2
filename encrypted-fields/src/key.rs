//! Keys: the expanded cipher with its id, never the raw bytes.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::cipher::{self, Backend, Cipher};
use crate::error::{Error, ErrorKind};

/// Length of a key id in bytes.
pub(crate) const KEY_ID_LEN: usize = 4;

/// Domain separation for key ids, so they cannot collide with any other use
/// of SHA-256 over key bytes.
const KEY_ID_DOMAIN: &[u8] = b"encrypted-fields key id v1\0";

/// Label for deriving the deterministic-nonce key from a key.
const NONCE_KEY_LABEL: &[u8] = b"encrypted-fields deterministic nonce key v1";
/// Label for deriving the record-seal MAC key from a key.
const SEAL_KEY_LABEL: &[u8] = b"encrypted-fields record seal key v1";

/// The 4-byte id stored in every envelope, naming the key that sealed it.
///
/// Derived from the key material by a one-way function (the first four
/// bytes of SHA-256 over a domain string and the key), so it stays the same
/// whatever position the key has in a list, and reveals nothing usable about
/// the key. Shown as 8 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; KEY_ID_LEN]);

impl KeyId {
    /// The id of the key with these bytes.
    fn derive(key: &[u8]) -> Self {
        let digest = Sha256::new()
            .chain_update(KEY_ID_DOMAIN)
            .chain_update(key)
            .finalize();
        let mut id = [0; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }

    /// The id as stored in an envelope.
    pub const fn from_bytes(bytes: [u8; KEY_ID_LEN]) -> Self {
        KeyId(bytes)
    }

    /// The id's bytes as stored in an envelope.
    pub const fn as_bytes(&self) -> &[u8; KEY_ID_LEN] {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

/// One AES-GCM-SIV key, ready to use: its id and its expanded cipher.
///
/// The raw bytes are not kept after construction, and the expanded round
/// keys are zeroized on drop. `Debug` shows the id and size only.
pub struct Key {
    id: KeyId,
    cipher: Cipher,
    /// The key for deterministic nonces, derived from the key bytes; wiped
    /// on drop. (`hmac`'s own state does not wipe itself, so it is not kept.)
    nonce_key: Zeroizing<[u8; 32]>,
    /// The key for record-seal MACs, derived the same way.
    seal_key: Zeroizing<[u8; 32]>,
}

impl Key {
    /// Builds a key from 16 bytes (AES-128-GCM-SIV) or 32 bytes
    /// (AES-256-GCM-SIV). Keep the caller's copy in a zeroizing buffer.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] for any other length, or if
    /// `ENCRYPTED_FIELDS_CIPHER` names no cipher backend of this build.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let backend =
            Backend::selected().map_err(|why| Error::new(ErrorKind::InvalidKey).detail(why))?;
        let cipher = Cipher::new(bytes, backend).ok_or_else(|| {
            Error::new(ErrorKind::InvalidKey).detail(format!(
                "key is {} bytes; expected 16 (AES-128) or 32 (AES-256)",
                bytes.len()
            ))
        })?;
        let derive = |label: &[u8]| -> Result<Zeroizing<[u8; 32]>, Error> {
            let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(bytes)
                .map_err(|_| Error::new(ErrorKind::InvalidKey).detail("HMAC rejected the key"))?;
            mac.update(label);
            Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
        };
        Ok(Key {
            id: KeyId::derive(bytes),
            cipher,
            nonce_key: derive(NONCE_KEY_LABEL)?,
            seal_key: derive(SEAL_KEY_LABEL)?,
        })
    }

    /// Decodes a key written as standard padded base64, the form used in
    /// environment variables and by `examples/quickstart/src/bin/keygen.rs`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if the text is not base64 or not 16 or 32
    /// bytes long. The message never quotes the text.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let bytes = Zeroizing::new(STANDARD.decode(text.trim_ascii()).map_err(|_| {
            Error::new(ErrorKind::InvalidKey).detail("key is not standard padded base64")
        })?);
        Key::from_bytes(&bytes)
    }

    /// The key's id.
    pub fn id(&self) -> KeyId {
        self.id
    }

    /// The key length in bits: 128 or 256.
    pub fn bits(&self) -> u16 {
        self.cipher.bits()
    }

    pub(crate) fn cipher(&self) -> &Cipher {
        &self.cipher
    }

    /// The nonce of a deterministic envelope: HMAC-SHA256 under the
    /// derived nonce key over the AAD and the plaintext, first 12 bytes.
    /// Equal inputs give equal nonces; distinct inputs get unrelated ones,
    /// so AES-GCM-SIV keeps its full security bound.
    /// `None` only if HMAC refused the key, which it never does (it takes
    /// keys of any length).
    pub(crate) fn deterministic_nonce(
        &self,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Option<[u8; cipher::NONCE_LEN]> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&*self.nonce_key).ok()?;
        mac.update(aad);
        mac.update(plaintext);
        let tag = mac.finalize().into_bytes();
        let mut nonce = [0; cipher::NONCE_LEN];
        nonce.copy_from_slice(&tag[..cipher::NONCE_LEN]);
        Some(nonce)
    }
}

impl Key {
    /// HMAC-SHA256 of `message` under the key's record-seal key.
    pub(crate) fn record_mac(&self, message: &[u8]) -> Option<[u8; 32]> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&*self.seal_key).ok()?;
        mac.update(message);
        Some(mac.finalize().into_bytes().into())
    }

    /// Whether `tag` is the record MAC of `message`, compared in constant time.
    pub(crate) fn verify_record_mac(&self, message: &[u8], tag: &[u8]) -> bool {
        <Hmac<Sha256> as KeyInit>::new_from_slice(&*self.seal_key).is_ok_and(|mut mac| {
            mac.update(message);
            mac.verify_slice(tag).is_ok()
        })
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}, AES-{}-GCM-SIV)", self.id, self.bits())
    }
}

/// The size of a key to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum KeySize {
    /// 16 bytes, AES-128-GCM-SIV: what existing 16-byte integrations use.
    Aes128,
    /// 32 bytes, AES-256-GCM-SIV: the default for new keys.
    #[default]
    Aes256,
}

/// Generates a fresh key from the CSPRNG and returns it as standard padded
/// base64, ready for `ENCRYPTED_FIELDS_KEY_<ALIAS>`.
pub fn generate_key(size: KeySize) -> SecretString {
    let mut bytes = Zeroizing::new([0u8; 32]);
    let len = match size {
        KeySize::Aes128 => 16,
        KeySize::Aes256 => 32,
    };
    cipher::random_bytes(&mut bytes[..len]);
    SecretString::from(STANDARD.encode(&bytes[..len]))
}

/// All versions of one alias's key, the primary first.
///
/// The primary seals new envelopes; every version opens the envelopes that
/// name its id. Lookup by id is a scan: an alias has a handful of versions.
pub struct KeySet {
    keys: Vec<Key>,
    /// Whether these keys open envelopes; a set that only seals (one
    /// direction of a public-key session) answers no key id.
    opens: bool,
}

impl KeySet {
    /// A key set whose first key is the primary.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if `keys` is empty or two keys share an id
    /// (the same key listed twice).
    pub fn new(keys: Vec<Key>) -> Result<Self, Error> {
        if keys.is_empty() {
            return Err(Error::new(ErrorKind::InvalidKey).detail("no key given"));
        }
        for (i, key) in keys.iter().enumerate() {
            if keys[..i].iter().any(|k| k.id == key.id) {
                return Err(Error::new(ErrorKind::InvalidKey).detail(format!(
                    "key {} listed twice (key id {})",
                    i + 1,
                    key.id
                )));
            }
        }
        Ok(KeySet { keys, opens: true })
    }

    /// A set that seals with `keys` but opens nothing: what a keyring whose
    /// opening keys differ returns from [`Keyring::key_set`](crate::Keyring::key_set),
    /// so that a wrapper forwarding only that method fails closed.
    #[cfg(feature = "hpke")]
    pub(crate) fn sealing_only(keys: Vec<Key>) -> Result<Self, Error> {
        let mut set = KeySet::new(keys)?;
        set.opens = false;
        Ok(set)
    }

    /// The key that seals new envelopes.
    pub fn primary(&self) -> &Key {
        // `new` guarantees at least one key.
        &self.keys[0]
    }

    /// The key with this id, if it is still in the set (and the set opens
    /// envelopes at all).
    pub fn get(&self, id: KeyId) -> Option<&Key> {
        self.keys.iter().find(|k| self.opens && k.id == id)
    }

    /// Every key, the primary first.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.keys).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_id_depends_on_key_bytes_only() {
        let a = Key::from_bytes(&[7; 32]).unwrap();
        let b = Key::from_bytes(&[7; 32]).unwrap();
        let c = Key::from_bytes(&[8; 32]).unwrap();
        assert_eq!(a.id(), b.id());
        assert_ne!(a.id(), c.id());
    }

    #[test]
    fn debug_shows_id_and_size_but_no_bytes() {
        let key = Key::from_bytes(&[0xab; 16]).unwrap();
        let debug = format!("{key:?}");
        assert_eq!(debug, format!("Key({}, AES-128-GCM-SIV)", key.id()));
        assert!(!debug.contains("ab, ") && !debug.contains("171"));
    }

    #[test]
    fn other_key_lengths_are_rejected_without_echoing_the_key() {
        for len in [0, 15, 17, 24, 31, 33, 64] {
            let err = Key::from_bytes(&vec![1; len]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidKey);
        }
        let err = Key::from_base64("c2VjcmV0LXNlY3JldA==").unwrap_err();
        assert!(err.to_string().contains("13 bytes"), "{err}");
        assert!(!err.to_string().contains("c2VjcmV0"), "{err}");
    }

    #[test]
    fn generated_keys_are_fresh_and_loadable() {
        use secrecy::ExposeSecret;
        let a = generate_key(KeySize::Aes256);
        let b = generate_key(KeySize::Aes256);
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(Key::from_base64(a.expose_secret()).unwrap().bits(), 256);
        let short = generate_key(KeySize::Aes128);
        assert_eq!(Key::from_base64(short.expose_secret()).unwrap().bits(), 128);
    }

    /// What can be checked without `unsafe`: every type that holds key
    /// material wipes itself on drop.
    #[test]
    fn key_material_types_wipe_themselves_on_drop() {
        fn wipes_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wipes_on_drop::<aes::Aes128>();
        wipes_on_drop::<aes::Aes256>();
        wipes_on_drop::<Zeroizing<[u8; 32]>>();
        wipes_on_drop::<SecretString>();
    }

    #[test]
    fn duplicate_and_empty_key_sets_are_rejected() {
        assert!(KeySet::new(vec![]).is_err());
        let dup = KeySet::new(vec![
            Key::from_bytes(&[1; 32]).unwrap(),
            Key::from_bytes(&[1; 32]).unwrap(),
        ]);
        assert!(dup.unwrap_err().to_string().contains("listed twice"));
    }
}
