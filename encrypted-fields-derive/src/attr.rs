//! Parses `#[encrypt(...)]` and reads the `#[serde(...)]` attributes the
//! companion type must carry over.

use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::case::RenameRule;
use crate::ctxt::Ctxt;

/// Options `#[encrypt(...)]` takes on a field.
const FIELD_OPTIONS: &[&str] = &["key"];
/// Options `#[encrypt(...)]` takes on the struct.
const CONTAINER_OPTIONS: &[&str] = &["context"];

/// Attributes of the struct.
pub(crate) struct Container {
    /// `#[encrypt(context = "...")]`: replaces the struct name in the AAD.
    pub(crate) context: Option<LitStr>,
    /// Every item of every `#[serde(...)]` on the struct.
    pub(crate) serde: Vec<Meta>,
    /// `#[serde(rename_all = "...")]` for serialization.
    pub(crate) rename_all: Option<RenameRule>,
}

/// Attributes of one field.
pub(crate) struct Field {
    /// The field's `#[encrypt(...)]`, if any.
    pub(crate) encrypt: Option<Encrypt>,
    /// Every item of every `#[serde(...)]` on the field.
    pub(crate) serde: Vec<Meta>,
    /// `#[serde(rename = "...")]` for serialization.
    pub(crate) rename: Option<String>,
    /// `#[doc]` and `#[cfg]` attributes, copied to the companion.
    pub(crate) passthrough: Vec<Attribute>,
}

/// A field's `#[encrypt(...)]`.
pub(crate) struct Encrypt {
    /// The whole attribute, for error spans.
    pub(crate) attr: Attribute,
    pub(crate) key: Option<LitStr>,
    /// The attribute had a syntax error, already reported: a missing `key`
    /// would only repeat it.
    pub(crate) malformed: bool,
}

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut context = None;
        let mut seen = false;
        for attr in attrs.iter().filter(|a| a.path().is_ident("encrypt")) {
            if std::mem::replace(&mut seen, true) {
                cx.error_spanned_by(
                    attr,
                    "duplicate `#[encrypt]` attribute; put all options in one",
                );
            }
            for (name, value) in string_options(cx, attr, CONTAINER_OPTIONS) {
                if name == "context" {
                    context = Some(value);
                }
            }
        }
        let serde = serde_metas(attrs);
        let rename_all =
            serialize_name(&serde, "rename_all").and_then(|r| RenameRule::from_name(&r));
        Container {
            context,
            serde,
            rename_all,
        }
    }
}

impl Field {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut encrypt: Option<Encrypt> = None;
        for attr in attrs.iter().filter(|a| a.path().is_ident("encrypt")) {
            let reported = cx.error_count();
            let options = string_options(cx, attr, FIELD_OPTIONS);
            let malformed = cx.error_count() > reported;
            if encrypt.is_some() {
                cx.error_spanned_by(
                    attr,
                    "duplicate `#[encrypt]` attribute; put all options in one",
                );
                continue;
            }
            let key = options
                .into_iter()
                .find(|(name, _)| *name == "key")
                .map(|(_, v)| v);
            encrypt = Some(Encrypt {
                attr: attr.clone(),
                key,
                malformed,
            });
        }
        let serde = serde_metas(attrs);
        let rename = serialize_name(&serde, "rename");
        let passthrough = attrs
            .iter()
            .filter(|a| a.path().is_ident("doc") || a.path().is_ident("cfg"))
            .cloned()
            .collect();
        Field {
            encrypt,
            serde,
            rename,
            passthrough,
        }
    }
}

/// Parses `#[encrypt(name = "value", ...)]`, reporting malformed, unknown,
/// misplaced, duplicate and non-string options. Returns the valid ones.
fn string_options(
    cx: &Ctxt,
    attr: &Attribute,
    known: &'static [&'static str],
) -> Vec<(&'static str, LitStr)> {
    let mut options: Vec<(&'static str, LitStr)> = Vec::new();
    let list = match &attr.meta {
        Meta::Path(_) => return options,
        Meta::List(list) => list,
        Meta::NameValue(_) => {
            cx.error_spanned_by(
                attr,
                format!("expected `#[encrypt({} = \"...\")]`", known[0]),
            );
            return options;
        }
    };
    let result = list.parse_nested_meta(|meta| {
        let name = meta
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        let Some(&option) = known.iter().find(|k| **k == name) else {
            cx.error_spanned_by(&meta.path, unknown_option_message(&name, known));
            // Skip the value so the options after it are still checked.
            if meta.input.peek(Token![=]) {
                meta.value()?.parse::<Expr>()?;
            } else if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                meta.input.parse::<proc_macro2::TokenTree>()?;
            }
            return Ok(());
        };
        if !meta.input.peek(Token![=]) {
            return Err(meta.error(format!("expected `{option} = \"...\"`")));
        }
        match meta.value()?.parse::<Expr>()? {
            Expr::Lit(ExprLit {
                lit: Lit::Str(value),
                ..
            }) => {
                if options.iter().any(|(n, _)| *n == option) {
                    cx.error_spanned_by(&meta.path, format!("duplicate option `{option}`"));
                } else {
                    options.push((option, value));
                }
            }
            other => {
                let example = match &other {
                    Expr::Path(p) => p.path.get_ident().map(|i| i.to_string().to_lowercase()),
                    _ => None,
                };
                let example = example.unwrap_or_else(|| "...".to_owned());
                cx.error_spanned_by(
                    &other,
                    format!("expected a string literal: `{option} = \"{example}\"`"),
                );
            }
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    options
}

fn unknown_option_message(name: &str, known: &[&str]) -> String {
    let misplaced = match name {
        "key" => Some(
            "`key` goes on a field: `#[encrypt(key = \"...\")]`; on the struct, only `context = \"...\"` is allowed",
        ),
        "context" => Some(
            "`context` goes on the struct: `#[encrypt(context = \"...\")]`; on a field, only `key = \"...\"` is allowed",
        ),
        _ => None,
    };
    if let Some(message) = misplaced {
        return message.to_owned();
    }
    let expected = known
        .iter()
        .map(|k| format!("`{k} = \"...\"`"))
        .collect::<Vec<_>>()
        .join(", ");
    match known.iter().find(|k| edit_distance(name, k) <= 2) {
        Some(close) => format!("unknown option `{name}`; did you mean `{close}`?"),
        None => format!("unknown option `{name}`; expected {expected}"),
    }
}

/// Levenshtein distance, for "did you mean" hints.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Every item of every `#[serde(...)]`. Attributes that do not parse are
/// left for serde's own derive on the plain struct to report.
fn serde_metas(attrs: &[Attribute]) -> Vec<Meta> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("serde"))
        .filter_map(|a| {
            a.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .collect()
}

/// The serialization value of `name = "..."` or `name(serialize = "...")`.
fn serialize_name(metas: &[Meta], name: &str) -> Option<String> {
    metas
        .iter()
        .filter(|m| m.path().is_ident(name))
        .find_map(|meta| match meta {
            Meta::NameValue(nv) => lit_str(&nv.value),
            Meta::List(list) => list
                .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .ok()?
                .into_iter()
                .find_map(|m| match m {
                    Meta::NameValue(nv) if nv.path.is_ident("serialize") => lit_str(&nv.value),
                    _ => None,
                }),
            Meta::Path(_) => None,
        })
}

fn lit_str(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.value()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("key", "key"), 0);
        assert_eq!(edit_distance("kye", "key"), 2);
        assert_eq!(edit_distance("keys", "key"), 1);
        assert_eq!(edit_distance("contxt", "context"), 1);
        assert_eq!(edit_distance("alias", "key"), 5);
    }
}
