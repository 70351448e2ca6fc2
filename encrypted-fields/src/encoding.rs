//! [`Encoding`]: how a field's value becomes the bytes that are encrypted.
//! A leaf module, beside [`Nonce`](crate::Nonce).

/// How a field's value is written as the plaintext of its envelope
/// (FORMAT.md section 5). The envelope's version byte records it, so a
/// reader never needs to be told: every field opens both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// The value's JSON text (format versions 1 and 2). The default.
    #[default]
    Json,
    /// The value's bytes as they are, for a value serde writes as a byte
    /// string (`serde_bytes::ByteBuf`, `bytes::Bytes`) or a sequence of
    /// `u8` (`Vec<u8>`, `[u8; N]`): format versions 3 and 4. No JSON text
    /// and no base64 inside the envelope, so a large blob costs little more
    /// than the cipher. Readers built before this encoding refuse such
    /// envelopes (*unsupported version*): upgrade readers first.
    Bytes,
}
