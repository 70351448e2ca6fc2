//! Where-clause predicates: for fields whose type mentions a type
//! parameter, and for nested fields' types, spanned at the field.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use syn::visit::{self, Visit};
use syn::{Generics, Ident, Type, WhereClause};

/// `generics`' where clause plus each `predicate` whose `ty` mentions one
/// of the type parameters, or is one of `always` (the nested fields'
/// types), generic or not. On an impl, a false bound on a
/// concrete type is one error at the bound, where without it every use of
/// the type in the impl's body is an error of its own: a nested type that
/// does not derive `Encrypt` then gives a handful of errors, not dozens.
/// (`always` holds the very `Type`s the predicates name, compared by
/// address.)
pub(crate) fn with_predicates_on<'a>(
    generics: &Generics,
    predicates: impl IntoIterator<Item = (&'a Type, TokenStream)>,
    always: &[&Type],
) -> Option<WhereClause> {
    let params: HashSet<&Ident> = generics.type_params().map(|p| &p.ident).collect();
    let mut clause = generics.where_clause.clone();
    for (ty, predicate) in predicates {
        if mentions_any(ty, &params) || always.iter().any(|a| std::ptr::eq(*a, ty)) {
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
pub(crate) fn mentions_any(ty: &Type, params: &HashSet<&Ident>) -> bool {
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

/// The nested fields' types (and their sealed inner types), for
/// [`with_predicates_on`]; a recursive field's is left out, as a bound on
/// the type being defined would be a cycle.
pub(crate) fn nested_types<'a>(container: &'a crate::ast::Container<'a>) -> Vec<&'a Type> {
    container
        .fields()
        .filter(|f| f.mode().is_nested())
        .filter(|f| !mentions_self(f.ty(), &container.input.ident))
        .flat_map(|f| [f.ty(), f.sealed_ty()])
        .collect()
}
