//! AES-GCM-SIV from AWS-LC (`aws-lc-rs`), the `aws-lc` feature: the same
//! RFC 8452 AEAD, so the same envelopes byte for byte.
//!
//! AWS-LC keeps the expanded key in memory it allocated and wipes its
//! allocations when it frees them (`OPENSSL_free` zeroes before freeing,
//! unless an application installs its own allocator hooks), so dropping a
//! key wipes it as the RustCrypto backend's does. Unlike RustCrypto's, its
//! GCM-SIV leaves the per-message keys it derives on the stack (SECURITY.md).

use aws_lc_rs::aead::{AES_128_GCM_SIV, AES_256_GCM_SIV, Aad, LessSafeKey, Nonce, UnboundKey};

use super::{NONCE_LEN, TAG_LEN, Unauthentic};

/// An expanded key. `LessSafeKey` because every nonce is chosen by the
/// caller (random, or derived for deterministic envelopes), which is what
/// GCM-SIV is designed for.
pub(crate) struct Cipher(LessSafeKey);

impl Cipher {
    pub(super) fn new(key: &[u8]) -> Option<Self> {
        let algorithm = match key.len() {
            16 => &AES_128_GCM_SIV,
            32 => &AES_256_GCM_SIV,
            _ => return None,
        };
        let key = UnboundKey::new(algorithm, key).ok()?;
        Some(Cipher(LessSafeKey::new(key)))
    }

    pub(super) fn bits(&self) -> u16 {
        // 16 or 32 bytes: `new` takes no other length.
        if self.0.algorithm().key_len() == 16 {
            128
        } else {
            256
        }
    }

    pub(super) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Option<[u8; TAG_LEN]> {
        // Out of place, as the RustCrypto backend: the plaintext is never
        // copied into the envelope, so a failed seal leaves none there.
        let mut tag = [0; TAG_LEN];
        self.0
            .seal_out_of_place_scatter(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                plaintext,
                out,
                &[],
                &mut tag,
            )
            .ok()?;
        Some(tag)
    }

    pub(super) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        ciphertext: &[u8],
        out: &mut [u8],
        tag: &[u8; TAG_LEN],
    ) -> Result<(), Unauthentic> {
        if ciphertext.len() != out.len() {
            return Err(Unauthentic);
        }
        self.0
            .open_separate_gather(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                ciphertext,
                tag,
                out,
            )
            .map_err(|_| Unauthentic)
    }
}
