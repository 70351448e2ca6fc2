//! The hand-written baseline the benches compare with: what a careful
//! engineer would write with `aes-gcm-siv` directly for the same envelope
//! format: one cipher reused, a thread-local RNG for nonces, the AAD
//! precomputed per field, stack buffers for small values, no keyring, no
//! errors beyond `Option`.
#![allow(dead_code)]

pub mod customer;

use std::time::Duration;

use aes_gcm_siv::aead::{AeadInOut, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce, Tag};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use encrypted_fields::{EnvKeyring, Keyring};
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Short runs, many of them: the machine is shared and noisy, and ratios
/// within one run are what the report uses.
pub fn config(measurement: Duration) -> criterion::Criterion {
    criterion::Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(measurement)
        .sample_size(40)
}

pub const KEY: &str = "YmVuY2gta2V5LTAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=";
pub const KEY_BYTES: &[u8; 32] = b"bench-key-0000000000000000000000";

pub fn keyring() -> EnvKeyring {
    EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", KEY),
        ("ENCRYPTED_FIELDS_KEY_BANKING", KEY),
        ("ENCRYPTED_FIELDS_KEY_US_ADDRESS", KEY),
    ])
    .unwrap()
}

/// One reused cipher and its key id.
pub struct Hand {
    cipher: Aes256GcmSiv,
    key_id: [u8; 4],
}

impl Hand {
    pub fn new() -> Self {
        let id = keyring().key_set("pii").unwrap().primary().id();
        Hand {
            cipher: Aes256GcmSiv::new_from_slice(KEY_BYTES).unwrap(),
            key_id: *id.as_bytes(),
        }
    }

    /// The AAD of FORMAT.md section 4 for one field, computed once.
    pub fn aad(&self, alias: &str, context: &str, field: &str) -> Vec<u8> {
        let mut aad = vec![1];
        aad.extend_from_slice(&self.key_id);
        for name in [alias, context, field] {
            aad.extend_from_slice(&(name.len() as u16).to_be_bytes());
            aad.extend_from_slice(name.as_bytes());
        }
        aad
    }

    /// The raw AEAD: encrypts `buf` in place under a fresh nonce.
    pub fn encrypt_in_place(&self, aad: &[u8], buf: &mut [u8]) -> ([u8; 12], [u8; 16]) {
        let mut nonce = [0u8; 12];
        rand::rng().fill_bytes(&mut nonce);
        let tag = self
            .cipher
            .encrypt_inout_detached(&Nonce::from(nonce), aad, buf.into())
            .unwrap();
        (nonce, tag.into())
    }

    /// The raw AEAD the other way.
    pub fn decrypt_in_place(
        &self,
        aad: &[u8],
        nonce: &[u8; 12],
        buf: &mut [u8],
        tag: &[u8; 16],
    ) -> bool {
        self.cipher
            .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.into(), &Tag::from(*tag))
            .is_ok()
    }

    /// A whole envelope, as bytes: JSON into a buffer, encrypt, header.
    pub fn seal_bytes<T: Serialize>(&self, aad: &[u8], value: &T) -> Vec<u8> {
        let mut envelope = vec![0u8; 17];
        serde_json::to_writer(&mut envelope, value).unwrap();
        let (nonce, tag) = self.encrypt_in_place(aad, &mut envelope[17..]);
        envelope[0] = 1;
        envelope[1..5].copy_from_slice(&self.key_id);
        envelope[5..17].copy_from_slice(&nonce);
        envelope.extend_from_slice(&tag);
        envelope
    }

    /// A whole envelope as base64url text, for JSON.
    pub fn seal_text<T: Serialize>(&self, aad: &[u8], value: &T) -> String {
        URL_SAFE_NO_PAD.encode(self.seal_bytes(aad, value))
    }

    /// Opens envelope bytes; small ones on the stack.
    pub fn open_bytes<T: DeserializeOwned>(&self, aad: &[u8], envelope: &[u8]) -> Option<T> {
        let (header, rest) = envelope.split_at_checked(17)?;
        let (ciphertext, tag) = rest.split_at_checked(rest.len().checked_sub(16)?)?;
        let nonce: [u8; 12] = header[5..17].try_into().ok()?;
        let tag: [u8; 16] = tag.try_into().ok()?;
        let mut stack = [0u8; 512];
        let mut heap;
        let buf = if ciphertext.len() <= stack.len() {
            &mut stack[..ciphertext.len()]
        } else {
            heap = vec![0u8; ciphertext.len()];
            &mut heap[..]
        };
        buf.copy_from_slice(ciphertext);
        self.decrypt_in_place(aad, &nonce, buf, &tag)
            .then_some(())?;
        serde_json::from_slice(buf).ok()
    }

    /// Opens base64url text; small ones decoded on the stack.
    pub fn open_text<T: DeserializeOwned>(&self, aad: &[u8], text: &str) -> Option<T> {
        let mut stack = [0u8; 768];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut stack) {
            Ok(len) => self.open_bytes(aad, &stack[..len]),
            Err(_) => self.open_bytes(aad, &URL_SAFE_NO_PAD.decode(text).ok()?),
        }
    }
}
