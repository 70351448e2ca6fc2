//! [`Binding`]: where an envelope belongs. A leaf module: the error type,
//! the envelope code and the audit events all name bindings.

/// What an envelope is bound to through the AAD: the key alias, a type
/// context (the struct name unless `#[encrypt(context = "...")]` overrides
/// it) and the serialized field name; optionally also the record it belongs
/// to and its position inside the outermost value (format version 2). An
/// envelope opened under any other binding fails authentication.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Binding<'a> {
    alias: &'a str,
    context: &'a str,
    field: &'a str,
    record: &'a [u8],
    position: &'a [u8],
    accepts_unbound: bool,
}

impl<'a> Binding<'a> {
    /// Binds to `alias`, type `context` and `field`.
    pub const fn new(alias: &'a str, context: &'a str, field: &'a str) -> Self {
        Binding {
            alias,
            context,
            field,
            record: &[],
            position: &[],
            accepts_unbound: false,
        }
    }

    /// Opens version-1 envelopes (sealed before the record or position
    /// binding was declared) under this binding too, for the time it takes
    /// to re-encrypt stored data. Version 1 envelopes are not bound to a
    /// record, so while this is on they can be moved between records.
    pub fn accepting_unbound(mut self) -> Self {
        self.accepts_unbound = true;
        self
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

    /// Whether the binding names a record or a position: envelopes under it
    /// are format version 2.
    pub fn is_scoped(&self) -> bool {
        !self.record.is_empty() || !self.position.is_empty()
    }

    pub(crate) fn record_bytes(&self) -> &'a [u8] {
        self.record
    }

    pub(crate) fn position_bytes(&self) -> &'a [u8] {
        self.position
    }

    pub(crate) fn accepts_unbound(&self) -> bool {
        self.accepts_unbound
    }

    /// The same binding without record or position: what version-1
    /// envelopes and deterministic fields are bound to.
    pub(crate) fn unscoped(&self) -> Self {
        Binding::new(self.alias, self.context, self.field)
    }

    /// This binding with a record and a position, encoded (FORMAT.md
    /// section 4.1); `legacy` as [`accepting_unbound`](Self::accepting_unbound).
    pub(crate) fn with_scope(mut self, record: &'a [u8], position: &'a [u8], legacy: bool) -> Self {
        self.record = record;
        self.position = position;
        self.accepts_unbound = legacy;
        self
    }
}
