//! JSON Schema and OpenAPI for the companion of a type marked
//! `#[encrypt(schema)]` (which `valid` accepts only with the runtime
//! crate's `schemars` feature, which turns on this crate's):
//! `#[derive(JsonSchema)]` under the companion's own name, a description
//! naming each encrypted field's key alias, and, with `utoipa`, `ToSchema`
//! from the JSON Schema. Opt-in per type: a feature turned on anywhere in
//! a build would otherwise ask every type's plain fields for a schema.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::ext::IdentExt;
use syn::{Ident, WhereClause};

use super::Names;
use crate::ast::{Container, Field, Mode};
use crate::bound;

const UTOIPA: bool = cfg!(feature = "utoipa");

/// The companion's `#[derive(JsonSchema)]` and `#[schemars(...)]`.
pub(super) fn container_attrs(container: &Container<'_>, names: &Names) -> TokenStream {
    if container.attrs.schema.is_none() {
        return TokenStream::new();
    }
    let ident = container.input.ident.unraw();
    // Its own name, not the plain type's (which serde's `rename` gives
    // it): a document may describe both. Not its parameters' names, as
    // schemars would write them: those would need `T: JsonSchema`, where
    // only `T`'s companion is described.
    let name = names.companion.unraw().to_string();
    let generic = container.input.generics.type_params().next().is_some();
    let description = format!(
        "{ident} with its encrypted fields sealed: each is an encrypted-fields envelope (base64url text); the other fields are as in {ident}."
    );
    // schemars bounds type parameters; a companion's fields are
    // projections such as `<T as Encrypt>::Encrypted`, so bound those (of
    // the fields that mention a parameter and are described at all; a
    // recursive field's would be a cycle).
    let bound = generic.then(|| {
        let params: HashSet<&Ident> = container
            .input
            .generics
            .type_params()
            .map(|p| &p.ident)
            .collect();
        let skipped = |f: &Field<'_>| f.attrs.serde.iter().any(|m| m.path().is_ident("skip"));
        let predicates: Vec<String> = container
            .fields()
            .filter(|f| bound::mentions_any(f.ty(), &params) && !skipped(f))
            .filter(|f| !bound::mentions_self(f.ty(), &container.input.ident))
            .map(|f| {
                format!(
                    "{}: ::encrypted_fields::__private::schemars::JsonSchema",
                    super::types::companion_type(f)
                )
            })
            .collect();
        let predicates = predicates.join(", ");
        quote!(bound = #predicates,)
    });
    quote! {
        #[derive(::encrypted_fields::__private::schemars::JsonSchema)]
        #[schemars(
            crate = "::encrypted_fields::__private::schemars",
            rename = #name,
            description = #description,
            #bound
        )]
    }
}

/// An encrypted field's description: its key alias, after the field's own
/// documentation if it has any.
pub(super) fn field_doc(container: &Container<'_>, field: &Field<'_>) -> TokenStream {
    if container.attrs.schema.is_none() {
        return TokenStream::new();
    }
    let text = match field.mode() {
        Mode::Plain | Mode::Nested { .. } => return TokenStream::new(),
        Mode::Sealed {
            alias,
            deterministic: false,
            ..
        } => format!("Encrypted with the key alias `{alias}`: an encrypted-fields envelope."),
        Mode::Sealed {
            alias,
            deterministic: true,
            ..
        } => format!(
            "Encrypted deterministically with the key alias `{alias}` (equal values give equal envelopes under one key): an encrypted-fields envelope."
        ),
        Mode::NestedSealed { alias, .. } => format!(
            "A nested record encrypted whole with the key alias `{alias}`: an encrypted-fields envelope."
        ),
    };
    let documented = field
        .attrs
        .passthrough
        .iter()
        .any(|a| a.path().is_ident("doc"));
    let paragraph = documented.then(|| quote!(#[doc = ""]));
    quote!(#paragraph #[doc = #text])
}

/// `utoipa::PartialSchema` and `ToSchema` for the companion, from its
/// JSON Schema.
pub(super) fn utoipa_impls(
    container: &Container<'_>,
    names: &Names,
    bounds: &Option<WhereClause>,
) -> TokenStream {
    if !UTOIPA || container.attrs.schema.is_none() {
        return TokenStream::new();
    }
    let companion = &names.companion;
    let (impl_generics, ty_generics, _) = container.input.generics.split_for_impl();
    let mut where_clause = bounds.clone().unwrap_or_else(|| syn::parse_quote!(where));
    where_clause.predicates.push(syn::parse_quote! {
        Self: ::encrypted_fields::__private::schemars::JsonSchema
    });
    let utoipa = quote!(::encrypted_fields::__private::utoipa);
    let schema = quote!(#utoipa::openapi::RefOr<#utoipa::openapi::schema::Schema>);
    let where_clause = where_clause.to_token_stream();
    quote! {
        #[automatically_derived]
        impl #impl_generics #utoipa::PartialSchema for #companion #ty_generics #where_clause {
            fn schema() -> #schema {
                ::encrypted_fields::__private::openapi_schema::<Self>()
            }
        }

        #[automatically_derived]
        impl #impl_generics #utoipa::ToSchema for #companion #ty_generics #where_clause {
            fn name() -> ::std::borrow::Cow<'static, str> {
                <Self as ::encrypted_fields::__private::schemars::JsonSchema>::schema_name()
            }

            fn schemas(schemas: &mut ::std::vec::Vec<(::std::string::String, #schema)>) {
                ::encrypted_fields::__private::openapi_schemas::<Self>(schemas);
            }
        }
    }
}
