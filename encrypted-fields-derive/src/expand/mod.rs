//! Code generation. Runs only on input that passed `valid`; every call it
//! emits goes through `::encrypted_fields::__private` or the public traits.
//!
//! Every operation is one `match self` whose arms bind each field to
//! `__f0`, `__f1`, ... and rebuild the target type field by field, so
//! structs, tuple structs and every kind of enum variant share one code path.

mod convert;
mod extras;
mod rotate;
mod schema;
mod types;

pub(crate) use types::{derives_diesel, from_row};

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use crate::ast::{Body, Container, Field};

pub(crate) fn expand(container: &Container<'_>) -> TokenStream {
    let names = Names::new(&container.input.ident);
    let bounds = types::impl_bounds(container);
    let items = [
        nested_assertions(container),
        types::define(container, &names.companion, Generated::Companion),
        types::define(container, &names.partial, Generated::Partial),
        convert::encrypt_impl(container, &names, &bounds, Op::Encrypt),
        convert::decrypt_impl(container, &names, &bounds),
        convert::encrypt_impl(container, &names, &bounds, Op::Reseal),
        extras::lookup_impl(container, &names, &bounds),
        extras::debug_impls(container),
        extras::proto_debug_impl(container, &names),
        schema::utoipa_impls(container, &names, &bounds),
    ];
    quote!(#(#items)*)
}

/// For each nested field of a concrete type: an assertion at the field
/// that its type derives `Encrypt`. It is the first error when it does not;
/// the items below carry the same bound (`bound::with_predicates_on`), so
/// the rest is a couple more errors, not one per use.
fn nested_assertions(container: &Container<'_>) -> TokenStream {
    let generic = container.input.generics.type_params().next().is_some();
    if generic {
        return TokenStream::new();
    }
    let checks = crate::bound::nested_types(container).into_iter().map(|ty| {
        quote_spanned! {ty.span()=>
            const _: ::core::marker::PhantomData<<#ty as ::encrypted_fields::Encrypt>::Encrypted> =
                ::core::marker::PhantomData;
        }
    });
    quote!(#(#checks)*)
}

/// The generated types' names: `Encrypted` and `Partial` + the type's name.
pub(crate) struct Names {
    pub(crate) companion: Ident,
    pub(crate) partial: Ident,
}

impl Names {
    pub(crate) fn new(ident: &Ident) -> Self {
        Names {
            companion: format_ident!("Encrypted{}", ident.unraw(), span = ident.span()),
            partial: format_ident!("Partial{}", ident.unraw(), span = ident.span()),
        }
    }
}

/// The companion's field holding a record seal (serialized under the
/// seal's member name).
pub(crate) const SEAL_FIELD: &str = "__encrypted_fields_seal";
/// The partial type's field holding a sealed record as it was received, so
/// a service that cannot make the seal forwards it byte for byte.
pub(crate) const RECEIVED_FIELD: &str = "__encrypted_fields_received";

#[derive(Clone, Copy, PartialEq)]
enum Generated {
    Companion,
    Partial,
}

/// What a conversion builds from what.
#[derive(Clone, Copy)]
enum Op {
    /// plain -> companion
    Encrypt,
    /// companion -> plain
    Decrypt,
    /// companion -> partial
    Partial,
    /// partial -> companion
    Reseal,
}

/// `match self` arms: each binds every field of the struct or variant to
/// `__f<i>` and evaluates `body(name, fields)`, where `name` is the
/// struct's or variant's identifier.
pub(crate) fn arms(
    container: &Container<'_>,
    body: impl Fn(&Ident, &[(&Field<'_>, Ident)]) -> TokenStream,
) -> TokenStream {
    let arm = |path: TokenStream, name: &Ident, fields: &[Field<'_>], attrs: &[syn::Attribute]| {
        // Each binding carries its field type's span, so a missing bound on
        // the type is reported at the field, not at the derive.
        let bound: Vec<(&Field<'_>, Ident)> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f, format_ident!("__f{}", i, span = f.ty().span())))
            .collect();
        let pattern = pattern(&path, &bound);
        let body = body(name, &bound);
        quote!(#(#attrs)* #pattern => #body,)
    };
    match &container.body {
        Body::Struct(_, fields) => arm(quote!(Self), &container.input.ident, fields, &[]),
        Body::Enum(variants) => variants
            .iter()
            .map(|v| {
                let ident = v.ident;
                let cfgs: Vec<syn::Attribute> = v
                    .attrs
                    .passthrough
                    .iter()
                    .filter(|a| a.path().is_ident("cfg"))
                    .cloned()
                    .collect();
                arm(quote!(Self::#ident), ident, &v.fields, &cfgs)
            })
            .collect(),
    }
}

/// `Path { a: __f0, .. }`, `Path(__f0, ..)` or `Path`.
fn pattern(path: &TokenStream, bound: &[(&Field<'_>, Ident)]) -> TokenStream {
    match bound.first().map(|(f, _)| f.original.ident.is_some()) {
        None => quote!(#path),
        Some(true) => {
            let fields = bound.iter().map(|(f, var)| {
                let cfgs = f
                    .attrs
                    .passthrough
                    .iter()
                    .filter(|a| a.path().is_ident("cfg"));
                let member = &f.member;
                quote!(#(#cfgs)* #member: #var)
            });
            // `..`: the generated types may hold a record seal besides.
            quote!(#path { #(#fields,)* .. })
        }
        Some(false) => {
            let vars = bound.iter().map(|(_, var)| var);
            quote!(#path(#(#vars,)*))
        }
    }
}

/// The `Binding` an encrypted field's envelope is bound to.
pub(crate) fn binding(container: &Container<'_>, field: &Field<'_>) -> TokenStream {
    let alias = field.mode().alias().unwrap_or_default();
    let context = container.context();
    let name = &field.aad_name;
    quote!(::encrypted_fields::__private::Binding::new(#alias, #context, #name))
}

pub(crate) fn encoding(bytes: bool) -> TokenStream {
    if bytes {
        quote!(::encrypted_fields::Encoding::Bytes)
    } else {
        quote!(::encrypted_fields::Encoding::Json)
    }
}

pub(crate) fn nonce(deterministic: bool) -> TokenStream {
    if deterministic {
        quote!(::encrypted_fields::Nonce::Deterministic)
    } else {
        quote!(::encrypted_fields::Nonce::Random)
    }
}
