//! The AEAD, and the only module that touches `aes_gcm_siv` and the RNG.
//!
//! Keeping the RustCrypto types in here means their API changes (aead 0.5 to
//! 0.6 renamed its traits) never reach our public API.

use aes_gcm_siv::aead::inout::InOutBuf;
use aes_gcm_siv::aead::{AeadInOut, KeyInit};
use aes_gcm_siv::{Aes128GcmSiv, Aes256GcmSiv, Nonce, Tag};
use rand::Rng;

/// Nonce length of AES-GCM-SIV (RFC 8452): 96 bits.
pub(crate) const NONCE_LEN: usize = 12;
/// Authentication tag length: 128 bits.
pub(crate) const TAG_LEN: usize = 16;

/// An expanded AES-GCM-SIV key. Built once per key when a keyring loads, so
/// no field pays for the key schedule. The round keys are zeroized on drop
/// (the crate's `zeroize` feature).
#[expect(
    clippy::large_enum_variant,
    reason = "keys are built once and stay in place; a Box would add a pointer chase per field"
)]
pub(crate) enum Cipher {
    Aes128(Aes128GcmSiv),
    Aes256(Aes256GcmSiv),
}

/// The AEAD rejected the ciphertext; deliberately carries no detail.
pub(crate) struct Unauthentic;

impl Cipher {
    /// Builds the cipher for a 16- or 32-byte key; `None` for other lengths.
    pub(crate) fn new(key: &[u8]) -> Option<Self> {
        match key.len() {
            16 => Aes128GcmSiv::new_from_slice(key).ok().map(Cipher::Aes128),
            32 => Aes256GcmSiv::new_from_slice(key).ok().map(Cipher::Aes256),
            _ => None,
        }
    }

    /// Key length in bits.
    pub(crate) fn bits(&self) -> u16 {
        match self {
            Cipher::Aes128(_) => 128,
            Cipher::Aes256(_) => 256,
        }
    }

    /// Encrypts `plaintext` into `out` (same length) and returns the tag.
    /// Out of place, so the plaintext can stay in a reused scratch buffer
    /// and the envelope is written once.
    ///
    /// Fails only if the lengths differ, or for messages over 2^36 bytes,
    /// which RFC 8452 forbids; the caller reports that as a serialization
    /// failure.
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Option<[u8; TAG_LEN]> {
        let nonce = Nonce::from(*nonce);
        let buf = InOutBuf::new(plaintext, out).ok()?;
        let tag = match self {
            Cipher::Aes128(c) => c.encrypt_inout_detached(&nonce, aad, buf),
            Cipher::Aes256(c) => c.encrypt_inout_detached(&nonce, aad, buf),
        };
        tag.ok().map(Into::into)
    }

    /// Decrypts `ciphertext` into `out` (same length) if `tag` authenticates
    /// it with `aad`.
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Unauthentic> {
        let nonce = Nonce::from(*nonce);
        let tag = Tag::from(*tag);
        let buf = InOutBuf::new(ciphertext, out).map_err(|_| Unauthentic)?;
        let result = match self {
            Cipher::Aes128(c) => c.decrypt_inout_detached(&nonce, aad, buf, &tag),
            Cipher::Aes256(c) => c.decrypt_inout_detached(&nonce, aad, buf, &tag),
        };
        result.map_err(|_| Unauthentic)
    }
}

/// A fresh random nonce from the thread-local CSPRNG (ChaCha, seeded and
/// periodically reseeded from the OS): ~10 ns instead of a ~280 ns syscall.
pub(crate) fn random_nonce() -> [u8; NONCE_LEN] {
    let mut nonce = [0; NONCE_LEN];
    rand::rng().fill_bytes(&mut nonce);
    nonce
}

/// Fills `buf` with key material from the same CSPRNG.
pub(crate) fn random_bytes(buf: &mut [u8]) {
    rand::rng().fill_bytes(buf);
}
