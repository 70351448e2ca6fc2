//! The derive input, parsed into the shapes the later stages need.

use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, LitStr, Member, PathArguments, Type};

use crate::attr;
use crate::case::RenameRule;
use crate::ctxt::Ctxt;

/// A struct with fields, or an enum.
pub(crate) struct Container<'a> {
    pub(crate) input: &'a DeriveInput,
    pub(crate) attrs: attr::Container,
    pub(crate) body: Body<'a>,
}

pub(crate) enum Body<'a> {
    Struct(Shape, Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

/// How fields are written.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Shape {
    Named,
    Tuple,
    Unit,
}

pub(crate) struct Variant<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::Variant,
    pub(crate) shape: Shape,
    pub(crate) fields: Vec<Field<'a>>,
}

/// One field of the struct or of a variant.
pub(crate) struct Field<'a> {
    pub(crate) original: &'a syn::Field,
    /// The field's name, or its index in a tuple.
    pub(crate) member: Member,
    pub(crate) attrs: attr::Field,
    /// `T` when the type is written `Option<T>`: `None` then stays `null`.
    pub(crate) option_inner: Option<&'a Type>,
    /// The name bound into the AAD: the serialized field name, prefixed
    /// with the serialized variant name and `.` inside an enum.
    pub(crate) aad_name: String,
    /// A Rust-identifier form of the same, for generated method names.
    pub(crate) method_suffix: String,
    /// What the derive does with the field, decided once while parsing.
    pub(crate) mode: Mode,
    /// `#[encrypt(bind)]`: a plain field that identifies the record.
    pub(crate) bound: bool,
}

/// The JSON member that holds a record seal unless `seal_member` says.
pub(crate) const DEFAULT_SEAL_MEMBER: &str = "_seal";

/// `#[encrypt(seal = "...")]` (a MAC) or `#[encrypt(sign = "...")]` (an
/// Ed25519 signature) over the whole record.
pub(crate) struct RecordSeal {
    pub(crate) kind: SealKind,
    pub(crate) alias: String,
    /// The JSON member that holds it.
    pub(crate) member: String,
}

#[derive(Clone, Copy, PartialEq)]
pub(crate) enum SealKind {
    Mac,
    Signature,
}

/// What happens to a field.
pub(crate) enum Mode {
    /// Copied as it is (a field that failed validation is one too; the
    /// derive then emits only its errors).
    Plain,
    /// `#[encrypt(key = "...")]`: serialized and sealed; `bytes` seals a
    /// byte string's bytes instead of its JSON text.
    Sealed {
        alias: String,
        deterministic: bool,
        bytes: bool,
    },
    /// `#[encrypt(nested)]`: the field's own type encrypts its fields;
    /// `indexed` (`bind_index`) binds a list's elements to their indexes.
    Nested { indexed: bool },
    /// `#[encrypt(nested, key = "...")]`: nested, then sealed whole.
    NestedSealed { alias: String, indexed: bool },
}

impl Mode {
    /// The mode `#[encrypt(...)]` asks for.
    fn of(encrypt: Option<&attr::Encrypt>) -> Self {
        let Some(encrypt) = encrypt else {
            return Mode::Plain;
        };
        let alias = encrypt.key.as_ref().map(|k| k.value());
        let indexed = encrypt.bind_index.is_some();
        match (encrypt.nested.is_some(), alias) {
            (true, Some(alias)) => Mode::NestedSealed { alias, indexed },
            (true, None) => Mode::Nested { indexed },
            (false, Some(alias)) => Mode::Sealed {
                alias,
                deterministic: encrypt.deterministic.is_some(),
                bytes: encrypt.bytes.is_some(),
            },
            // `bind` alone, or an attribute `valid` reports as incomplete.
            (false, None) => Mode::Plain,
        }
    }

    /// The alias an envelope of this field is sealed under, if any.
    pub(crate) fn alias(&self) -> Option<&str> {
        match self {
            Mode::Sealed { alias, .. } | Mode::NestedSealed { alias, .. } => Some(alias),
            Mode::Plain | Mode::Nested { .. } => None,
        }
    }

    /// Whether the field holds nested envelopes (a child type's own).
    pub(crate) fn is_nested(&self) -> bool {
        matches!(self, Mode::Nested { .. } | Mode::NestedSealed { .. })
    }
}

impl<'a> Container<'a> {
    /// Parses the input; `None` (with an error recorded) for unions and
    /// unit structs.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        let body = match &input.data {
            Data::Struct(data) => {
                let shape = shape(&data.fields);
                if shape == Shape::Unit {
                    cx.error_spanned_by(
                        &input.ident,
                        "`#[derive(Encrypt)]` needs fields; a unit struct has nothing to encrypt",
                    );
                    return None;
                }
                let fields = data
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, field)| {
                        let aad_name =
                            |f: &attr::Field| wire_field_name(field, i, attrs.rename_all, f);
                        Field::from_ast(cx, field, i, aad_name, None)
                    })
                    .collect();
                Body::Struct(shape, fields)
            }
            Data::Enum(data) => Body::Enum(
                data.variants
                    .iter()
                    .map(|variant| {
                        let variant_attrs = attr::Variant::from_ast(cx, &variant.attrs);
                        let variant_name = variant_attrs.rename.clone().unwrap_or_else(|| {
                            let name = variant.ident.unraw().to_string();
                            attrs
                                .rename_all
                                .map_or(name.clone(), |rule| rule.apply_to_variant(&name))
                        });
                        let field_rule = variant_attrs.rename_all.or(attrs.rename_all_fields);
                        let snake =
                            RenameRule::Snake.apply_to_variant(&variant.ident.unraw().to_string());
                        let fields = variant
                            .fields
                            .iter()
                            .enumerate()
                            .map(|(i, field)| {
                                Field::from_ast(
                                    cx,
                                    field,
                                    i,
                                    |f| {
                                        format!(
                                            "{variant_name}.{}",
                                            wire_field_name(field, i, field_rule, f)
                                        )
                                    },
                                    Some(&snake),
                                )
                            })
                            .collect();
                        Variant {
                            ident: &variant.ident,
                            attrs: variant_attrs,
                            shape: shape(&variant.fields),
                            fields,
                        }
                    })
                    .collect(),
            ),
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`#[derive(Encrypt)]` supports structs and enums, not unions",
                );
                return None;
            }
        };
        Some(Container { input, attrs, body })
    }

    /// The context bound into the AAD: `#[encrypt(context)]` or the
    /// type's name without `r#`.
    pub(crate) fn context(&self) -> String {
        match &self.attrs.context {
            Some(context) => context.value(),
            None => self.input.ident.unraw().to_string(),
        }
    }

    /// The record seal `#[encrypt(seal = "...")]` or `#[encrypt(sign = "...")]`
    /// asks for, if any.
    pub(crate) fn record_seal(&self) -> Option<RecordSeal> {
        let (kind, alias) = match (&self.attrs.seal, &self.attrs.sign) {
            (Some(alias), _) => (SealKind::Mac, alias),
            (None, Some(alias)) => (SealKind::Signature, alias),
            (None, None) => return None,
        };
        let member = self
            .attrs
            .seal_member
            .as_ref()
            .map_or_else(|| DEFAULT_SEAL_MEMBER.to_owned(), LitStr::value);
        Some(RecordSeal {
            kind,
            alias: alias.value(),
            member,
        })
    }

    /// Whether a value of this type starts or extends a scope: it has
    /// bound fields, starts position binding or accepts unbound envelopes.
    pub(crate) fn enters_scope(&self) -> bool {
        self.fields().any(|f| f.bound)
            || self.attrs.bind_positions.is_some()
            || self.attrs.legacy_unbound.is_some()
    }

    /// Every field, of the struct or of every variant.
    pub(crate) fn fields(&self) -> Box<dyn Iterator<Item = &Field<'a>> + '_> {
        match &self.body {
            Body::Struct(_, fields) => Box::new(fields.iter()),
            Body::Enum(variants) => Box::new(variants.iter().flat_map(|v| v.fields.iter())),
        }
    }
}

impl<'a> Field<'a> {
    fn from_ast(
        cx: &Ctxt,
        original: &'a syn::Field,
        index: usize,
        aad_name: impl FnOnce(&attr::Field) -> String,
        variant_prefix: Option<&str>,
    ) -> Self {
        let attrs = attr::Field::from_ast(cx, &original.attrs);
        let member = match &original.ident {
            Some(ident) => Member::Named(ident.clone()),
            None => Member::Unnamed(index.into()),
        };
        let mut field = Field {
            original,
            member,
            aad_name: aad_name(&attrs),
            mode: Mode::of(attrs.encrypt.as_ref()),
            bound: attrs.encrypt.as_ref().is_some_and(|e| e.bind.is_some()),
            attrs,
            option_inner: option_inner(&original.ty),
            method_suffix: String::new(),
        };
        field.method_suffix = match variant_prefix {
            Some(prefix) => format!("{prefix}_{}", field.member_name()),
            None => field.member_name(),
        };
        field
    }

    /// The field's name without `r#`, or its index.
    pub(crate) fn member_name(&self) -> String {
        match &self.member {
            Member::Named(ident) => ident.unraw().to_string(),
            Member::Unnamed(index) => index.index.to_string(),
        }
    }

    pub(crate) fn ty(&self) -> &'a Type {
        &self.original.ty
    }

    /// What the derive does with this field.
    pub(crate) fn mode(&self) -> &Mode {
        &self.mode
    }

    /// The name of a deterministic field's lookup method: its `lookup`
    /// option, else `lookup_` + the field's (variant's and) name.
    pub(crate) fn lookup_method(&self) -> Option<String> {
        let Mode::Sealed {
            deterministic: true,
            ..
        } = self.mode()
        else {
            return None;
        };
        let custom = self.attrs.encrypt.as_ref()?.lookup.as_ref();
        Some(custom.map_or_else(|| format!("lookup_{}", self.method_suffix), |l| l.value()))
    }

    /// The type a sealed field's envelope holds: `T` for `Option<T>`.
    pub(crate) fn sealed_ty(&self) -> &'a Type {
        self.option_inner.unwrap_or(&self.original.ty)
    }
}

fn shape(fields: &Fields) -> Shape {
    match fields {
        Fields::Named(_) => Shape::Named,
        Fields::Unnamed(_) => Shape::Tuple,
        Fields::Unit => Shape::Unit,
    }
}

/// The name serde writes for a field: its `rename`, else `rule` applied,
/// else the name without `r#`; a tuple field's index.
fn wire_field_name(
    field: &syn::Field,
    index: usize,
    rule: Option<RenameRule>,
    attrs: &attr::Field,
) -> String {
    let Some(ident) = &field.ident else {
        return index.to_string();
    };
    let name = ident.unraw().to_string();
    match (&attrs.rename, rule) {
        (Some(rename), _) => rename.clone(),
        (None, Some(rule)) => rule.apply_to_field(&name),
        (None, None) => name,
    }
}

/// `T` if `ty` is written `Option<T>`, `std::option::Option<T>` or
/// `core::option::Option<T>`. Detection is by name, as serde's own is.
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let idents: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let is_option = match idents.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["Option"] => path.path.leading_colon.is_none(),
        ["std" | "core", "option", "Option"] => true,
        _ => false,
    };
    let last = path.path.segments.last().filter(|_| is_option)?;
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}
