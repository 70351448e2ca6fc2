//! The derive input, parsed into the shapes the later stages need.

use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type};

use crate::attr;
use crate::ctxt::Ctxt;

/// A struct with named fields.
pub(crate) struct Container<'a> {
    pub(crate) input: &'a DeriveInput,
    pub(crate) attrs: attr::Container,
    pub(crate) fields: Vec<Field<'a>>,
}

/// One named field.
pub(crate) struct Field<'a> {
    pub(crate) original: &'a syn::Field,
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: attr::Field,
    /// `T` when the type is written `Option<T>`: `None` then stays `null`.
    pub(crate) option_inner: Option<&'a Type>,
}

impl<'a> Container<'a> {
    /// Parses the input; `None` (with an error recorded) for anything but a
    /// struct with named fields.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let attrs = attr::Container::from_ast(cx, &input.attrs);
        let fields = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => &named.named,
                Fields::Unnamed(unnamed) => {
                    cx.error_spanned_by(
                        unnamed,
                        "`#[derive(Encrypt)]` needs named fields; tuple structs are not supported yet: write `struct Name { field: Type }`",
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        &input.ident,
                        "`#[derive(Encrypt)]` needs named fields; a unit struct has nothing to encrypt",
                    );
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(
                    data.enum_token,
                    "`#[derive(Encrypt)]` supports structs with named fields; enums are not supported yet",
                );
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`#[derive(Encrypt)]` supports structs with named fields, not unions",
                );
                return None;
            }
        };
        let fields = fields
            .iter()
            .filter_map(|field| {
                Some(Field {
                    original: field,
                    ident: field.ident.as_ref()?,
                    attrs: attr::Field::from_ast(cx, &field.attrs),
                    option_inner: option_inner(&field.ty),
                })
            })
            .collect();
        Some(Container {
            input,
            attrs,
            fields,
        })
    }

    /// The context bound into the AAD: `#[encrypt(context)]` or the
    /// struct's name without `r#`.
    pub(crate) fn context(&self) -> String {
        match &self.attrs.context {
            Some(context) => context.value(),
            None => self.input.ident.unraw().to_string(),
        }
    }
}

impl Field<'_> {
    /// The name serde writes for this field: its `rename`, else the
    /// container's `rename_all` applied, else the name without `r#`.
    pub(crate) fn wire_name(&self, container: &attr::Container) -> String {
        let name = self.ident.unraw().to_string();
        match (&self.attrs.rename, container.rename_all) {
            (Some(rename), _) => rename.clone(),
            (None, Some(rule)) => rule.apply_to_field(&name),
            (None, None) => name,
        }
    }

    /// The alias of an encrypted field.
    pub(crate) fn alias(&self) -> Option<String> {
        self.attrs.encrypt.as_ref()?.key.as_ref().map(|k| k.value())
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
