//! [`Binding`]: where an envelope belongs. A leaf module: the error type,
//! the envelope code and the audit events all name bindings.

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
