//! The largest envelope this process accepts, checked before any base64
//! decoding or allocation proportional to the input, so a hostile 100 MB
//! string costs a length comparison, not 100 MB of work.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The default limit: 16 MiB of envelope bytes (about 21.3 MiB of text).
pub const DEFAULT_MAX_ENVELOPE_LEN: usize = 16 * 1024 * 1024;

static MAX_ENVELOPE_LEN: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_ENVELOPE_LEN);

/// Sets the largest envelope (in bytes, before text encoding) this process
/// seals or accepts; set it once at start-up. Larger fields fail to seal,
/// and larger envelopes are rejected before they are decoded.
pub fn set_max_envelope_len(bytes: usize) {
    MAX_ENVELOPE_LEN.store(bytes, Ordering::Relaxed);
}

/// The current limit; [`DEFAULT_MAX_ENVELOPE_LEN`] unless changed.
pub fn max_envelope_len() -> usize {
    MAX_ENVELOPE_LEN.load(Ordering::Relaxed)
}

/// The one check of an envelope's length in bytes, when sealing, opening
/// and reading binary forms; the error detail if it is over the limit.
pub(crate) fn check_envelope(len: usize) -> Result<(), String> {
    let limit = max_envelope_len();
    if len > limit {
        return Err(too_large(len, limit));
    }
    Ok(())
}

/// The one check of an envelope text's length, before it is decoded.
pub(crate) fn check_text(len: usize) -> Result<(), String> {
    let limit = max_text_len();
    if len > limit {
        return Err(format!("text of {}", too_large(len, limit)));
    }
    Ok(())
}

/// The longest base64url text (no padding) of an envelope within the limit.
fn max_text_len() -> usize {
    let bytes = max_envelope_len();
    (bytes / 3)
        .saturating_mul(4)
        .saturating_add([0, 2, 3][bytes % 3])
}

/// The error detail for an input over the limit.
fn too_large(len: usize, limit: usize) -> String {
    format!("{len} bytes is over the {limit}-byte limit (see `set_max_envelope_len`)")
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[test]
    fn text_limit_is_the_encoded_length_of_the_byte_limit() {
        for bytes in [0usize, 1, 2, 3, 4, 5, 33, 1000] {
            let text = URL_SAFE_NO_PAD.encode(vec![0; bytes]).len();
            assert_eq!(bytes / 3 * 4 + [0, 2, 3][bytes % 3], text);
        }
    }

    #[test]
    fn an_unlimited_setting_does_not_overflow() {
        super::set_max_envelope_len(usize::MAX);
        assert!(super::max_text_len() > usize::MAX / 2);
        super::set_max_envelope_len(super::DEFAULT_MAX_ENVELOPE_LEN);
    }
}
