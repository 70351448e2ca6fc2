//! Audit events: with the `tracing` feature, every seal, open and rotation
//! emits an event on the `encrypted_fields::audit` target: `debug` when it
//! succeeds, `warn` when it fails. Fields: `op`, `alias`, `key_id`,
//! `context`, `field`, `outcome` and, on failure, `error`. Never plaintext,
//! key bytes or ciphertext. With the `metrics` feature the same operations
//! are counted ([`crate::metrics`]). Without either this compiles to nothing.

use crate::binding::Binding;
use crate::error::Error;
use crate::key::KeyId;

/// What was done to an envelope.
#[derive(Clone, Copy)]
pub(crate) enum Op {
    Encrypt,
    Decrypt,
    Rotate,
    Lookup,
}

impl Op {
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    const fn name(self) -> &'static str {
        match self {
            Op::Encrypt => "encrypt",
            Op::Decrypt => "decrypt",
            Op::Rotate => "rotate",
            Op::Lookup => "lookup",
        }
    }
}

/// Records one operation's outcome. `key_id` is only called when an event
/// is emitted or counted, so a caller that has to re-read it from the
/// envelope pays nothing when the features are off.
#[inline]
pub(crate) fn record<T>(
    op: Op,
    binding: &Binding<'_>,
    key_id: impl FnOnce() -> Option<KeyId>,
    result: &Result<T, Error>,
) {
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    {
        let key_id = key_id();
        #[cfg(feature = "tracing")]
        emit(op, binding, key_id, result.as_ref().err());
        #[cfg(feature = "metrics")]
        crate::metrics::count(op.name(), binding, key_id, outcome(op, result));
    }
    #[cfg(not(any(feature = "tracing", feature = "metrics")))]
    let _ = (op, binding, key_id, result);
}

/// What the metrics call the outcome of `op`.
#[cfg(feature = "metrics")]
fn outcome<T>(op: Op, result: &Result<T, Error>) -> crate::metrics::Outcome {
    use crate::metrics::Outcome;
    match (op, result) {
        (_, Err(error)) => Outcome::Failed(error.kind()),
        (Op::Encrypt | Op::Lookup, Ok(_)) => Outcome::Sealed,
        (Op::Decrypt, Ok(_)) => Outcome::Opened,
        (Op::Rotate, Ok(_)) => Outcome::Rotated,
    }
}

/// Records a field left sealed by partial decryption (no key for its alias).
#[inline]
pub(crate) fn inaccessible(binding: &Binding<'_>, key_id: Option<KeyId>) {
    #[cfg(feature = "tracing")]
    event!(
        DEBUG,
        "decrypt",
        binding,
        OptionalId(key_id),
        outcome = "inaccessible"
    );
    #[cfg(feature = "metrics")]
    crate::metrics::count(
        Op::Decrypt.name(),
        binding,
        key_id,
        crate::metrics::Outcome::LeftSealed,
    );
    #[cfg(not(any(feature = "tracing", feature = "metrics")))]
    let _ = (binding, key_id);
}

/// One audit event: the fields every event carries, then `extra`.
#[cfg(feature = "tracing")]
macro_rules! event {
    ($level:ident, $op:expr, $binding:expr, $key_id:expr, $($extra:tt)*) => {
        tracing::event!(
            target: "encrypted_fields::audit",
            tracing::Level::$level,
            op = $op,
            alias = $binding.alias(),
            // Formatted only if a subscriber records the event: no
            // allocation on the hot path when nobody listens.
            key_id = %$key_id,
            context = $binding.context(),
            field = $binding.field(),
            $($extra)*
        )
    };
}

#[cfg(feature = "tracing")]
use event;

/// A key id, or nothing, as text.
#[cfg(feature = "tracing")]
struct OptionalId(Option<KeyId>);

#[cfg(feature = "tracing")]
impl std::fmt::Display for OptionalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(id) => id.fmt(f),
            None => Ok(()),
        }
    }
}

#[cfg(feature = "tracing")]
fn emit(op: Op, binding: &Binding<'_>, key_id: Option<KeyId>, error: Option<&Error>) {
    let op = op.name();
    let key_id = OptionalId(key_id);
    match error {
        None => event!(DEBUG, op, binding, key_id, outcome = "ok"),
        Some(error) => event!(WARN, op, binding, key_id, outcome = "error", error = ?error.kind()),
    }
}
