//! Public-key sessions (feature `hpke`): a client that shares no key with a
//! server makes a fresh AES session key, wraps it for the server's
//! long-lived X25519 public key with HPKE (RFC 9180, base mode,
//! DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM), and sends the
//! wrapped key (`encKey`) beside fields sealed under the session key. The
//! server unwraps `encKey` into a one-session keyring. Each direction has
//! its own key, derived from the session secret (HMAC-SHA256 of the secret
//! over `encrypted-fields session v1 request` or `... response`): a
//! request envelope sent back to the client as a response does not open,
//! nor a response replayed to the server as a request.
//!
//! `encKey` is base64url (no padding) of
//! `01 || server key id (4) || HPKE enc (32) || HPKE ciphertext (48)`; the
//! HPKE AAD is the first five bytes, so the version and key id cannot be
//! swapped. The key id (SHA-256 of a domain string and the public key, first 4 bytes) lets a
//! server that rotated its key pair keep accepting the previous one, and
//! tells a stale `encKey` (`UnknownKeyId`) from a forged one
//! (`AuthenticationFailed`): either way the client should fetch the public
//! key again and start a new session.
//!
//! Why not RSA PKCS#1 v1.5, as the REST encryption spec we replace does:
//! its padding is malleable and decryption is a padding oracle
//! (Bleichenbacher 1998, still found as ROBOT in 2017), so a server that
//! answers "decryption failed" differently from "bad field" leaks the
//! session key. RSA-OAEP is sound, but the maintained pure-Rust `rsa`
//! crate has an open advisory (RUSTSEC-2023-0071, a timing side channel on
//! private-key operations), so we do not offer it.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hpke::aead::AesGcm256;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem, OpModeR, OpModeS, Serializable};
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::error::{Error, ErrorKind};
use crate::key::{Key, KeyId, KeySet};
use crate::keyring::{Keyring, read_secret_var};

type Suite = X25519HkdfSha256;
type PrivateKey = <Suite as Kem>::PrivateKey;
type PublicKey = <Suite as Kem>::PublicKey;
type EncappedKey = <Suite as Kem>::EncappedKey;

/// The environment variable holding the server's private key(s): standard
/// base64 of 32 bytes, comma-separated, newest first. `..._FILE` names a
/// file holding the same text.
pub const SESSION_KEY_VAR: &str = "ENCRYPTED_FIELDS_SESSION_KEY";

const VERSION: u8 = 1;
/// HPKE `info`: binds the wrapped key to this protocol and version.
const INFO: &[u8] = b"encrypted-fields session v1";
const HEADER_LEN: usize = 1 + 4;
const ENC_LEN: usize = 32;
const WRAPPED_LEN: usize = 32 + 16;
const ENC_KEY_LEN: usize = HEADER_LEN + ENC_LEN + WRAPPED_LEN;
/// Its base64url length, without padding.
const ENC_KEY_TEXT_LEN: usize = (ENC_KEY_LEN * 4).div_ceil(3);
/// Domain separation for the server key id: not a symmetric key's id.
const PUBLIC_KEY_ID_DOMAIN: &[u8] = b"encrypted-fields session public key id v1\0";
/// Labels of the two directions' keys, derived from the session secret.
const REQUEST_LABEL: &[u8] = b"encrypted-fields session v1 request";
const RESPONSE_LABEL: &[u8] = b"encrypted-fields session v1 response";
/// What every session error names in the alias slot
/// ([`Error::key_alias`] returns it), so logs say which input failed.
const NAME: &str = "encKey";

/// The server side: its long-lived key pair(s), newest first.
pub struct SessionServer {
    pairs: Vec<(KeyId, PrivateKey, PublicKey)>,
}

impl SessionServer {
    /// Reads [`SESSION_KEY_VAR`] (or `..._FILE`) from the environment.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] naming the variable when it is missing,
    /// unreadable or malformed; never quoting its value.
    pub fn from_env() -> Result<Self, Error> {
        let text = read_secret_var(SESSION_KEY_VAR)?.ok_or_else(|| {
            invalid(format!(
                "{SESSION_KEY_VAR} is not set: generate a key pair with \
                 SessionServer::generate and store its private key as a secret"
            ))
        })?;
        Self::from_private_keys(&text).map_err(|e| e.prefixed(SESSION_KEY_VAR))
    }

    /// Builds the server from private keys written as standard base64 of 32
    /// bytes, comma-separated, newest first: the newest is served as the
    /// public key, the older ones still open sessions made before a
    /// rotation.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if a key is not base64 of 32 bytes, or is
    /// listed twice.
    pub fn from_private_keys(text: &str) -> Result<Self, Error> {
        let pairs: Vec<(KeyId, PrivateKey, PublicKey)> = text
            .split(',')
            .map(|part| {
                let bytes = Zeroizing::new(
                    STANDARD
                        .decode(part.trim_ascii())
                        .map_err(|_| invalid("private key is not standard padded base64"))?,
                );
                let private = PrivateKey::from_bytes(&bytes)
                    .map_err(|_| invalid("private key is not 32 bytes"))?;
                let public = Suite::sk_to_pk(&private);
                Ok((public_key_id(&public), private, public))
            })
            .collect::<Result<_, Error>>()?;
        for (i, (id, _, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(other, _, _)| other == id) {
                return Err(invalid(format!("private key {} is listed twice", i + 1)));
            }
        }
        Ok(SessionServer { pairs })
    }

    /// A fresh key pair and its private key text, to store as the
    /// [`SESSION_KEY_VAR`] secret (or, for a demo, to use and forget).
    pub fn generate() -> (Self, SecretString) {
        let (private, public) = Suite::gen_keypair_with_rng(&mut rand::rng());
        let mut bytes = private.to_bytes();
        let text = STANDARD.encode(bytes.as_slice());
        bytes.as_mut_slice().zeroize();
        let pairs = vec![(public_key_id(&public), private, public)];
        (SessionServer { pairs }, SecretString::from(text))
    }

    /// The public key clients wrap session keys for: base64url of 32 bytes,
    /// what `GET /publicKey` serves.
    pub fn public_key(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pairs[0].2.to_bytes().as_slice())
    }

    /// Unwraps a client's `encKey` into the keyring for its session.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::MalformedEnvelope`] or [`ErrorKind::UnsupportedVersion`]
    /// for text that is not an `encKey`, [`ErrorKind::UnknownKeyId`] for one
    /// wrapped for a key pair this server no longer holds (stale), and
    /// [`ErrorKind::AuthenticationFailed`] for a forged or tampered one.
    /// All of them mean: fetch the public key and start a new session. The
    /// errors name `encKey` where other errors name an alias.
    pub fn open(&self, enc_key: &str) -> Result<SessionKeyring, Error> {
        // Checked before decoding: a fixed length bounds the work.
        if enc_key.len() != ENC_KEY_TEXT_LEN {
            return Err(fail(ErrorKind::MalformedEnvelope, "wrong length"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(enc_key)
            .map_err(|_| fail(ErrorKind::MalformedEnvelope, "not base64url"))?;
        if bytes.len() != ENC_KEY_LEN {
            return Err(fail(ErrorKind::MalformedEnvelope, "wrong length"));
        }
        if bytes[0] != VERSION {
            return Err(fail(ErrorKind::UnsupportedVersion, "unknown version"));
        }
        let (header, rest) = bytes.split_at(HEADER_LEN);
        let (enc, wrapped) = rest.split_at(ENC_LEN);
        let id = KeyId::from_bytes([header[1], header[2], header[3], header[4]]);
        let (_, private, _) = self
            .pairs
            .iter()
            .find(|(pair_id, _, _)| *pair_id == id)
            .ok_or_else(|| fail(ErrorKind::UnknownKeyId, "wrapped for another server key"))?;
        let enc = EncappedKey::from_bytes(enc)
            .map_err(|_| fail(ErrorKind::MalformedEnvelope, "bad encapsulated key"))?;
        let key = hpke::single_shot_open::<AesGcm256, HkdfSha256, Suite>(
            &OpModeR::Base,
            private,
            &enc,
            INFO,
            wrapped,
            header,
        )
        .map(Zeroizing::new)
        .map_err(|_| fail(ErrorKind::AuthenticationFailed, "does not unwrap"))?;
        SessionKeyring::from_secret(&key, Side::Server)
    }
}

impl fmt::Debug for SessionServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<KeyId> = self.pairs.iter().map(|(id, _, _)| *id).collect();
        f.debug_struct("SessionServer")
            .field("key_ids", &ids)
            .finish()
    }
}

/// The keyring of one session: it answers for every alias, so a type's
/// fields seal under it whatever aliases they name (the envelopes still
/// bind alias, type and field). It seals with its own direction's key and
/// opens only the other direction's, so a reflected envelope fails.
pub struct SessionKeyring {
    side: Side,
    seals: KeySet,
    opens: KeySet,
}

/// Which end of a session a keyring is.
#[derive(Clone, Copy)]
enum Side {
    Client,
    Server,
}

impl SessionKeyring {
    /// The client side: makes a fresh AES-256 session key and wraps it for
    /// the server's `public_key` (as served by `GET /publicKey`). Returns
    /// the session's keyring and the `encKey` to send.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if `public_key` is not base64url of a
    /// 32-byte X25519 public key.
    pub fn initiate(public_key: &str) -> Result<(SessionKeyring, String), Error> {
        let bytes = URL_SAFE_NO_PAD
            .decode(public_key.trim())
            .map_err(|_| invalid("server public key is not base64url"))?;
        let public = PublicKey::from_bytes(&bytes)
            .map_err(|_| invalid("server public key is not 32 bytes"))?;
        let mut key = Zeroizing::new([0u8; 32]);
        rand::fill(&mut key[..]);
        let mut out = Vec::with_capacity(ENC_KEY_LEN);
        out.push(VERSION);
        out.extend_from_slice(public_key_id(&public).as_bytes());
        let mut rng = rand::rng();
        let (enc, wrapped) = hpke::single_shot_seal_with_rng::<AesGcm256, HkdfSha256, Suite>(
            &OpModeS::Base,
            &public,
            INFO,
            &key[..],
            &out,
            &mut rng,
        )
        .map_err(|_| invalid("server public key rejected"))?;
        out.extend_from_slice(&enc.to_bytes());
        out.extend_from_slice(&wrapped);
        let keyring = Self::from_secret(&key[..], Side::Client)?;
        Ok((keyring, URL_SAFE_NO_PAD.encode(out)))
    }

    /// The keyring of `side` for the session `secret`.
    fn from_secret(secret: &[u8], side: Side) -> Result<Self, Error> {
        let request = direction_key(secret, REQUEST_LABEL)?;
        let response = direction_key(secret, RESPONSE_LABEL)?;
        let (seals, opens) = match side {
            Side::Client => (request, response),
            Side::Server => (response, request),
        };
        // The sealing set opens nothing: a wrapper that forwards only
        // `key_set` (and so opens with it) fails closed, never reflected.
        let seals = KeySet::sealing_only(vec![seals])?;
        let opens = KeySet::new(vec![opens])?;
        Ok(SessionKeyring { side, seals, opens })
    }

    /// The id of the session's request key: the same on both sides of a
    /// session.
    pub fn key_id(&self) -> KeyId {
        self.request_keys().primary().id()
    }

    fn request_keys(&self) -> &KeySet {
        // The client seals requests; the server opens them.
        match self.side {
            Side::Client => &self.seals,
            Side::Server => &self.opens,
        }
    }
}

/// One direction's AES-256 key: HMAC-SHA256 of the session secret over
/// the direction's label.
fn direction_key(secret: &[u8], label: &[u8]) -> Result<Key, Error> {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret)
        .map_err(|_| invalid("session secret refused"))?;
    mac.update(label);
    let bytes: Zeroizing<[u8; 32]> = Zeroizing::new(mac.finalize().into_bytes().into());
    Key::from_bytes(&bytes[..])
}

impl Keyring for SessionKeyring {
    fn key_set(&self, _alias: &str) -> Option<&KeySet> {
        Some(&self.seals)
    }

    fn opening_key_set(&self, _alias: &str) -> Option<&KeySet> {
        Some(&self.opens)
    }
}

impl fmt::Debug for SessionKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKeyring")
            .field("key_id", &self.key_id())
            .finish()
    }
}

/// The server key id: the first four bytes of SHA-256 over a domain
/// string and the public key.
fn public_key_id(public: &PublicKey) -> KeyId {
    let digest = Sha256::new()
        .chain_update(PUBLIC_KEY_ID_DOMAIN)
        .chain_update(public.to_bytes().as_slice())
        .finalize();
    KeyId::from_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidKey).detail(detail)
}

fn fail(kind: ErrorKind, detail: &str) -> Error {
    Error::new(kind).alias(NAME).detail(detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_of_a_session_hold_the_same_key() {
        let (server, _) = SessionServer::generate();
        let (client, enc_key) = SessionKeyring::initiate(&server.public_key()).unwrap();
        let opened = server.open(&enc_key).unwrap();
        assert_eq!(opened.key_id(), client.key_id());
        assert_eq!(enc_key.len(), 114);
    }

    /// Before, both directions used one key, so a request envelope sent
    /// back to the client as a response opened.
    #[test]
    fn an_envelope_reflected_to_its_sender_does_not_open() {
        use crate::{Binding, Sealed};
        let (server, _) = SessionServer::generate();
        let (client, enc_key) = SessionKeyring::initiate(&server.public_key()).unwrap();
        let server_side = server.open(&enc_key).unwrap();
        let binding = Binding::new("pii", "Secret", "data");
        let request = Sealed::seal(&client, &binding, &"pin 1234".to_owned()).unwrap();
        assert_eq!(request.open(&server_side, &binding).unwrap(), "pin 1234");
        let reflected = request.open(&client, &binding).unwrap_err();
        assert_eq!(reflected.kind(), ErrorKind::UnknownKeyId);
        let response = Sealed::seal(&server_side, &binding, &"ok".to_owned()).unwrap();
        assert_eq!(response.open(&client, &binding).unwrap(), "ok");
        let replayed = response.open(&server_side, &binding).unwrap_err();
        assert_eq!(replayed.kind(), ErrorKind::UnknownKeyId);
    }

    /// A keyring wrapper that forwards only the required method opens with
    /// the sealing set, which opens nothing: it fails closed.
    #[test]
    fn a_wrapper_that_forwards_only_key_set_cannot_open_a_reflection() {
        use crate::{Binding, Sealed};
        struct Metered<'a>(&'a SessionKeyring);
        impl Keyring for Metered<'_> {
            fn key_set(&self, alias: &str) -> Option<&KeySet> {
                self.0.key_set(alias)
            }
        }
        let (server, _) = SessionServer::generate();
        let (client, enc_key) = SessionKeyring::initiate(&server.public_key()).unwrap();
        let binding = Binding::new("pii", "Secret", "data");
        let request = Sealed::seal(&Metered(&client), &binding, &"x".to_owned()).unwrap();
        let reflected = request.open(&Metered(&client), &binding).unwrap_err();
        assert_eq!(reflected.kind(), ErrorKind::UnknownKeyId);
        let server_side = server.open(&enc_key).unwrap();
        assert_eq!(request.open(&server_side, &binding).unwrap(), "x");
    }

    #[test]
    fn rotated_servers_open_old_sessions_and_serve_the_new_key() {
        let (old, old_secret) = SessionServer::generate();
        let (new, new_secret) = SessionServer::generate();
        let (_, enc_key) = SessionKeyring::initiate(&old.public_key()).unwrap();
        use secrecy::ExposeSecret;
        let both = SessionServer::from_private_keys(&format!(
            "{}, {}",
            new_secret.expose_secret(),
            old_secret.expose_secret()
        ))
        .unwrap();
        assert_eq!(both.public_key(), new.public_key());
        assert!(both.open(&enc_key).is_ok());
        assert_eq!(
            new.open(&enc_key).unwrap_err().kind(),
            ErrorKind::UnknownKeyId
        );
    }

    #[test]
    fn every_tampered_byte_is_refused() {
        let (server, _) = SessionServer::generate();
        let (_, enc_key) = SessionKeyring::initiate(&server.public_key()).unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(&enc_key).unwrap();
        for i in 0..bytes.len() {
            let mut tampered = bytes.clone();
            tampered[i] ^= 0x01;
            let error = server.open(&URL_SAFE_NO_PAD.encode(&tampered)).unwrap_err();
            let message = error.to_string();
            assert!(message.contains("encKey"), "{message}");
        }
        for text in ["", "not base64!", &enc_key[..enc_key.len() - 2]] {
            assert!(server.open(text).is_err(), "{text:?}");
        }
    }

    #[test]
    fn debug_shows_ids_only() {
        let (server, secret) = SessionServer::generate();
        use secrecy::ExposeSecret;
        let shown = format!("{server:?}");
        assert!(shown.starts_with("SessionServer { key_ids: ["), "{shown}");
        assert!(!shown.contains(secret.expose_secret()));
    }
}
