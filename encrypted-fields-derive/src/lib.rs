//! `#[derive(Encrypt)]` for the `encrypted-fields` crate; depend on that
//! crate, which re-exports this macro next to the trait of the same name.
//!
//! The stages are one module each: `attr` and `ast` parse, `valid`
//! checks, `expand` generates code (and never reports user errors),
//! `fallback` stands in for the output when there were errors.

mod ast;
mod attr;
mod bound;
mod case;
mod ctxt;
mod expand;
mod fallback;
mod symbol;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Generates the `Encrypted<Name>` companion type and the `Encrypt` and
/// `Decrypt` impls; see the `encrypted-fields` crate for the attributes.
///
/// `serde` is declared as a helper too (as schemars does), so the serde
/// attributes the companion carries over are accepted even on a struct that
/// does not derive serde itself; `sqlx` and `diesel` likewise, for a
/// companion that derives their traits (`#[encrypt(derive(sqlx::FromRow))]`).
#[proc_macro_derive(Encrypt, attributes(encrypt, serde, sqlx, diesel))]
pub fn derive_encrypt(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    let ctxt = ctxt::Ctxt::new();
    let container = ast::Container::from_ast(&ctxt, &input);
    if let Some(container) = &container {
        valid::check(&ctxt, container);
    }
    match (ctxt.finish(), container) {
        (Ok(()), Some(container)) => expand::expand(&container),
        (result, _) => {
            let errors = result.err().unwrap_or_default();
            fallback::expand(&input, errors)
        }
    }
    .into()
}
