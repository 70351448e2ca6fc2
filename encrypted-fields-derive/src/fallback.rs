//! What the derive emits when it reports errors: the errors, plus stand-ins
//! for the companion type and the `Encrypt` impl, so code that uses them
//! shows the derive's error and not a cascade of "cannot find" errors.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, GenericParam};

use crate::expand::Names;

pub(crate) fn expand(input: &DeriveInput, errors: Vec<syn::Error>) -> TokenStream {
    let errors = errors.into_iter().map(|e| e.to_compile_error());
    let ident = &input.ident;
    let vis = &input.vis;
    let Names { companion, partial } = Names::new(ident);
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    // Type aliases ignore bounds (and warn about them): keep only the names.
    let params: Vec<_> = input
        .generics
        .params
        .iter()
        .map(|param| match param {
            GenericParam::Type(t) => {
                let ident = &t.ident;
                quote!(#ident)
            }
            GenericParam::Lifetime(l) => {
                let lifetime = &l.lifetime;
                quote!(#lifetime)
            }
            GenericParam::Const(c) => {
                let (ident, ty) = (&c.ident, &c.ty);
                quote!(const #ident: #ty)
            }
        })
        .collect();
    quote! {
        #(#errors)*
        #vis type #companion <#(#params),*> = ::encrypted_fields::__private::Fallback<#ident #ty_generics>;
        #vis type #partial <#(#params),*> = ::encrypted_fields::__private::Fallback<#ident #ty_generics>;

        impl #impl_generics ::encrypted_fields::Encrypt for #ident #ty_generics #where_clause {
            type Encrypted = ::encrypted_fields::__private::Fallback<Self>;
            const KEY_ALIASES: &'static [&'static str] = &[];

            fn encrypt<__EncryptedFieldsKeyring: ::encrypted_fields::Keyring + ?::core::marker::Sized>(
                &self,
                _: &__EncryptedFieldsKeyring,
            ) -> ::core::result::Result<Self::Encrypted, ::encrypted_fields::Error> {
                ::core::result::Result::Err(::encrypted_fields::__private::fallback_error())
            }
        }
    }
}
