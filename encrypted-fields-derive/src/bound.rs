//! Where-clause predicates for generic types: only for fields whose type
//! mentions a type parameter, spanned at the field so an unsatisfied bound
//! points at it.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use syn::visit::{self, Visit};
use syn::{Generics, Ident, Type, WhereClause};

/// `generics`' where clause plus each `predicate` whose `ty` mentions one
/// of the type parameters.
pub(crate) fn with_predicates<'a>(
    generics: &Generics,
    predicates: impl IntoIterator<Item = (&'a Type, TokenStream)>,
) -> Option<WhereClause> {
    let params: HashSet<&Ident> = generics.type_params().map(|p| &p.ident).collect();
    let mut clause = generics.where_clause.clone();
    for (ty, predicate) in predicates {
        if mentions_any(ty, &params) {
            clause
                .get_or_insert_with(|| syn::parse_quote!(where))
                .predicates
                .push(syn::parse_quote!(#predicate));
        }
    }
    clause
}

/// Whether `ty` names `ident` (or `Self`) anywhere, as a recursive type's
/// field does.
pub(crate) fn mentions_self(ty: &Type, ident: &Ident) -> bool {
    let self_ident = Ident::new("Self", ident.span());
    mentions_any(ty, &HashSet::from([ident, &self_ident]))
}

/// Whether `ty` names one of `params` (as `T`, `Vec<T>`, `T::Item`, ...).
fn mentions_any(ty: &Type, params: &HashSet<&Ident>) -> bool {
    struct Finder<'p> {
        params: &'p HashSet<&'p Ident>,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_path(&mut self, path: &'ast syn::Path) {
            if path.leading_colon.is_none() {
                if let Some(first) = path.segments.first() {
                    self.found |= self.params.contains(&first.ident);
                }
            }
            visit::visit_path(self, path);
        }
    }
    if params.is_empty() {
        return false;
    }
    let mut finder = Finder {
        params,
        found: false,
    };
    finder.visit_type(ty);
    finder.found
}
