//! Envelope v1: the bytes of one sealed field, its AAD and its text form.
//! `docs/FORMAT.md` is the normative description; keep the two in step.
//!
//! ```text
//! envelope = version (1) || key id (4) || nonce (12) || ciphertext || tag (16)
//! aad      = version || key id || u16be len || alias || u16be len || context
//!            || u16be len || field
//! text     = base64url, no padding (RFC 4648 section 5)
//! ```

use std::cell::RefCell;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use zeroize::Zeroize;

use crate::cipher::{self, NONCE_LEN, TAG_LEN};
use crate::error::{Error, ErrorKind};
use crate::key::{KEY_ID_LEN, Key, KeyId};
use crate::limits;
use crate::sealed::Nonce;

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

/// Associated data fits on the stack up to this size: every real binding.
const AAD_INLINE: usize = 192;

/// The associated data that binds an envelope to its place, built on the
/// stack (no allocation) unless the names are unusually long.
pub(crate) struct Aad {
    inline: [u8; AAD_INLINE],
    len: usize,
    spill: Vec<u8>,
}

impl Aad {
    /// `None` if a name exceeds 65535 bytes and so cannot be length-prefixed.
    pub(crate) fn new(key_id: KeyId, binding: &Binding<'_>) -> Option<Self> {
        let names = [binding.alias, binding.context, binding.field];
        let total = 1 + KEY_ID_LEN + names.iter().map(|n| 2 + n.len()).sum::<usize>();
        let mut aad = Aad {
            inline: [0; AAD_INLINE],
            len: 0,
            spill: Vec::new(),
        };
        if total > AAD_INLINE {
            aad.spill.reserve_exact(total);
        }
        aad.push(&[VERSION_1]);
        aad.push(key_id.as_bytes());
        for name in names {
            let len = u16::try_from(name.len()).ok()?;
            aad.push(&len.to_be_bytes());
            aad.push(name.as_bytes());
        }
        Some(aad)
    }

    fn push(&mut self, bytes: &[u8]) {
        match self.inline.get_mut(self.len..self.len + bytes.len()) {
            Some(slot) if self.spill.capacity() == 0 => {
                slot.copy_from_slice(bytes);
                self.len += bytes.len();
            }
            _ => self.spill.extend_from_slice(bytes),
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        if self.spill.capacity() == 0 {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }
}

/// Seals the plaintext that `write` produces under `key`.
///
/// The plaintext is written into this thread's scratch buffer (reused, so
/// no allocation once warm), encrypted out of place into an envelope
/// allocated once at its exact size, and wiped from the scratch buffer.
pub(crate) fn seal(
    key: &Key,
    binding: &Binding<'_>,
    nonce: Nonce,
    write: impl FnOnce(&mut WipingBuf) -> Result<(), Error>,
) -> Result<EnvelopeBytes, Error> {
    let aad = Aad::new(key.id(), binding).ok_or_else(|| name_too_long(binding))?;
    with_scratch(|scratch| {
        write(scratch)?;
        let plaintext = scratch.as_slice();
        let len = HEADER_LEN + plaintext.len() + TAG_LEN;
        let limit = limits::max_envelope_len();
        if len > limit {
            let detail = limits::too_large(len, limit);
            return Err(Error::new(ErrorKind::Serialize).detail(detail).at(binding));
        }
        let nonce = match nonce {
            Nonce::Random => cipher::random_nonce(),
            Nonce::Deterministic => key
                .deterministic_nonce(aad.as_slice(), plaintext)
                .ok_or_else(|| {
                    Error::new(ErrorKind::InvalidKey)
                        .detail("HMAC refused the nonce key")
                        .at(binding)
                })?,
        };
        let mut envelope = EnvelopeBytes::zeroed(len);
        let (header, body) = envelope.as_mut_slice().split_at_mut(HEADER_LEN);
        let (ciphertext, tag_slot) = body.split_at_mut(plaintext.len());
        header[0] = VERSION_1;
        header[1..1 + KEY_ID_LEN].copy_from_slice(key.id().as_bytes());
        header[1 + KEY_ID_LEN..].copy_from_slice(&nonce);
        let tag = key
            .cipher()
            .seal(&nonce, aad.as_slice(), plaintext, ciphertext)
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
    let aad = Aad::new(parts.key_id, binding).ok_or_else(|| name_too_long(binding))?;
    with_scratch(|scratch| {
        scratch.0.resize(parts.ciphertext.len(), 0);
        key.cipher()
            .open(
                parts.nonce,
                aad.as_slice(),
                parts.ciphertext,
                &mut scratch.0,
                parts.tag,
            )
            .map_err(|_| Error::new(ErrorKind::AuthenticationFailed).at(binding))?;
        read(scratch.as_slice())
    })
}

fn name_too_long(binding: &Binding<'_>) -> Error {
    Error::new(ErrorKind::Serialize)
        .detail("alias, context or field name longer than 65535 bytes")
        .at(binding)
}

/// A scratch buffer this large is freed after use rather than kept.
const MAX_RETAINED_SCRATCH: usize = 4 * 1024 * 1024;

thread_local! {
    static SCRATCH: RefCell<WipingBuf> = const { RefCell::new(WipingBuf(Vec::new())) };
}

/// Runs `f` with this thread's scratch buffer, empty, and wipes what `f`
/// left in it, whether `f` returns or unwinds: a `Serialize` or
/// `Deserialize` impl that panics half way must not leave its plaintext
/// for the next seal on this thread (servers catch panics and reuse the
/// thread). A re-entrant call (a `Serialize` impl that seals) gets a fresh
/// buffer instead: no lock, no panic.
fn with_scratch<R>(f: impl FnOnce(&mut WipingBuf) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(scratch) => {
            let mut guard = WipeOnDrop(scratch);
            // Empty already (every use ends in a wipe); cleared again so
            // that no path, present or future, can prepend old bytes.
            guard.0.wipe();
            f(&mut guard.0)
        }
        Err(_) => f(&mut WipingBuf(Vec::new())),
    })
}

/// Wipes the borrowed scratch buffer when dropped, which also happens
/// while a panic unwinds through [`with_scratch`].
struct WipeOnDrop<'a>(std::cell::RefMut<'a, WipingBuf>);

impl Drop for WipeOnDrop<'_> {
    fn drop(&mut self) {
        self.0.wipe();
    }
}

/// A byte buffer that never frees unwiped plaintext: it wipes the old
/// allocation when it grows, its contents when emptied, and on drop.
pub(crate) struct WipingBuf(Vec<u8>);

impl WipingBuf {
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        let needed = self.0.len() + bytes.len();
        if needed > self.0.capacity() {
            let mut grown = Vec::with_capacity(needed.max(2 * self.0.capacity()).max(64));
            grown.extend_from_slice(&self.0);
            let mut old = std::mem::replace(&mut self.0, grown);
            old.zeroize();
        }
        self.0.extend_from_slice(bytes);
    }

    fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Wipes and empties the buffer; frees it if it grew very large.
    ///
    /// A kept buffer is cleared with a plain `fill`: its memory stays
    /// reachable (the compiler cannot drop stores to it), and `fill` runs at
    /// memset speed where `zeroize`'s volatile byte writes cost a cycle per
    /// byte. A buffer being freed is wiped with `zeroize`.
    fn wipe(&mut self) {
        self.0.fill(0);
        std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
        self.0.clear();
        if self.0.capacity() > MAX_RETAINED_SCRATCH {
            std::mem::take(&mut self.0).zeroize();
        }
    }
}

impl std::io::Write for WipingBuf {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.extend(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for WipingBuf {
    fn drop(&mut self) {
        self.0.zeroize();
    }
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

/// Writes `value`'s JSON plaintext (section 5) to `buf`.
///
/// A value that serializes as one string with nothing to escape (most text
/// fields) is written as quote, bytes, quote, after a branch-free check
/// the compiler vectorizes: several times faster than serde_json's
/// byte-at-a-time escaper, and byte for byte the same output. Anything
/// else goes through serde_json.
pub(crate) fn write_json<T: serde::Serialize + ?Sized>(
    buf: &mut WipingBuf,
    value: &T,
) -> Result<(), serde_json::Error> {
    if value.serialize(PlainString(buf)).is_ok() {
        return Ok(());
    }
    serde_json::to_writer(buf, value)
}

/// Reads a JSON plaintext (section 5) into `T`.
///
/// The mirror of [`write_json`]: a plaintext that is a JSON string with no
/// escape sequence is handed to `T` as a borrowed `&str`, skipping
/// serde_json's byte-at-a-time string parser. If `T` does not take a
/// string that way, serde_json reads the plaintext as always, so results
/// and errors are the same either way.
///
/// A string with escape sequences is unescaped here too, into a wiping
/// buffer: serde_json would unescape it into a scratch buffer of its own
/// and free that unwiped, leaving the plaintext in freed memory.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    plaintext: &[u8],
) -> Result<T, serde_json::Error> {
    if let Some(inner) = plaintext
        .strip_prefix(b"\"")
        .and_then(|rest| rest.strip_suffix(b"\""))
    {
        if !has_special_bytes(inner) {
            if let Some(value) = std::str::from_utf8(inner)
                .ok()
                .and_then(|text| T::deserialize(PlainStr(text)).ok())
            {
                return Ok(value);
            }
        } else {
            let mut unescaped = WipingBuf(Vec::new());
            if let Some(value) = unescape(inner, &mut unescaped)
                .and_then(|()| std::str::from_utf8(unescaped.as_slice()).ok())
                .and_then(|text| T::deserialize(PlainStr(text)).ok())
            {
                return Ok(value);
            }
        }
    }
    serde_json::from_slice(plaintext)
}

/// Decodes the inside of a JSON string (RFC 8259 section 7) into `out`;
/// `None` for anything serde_json would reject (a raw control character or
/// `"`, an unknown escape, a lone surrogate), which then goes to serde_json
/// for its exact error. UTF-8 is checked by the caller.
fn unescape(inner: &[u8], out: &mut WipingBuf) -> Option<()> {
    let mut rest = inner;
    while let Some(at) = rest
        .iter()
        .position(|&b| b == b'\\' || b == b'"' || b < 0x20)
    {
        out.extend(&rest[..at]);
        let (&special, after) = rest[at..].split_first()?;
        if special != b'\\' {
            return None;
        }
        let (&escape, after) = after.split_first()?;
        rest = after;
        let byte = match escape {
            b'"' => b'"',
            b'\\' => b'\\',
            b'/' => b'/',
            b'b' => 0x08,
            b'f' => 0x0c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'u' => {
                let (unit, after) = hex4(rest)?;
                rest = after;
                let scalar = match unit {
                    0xd800..=0xdbff => {
                        let (low, after) = rest.strip_prefix(b"\\u").and_then(hex4)?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return None;
                        }
                        rest = after;
                        0x10000 + ((u32::from(unit) - 0xd800) << 10) + (u32::from(low) - 0xdc00)
                    }
                    0xdc00..=0xdfff => return None,
                    unit => u32::from(unit),
                };
                let mut utf8 = [0; 4];
                out.extend(char::from_u32(scalar)?.encode_utf8(&mut utf8).as_bytes());
                continue;
            }
            _ => return None,
        };
        out.extend(&[byte]);
    }
    out.extend(rest);
    Some(())
}

/// Four hex digits, as one UTF-16 code unit, and what follows them.
fn hex4(bytes: &[u8]) -> Option<(u16, &[u8])> {
    let (digits, rest) = bytes.split_first_chunk::<4>()?;
    let text = std::str::from_utf8(digits).ok()?;
    if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some((u16::from_str_radix(text, 16).ok()?, rest))
}

/// Whether any byte is one JSON strings escape: control characters, `"`
/// and `\`. Checked in 64-byte chunks without early exit inside a chunk,
/// so each chunk is one vector loop.
fn has_special_bytes(bytes: &[u8]) -> bool {
    bytes.chunks(64).any(|chunk| {
        chunk.iter().fold(false, |acc, &b| {
            acc | (b < 0x20) | (b == b'"') | (b == b'\\')
        })
    })
}

/// A deserializer that offers one string, borrowed; anything else a type
/// asks for is `NotPlain`.
struct PlainStr<'de>(&'de str);

impl serde::de::Error for NotPlain {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        NotPlain
    }
}

impl<'de> serde::Deserializer<'de> for PlainStr<'de> {
    type Error = NotPlain;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, NotPlain> {
        visitor.visit_borrowed_str(self.0)
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, NotPlain> {
        // As serde_json: a string where an option belongs is `Some`.
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, NotPlain> {
        // As serde_json: a newtype struct is its content.
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// A serializer that accepts only a string needing no escapes, and writes
/// it as JSON; everything else is `NotPlain` (and nothing is written).
struct PlainString<'a>(&'a mut WipingBuf);

/// Why `PlainString` declined: the value is not a plain string.
#[derive(Debug)]
struct NotPlain;

impl std::fmt::Display for NotPlain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a plain string")
    }
}

impl std::error::Error for NotPlain {}

impl serde::ser::Error for NotPlain {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        NotPlain
    }
}

/// Declines every kind of value but strings.
macro_rules! decline {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<(), NotPlain> { Err(NotPlain) })*
    };
}

impl serde::Serializer for PlainString<'_> {
    type Ok = ();
    type Error = NotPlain;
    type SerializeSeq = serde::ser::Impossible<(), NotPlain>;
    type SerializeTuple = serde::ser::Impossible<(), NotPlain>;
    type SerializeTupleStruct = serde::ser::Impossible<(), NotPlain>;
    type SerializeTupleVariant = serde::ser::Impossible<(), NotPlain>;
    type SerializeMap = serde::ser::Impossible<(), NotPlain>;
    type SerializeStruct = serde::ser::Impossible<(), NotPlain>;
    type SerializeStructVariant = serde::ser::Impossible<(), NotPlain>;

    fn serialize_str(self, text: &str) -> Result<(), NotPlain> {
        if has_special_bytes(text.as_bytes()) {
            return Err(NotPlain);
        }
        self.0.extend(b"\"");
        self.0.extend(text.as_bytes());
        self.0.extend(b"\"");
        Ok(())
    }

    fn serialize_newtype_struct<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), NotPlain> {
        // serde_json writes a newtype struct as its content.
        value.serialize(self)
    }

    decline! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_f32(f32);
        serialize_f64(f64);
        serialize_char(char);
        serialize_bytes(&[u8]);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: serde::Serialize + ?Sized>(self, _: &T) -> Result<(), NotPlain> {
        Err(NotPlain)
    }

    fn serialize_newtype_variant<T: serde::Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotPlain> {
        Err(NotPlain)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, NotPlain> {
        Err(NotPlain)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotPlain> {
        Err(NotPlain)
    }
}

#[cfg(test)]
mod tests {
    use super::{WipingBuf, write_json};

    fn json<T: serde::Serialize + ?Sized>(value: &T) -> Vec<u8> {
        let mut buf = WipingBuf(Vec::new());
        write_json(&mut buf, value).unwrap();
        std::mem::take(&mut buf.0)
    }

    #[test]
    fn plaintext_reads_exactly_as_serde_json_reads_it() {
        use super::read_json;
        use serde_json::Value;
        fn same<T: serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(plaintext: &[u8]) {
            let fast = read_json::<T>(plaintext).map_err(|e| e.to_string());
            let slow = serde_json::from_slice::<T>(plaintext).map_err(|e| e.to_string());
            assert_eq!(fast, slow, "{:?}", String::from_utf8_lossy(plaintext));
        }
        let cases: &[&[u8]] = &[
            br#""ada@example.com""#,
            br#""""#,
            br#""a\nb""#,
            b"\"\xff\"",
            br#""x"#,
            b"12",
            br#""123""#,
            "\"é✓\"".as_bytes(),
            br#""\"\\\/\b\f\n\r\t""#,
            br#""\u00e9\u00E9\ud83d\ude00 \u0041""#,
            br#""\ud800""#,
            br#""\udc00x""#,
            br#""\ud800\u0041""#,
            br#""\ud800\n""#,
            br#""\u12""#,
            br#""\u12g4""#,
            br#""\x""#,
            br#""a\""#,
            br#""a\"b""#,
            b"\"a\\n\x01\"",
            b"\"a\\n\xff\"",
            br#""a"b\n""#,
            br#""\u0000""#,
        ];
        for &plaintext in cases {
            same::<String>(plaintext);
            same::<Value>(plaintext);
            same::<u64>(plaintext);
            same::<Option<String>>(plaintext);
            same::<char>(plaintext);
            same::<Vec<u8>>(plaintext);
        }
        #[derive(serde::Deserialize, PartialEq, Debug)]
        struct Newtype(String);
        #[derive(serde::Deserialize, PartialEq, Debug)]
        enum Unit {
            A,
        }
        same::<Newtype>(br#""n""#);
        same::<Unit>(br#""A""#);
        same::<Unit>(br#""B""#);
        same::<std::net::Ipv4Addr>(br#""10.0.0.1""#);
    }

    #[test]
    fn plaintext_is_exactly_what_serde_json_writes() {
        let long = "é✓ abc/DEL\u{7f}".repeat(40);
        for text in [
            "",
            "ada@example.com",
            "tab\tin",
            "quote\"",
            "back\\slash",
            "\u{1}",
            "\u{2028}",
            long.as_str(),
        ] {
            assert_eq!(json(text), serde_json::to_vec(text).unwrap(), "{text:?}");
        }
        #[derive(serde::Serialize)]
        struct Newtype(String);
        assert_eq!(
            json(&Newtype("n".into())),
            serde_json::to_vec(&Newtype("n".into())).unwrap()
        );
        let values = (1u8, Some("x"), vec![1.5f64], serde_json::json!({"a": "b"}));
        assert_eq!(json(&values), serde_json::to_vec(&values).unwrap());
    }
}
