//! The AEAD, and the only module that touches a cipher crate or the RNG.
//!
//! AES-GCM-SIV (RFC 8452) comes from one of two backends, which produce
//! the same bytes: RustCrypto's `aes-gcm-siv` (the default) or, with the
//! `aws-lc` feature, AWS-LC's. A build with both uses AWS-LC unless
//! `ENCRYPTED_FIELDS_CIPHER=rustcrypto` says otherwise, read once when the
//! first key is built: the same binary can then run its tests on either.

#[cfg(feature = "aws-lc")]
mod aws_lc;
mod rust_crypto;

use std::sync::OnceLock;

use rand::Rng;

/// Nonce length of AES-GCM-SIV (RFC 8452): 96 bits.
pub(crate) const NONCE_LEN: usize = 12;
/// Authentication tag length: 128 bits.
pub(crate) const TAG_LEN: usize = 16;

/// The variable that chooses the backend in a build that has both.
pub(crate) const BACKEND_VAR: &str = "ENCRYPTED_FIELDS_CIPHER";

/// An expanded AES-GCM-SIV key. Built once per key when a keyring loads, so
/// no field pays for the key schedule; wiped on drop by either backend.
#[cfg_attr(
    feature = "aws-lc",
    expect(
        clippy::large_enum_variant,
        reason = "keys are built once and stay in place; a Box would add a pointer chase per field"
    )
)]
pub(crate) enum Cipher {
    RustCrypto(rust_crypto::Cipher),
    #[cfg(feature = "aws-lc")]
    AwsLc(aws_lc::Cipher),
}

/// The AEAD rejected the ciphertext; deliberately carries no detail.
pub(crate) struct Unauthentic;

/// Which implementation of AES-GCM-SIV a key uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    RustCrypto,
    #[cfg(feature = "aws-lc")]
    AwsLc,
}

impl Backend {
    /// The backend this process uses: the one [`BACKEND_VAR`] names if it
    /// is set and not empty, else AWS-LC when built in, else RustCrypto.
    /// Read once; a value naming no backend of this build (not UTF-8
    /// included) is an error on every key built, never a silent fallback to
    /// the other one.
    pub(crate) fn selected() -> Result<Backend, &'static str> {
        static SELECTED: OnceLock<Result<Backend, &'static str>> = OnceLock::new();
        *SELECTED.get_or_init(|| match std::env::var_os(BACKEND_VAR) {
            None => Backend::named(None),
            Some(value) => value.to_str().map_or(
                Err("ENCRYPTED_FIELDS_CIPHER is not UTF-8, so it names no backend"),
                |name| Backend::named(Some(name)),
            ),
        })
    }

    fn named(name: Option<&str>) -> Result<Backend, &'static str> {
        match name {
            None | Some("") => Ok(Backend::default_for_build()),
            Some("rustcrypto") => Ok(Backend::RustCrypto),
            #[cfg(feature = "aws-lc")]
            Some("aws-lc") => Ok(Backend::AwsLc),
            #[cfg(not(feature = "aws-lc"))]
            Some("aws-lc") => {
                Err("ENCRYPTED_FIELDS_CIPHER=aws-lc, but this build lacks the `aws-lc` feature")
            }
            // The value is not echoed: whatever it is, it is not a backend.
            Some(_) => Err("ENCRYPTED_FIELDS_CIPHER is set to neither `aws-lc` nor `rustcrypto`"),
        }
    }

    fn default_for_build() -> Backend {
        #[cfg(feature = "aws-lc")]
        return Backend::AwsLc;
        #[cfg(not(feature = "aws-lc"))]
        Backend::RustCrypto
    }
}

impl Cipher {
    /// Builds the cipher for a 16- or 32-byte key with `backend`; `None`
    /// for other lengths.
    pub(crate) fn new(key: &[u8], backend: Backend) -> Option<Self> {
        match backend {
            Backend::RustCrypto => rust_crypto::Cipher::new(key).map(Cipher::RustCrypto),
            #[cfg(feature = "aws-lc")]
            Backend::AwsLc => aws_lc::Cipher::new(key).map(Cipher::AwsLc),
        }
    }

    /// Key length in bits.
    pub(crate) fn bits(&self) -> u16 {
        match self {
            Cipher::RustCrypto(c) => c.bits(),
            #[cfg(feature = "aws-lc")]
            Cipher::AwsLc(c) => c.bits(),
        }
    }

    /// Which backend this key runs on.
    #[cfg(test)]
    pub(crate) fn backend(&self) -> Backend {
        match self {
            Cipher::RustCrypto(_) => Backend::RustCrypto,
            #[cfg(feature = "aws-lc")]
            Cipher::AwsLc(_) => Backend::AwsLc,
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
        match self {
            Cipher::RustCrypto(c) => c.seal(nonce, aad, plaintext, out),
            #[cfg(feature = "aws-lc")]
            Cipher::AwsLc(c) => c.seal(nonce, aad, plaintext, out),
        }
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
        match self {
            Cipher::RustCrypto(c) => c.open(nonce, aad, ciphertext, out, tag),
            #[cfg(feature = "aws-lc")]
            Cipher::AwsLc(c) => c.open(nonce, aad, ciphertext, out, tag),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backend_variable_names_a_backend_of_this_build_or_fails() {
        assert_eq!(Backend::named(None), Ok(Backend::default_for_build()));
        assert_eq!(Backend::named(Some("")), Ok(Backend::default_for_build()));
        assert_eq!(Backend::named(Some("rustcrypto")), Ok(Backend::RustCrypto));
        #[cfg(feature = "aws-lc")]
        assert_eq!(Backend::named(Some("aws-lc")), Ok(Backend::AwsLc));
        #[cfg(not(feature = "aws-lc"))]
        assert!(
            Backend::named(Some("aws-lc"))
                .unwrap_err()
                .contains("lacks")
        );
        let unknown = Backend::named(Some("c2VjcmV0")).unwrap_err();
        assert!(!unknown.contains("c2VjcmV0"), "{unknown}");
        assert!(
            Backend::named(Some("RustCrypto")).is_err(),
            "names are exact"
        );
    }

    /// What the README's second test pass relies on: the keys this process
    /// builds run on the backend the variable names.
    #[test]
    fn keys_run_on_the_backend_the_variable_names() {
        let var = std::env::var(BACKEND_VAR).ok();
        let expected = Backend::named(var.as_deref()).unwrap();
        let key = crate::Key::from_bytes(&[7; 32]).unwrap();
        assert_eq!(key.cipher().backend(), expected);
        if var.as_deref() == Some("rustcrypto") {
            assert_eq!(expected, Backend::RustCrypto);
        }
    }

    /// Both backends give the same bytes for the same inputs, and each
    /// opens what the other sealed: envelopes do not depend on the build.
    #[cfg(feature = "aws-lc")]
    #[test]
    fn the_backends_seal_the_same_bytes_and_open_each_others() {
        let mut lengths: Vec<usize> = (0..=300).collect();
        lengths.extend([4095, 4096, 4097, 64 * 1024 + 3]);
        for key_len in [16, 32] {
            let mut key = vec![0; key_len];
            random_bytes(&mut key);
            let ours = Cipher::new(&key, Backend::RustCrypto).unwrap();
            let aws = Cipher::new(&key, Backend::AwsLc).unwrap();
            for &len in &lengths {
                let mut plaintext = vec![0; len];
                random_bytes(&mut plaintext);
                let aad = &plaintext[..len % 97];
                let nonce = random_nonce();
                let (mut a, mut b) = (vec![0; len], vec![0; len]);
                let tag_a = ours.seal(&nonce, aad, &plaintext, &mut a).unwrap();
                let tag_b = aws.seal(&nonce, aad, &plaintext, &mut b).unwrap();
                assert!(a == b && tag_a == tag_b, "{key_len}-byte key, {len} bytes");
                for (opener, sealed) in [(&ours, &b), (&aws, &a)] {
                    let mut out = vec![0; len];
                    assert!(opener.open(&nonce, aad, sealed, &mut out, &tag_a).is_ok());
                    assert_eq!(out, plaintext);
                    let mut forged = tag_a;
                    forged[len % TAG_LEN] ^= 1;
                    assert!(opener.open(&nonce, aad, sealed, &mut out, &forged).is_err());
                }
            }
        }
    }

    #[cfg(feature = "aws-lc")]
    #[test]
    fn both_backends_refuse_other_key_and_buffer_lengths() {
        for backend in [Backend::RustCrypto, Backend::AwsLc] {
            for len in [0, 15, 17, 24, 31, 33] {
                assert!(
                    Cipher::new(&vec![1; len], backend).is_none(),
                    "{backend:?} {len}"
                );
            }
            let cipher = Cipher::new(&[1; 32], backend).unwrap();
            let nonce = [0; NONCE_LEN];
            assert!(cipher.seal(&nonce, b"", b"abc", &mut [0; 2]).is_none());
            assert!(
                cipher
                    .open(&nonce, b"", b"abc", &mut [0; 4], &[0; TAG_LEN])
                    .is_err()
            );
        }
    }
}
