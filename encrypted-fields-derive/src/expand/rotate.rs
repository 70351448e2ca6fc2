//! `reencrypt`: every envelope re-sealed under its alias's primary key,
//! after the record seal (if any) is checked, and the seal made again.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use super::convert::{enter_scope, seal_kind};
use super::{SEAL_FIELD, arms, binding, nonce};
use crate::ast::{Container, Field, Mode};

/// The body of the generated `reencrypt`.
pub(super) fn reencrypt_body(container: &Container<'_>) -> TokenStream {
    let rotate = arms(container, |_, fields| {
        let scope = enter_scope(container, fields);
        let statements = fields
            .iter()
            .filter_map(|(field, var)| rotate_field(container, field, var));
        quote!({ #scope #(#statements)* })
    });
    let rotate_seal = rotate_record_seal(container);
    let verify_before_rotation = container.record_seal().map(|seal| {
        let private = quote!(::encrypted_fields::__private);
        let field = format_ident!("{}", SEAL_FIELD);
        let (context, alias, member) = (container.context(), seal.alias, seal.member);
        let kind = seal_kind(seal.kind);
        quote! {
            #private::verify_record(
                __keyring,
                &*self,
                &self.#field,
                &#private::SealSpec::new(#kind, #alias, #context, #member),
            )?;
        }
    });
    quote! {
        // A record whose seal does not hold is refused before anything is
        // re-sealed: rotation must not seal an edit.
        #verify_before_rotation
        let mut __changed: usize = 0;
        match self { #rotate }
        #rotate_seal
        ::core::result::Result::Ok(__changed)
    }
}

/// After `reencrypt` rotated the fields: the seal again, under the primary
/// key, if anything changed or it is under another key.
fn rotate_record_seal(container: &Container<'_>) -> TokenStream {
    let Some(seal) = container.record_seal() else {
        return TokenStream::new();
    };
    let private = quote!(::encrypted_fields::__private);
    let field = format_ident!("{}", SEAL_FIELD);
    let (context, alias, member) = (container.context(), seal.alias, seal.member);
    let kind = seal_kind(seal.kind);
    quote! {
        if let ::core::option::Option::Some(__seal) = #private::rotate_record_seal(
            __keyring,
            &*self,
            &self.#field,
            __changed > 0,
            &#private::SealSpec::new(#kind, #alias, #context, #member),
        )? {
            self.#field = ::core::option::Option::Some(__seal);
            __changed += 1;
        }
    }
}

/// The statement that rotates one field of `reencrypt`, if it has envelopes.
fn rotate_field(container: &Container<'_>, field: &Field<'_>, var: &Ident) -> Option<TokenStream> {
    let span = field.ty().span();
    let private = quote!(::encrypted_fields::__private);
    let binding = binding(container, field);
    let rotate = match container.attrs.proto {
        Some(_) => quote!(rotate_bytes),
        None => quote!(rotate),
    };
    let call = |value: TokenStream| match field.mode() {
        Mode::Sealed { deterministic, .. } => {
            let nonce = nonce(*deterministic);
            Some(quote_spanned!(span=> #private::#rotate(__keyring, #value, &#binding, #nonce)?))
        }
        Mode::NestedSealed { indexed, .. } => Some(quote_spanned! {span=>
            #private::rotate_nested(__keyring, #value, &#binding, #indexed)?
        }),
        Mode::Nested { indexed } => {
            let name = &field.aad_name;
            Some(quote_spanned! {span=>
                {
                    let __member = #private::enter_member(#name, #indexed)?;
                    ::encrypted_fields::Decrypt::reencrypt(#value, __keyring)?
                }
            })
        }
        Mode::Plain => None,
    };
    match (field.mode(), field.option_inner) {
        (Mode::Sealed { .. } | Mode::NestedSealed { .. }, Some(_)) => {
            let call = call(quote!(__v))?;
            Some(quote!(if let ::core::option::Option::Some(__v) = #var { __changed += #call; }))
        }
        _ => {
            let call = call(quote!(#var))?;
            Some(quote!(__changed += #call;))
        }
    }
}
