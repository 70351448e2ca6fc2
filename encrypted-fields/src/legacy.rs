//! Reading the legacy platform snippet's format, to migrate off it.
//!
//! Services that followed the old platform guide send
//! `base64(iv || AES-CBC-PKCS7(plaintext))` (standard base64, 16-byte IV)
//! under a key shared per integration. **That format has no integrity
//! protection**: anyone can flip bits of the plaintext by flipping bits of
//! the IV or ciphertext, and any service that decrypts values an attacker
//! can submit and lets them see whether decryption worked (an error code, a
//! timing, even success versus failure) is a padding oracle that decrypts
//! everything. So: use this reader only on data you stored yourself, in a
//! batch migration, never on input from the network. Every failure,
//! including a plaintext that is not the expected JSON or UTF-8, is the same
//! [`ErrorKind::LegacyCiphertext`]. There is deliberately no encrypt path:
//! new data goes into envelopes.
//!
//! Migration: decrypt each legacy value here, put it in the field of a
//! type that derives `Encrypt`, and encrypt that; see docs/guide/migration.md.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind};
use crate::limits;

/// The CBC block and IV size.
const BLOCK: usize = 16;

/// A legacy AES-CBC key: 16 bytes (as the platform helper generated them),
/// 24 or 32. Held in a zeroizing buffer; `Debug` shows only its size.
pub struct LegacyKey(Zeroizing<Vec<u8>>);

impl LegacyKey {
    /// Wraps raw key bytes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] for lengths other than 16, 24 or 32.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if ![16, 24, 32].contains(&bytes.len()) {
            return Err(Error::new(ErrorKind::InvalidKey).detail(format!(
                "legacy key is {} bytes; expected 16, 24 or 32",
                bytes.len()
            )));
        }
        Ok(LegacyKey(Zeroizing::new(bytes.to_vec())))
    }

    /// Decodes a key written as standard base64.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if the text is not base64 or the length is wrong.
    pub fn from_base64(text: &str) -> Result<Self, Error> {
        let bytes = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| {
            Error::new(ErrorKind::InvalidKey).detail("legacy key is not standard padded base64")
        })?);
        LegacyKey::from_bytes(&bytes)
    }

    /// Decrypts one legacy value to its plaintext bytes.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::LegacyCiphertext`] for every failure alike (bad base64,
    /// bad length, bad padding: a wrong key usually shows as bad padding),
    /// so the error cannot serve as a padding oracle;
    /// [`ErrorKind::MalformedEnvelope`] if the text exceeds the envelope
    /// size limit, checked before decoding.
    pub fn decrypt(&self, text: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
        limits::check_text(text.len())
            .map_err(|detail| Error::new(ErrorKind::MalformedEnvelope).detail(detail))?;
        let failed = || Error::new(ErrorKind::LegacyCiphertext);
        let mut data = Zeroizing::new(STANDARD.decode(text.trim()).map_err(|_| failed())?);
        if data.len() < 2 * BLOCK || data.len() % BLOCK != 0 {
            return Err(failed());
        }
        let (iv, ciphertext) = data.split_at_mut(BLOCK);
        let plaintext = match self.0.len() {
            16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(&self.0, iv)
                .map_err(|_| failed())?
                .decrypt_padded::<Pkcs7>(ciphertext),
            24 => cbc::Decryptor::<aes::Aes192>::new_from_slices(&self.0, iv)
                .map_err(|_| failed())?
                .decrypt_padded::<Pkcs7>(ciphertext),
            _ => cbc::Decryptor::<aes::Aes256>::new_from_slices(&self.0, iv)
                .map_err(|_| failed())?
                .decrypt_padded::<Pkcs7>(ciphertext),
        };
        let plaintext = plaintext.map_err(|_| failed())?;
        Ok(Zeroizing::new(plaintext.to_vec()))
    }

    /// Decrypts a legacy value that holds JSON (the guide encrypted whole
    /// structures as JSON) into `T`.
    ///
    /// # Errors
    ///
    /// As [`decrypt`](Self::decrypt); a plaintext that is not JSON of `T`
    /// is the same [`ErrorKind::LegacyCiphertext`], so the two cannot be
    /// told apart.
    pub fn decrypt_json<T: DeserializeOwned>(&self, text: &str) -> Result<T, Error> {
        serde_json::from_slice(&self.decrypt(text)?)
            .map_err(|_| Error::new(ErrorKind::LegacyCiphertext))
    }

    /// Decrypts a legacy value that holds UTF-8 text (a single attribute).
    ///
    /// # Errors
    ///
    /// As [`decrypt`](Self::decrypt); a plaintext that is not UTF-8 is the
    /// same [`ErrorKind::LegacyCiphertext`].
    pub fn decrypt_string(&self, text: &str) -> Result<String, Error> {
        let bytes = self.decrypt(text)?;
        std::str::from_utf8(&bytes)
            .map(str::to_owned)
            .map_err(|_| Error::new(ErrorKind::LegacyCiphertext))
    }
}

impl std::fmt::Debug for LegacyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LegacyKey(AES-{}-CBC)", self.0.len() * 8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_unaligned_and_non_base64_inputs_fail_alike() {
        let key = LegacyKey::from_bytes(&[1; 16]).unwrap();
        for text in [
            "",
            "!!!",
            "AAAA",
            &STANDARD.encode([0u8; 31]),
            &STANDARD.encode([0u8; 32]),
        ] {
            let err = key.decrypt(text).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::LegacyCiphertext, "{text:?}");
            assert_eq!(
                err.to_string(),
                Error::new(ErrorKind::LegacyCiphertext).to_string()
            );
        }
    }

    /// The legacy snippet's algorithm, for tests only.
    fn legacy_encrypt(key: &[u8; 16], iv: [u8; 16], plaintext: &[u8]) -> String {
        use cbc::cipher::BlockModeEncrypt;
        let mut buf = vec![0u8; plaintext.len() + 16];
        buf[..plaintext.len()].copy_from_slice(plaintext);
        let ct = cbc::Encryptor::<aes::Aes128>::new_from_slices(key, &iv)
            .unwrap()
            .encrypt_padded::<Pkcs7>(&mut buf, plaintext.len())
            .unwrap()
            .to_vec();
        STANDARD.encode([iv.as_slice(), &ct].concat())
    }

    #[test]
    fn decrypts_the_snippet_format_and_fails_alike_on_wrong_content() {
        let key = LegacyKey::from_bytes(&[3; 16]).unwrap();
        let text = legacy_encrypt(&[3; 16], [9; 16], br#"{"email":"a@b.c"}"#);
        let value: serde_json::Value = key.decrypt_json(&text).unwrap();
        assert_eq!(value["email"], "a@b.c");
        // Valid padding but not JSON, or not UTF-8: the same error as bad
        // padding, so a caller's response cannot tell them apart.
        let not_json = legacy_encrypt(&[3; 16], [9; 16], b"plain text");
        let not_utf8 = legacy_encrypt(&[3; 16], [9; 16], &[0xff, 0xfe]);
        let bad_padding = {
            let mut raw = STANDARD.decode(&text).unwrap();
            let last = raw.len() - 1;
            raw[last] ^= 0x55;
            STANDARD.encode(raw)
        };
        let expected = Error::new(ErrorKind::LegacyCiphertext);
        assert_eq!(
            key.decrypt_json::<serde_json::Value>(&not_json)
                .unwrap_err(),
            expected
        );
        assert_eq!(key.decrypt_string(&not_utf8).unwrap_err(), expected);
        assert_eq!(key.decrypt(&bad_padding).unwrap_err(), expected);
        assert_eq!(key.decrypt_string(&not_json).unwrap(), "plain text");
    }

    #[test]
    fn keys_of_other_lengths_are_rejected() {
        assert!(LegacyKey::from_bytes(&[0; 15]).is_err());
        assert_eq!(
            format!("{:?}", LegacyKey::from_bytes(&[7; 16]).unwrap()),
            "LegacyKey(AES-128-CBC)"
        );
    }
}
