//! Parses `#[encrypt(...)]` and reads the `#[serde(...)]` attributes the
//! generated types must carry over.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta, Token};

use crate::case::RenameRule;
use crate::ctxt::Ctxt;
use crate::symbol::*;

/// How an option is written.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// `name = "value"`
    Str,
    /// `name`
    Flag,
    /// `name(Path, ...)`
    Paths,
}

/// Options `#[encrypt(...)]` takes on a field.
const FIELD_OPTIONS: &[(&str, Kind)] = &[
    (KEY, Kind::Str),
    (NESTED, Kind::Flag),
    (DETERMINISTIC, Kind::Flag),
    (BYTES, Kind::Flag),
    (LOOKUP, Kind::Str),
    (BIND, Kind::Flag),
    (BIND_INDEX, Kind::Flag),
];
/// Options `#[encrypt(...)]` takes on the struct or enum.
const CONTAINER_OPTIONS: &[(&str, Kind)] = &[
    (CONTEXT, Kind::Str),
    (REDACT_DEBUG, Kind::Flag),
    (BIND_POSITIONS, Kind::Flag),
    (LEGACY_UNBOUND, Kind::Flag),
    (SEAL, Kind::Str),
    (SIGN, Kind::Str),
    (SEAL_MEMBER, Kind::Str),
    (PROTO, Kind::Flag),
    (SCHEMA, Kind::Flag),
    (DERIVE, Kind::Paths),
];

/// Attributes of the struct or enum.
pub(crate) struct Container {
    /// `#[encrypt(context = "...")]`: replaces the type name in the AAD.
    pub(crate) context: Option<LitStr>,
    /// `#[encrypt(redact_debug)]`: generate a `Debug` that hides encrypted fields.
    pub(crate) redact_debug: bool,
    /// `#[encrypt(bind_positions)]`, where it was written.
    pub(crate) bind_positions: Option<Span>,
    /// `#[encrypt(legacy_unbound)]`, where it was written.
    pub(crate) legacy_unbound: Option<Span>,
    /// `#[encrypt(proto)]`, where it was written: a prost message.
    pub(crate) proto: Option<Span>,
    /// `#[encrypt(schema)]`, where it was written: the companion derives
    /// a JSON Schema (and OpenAPI schema).
    pub(crate) schema: Option<Span>,
    /// `#[encrypt(derive(...))]`: more derives for the companion.
    pub(crate) derives: Vec<syn::Path>,
    /// Every `#[sqlx(...)]` and `#[diesel(...)]` on the type, for a
    /// companion deriving sqlx's or Diesel's traits.
    pub(crate) database: Vec<Attribute>,
    /// `#[encrypt(seal = "...")]`: the alias of the record seal's MAC key.
    pub(crate) seal: Option<LitStr>,
    /// `#[encrypt(sign = "...")]`: the alias of the record's signing key.
    pub(crate) sign: Option<LitStr>,
    /// `#[encrypt(seal_member = "...")]`: the member holding the seal.
    pub(crate) seal_member: Option<LitStr>,
    /// Every item of every `#[serde(...)]` on the type.
    pub(crate) serde: Vec<Meta>,
    /// `#[serde(rename_all = "...")]` for serialization.
    pub(crate) rename_all: Option<RenameRule>,
    /// `#[serde(rename_all_fields = "...")]` for serialization (enums).
    pub(crate) rename_all_fields: Option<RenameRule>,
    /// Whether `#[serde(rename ...)]` names the type for serializing and
    /// for deserializing; where it does not, the companion is given the
    /// plain type's name, which serde writes as a struct tag and in errors.
    pub(crate) renamed: (bool, bool),
}

/// Attributes of an enum variant.
pub(crate) struct Variant {
    /// Every item of every `#[serde(...)]` on the variant.
    pub(crate) serde: Vec<Meta>,
    /// `#[serde(rename = "...")]` for serialization.
    pub(crate) rename: Option<String>,
    /// `#[serde(rename_all = "...")]`: renames this variant's fields.
    pub(crate) rename_all: Option<RenameRule>,
    /// `#[doc]` and `#[cfg]` attributes, copied to the generated types.
    pub(crate) passthrough: Vec<Attribute>,
}

/// Attributes of one field.
pub(crate) struct Field {
    /// The field's `#[encrypt(...)]`, if any.
    pub(crate) encrypt: Option<Encrypt>,
    /// Every item of every `#[serde(...)]` on the field.
    pub(crate) serde: Vec<Meta>,
    /// `#[serde(rename = "...")]` for serialization.
    pub(crate) rename: Option<String>,
    /// `#[doc]` and `#[cfg]` attributes, copied to the generated types.
    pub(crate) passthrough: Vec<Attribute>,
    /// The field's `#[prost(...)]` (a `proto` type's wire layout).
    pub(crate) prost: Option<Attribute>,
    /// The field's `#[sqlx(...)]` and `#[diesel(...)]`, for a companion
    /// deriving sqlx's or Diesel's traits.
    pub(crate) database: Vec<Attribute>,
}

/// A field's `#[encrypt(...)]`.
pub(crate) struct Encrypt {
    /// The whole attribute, for error spans.
    pub(crate) attr: Attribute,
    pub(crate) key: Option<LitStr>,
    /// Where `nested` was written, if it was.
    pub(crate) nested: Option<Span>,
    /// Where `deterministic` was written, if it was.
    pub(crate) deterministic: Option<Span>,
    /// Where `bytes` was written, if it was.
    pub(crate) bytes: Option<Span>,
    /// `lookup = "..."`: the name of a deterministic field's lookup method.
    pub(crate) lookup: Option<LitStr>,
    /// Where `bind` was written, if it was.
    pub(crate) bind: Option<Span>,
    /// Where `bind_index` was written, if it was.
    pub(crate) bind_index: Option<Span>,
    /// The attribute had a syntax error, already reported: a missing `key`
    /// would only repeat it.
    pub(crate) malformed: bool,
}

/// The options found in one `#[encrypt(...)]`.
#[derive(Default)]
struct Options {
    strings: Vec<(&'static str, LitStr)>,
    flags: Vec<(&'static str, Span)>,
    paths: Vec<(&'static str, Vec<syn::Path>)>,
}

impl Options {
    fn string(&self, name: &str) -> Option<LitStr> {
        self.strings
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
    }

    fn flag(&self, name: &str) -> Option<Span> {
        self.flags
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, span)| *span)
    }

    fn paths(&self, name: &str) -> Vec<syn::Path> {
        self.paths
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, paths)| paths.clone())
            .unwrap_or_default()
    }
}

impl Container {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut options = Options::default();
        for (i, attr) in encrypt_attrs(attrs).enumerate() {
            if i > 0 {
                cx.error_spanned_by(
                    attr,
                    "duplicate `#[encrypt]` attribute; put all options in one",
                );
            }
            options = parse_options(cx, attr, CONTAINER_OPTIONS);
        }
        let serde = serde_metas(attrs);
        let rule = |name| serialize_name(&serde, name).and_then(|r| RenameRule::from_name(&r));
        Container {
            context: options.string(CONTEXT),
            redact_debug: options.flag(REDACT_DEBUG).is_some(),
            bind_positions: options.flag(BIND_POSITIONS),
            legacy_unbound: options.flag(LEGACY_UNBOUND),
            proto: options.flag(PROTO),
            schema: options.flag(SCHEMA),
            derives: options.paths(DERIVE),
            database: database_attrs(attrs),
            seal: options.string(SEAL),
            sign: options.string(SIGN),
            seal_member: options.string(SEAL_MEMBER),
            rename_all: rule("rename_all"),
            rename_all_fields: rule("rename_all_fields"),
            renamed: (
                side_name(&serde, "rename", "serialize").is_some(),
                side_name(&serde, "rename", "deserialize").is_some(),
            ),
            serde,
        }
    }
}

impl Variant {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        for attr in encrypt_attrs(attrs) {
            cx.error_spanned_by(
                attr,
                "`#[encrypt]` goes on the fields of a variant, not on the variant",
            );
        }
        let serde = serde_metas(attrs);
        Variant {
            rename: serialize_name(&serde, "rename"),
            rename_all: serialize_name(&serde, "rename_all")
                .and_then(|r| RenameRule::from_name(&r)),
            passthrough: passthrough(attrs),
            serde,
        }
    }
}

impl Field {
    pub(crate) fn from_ast(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut encrypt: Option<Encrypt> = None;
        for attr in encrypt_attrs(attrs) {
            let reported = cx.error_count();
            let options = parse_options(cx, attr, FIELD_OPTIONS);
            let malformed = cx.error_count() > reported;
            if encrypt.is_some() {
                cx.error_spanned_by(
                    attr,
                    "duplicate `#[encrypt]` attribute; put all options in one",
                );
                continue;
            }
            encrypt = Some(Encrypt {
                attr: attr.clone(),
                key: options.string(KEY),
                nested: options.flag(NESTED),
                deterministic: options.flag(DETERMINISTIC),
                bytes: options.flag(BYTES),
                lookup: options.string(LOOKUP),
                bind: options.flag(BIND),
                bind_index: options.flag(BIND_INDEX),
                malformed,
            });
        }
        let serde = serde_metas(attrs);
        Field {
            encrypt,
            rename: serialize_name(&serde, "rename"),
            passthrough: passthrough(attrs),
            prost: attrs.iter().find(|a| a.path().is_ident("prost")).cloned(),
            database: database_attrs(attrs),
            serde,
        }
    }
}

fn encrypt_attrs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("encrypt"))
}

/// `#[doc]` and `#[cfg]`: what the generated types repeat.
fn passthrough(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc") || a.path().is_ident("cfg"))
        .cloned()
        .collect()
}

/// Parses `#[encrypt(...)]`, reporting malformed, unknown, misplaced,
/// duplicate and wrongly-typed options. Returns the valid ones.
fn parse_options(cx: &Ctxt, attr: &Attribute, known: &'static [(&'static str, Kind)]) -> Options {
    let mut options = Options::default();
    let list = match &attr.meta {
        Meta::Path(_) => return options,
        Meta::List(list) => list,
        Meta::NameValue(_) => {
            cx.error_spanned_by(
                attr,
                format!("expected `#[encrypt({})]`", example(known[0])),
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
        let Some(&(option, kind)) = known.iter().find(|(k, _)| *k == name) else {
            cx.error_spanned_by(&meta.path, unknown_option_message(&name, known));
            // Skip the value so the options after it are still checked.
            if meta.input.peek(Token![=]) {
                meta.value()?.parse::<Expr>()?;
            } else if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                meta.input.parse::<proc_macro2::TokenTree>()?;
            }
            return Ok(());
        };
        let duplicate = options.strings.iter().any(|(n, _)| *n == option)
            || options.flags.iter().any(|(n, _)| *n == option)
            || options.paths.iter().any(|(n, _)| *n == option);
        if duplicate {
            cx.error_spanned_by(&meta.path, format!("duplicate option `{option}`"));
        }
        match kind {
            Kind::Flag => {
                if meta.input.peek(Token![=]) {
                    let value = meta.value()?.parse::<Expr>()?;
                    cx.error_spanned_by(
                        &value,
                        format!("`{option}` takes no value: write `{option}`"),
                    );
                } else if !duplicate {
                    options.flags.push((option, meta.path.span()));
                }
            }
            Kind::Paths => {
                let mut paths = Vec::new();
                meta.parse_nested_meta(|path| {
                    paths.push(path.path);
                    Ok(())
                })?;
                if !duplicate {
                    options.paths.push((option, paths));
                }
            }
            Kind::Str => {
                if !meta.input.peek(Token![=]) {
                    return Err(meta.error(format!("expected `{option} = \"...\"`")));
                }
                match meta.value()?.parse::<Expr>()? {
                    Expr::Lit(ExprLit {
                        lit: Lit::Str(value),
                        ..
                    }) => {
                        if !duplicate {
                            options.strings.push((option, value));
                        }
                    }
                    other => {
                        let example = match &other {
                            Expr::Path(p) => {
                                p.path.get_ident().map(|i| i.to_string().to_lowercase())
                            }
                            _ => None,
                        };
                        let example = example.unwrap_or_else(|| "...".to_owned());
                        cx.error_spanned_by(
                            &other,
                            format!("expected a string literal: `{option} = \"{example}\"`"),
                        );
                    }
                }
            }
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.syn_error(error);
    }
    options
}

fn example((name, kind): (&str, Kind)) -> String {
    match kind {
        Kind::Str => format!("{name} = \"...\""),
        Kind::Flag => name.to_owned(),
        Kind::Paths => format!("{name}(...)"),
    }
}

fn unknown_option_message(name: &str, known: &[(&str, Kind)]) -> String {
    let on_field = FIELD_OPTIONS.iter().any(|(k, _)| *k == name);
    let on_container = CONTAINER_OPTIONS.iter().any(|(k, _)| *k == name);
    if on_field {
        return format!("`{name}` goes on a field, not on the struct or enum");
    }
    if on_container {
        return format!("`{name}` goes on the struct or enum: `#[encrypt({name}...)]` above it");
    }
    let expected = known
        .iter()
        .map(|k| format!("`{}`", example(*k)))
        .collect::<Vec<_>>()
        .join(", ");
    match known.iter().find(|(k, _)| edit_distance(name, k) <= 2) {
        Some((close, _)) => format!("unknown option `{name}`; did you mean `{close}`?"),
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
/// left for serde's own derive on the plain type to report.
fn database_attrs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("sqlx") || a.path().is_ident("diesel"))
        .cloned()
        .collect()
}

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
    side_name(metas, name, "serialize")
}

/// The value `name = "..."` or `name(side = "...")` gives for `side`
/// (`serialize` or `deserialize`).
pub(crate) fn side_name(metas: &[Meta], name: &str, side: &str) -> Option<String> {
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
                    Meta::NameValue(nv) if nv.path.is_ident(side) => lit_str(&nv.value),
                    _ => None,
                }),
            Meta::Path(_) => None,
        })
}

pub(crate) fn lit_str(expr: &Expr) -> Option<String> {
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
        assert_eq!(edit_distance("nestd", "nested"), 1);
    }
}
