//! What comes with the conversions: lookup methods for deterministic
//! fields, a sealed record's `record_seal()`, and the redacted `Debug`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::WhereClause;
use syn::ext::IdentExt;
use syn::spanned::Spanned;

use super::{Names, arms, binding, encoding};
use crate::ast::{Container, Mode};
use crate::bound;

/// `lookup_<field>` on the companion for each deterministic field.
pub(super) fn lookup_impl(
    container: &Container<'_>,
    names: &Names,
    bounds: &Option<WhereClause>,
) -> TokenStream {
    let vis = &container.input.vis;
    let companion = &names.companion;
    let (impl_generics, ty_generics, _) = container.input.generics.split_for_impl();
    let methods: Vec<TokenStream> = container
        .fields()
        .filter_map(|f| f.lookup_method().map(|method| (f, method)))
        .map(|(field, method)| {
            let method = format_ident!("{}", method, span = field.ty().span());
            let ty = field.sealed_ty();
            let binding = binding(container, field);
            let encoding = encoding(matches!(field.mode(), Mode::Sealed { bytes: true, .. }));
            let doc = format!(
                "The envelopes `{}` holds for `value`, under each key of its alias (primary first; for a `bytes` field, each key's byte-string and JSON envelopes): match them with `IN (...)` while a rotation is under way.",
                field.aad_name
            );
            quote! {
                #[doc = #doc]
                #[allow(dead_code)]
                #vis fn #method<__EncryptedFieldsKeyring: ::encrypted_fields::Keyring + ?::core::marker::Sized>(
                    keyring: &__EncryptedFieldsKeyring,
                    value: &#ty,
                ) -> ::core::result::Result<
                    ::encrypted_fields::__private::Vec<::encrypted_fields::Sealed<#ty>>,
                    ::encrypted_fields::Error,
                > {
                    ::encrypted_fields::__private::lookup(keyring, value, &#binding, #encoding)
                }
            }
        })
        .chain(record_seal_method(container))
        .collect();
    if methods.is_empty() {
        return TokenStream::new();
    }
    quote! {
        #[automatically_derived]
        impl #impl_generics #companion #ty_generics #bounds {
            #(#methods)*
        }
    }
}

/// `record_seal()` on a sealed record's companion: the seal, to store in a
/// column of its own (the field holding it has a generated name).
fn record_seal_method(container: &Container<'_>) -> Option<TokenStream> {
    let seal = container.record_seal()?;
    let vis = &container.input.vis;
    let field = format_ident!("{}", super::SEAL_FIELD);
    let doc = format!(
        "The record seal (the `{}` member), `None` until the record is sealed.",
        seal.member
    );
    Some(quote! {
        #[doc = #doc]
        #[allow(dead_code)]
        #vis fn record_seal(&self) -> ::core::option::Option<&::encrypted_fields::RecordSeal> {
            self.#field.as_ref()
        }
    })
}

/// `Debug` for a `proto` companion (prost's would print the envelopes'
/// bytes): each envelope as its length, everything else as it is.
pub(super) fn proto_debug_impl(container: &Container<'_>, names: &Names) -> TokenStream {
    if container.attrs.proto.is_none() {
        return TokenStream::new();
    }
    let companion = &names.companion;
    let private = quote!(::encrypted_fields::__private);
    let (impl_generics, ty_generics, where_clause) = container.input.generics.split_for_impl();
    let fields = container.fields().filter_map(|field| {
        let ident = field.original.ident.as_ref()?;
        let name = ident.unraw().to_string();
        Some(match field.mode() {
            Mode::Sealed { .. } => {
                quote!(.field(#name, &#private::DebugEnvelope::debug_envelope(&self.#ident)))
            }
            _ => quote!(.field(#name, &self.#ident)),
        })
    });
    let name = companion.to_string();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::core::fmt::Debug for #companion #ty_generics #where_clause {
            fn fmt(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Formatter::debug_struct(__f, #name) #(#fields)* .finish()
            }
        }
    }
}

/// `RedactedDebug` for the plain type: its fields with encrypted ones as
/// `<redacted>`, nested children through their own `RedactedDebug`, so a
/// redacted parent shows no encrypted field at any depth. Every derived
/// type has it; `#[encrypt(redact_debug)]` also makes it the `Debug`.
pub(super) fn debug_impls(container: &Container<'_>) -> TokenStream {
    let ident = &container.input.ident;
    let private = quote!(::encrypted_fields::__private);
    let (impl_generics, ty_generics, _) = container.input.generics.split_for_impl();
    let bounds = bound::with_predicates_on(
        &container.input.generics,
        container.fields().filter_map(|f| {
            let ty = f.ty();
            match f.mode() {
                Mode::Plain => Some((ty, quote_spanned!(ty.span()=> #ty: ::core::fmt::Debug))),
                Mode::Nested { .. } => {
                    Some((ty, quote_spanned!(ty.span()=> #ty: #private::RedactedDebug)))
                }
                Mode::Sealed { .. } | Mode::NestedSealed { .. } => None,
            }
        }),
        // Not the nested types: a child without `RedactedDebug` (a
        // hand-written `Encrypt`) prints as `<redacted>` instead.
        &[],
    );
    let body = arms(container, |name, fields| {
        let values = fields.iter().map(|(field, var)| match field.mode() {
            Mode::Plain => quote!(#var),
            // A child that does not derive `Encrypt` itself (a hand-written
            // impl) has no field-wise form: it prints as `<redacted>`.
            Mode::Nested { .. } => quote!((&#private::Nested(#var)).redacted()),
            Mode::Sealed { .. } | Mode::NestedSealed { .. } => quote!(&#private::Redacted),
        });
        let name = name.unraw().to_string();
        match fields.first().map(|(f, _)| f.original.ident.is_some()) {
            None => quote!(::core::fmt::Formatter::write_str(__f, #name)),
            Some(true) => {
                let names = fields.iter().map(|(f, _)| f.member_name());
                quote!(::core::fmt::Formatter::debug_struct(__f, #name) #(.field(#names, #values))* .finish())
            }
            Some(false) => {
                quote!(::core::fmt::Formatter::debug_tuple(__f, #name) #(.field(#values))* .finish())
            }
        }
    });
    let debug = container.attrs.redact_debug.then(|| {
        quote! {
            #[automatically_derived]
            impl #impl_generics ::core::fmt::Debug for #ident #ty_generics #bounds {
                fn fmt(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                    #private::RedactedDebug::fmt_redacted(self, __f)
                }
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics #private::RedactedDebug for #ident #ty_generics #bounds {
            fn fmt_redacted(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                #[allow(unused_imports)]
                use #private::{OpaqueChild as _, RedactedChild as _};
                match self { #body }
            }
        }
        #debug
    }
}
