//! AES-GCM-SIV from RustCrypto's `aes-gcm-siv`: the default backend.
//!
//! Keeping the RustCrypto types in here means their API changes (aead 0.5
//! to 0.6 renamed its traits) never reach our public API.

use aes_gcm_siv::aead::inout::InOutBuf;
use aes_gcm_siv::aead::{AeadInOut, KeyInit};
use aes_gcm_siv::{Aes128GcmSiv, Aes256GcmSiv, Nonce, Tag};

use super::{NONCE_LEN, TAG_LEN, Unauthentic};

/// An expanded key; the round keys are zeroized on drop (the crate's
/// `zeroize` feature, and `aes`' own, which Cargo.toml turns on).
#[expect(
    clippy::large_enum_variant,
    reason = "keys are built once and stay in place; a Box would add a pointer chase per field"
)]
pub(crate) enum Cipher {
    Aes128(Aes128GcmSiv),
    Aes256(Aes256GcmSiv),
}

impl Cipher {
    pub(super) fn new(key: &[u8]) -> Option<Self> {
        match key.len() {
            16 => Aes128GcmSiv::new_from_slice(key).ok().map(Cipher::Aes128),
            32 => Aes256GcmSiv::new_from_slice(key).ok().map(Cipher::Aes256),
            _ => None,
        }
    }

    pub(super) fn bits(&self) -> u16 {
        match self {
            Cipher::Aes128(_) => 128,
            Cipher::Aes256(_) => 256,
        }
    }

    pub(super) fn seal(
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

    pub(super) fn open(
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
