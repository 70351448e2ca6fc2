//! [`Nonce`]: how a new envelope's nonce is chosen. A leaf module, beside
//! [`Binding`](crate::Binding).

/// How the nonce of a new envelope is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonce {
    /// Fresh from the CSPRNG: two seals of one value differ. The default.
    Random,
    /// Derived from the key, the binding and the value: the same value in
    /// the same place under the same key always gives the same envelope,
    /// so equality can be tested on ciphertext. Leaks exactly that. Never
    /// bound to a record or position (equal values must match across
    /// records): open such a field with the binding's alias, context and
    /// field alone.
    Deterministic,
}
