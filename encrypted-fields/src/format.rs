//! Envelope v1: the bytes of one sealed field, its AAD and its text form.
//! `docs/FORMAT.md` is the normative description; keep the two in step.
//!
//! ```text
//! envelope = version (1) || key id (4) || nonce (12) || ciphertext || tag (16)
//! aad      = version || key id || u16be len || alias || u16be len || context
//!            || u16be len || field
//! text     = base64url, no padding (RFC 4648 section 5)
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::cipher::{NONCE_LEN, TAG_LEN};
use crate::key::{KEY_ID_LEN, KeyId};

/// The only version this build writes and reads.
pub(crate) const VERSION_1: u8 = 0x01;
/// Version byte, key id and nonce.
pub(crate) const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// What an envelope is bound to through the AAD: the key alias, a type
/// context (the struct name unless `#[encrypt(context = "...")]` overrides
/// it) and the serialized field name. An envelope opened under any other
/// binding fails authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binding<'a> {
    alias: &'a str,
    context: &'a str,
    field: &'a str,
}

impl<'a> Binding<'a> {
    /// Binds to `alias`, type `context` and `field`.
    pub const fn new(alias: &'a str, context: &'a str, field: &'a str) -> Self {
        Binding {
            alias,
            context,
            field,
        }
    }

    /// The key alias.
    pub const fn alias(&self) -> &'a str {
        self.alias
    }

    /// The type context.
    pub const fn context(&self) -> &'a str {
        self.context
    }

    /// The serialized field name.
    pub const fn field(&self) -> &'a str {
        self.field
    }
}

/// The parts of an envelope, borrowed from its bytes.
pub(crate) struct Parts<'a> {
    pub(crate) key_id: KeyId,
    pub(crate) nonce: &'a [u8; NONCE_LEN],
    pub(crate) ciphertext: &'a [u8],
    pub(crate) tag: &'a [u8; TAG_LEN],
}

/// Why bytes are not a readable envelope.
#[derive(Clone, Copy)]
pub(crate) enum ParseError {
    TooShort(usize),
    Version(u8),
}

/// Splits envelope bytes into their parts, checking version and length.
pub(crate) fn parse(envelope: &[u8]) -> Result<Parts<'_>, ParseError> {
    let too_short = ParseError::TooShort(envelope.len());
    let (&version, rest) = envelope.split_first().ok_or(too_short)?;
    if version != VERSION_1 {
        return Err(ParseError::Version(version));
    }
    let (key_id, rest) = rest.split_first_chunk().ok_or(too_short)?;
    let (nonce, rest) = rest.split_first_chunk().ok_or(too_short)?;
    let (ciphertext, tag) = rest.split_last_chunk().ok_or(too_short)?;
    Ok(Parts {
        key_id: KeyId::from_bytes(*key_id),
        nonce,
        ciphertext,
        tag,
    })
}

/// Writes the header of a new envelope into an empty buffer, with a zero
/// nonce that [`set_nonce`] fills in once the plaintext is known.
pub(crate) fn write_header(out: &mut Vec<u8>, key_id: KeyId) {
    out.push(VERSION_1);
    out.extend_from_slice(key_id.as_bytes());
    out.extend_from_slice(&[0; NONCE_LEN]);
}

/// Sets the nonce in a header written by [`write_header`].
pub(crate) fn set_nonce(header: &mut [u8], nonce: &[u8; NONCE_LEN]) {
    if let Some(slot) = header.get_mut(1 + KEY_ID_LEN..HEADER_LEN) {
        slot.copy_from_slice(nonce);
    }
}

/// The associated data that binds an envelope to its place; `None` if a
/// name exceeds 65535 bytes and so cannot be length-prefixed.
pub(crate) fn aad(key_id: KeyId, binding: &Binding<'_>) -> Option<Vec<u8>> {
    let names = [binding.alias, binding.context, binding.field];
    let mut aad =
        Vec::with_capacity(1 + KEY_ID_LEN + names.iter().map(|n| 2 + n.len()).sum::<usize>());
    aad.push(VERSION_1);
    aad.extend_from_slice(key_id.as_bytes());
    for name in names {
        let len = u16::try_from(name.len()).ok()?;
        aad.extend_from_slice(&len.to_be_bytes());
        aad.extend_from_slice(name.as_bytes());
    }
    Some(aad)
}

/// The text form of an envelope, as used in JSON and other text formats.
pub(crate) fn to_text(envelope: &[u8]) -> impl std::fmt::Display + '_ {
    base64::display::Base64Display::new(envelope, &URL_SAFE_NO_PAD)
}

/// Decodes the text form; rejects padding and non-canonical trailing bits,
/// so every text has exactly one meaning.
pub(crate) fn from_text(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}
