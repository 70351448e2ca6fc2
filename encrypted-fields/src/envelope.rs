//! Envelopes (format versions 1 to 4): the bytes of one sealed field, its AAD and its text form.
//! `docs/FORMAT.md` is the normative description; keep the two in step.
//!
//! ```text
//! envelope = version (1) || key id (4) || nonce (12) || ciphertext || tag (16)
//! aad (v1) = 01 || key id || u16be len || alias || u16be len || context
//!            || u16be len || field
//! aad (v2) = 02 || the same || u32be len || position || u32be len || record
//! v3, v4   = v1, v2 with the plaintext as raw bytes instead of JSON
//! text     = base64url, no padding (RFC 4648 section 5)
//! ```

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::binding::Binding;
use crate::cipher::{self, NONCE_LEN, TAG_LEN};
use crate::encoding::Encoding;
use crate::error::{Error, ErrorKind};
use crate::key::{KEY_ID_LEN, Key, KeyId};
use crate::limits;
use crate::nonce::Nonce;
use crate::scratch::{WipingBuf, with_scratch};

/// Envelopes bound to alias, context and field.
pub(crate) const VERSION_1: u8 = 0x01;
/// Envelopes also bound to a record and a position (section 4.1): the same
/// layout, a longer AAD.
pub(crate) const VERSION_2: u8 = 0x02;
/// Version 1 with the plaintext as raw bytes instead of JSON (section 5.1).
pub(crate) const VERSION_3: u8 = 0x03;
/// Version 2 with the plaintext as raw bytes instead of JSON.
pub(crate) const VERSION_4: u8 = 0x04;
/// Version byte, key id and nonce.
pub(crate) const HEADER_LEN: usize = 1 + KEY_ID_LEN + NONCE_LEN;

/// The size-limit check of the envelope a `len`-byte plaintext makes; the
/// error detail if it is over.
pub(crate) fn check_plaintext(len: usize) -> Result<(), String> {
    limits::check_envelope(HEADER_LEN.saturating_add(len).saturating_add(TAG_LEN))
}

/// The longest plaintext an envelope within the size limit holds.
pub(crate) fn max_plaintext_len() -> usize {
    limits::max_envelope_len().saturating_sub(HEADER_LEN + TAG_LEN)
}

/// The version an envelope of `encoding` is sealed as: 2 or 4 for a
/// binding with a record or position (section 4.1), else 1 or 3.
pub(crate) fn version(encoding: Encoding, scoped: bool) -> u8 {
    match (encoding, scoped) {
        (Encoding::Json, false) => VERSION_1,
        (Encoding::Json, true) => VERSION_2,
        (Encoding::Bytes, false) => VERSION_3,
        (Encoding::Bytes, true) => VERSION_4,
    }
}

/// Whether a (readable) version's AAD has a record and position.
pub(crate) fn is_scoped(version: u8) -> bool {
    version == VERSION_2 || version == VERSION_4
}

/// How a (readable) version's plaintext is encoded.
pub(crate) fn encoding(version: u8) -> Encoding {
    if version == VERSION_3 || version == VERSION_4 {
        Encoding::Bytes
    } else {
        Encoding::Json
    }
}

/// The parts of an envelope, borrowed from its bytes.
pub(crate) struct Parts<'a> {
    pub(crate) version: u8,
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
    if !(VERSION_1..=VERSION_4).contains(&version) {
        return Err(ParseError::Version(version));
    }
    let (key_id, rest) = rest.split_first_chunk().ok_or(too_short)?;
    let (nonce, rest) = rest.split_first_chunk().ok_or(too_short)?;
    let (ciphertext, tag) = rest.split_last_chunk().ok_or(too_short)?;
    Ok(Parts {
        version,
        key_id: KeyId::from_bytes(*key_id),
        nonce,
        ciphertext,
        tag,
    })
}

/// Associated data fits on the stack up to this size: every real binding.
const AAD_INLINE: usize = 192;

/// The longest record binding or position (FORMAT.md section 4.1). Both go
/// into the AAD of every envelope below them, so without a bound one long
/// id in a record of many fields would be hashed once per field.
pub(crate) const MAX_SCOPE_LEN: usize = 4096;

/// Builds the associated data that binds an envelope of `version` to its
/// place and hands it to `f`: on the stack (no allocation, and no copy of
/// the buffer on return) unless the names are unusually long. Fails if a
/// name exceeds 65535 bytes, or a position or record [`MAX_SCOPE_LEN`], and
/// so cannot be length-prefixed.
fn with_aad<R>(
    version: u8,
    key_id: KeyId,
    binding: &Binding<'_>,
    f: impl FnOnce(&[u8]) -> Result<R, Error>,
) -> Result<R, Error> {
    let names = [binding.alias(), binding.context(), binding.field()];
    let scope = [binding.position_bytes(), binding.record_bytes()];
    let scoped = is_scoped(version);
    let mut len = 1 + KEY_ID_LEN;
    for name in names {
        if u16::try_from(name.len()).is_err() {
            return Err(name_too_long(binding));
        }
        len += 2 + name.len();
    }
    if scoped {
        for part in scope {
            if part.len() > MAX_SCOPE_LEN {
                return Err(name_too_long(binding));
            }
            len += 4 + part.len();
        }
    }
    // Lengths are checked above, so the casts below do not truncate.
    let write = |out: &mut [u8]| {
        let mut rest = out;
        put(&mut rest, &[version]);
        put(&mut rest, key_id.as_bytes());
        for name in names {
            put(&mut rest, &(name.len() as u16).to_be_bytes());
            put(&mut rest, name.as_bytes());
        }
        if scoped {
            for part in scope {
                put(&mut rest, &(part.len() as u32).to_be_bytes());
                put(&mut rest, part);
            }
        }
    };
    if len <= AAD_INLINE {
        let mut buf = [0; AAD_INLINE];
        write(&mut buf[..len]);
        f(&buf[..len])
    } else {
        let mut spilled = vec![0; len];
        write(&mut spilled);
        f(&spilled)
    }
}

/// Copies `bytes` to the front of `rest` and moves `rest` past them; the
/// caller sized the buffer, so a short one is a bug caught by the slice
/// bounds check rather than a silent truncation.
fn put(rest: &mut &mut [u8], bytes: &[u8]) {
    let (head, tail) = std::mem::take(rest).split_at_mut(bytes.len());
    head.copy_from_slice(bytes);
    *rest = tail;
}

/// Seals the plaintext that `write` produces under `key`.
///
/// The plaintext is written into this thread's scratch buffer (reused, so
/// no allocation once warm), sealed by [`seal_bytes`], and wiped from the
/// scratch buffer.
pub(crate) fn seal(
    key: &Key,
    binding: &Binding<'_>,
    nonce: Nonce,
    encoding: Encoding,
    write: impl FnOnce(&mut WipingBuf) -> Result<(), Error>,
) -> Result<EnvelopeBytes, Error> {
    with_scratch(|scratch| {
        write(scratch)?;
        seal_bytes(key, binding, nonce, encoding, scratch.as_slice())
    })
}

/// Seals `plaintext`, already encoded as `encoding` says, under `key`:
/// encrypted out of place into an envelope allocated once at its exact
/// size.
pub(crate) fn seal_bytes(
    key: &Key,
    binding: &Binding<'_>,
    nonce: Nonce,
    encoding: Encoding,
    plaintext: &[u8],
) -> Result<EnvelopeBytes, Error> {
    // A scoped binding seals version 2 or 4; deterministic envelopes, which
    // must match across records, are sealed unscoped by the caller.
    let version = version(encoding, binding.is_scoped());
    if let Err(detail) = check_plaintext(plaintext.len()) {
        return Err(Error::new(ErrorKind::Serialize).detail(detail).at(binding));
    }
    let len = HEADER_LEN + plaintext.len() + TAG_LEN;
    with_aad(version, key.id(), binding, |aad| {
        let nonce = match nonce {
            Nonce::Random => cipher::random_nonce(),
            Nonce::Deterministic => key.deterministic_nonce(aad, plaintext).ok_or_else(|| {
                Error::new(ErrorKind::InvalidKey)
                    .detail("HMAC refused the nonce key")
                    .at(binding)
            })?,
        };
        let mut envelope = EnvelopeBytes::zeroed(len);
        let (header, body) = envelope.as_mut_slice().split_at_mut(HEADER_LEN);
        let (ciphertext, tag_slot) = body.split_at_mut(plaintext.len());
        header[0] = version;
        header[1..1 + KEY_ID_LEN].copy_from_slice(key.id().as_bytes());
        header[1 + KEY_ID_LEN..].copy_from_slice(&nonce);
        let tag = key
            .cipher()
            .seal(&nonce, aad, plaintext, ciphertext)
            .ok_or_else(|| {
                Error::new(ErrorKind::Serialize)
                    .detail("value too large")
                    .at(binding)
            })?;
        tag_slot.copy_from_slice(&tag);
        Ok(envelope)
    })
}

/// Authenticates and decrypts an envelope's parts with `key` into this
/// thread's scratch buffer, hands the plaintext to `read`, and wipes it.
pub(crate) fn open<T>(
    key: &Key,
    parts: &Parts<'_>,
    binding: &Binding<'_>,
    read: impl FnOnce(&[u8]) -> Result<T, Error>,
) -> Result<T, Error> {
    with_scratch(|scratch| {
        open_into(key, parts, binding, scratch.zeroed(parts.ciphertext.len()))?;
        read(scratch.as_slice())
    })
}

/// Authenticates and decrypts an envelope's parts with `key` into `out`,
/// which must be as long as the ciphertext. On failure `out` is wiped: it
/// may hold the unauthenticated plaintext.
pub(crate) fn open_into(
    key: &Key,
    parts: &Parts<'_>,
    binding: &Binding<'_>,
    out: &mut [u8],
) -> Result<(), Error> {
    with_aad(parts.version, parts.key_id, binding, |aad| {
        key.cipher()
            .open(parts.nonce, aad, parts.ciphertext, out, parts.tag)
            .map_err(|_| {
                zeroize::Zeroize::zeroize(out);
                authentication_failed(binding)
            })
    })
}

/// Says what else the envelope is bound to, when the type declares it, so
/// a moved envelope is recognisable as one (never the bound values).
fn authentication_failed(binding: &Binding<'_>) -> Error {
    let error = Error::new(ErrorKind::AuthenticationFailed);
    let scope = match (
        binding.record_bytes().is_empty(),
        binding.position_bytes().is_empty(),
    ) {
        (true, true) => None,
        (false, true) => Some("bound to its record: moved from another record?"),
        (true, false) => Some("bound to its position: moved from another place in the value?"),
        (false, false) => {
            Some("bound to its record and position: moved from another record or place?")
        }
    };
    match scope {
        Some(scope) => error.detail(scope).at(binding),
        None => error.at(binding),
    }
}

fn name_too_long(binding: &Binding<'_>) -> Error {
    Error::new(ErrorKind::Serialize)
        .detail(format!(
            "alias, context or field name longer than 65535 bytes, or a record binding or \
             position longer than {MAX_SCOPE_LEN} bytes (FORMAT.md section 4.1)"
        ))
        .at(binding)
}

/// Envelopes up to this size are stored inline, without a heap allocation:
/// a field whose JSON is up to 79 bytes (most of them).
const INLINE: usize = 112;

/// The bytes of one envelope: inline when small, else on the heap.
#[derive(Clone)]
pub(crate) enum EnvelopeBytes {
    Inline { len: u8, buf: [u8; INLINE] },
    Heap(Vec<u8>),
}

impl EnvelopeBytes {
    /// `len` zero bytes.
    fn zeroed(len: usize) -> Self {
        match u8::try_from(len) {
            Ok(small) if len <= INLINE => EnvelopeBytes::Inline {
                len: small,
                buf: [0; INLINE],
            },
            _ => EnvelopeBytes::Heap(vec![0; len]),
        }
    }

    pub(crate) fn from_vec(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE {
            Self::from_slice(&bytes)
        } else {
            EnvelopeBytes::Heap(bytes)
        }
    }

    pub(crate) fn from_slice(bytes: &[u8]) -> Self {
        if bytes.len() > INLINE {
            // One pass over a large envelope, not zeroing then copying.
            return EnvelopeBytes::Heap(bytes.to_vec());
        }
        let mut envelope = Self::zeroed(bytes.len());
        envelope.as_mut_slice().copy_from_slice(bytes);
        envelope
    }

    /// Decodes the text form straight into the envelope's storage. Rejects
    /// padding and non-canonical trailing bits, so every text has exactly
    /// one meaning (section 6).
    pub(crate) fn from_text(text: &str) -> Option<Self> {
        let len = match text.len() % 4 {
            1 => return None,
            rem => text.len() / 4 * 3 + [0, 0, 1, 2][rem],
        };
        let mut envelope = Self::zeroed(len);
        let written = URL_SAFE_NO_PAD
            .decode_slice(text, envelope.as_mut_slice())
            .ok()?;
        (written == len).then_some(envelope)
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            EnvelopeBytes::Inline { len, buf } => &buf[..usize::from(*len)],
            EnvelopeBytes::Heap(bytes) => bytes,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u8] {
        match self {
            EnvelopeBytes::Inline { len, buf } => &mut buf[..usize::from(*len)],
            EnvelopeBytes::Heap(bytes) => bytes,
        }
    }
}

/// The text form of an envelope, as used in JSON and other text formats.
pub(crate) fn to_text(envelope: &[u8]) -> impl std::fmt::Display + '_ {
    base64::display::Base64Display::new(envelope, &URL_SAFE_NO_PAD)
}
