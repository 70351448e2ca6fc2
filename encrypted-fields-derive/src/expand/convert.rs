//! The conversions: `Encrypt` for the plain and partial types, `Decrypt`
//! (with partial decryption and re-encryption) for the companion, each a
//! `match` that rebuilds the target field by field, inside the scope the
//! type declares (record and position binding), and the record seal.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, WhereClause};

use super::{Names, Op, RECEIVED_FIELD, SEAL_FIELD, arms, binding, encoding, nonce, rotate};
use crate::ast::{Body, Container, Field, Mode, SealKind};
use crate::bound;

/// `Encrypt` for the plain type (`Op::Encrypt`), or for the partial type
/// (`Op::Reseal`: back into the companion, sealed fields passed through).
pub(super) fn encrypt_impl(
    container: &Container<'_>,
    names: &Names,
    bounds: &Option<WhereClause>,
    op: Op,
) -> TokenStream {
    let ident = &container.input.ident;
    let companion = &names.companion;
    let (impl_generics, ty_generics, _) = container.input.generics.split_for_impl();
    let (self_ident, key_aliases) = match op {
        Op::Reseal => (
            &names.partial,
            quote!(<#ident #ty_generics as ::encrypted_fields::Encrypt>::KEY_ALIASES),
        ),
        Op::Encrypt | Op::Decrypt | Op::Partial => (ident, key_aliases(container)),
    };
    let body = convert(container, companion, op);
    let seal = record_seal_step(container, op);
    let forward = forward_step(container, op);
    quote! {
        #[automatically_derived]
        impl #impl_generics ::encrypted_fields::Encrypt for #self_ident #ty_generics #bounds {
            type Encrypted = #companion #ty_generics;
            const KEY_ALIASES: &'static [&'static str] = #key_aliases;

            fn encrypt<__EncryptedFieldsKeyring: ::encrypted_fields::Keyring + ?::core::marker::Sized>(
                &self,
                __keyring: &__EncryptedFieldsKeyring,
            ) -> ::core::result::Result<Self::Encrypted, ::encrypted_fields::Error> {
                #forward
                #[allow(unused_mut)]
                let mut __encrypted = #body;
                #seal
                ::core::result::Result::Ok(__encrypted)
            }
        }
    }
}

/// The type's own aliases (its seal's included) merged with its nested
/// types', at compile time.
fn key_aliases(container: &Container<'_>) -> TokenStream {
    let seal = container.record_seal().map(|seal| seal.alias);
    let own: Vec<&str> = container
        .fields()
        .filter_map(|f| f.mode().alias())
        .chain(seal.as_deref())
        .collect();
    // A recursive field adds no aliases, and merging its own constant
    // into itself would be a cycle.
    let nested = container
        .fields()
        .filter(|f| f.mode().is_nested())
        .filter(|f| !bound::mentions_self(f.ty(), &container.input.ident))
        .map(|f| {
            let ty = f.ty();
            quote_spanned!(ty.span()=> .merge(<#ty as ::encrypted_fields::Encrypt>::KEY_ALIASES))
        });
    quote!({ &::encrypted_fields::__private::AliasList::new(&[#(#own),*]) #(#nested)* }.as_slice())
}

pub(super) fn decrypt_impl(
    container: &Container<'_>,
    names: &Names,
    bounds: &Option<WhereClause>,
) -> TokenStream {
    let ident = &container.input.ident;
    let Names { companion, partial } = names;
    let (impl_generics, ty_generics, _) = container.input.generics.split_for_impl();
    let decrypt = convert(container, ident, Op::Decrypt);
    let partial_body = convert(container, partial, Op::Partial);
    let verify = record_seal_step(container, Op::Decrypt);
    let verify_partial = record_seal_step(container, Op::Partial);
    let reencrypt = rotate::reencrypt_body(container);
    quote! {
        #[automatically_derived]
        impl #impl_generics ::encrypted_fields::Decrypt for #companion #ty_generics #bounds {
            type Plain = #ident #ty_generics;
            type Partial = #partial #ty_generics;

            fn decrypt<__EncryptedFieldsKeyring: ::encrypted_fields::Keyring + ?::core::marker::Sized>(
                &self,
                __keyring: &__EncryptedFieldsKeyring,
            ) -> ::core::result::Result<Self::Plain, ::encrypted_fields::Error> {
                #verify
                ::core::result::Result::Ok(#decrypt)
            }

            fn decrypt_partial_into<__EncryptedFieldsKeyring: ::encrypted_fields::Keyring + ?::core::marker::Sized>(
                &self,
                __keyring: &__EncryptedFieldsKeyring,
                __inaccessible: &mut ::encrypted_fields::__private::BTreeSet<::encrypted_fields::__private::String>,
            ) -> ::core::result::Result<Self::Partial, ::encrypted_fields::Error> {
                #verify_partial
                ::core::result::Result::Ok(#partial_body)
            }

            fn reencrypt<__EncryptedFieldsKeyring: ::encrypted_fields::Keyring + ?::core::marker::Sized>(
                &mut self,
                __keyring: &__EncryptedFieldsKeyring,
            ) -> ::core::result::Result<usize, ::encrypted_fields::Error> {
                #reencrypt
            }
        }
    }
}

/// The record seal's part of `op`: computing it (encrypt), re-computing it
/// or passing it through (re-seal of a partial value), checking it
/// (decrypt, partial decryption); nothing for a type without one.
fn record_seal_step(container: &Container<'_>, op: Op) -> TokenStream {
    let Some(seal) = container.record_seal() else {
        return TokenStream::new();
    };
    let private = quote!(::encrypted_fields::__private);
    let field = format_ident!("{}", SEAL_FIELD);
    let (context, alias, member) = (container.context(), seal.alias, seal.member);
    let kind = seal_kind(seal.kind);
    let how = quote!(&#private::SealSpec::new(#kind, #alias, #context, #member));
    match op {
        Op::Encrypt => quote! {
            __encrypted.#field = ::core::option::Option::Some(
                #private::seal_record(__keyring, &__encrypted, #how)?,
            );
        },
        Op::Reseal => quote! {
            __encrypted.#field = #private::reseal_record(__keyring, &__encrypted, #how)?;
        },
        Op::Decrypt => quote! {
            #private::verify_record(__keyring, self, &self.#field, #how)?;
        },
        Op::Partial => quote! {
            #private::verify_record_partial(__keyring, self, &self.#field, #how, __inaccessible)?;
        },
    }
}

/// Re-sealing a partial sealed record with a keyring that cannot make its
/// seal: the record as received, if unchanged (`forward_record`).
fn forward_step(container: &Container<'_>, op: Op) -> TokenStream {
    let (Some(seal), Op::Reseal) = (container.record_seal(), op) else {
        return TokenStream::new();
    };
    let private = quote!(::encrypted_fields::__private);
    let received = format_ident!("{}", RECEIVED_FIELD);
    let (context, alias, member) = (container.context(), seal.alias, seal.member);
    let kind = seal_kind(seal.kind);
    quote! {
        let __spec = #private::SealSpec::new(#kind, #alias, #context, #member);
        if #private::must_forward(__keyring, &__spec) {
            return #private::forward_record(
                __keyring,
                self,
                ::core::option::Option::as_deref(&self.#received),
                &__spec,
            );
        }
    }
}

pub(super) fn seal_kind(kind: SealKind) -> TokenStream {
    match kind {
        SealKind::Mac => quote!(::encrypted_fields::__private::SealKind::Mac),
        SealKind::Signature => quote!(::encrypted_fields::__private::SealKind::Signature),
    }
}

/// The statement that enters the type's scope (its bound fields, position
/// binding, `legacy_unbound`) for the rest of a `match` arm; nothing for a
/// type that declares none.
pub(super) fn enter_scope(
    container: &Container<'_>,
    fields: &[(&Field<'_>, Ident)],
) -> TokenStream {
    if !container.enters_scope() {
        return TokenStream::new();
    }
    let private = quote!(::encrypted_fields::__private);
    let context = container.context();
    let record = fields.iter().filter(|(f, _)| f.bound).map(|(f, var)| {
        let name = &f.aad_name;
        quote!((#name, #var as &dyn #private::BoundValue))
    });
    let positions = container.attrs.bind_positions.is_some();
    let legacy = container.attrs.legacy_unbound.is_some();
    quote! {
        let __scope = #private::enter_type(#context, &[#(#record),*], #positions, #legacy)?;
    }
}

/// `match self { ... }` that builds `target` (or its variant) from `self`,
/// each arm inside the type's scope.
fn convert(container: &Container<'_>, target: &Ident, op: Op) -> TokenStream {
    let is_enum = matches!(container.body, Body::Enum(_));
    let seal = container.record_seal().map(|_| {
        let field = format_ident!("{}", SEAL_FIELD);
        let received = format_ident!("{}", RECEIVED_FIELD);
        match op {
            // Set by the seal step once every field is sealed.
            Op::Encrypt | Op::Reseal => quote!(#field: ::core::option::Option::None,),
            Op::Partial => quote! {
                #received: ::core::option::Option::Some(::std::boxed::Box::new(
                    ::core::clone::Clone::clone(self),
                )),
            },
            Op::Decrypt => quote!(),
        }
    });
    let arms = arms(container, |name, fields| {
        let path = if is_enum {
            quote!(#target::#name)
        } else {
            quote!(#target)
        };
        let scope = enter_scope(container, fields);
        let values: Vec<(&Field<'_>, TokenStream)> = fields
            .iter()
            .map(|(field, var)| (*field, field_value(container, field, var, op)))
            .collect();
        let fields = values.iter().map(|(field, value)| {
            let cfgs = field
                .attrs
                .passthrough
                .iter()
                .filter(|a| a.path().is_ident("cfg"));
            match &field.original.ident {
                Some(ident) => quote!(#(#cfgs)* #ident: #value),
                None => quote!(#value),
            }
        });
        let built = match values.first().map(|(f, _)| f.original.ident.is_some()) {
            None => path,
            Some(true) => quote!(#path { #(#fields,)* #seal }),
            Some(false) => quote!(#path(#(#fields,)*)),
        };
        quote!({ #scope #built })
    });
    quote!(match self { #arms })
}

/// The expression that converts one field, bound to `var`, for `op`.
fn field_value(container: &Container<'_>, field: &Field<'_>, var: &Ident, op: Op) -> TokenStream {
    let span = field.ty().span();
    let ef = quote!(::encrypted_fields);
    let private = quote!(::encrypted_fields::__private);
    let binding = binding(container, field);
    // A `proto` companion holds each envelope as its bytes.
    let proto = container.attrs.proto.is_some();
    let envelope = |value: TokenStream| match proto {
        true => quote_spanned!(span=> &#private::sealed_from_bytes(#value, &#binding)?),
        false => value,
    };
    let bytes = |sealed: TokenStream| match proto {
        true => {
            quote_spanned!(span=> ::core::result::Result::map(#sealed, #private::envelope_bytes))
        }
        false => sealed,
    };
    let call = |value: TokenStream| match (field.mode(), op) {
        (
            Mode::Sealed {
                deterministic,
                bytes: raw,
                ..
            },
            op,
        ) => {
            let nonce = nonce(*deterministic);
            let encoding = encoding(*raw);
            match op {
                Op::Encrypt => bytes(
                    quote_spanned!(span=> #private::seal(__keyring, #value, &#binding, #nonce, #encoding)),
                ),
                Op::Decrypt => {
                    let value = envelope(value);
                    quote_spanned!(span=> #private::open(__keyring, #value, &#binding, #nonce))
                }
                Op::Partial => {
                    let value = envelope(value);
                    quote_spanned! {span=>
                        #private::open_partial(__keyring, #value, &#binding, #nonce, __inaccessible)
                    }
                }
                Op::Reseal => bytes(
                    quote_spanned!(span=> #private::reseal(__keyring, #value, &#binding, #nonce, #encoding)),
                ),
            }
        }
        (Mode::NestedSealed { indexed, .. }, op) => match op {
            Op::Encrypt => {
                quote_spanned!(span=> #private::seal_nested(__keyring, #value, &#binding, #indexed))
            }
            Op::Decrypt => {
                quote_spanned!(span=> #private::open_nested(__keyring, #value, &#binding, #indexed))
            }
            Op::Partial => quote_spanned! {span=>
                #private::open_nested_partial(__keyring, #value, &#binding, #indexed, __inaccessible)
            },
            Op::Reseal => quote_spanned! {span=>
                #private::reseal_nested(__keyring, #value, &#binding, #indexed)
            },
        },
        (Mode::Nested { .. }, Op::Encrypt | Op::Reseal) => {
            quote_spanned!(span=> #ef::Encrypt::encrypt(#value, __keyring))
        }
        (Mode::Nested { .. }, Op::Decrypt) => {
            quote_spanned!(span=> #ef::Decrypt::decrypt(#value, __keyring))
        }
        (Mode::Nested { .. }, Op::Partial) => quote_spanned! {span=>
            #ef::Decrypt::decrypt_partial_into(#value, __keyring, __inaccessible)
        },
        // Plain fields are cloned below, never called.
        (Mode::Plain, _) => TokenStream::new(),
    };
    match (field.mode(), field.option_inner) {
        (Mode::Plain, _) => quote!(::core::clone::Clone::clone(#var)),
        (Mode::Nested { indexed }, _) => {
            let call = call(quote!(#var));
            let name = &field.aad_name;
            quote_spanned! {span=>
                {
                    let __member = #private::enter_member(#name, #indexed)?;
                    #call?
                }
            }
        }
        (Mode::Sealed { .. } | Mode::NestedSealed { .. }, Some(_)) => {
            let call = call(quote!(__v));
            quote_spanned! {span=>
                ::core::option::Option::transpose(
                    ::core::option::Option::map(::core::option::Option::as_ref(#var), |__v| #call),
                )?
            }
        }
        _ => {
            let call = call(quote!(#var));
            quote!(#call?)
        }
    }
}
