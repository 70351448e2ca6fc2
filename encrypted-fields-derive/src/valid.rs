//! Checks that need the whole parsed input. Every user error the derive
//! reports comes from here or from parsing, never from expansion.

use quote::ToTokens;
use syn::{GenericParam, Meta};

use crate::ast::{Body, Container, Field, Mode, Shape};
use crate::attr;
use crate::ctxt::Ctxt;
use crate::symbol::{BYTES, DETERMINISTIC};

pub(crate) fn check(cx: &Ctxt, container: &Container<'_>) {
    check_generics(cx, container);
    check_enum(cx, container);
    check_context(cx, container);
    check_container_serde(cx, container);
    for field in container.fields() {
        check_field(cx, field);
    }
    check_lookup_names(cx, container);
    check_binding(cx, container);
    check_record_seal(cx, container);
    check_proto(cx, container);
    check_schema(cx, container);
    check_derives(cx, container);
    // A field with only `bind` is plain; one whose attribute is incomplete
    // has its own error already.
    let plain = |f: &Field<'_>| match &f.attrs.encrypt {
        None => true,
        Some(e) => e.bind.is_some() && e.key.is_none() && e.nested.is_none(),
    };
    let nothing_to_do = container.fields().all(plain) && container.record_seal().is_none();
    if nothing_to_do {
        cx.error_spanned_by(
            &container.input.ident,
            "no field has `#[encrypt(key = \"...\")]` or `#[encrypt(nested)]`; mark the sensitive fields, or remove `#[derive(Encrypt)]`",
        );
    }
}

/// Record and position binding: `bind` on plain struct fields whose wire
/// value is their own, `bind_index` on nested fields, `legacy_unbound`
/// only where something is bound.
fn check_binding(cx: &Ctxt, container: &Container<'_>) {
    let is_enum = matches!(container.body, Body::Enum(_));
    for field in container.fields() {
        let Some(encrypt) = &field.attrs.encrypt else {
            continue;
        };
        if let Some(span) = encrypt.bind {
            let problem = if encrypt.key.is_some() || encrypt.nested.is_some() {
                Some("`bind` goes on a plain field that identifies the record, such as its id; an encrypted field cannot identify it (drop `key`/`nested` here, or put `bind` on another field)".to_owned())
            } else if is_enum {
                Some("`bind` takes the fields of a struct: a record's identity cannot depend on its variant".to_owned())
            } else {
                field.attrs.serde.iter().find_map(|meta| {
                    let name = meta_name(meta);
                    matches!(
                        name.as_str(),
                        "skip" | "skip_serializing" | "skip_deserializing" | "with" | "serialize_with" | "deserialize_with" | "flatten" | "skip_serializing_if"
                    )
                    .then(|| format!("`#[serde({name})]` cannot apply to a bound field: envelopes are bound to its value as written in JSON, which every reader must see"))
                })
            };
            if let Some(problem) = problem {
                cx.syn_error(syn::Error::new(span, problem));
            } else {
                check_ordered(cx, field, "bound", "envelopes are bound to its JSON text");
            }
        }
        if let Some(span) = encrypt.bind_index {
            if encrypt.nested.is_none() {
                cx.syn_error(syn::Error::new(
                    span,
                    "`bind_index` binds the elements of a nested list to their indexes: write `#[encrypt(nested, bind_index)]` on a `Vec` of a type that derives `Encrypt`",
                ));
            }
        }
    }
    if let Some(span) = container.attrs.legacy_unbound {
        let binds = container.fields().any(|f| f.bound) || container.attrs.bind_positions.is_some();
        if !binds {
            cx.syn_error(syn::Error::new(
                span,
                "`legacy_unbound` opens envelopes sealed before `bind` or `bind_positions` was declared; this type declares neither",
            ));
        }
    }
}

/// `seal = "..."` or `sign = "..."`: one of them, on a struct with named
/// fields, under a valid alias, in a member no field uses.
fn check_record_seal(cx: &Ctxt, container: &Container<'_>) {
    let attrs = &container.attrs;
    if let (Some(_), Some(sign)) = (&attrs.seal, &attrs.sign) {
        cx.error_spanned_by(
            sign,
            "a record has one seal: `seal = \"...\"` (a MAC) or `sign = \"...\"` (a signature), not both",
        );
    }
    let Some(seal) = container.record_seal() else {
        if let Some(member) = &attrs.seal_member {
            cx.error_spanned_by(
                member,
                "`seal_member` names the member of a record seal: add `seal = \"...\"` or `sign = \"...\"`",
            );
        }
        return;
    };
    let alias = attrs.seal.as_ref().or(attrs.sign.as_ref());
    if let Some(alias) = alias {
        let value = alias.value();
        if !is_valid_alias(&value) || names_a_file(&value) {
            cx.error_spanned_by(
                alias,
                format!(
                    "invalid alias `{value}`: use lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit, not ending in `file`, e.g. `\"{}\"`",
                    suggest_alias(&value)
                ),
            );
        }
    }
    if !matches!(container.body, Body::Struct(Shape::Named, _)) {
        cx.error_spanned_by(
            &container.input.ident,
            "a record seal is one more member of a JSON object: it needs a struct with named fields",
        );
        return;
    }
    let member = &seal.member;
    let spanned = attrs.seal_member.as_ref().or(alias);
    // Every name a field is read under: a member the seal field should
    // take must not go to a field instead.
    let read_as = |f: &Field<'_>| {
        let mut names = vec![f.aad_name.clone()];
        names.extend(crate::attr::side_name(
            &f.attrs.serde,
            "rename",
            "deserialize",
        ));
        names.extend(
            f.attrs
                .serde
                .iter()
                .filter(|m| m.path().is_ident("alias"))
                .filter_map(|m| match m {
                    Meta::NameValue(nv) => crate::attr::lit_str(&nv.value),
                    _ => None,
                }),
        );
        names
    };
    if member.is_empty() || container.fields().any(|f| read_as(f).contains(member)) {
        if let Some(spanned) = spanned {
            cx.error_spanned_by(
                spanned,
                format!(
                    "the record seal's member `{member}` is empty or a field's name: choose another with `seal_member = \"...\"`"
                ),
            );
        }
    }
    for field in container.fields() {
        for meta in &field.attrs.serde {
            let name = meta_name(meta);
            let reason = match name.as_str() {
                "flatten" => {
                    "the seal covers exactly the members the type declares, and flattening takes members it does not"
                }
                // Skipping only the one empty value (`None`, an empty list
                // or map) loses nothing the reader could be shown instead.
                "skip_serializing_if"
                    if matches!(meta, Meta::NameValue(nv) if crate::attr::lit_str(&nv.value)
                        .is_some_and(|p| p.ends_with("::is_none") || p.ends_with("::is_empty"))) =>
                {
                    continue;
                }
                "skip" | "skip_serializing" | "skip_deserializing" | "skip_serializing_if" => {
                    "the seal covers the record as the type writes it, so a member the type reads but does not write (or writes but does not read) would escape it"
                }
                "with" | "serialize_with" | "deserialize_with" => {
                    "the seal covers the record as the type writes it, and custom (de)serialization could take edited input to the same value"
                }
                _ => continue,
            };
            cx.error_spanned_by(
                meta.path(),
                format!("`#[serde({name})]` cannot apply in a sealed record: {reason}"),
            );
        }
    }
}

fn check_generics(cx: &Ctxt, container: &Container<'_>) {
    for param in &container.input.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            cx.error_spanned_by(
                lifetime,
                "lifetime parameters are not supported: a decrypted value owns its data; use owned types such as `String`",
            );
        }
    }
}

/// Enum layouts the companion cannot reproduce, and names that would make
/// `Variant.field` bindings ambiguous.
fn check_enum(cx: &Ctxt, container: &Container<'_>) {
    let Body::Enum(variants) = &container.body else {
        return;
    };
    let has = |name: &str| find(&container.attrs.serde, name).is_some();
    let internally_tagged = has("tag") && !has("content") && !has("untagged");
    let encrypted = |fields: &[Field<'_>]| fields.iter().any(|f| f.attrs.encrypt.is_some());
    if variants.iter().any(|v| encrypted(&v.fields)) {
        // serde tries untagged variants in order and keeps the first whose
        // shape fits; every envelope is a string, so a sealed value could
        // come back as another variant's data instead of failing.
        let why = "serde picks the first variant whose shape fits, and an envelope is a string that fits any string variant, so ciphertext could be returned as data; use a tagged representation (the default, `tag = \"...\"`, or `tag` with `content`)";
        if let Some(untagged) = find(&container.attrs.serde, "untagged") {
            cx.error_spanned_by(
                untagged.path(),
                format!(
                    "`#[serde(untagged)]` cannot apply to an enum with encrypted fields: {why}"
                ),
            );
        }
        for variant in variants {
            if let Some(untagged) = find(&variant.attrs.serde, "untagged") {
                cx.error_spanned_by(
                    untagged.path(),
                    format!("`#[serde(untagged)]` cannot apply to a variant of an enum with encrypted fields: {why}"),
                );
            }
        }
    }
    for variant in variants {
        if encrypted(&variant.fields) {
            for meta in &variant.attrs.serde {
                let name = meta_name(meta);
                if matches!(
                    name.as_str(),
                    "with" | "serialize_with" | "deserialize_with"
                ) {
                    cx.error_spanned_by(
                        meta.path(),
                        format!("`#[serde({name})]` cannot apply to a variant with encrypted fields: the generated type holds envelopes where your function expects plain values; implement `Serialize`/`Deserialize` on the field types instead"),
                    );
                }
            }
        }
        for field in &variant.fields {
            let bound_here = matches!(
                field.mode(),
                Mode::Sealed { .. } | Mode::NestedSealed { .. }
            );
            if bound_here && field.aad_name.matches('.').count() > 1 {
                cx.error_spanned_by(
                    field.original,
                    "a `.` in the serialized name of this variant or field would make its envelope binding ambiguous; rename without `.`",
                );
            }
            let sealed = matches!(
                field.mode(),
                Mode::Sealed { .. } | Mode::NestedSealed { .. }
            );
            if internally_tagged
                && variant.shape == Shape::Tuple
                && variant.fields.len() == 1
                && sealed
            {
                cx.error_spanned_by(
                    field.original,
                    "an internally tagged enum cannot hold an encrypted newtype variant: serde cannot add the tag to a ciphertext string; use `#[serde(tag = \"...\", content = \"...\")]` or a struct variant",
                );
            }
        }
    }
}

fn check_context(cx: &Ctxt, container: &Container<'_>) {
    if let Some(context) = &container.attrs.context {
        if context.value().is_empty() {
            cx.error_spanned_by(
                context,
                "empty context: write a stable name such as `context = \"customer\"`",
            );
        }
    }
}

/// Container serde attributes that would make the companion's serde impl
/// go through another type, which knows nothing of envelopes.
fn check_container_serde(cx: &Ctxt, container: &Container<'_>) {
    for meta in &container.attrs.serde {
        let name = meta_name(meta);
        let reason = match name.as_str() {
            "from" | "try_from" | "into" => {
                "converts through another type, which cannot hold the ciphertext"
            }
            "remote" => "derives for another type",
            "default" => "needs a default ciphertext, and there is none",
            _ => continue,
        };
        cx.error_spanned_by(
            meta.path(),
            format!(
                "`#[serde({name})]` cannot apply to the generated `Encrypted` type: it {reason}"
            ),
        );
    }
}

/// Whether `option`, which applies only to a field sealed whole under a
/// key (`deterministic`, `bytes`), can apply here: refused with `nested`
/// (for `nested_why`) and without `key`.
fn sealed_whole(
    cx: &Ctxt,
    encrypt: &attr::Encrypt,
    span: proc_macro2::Span,
    option: &str,
    nested_why: &str,
) -> bool {
    if encrypt.nested.is_some() {
        let message = format!("`{option}` cannot combine with `nested`: {nested_why}");
        cx.syn_error(syn::Error::new(span, message));
        false
    } else if encrypt.key.is_none() && !encrypt.malformed {
        let message = format!("`{option}` needs a key: `#[encrypt(key = \"...\", {option})]`");
        cx.syn_error(syn::Error::new(span, message));
        false
    } else {
        true
    }
}

fn check_field(cx: &Ctxt, field: &Field<'_>) {
    let Some(encrypt) = &field.attrs.encrypt else {
        return;
    };
    if matches!(field.mode(), Mode::Plain) && encrypt.bind.is_some() {
        // A bound plain field: `check_binding` has its rules.
        return;
    }
    match (&encrypt.key, encrypt.nested) {
        (None, None) if encrypt.malformed || encrypt.bind.is_some() => {}
        (None, None) => cx.error_spanned_by(
            &encrypt.attr,
            "missing `key`: write `#[encrypt(key = \"...\")]`, or `#[encrypt(nested)]` for a type that derives `Encrypt`",
        ),
        (Some(key), _) if key.value().is_empty() => {
            cx.error_spanned_by(key, "empty alias: name the key, e.g. `key = \"pii\"`")
        }
        (Some(key), _) if !is_valid_alias(&key.value()) => cx.error_spanned_by(
            key,
            format!(
                "invalid alias `{}`: use lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit, e.g. `key = \"{}\"`",
                key.value(),
                                suggest_alias(&key.value())
            ),
        ),
        (Some(key), _) if names_a_file(&key.value()) => cx.error_spanned_by(
            key,
            format!(
                "alias `{}` cannot end in `file`: its variable would end in `_FILE`, which names a file holding the key",
                key.value()
            ),
        ),
        _ => {}
    }
    if let Some(span) = encrypt.deterministic {
        let nested_why = "the nested type's own envelopes are randomized; seal the field whole with `#[encrypt(key = \"...\", deterministic)]`";
        if sealed_whole(cx, encrypt, span, DETERMINISTIC, nested_why) {
            check_ordered(
                cx,
                field,
                "deterministic",
                "equal values must seal to equal envelopes",
            );
        }
    }
    if let Some(span) = encrypt.bytes {
        let nested_why = "a nested type is sealed as its JSON object; seal a byte-string field with `#[encrypt(key = \"...\", bytes)]`";
        sealed_whole(cx, encrypt, span, BYTES, nested_why);
    }
    for meta in &field.attrs.serde {
        let name = meta_name(meta);
        let reason = match name.as_str() {
            "with" | "serialize_with" | "deserialize_with" => {
                "the field travels as a ciphertext string; implement `Serialize`/`Deserialize` on the field's type instead"
            }
            "flatten" if !matches!(field.mode(), Mode::Nested { .. }) => {
                "an envelope is one string with no fields to flatten; flatten a `#[encrypt(nested)]` field instead"
            }
            "skip" | "skip_serializing" | "skip_deserializing" => {
                "a skipped field is never sent; remove `#[encrypt]` or the skip"
            }
            "getter" | "borrow" => "the generated field is an owned envelope",
            "default" if matches!(meta, Meta::NameValue(_)) => {
                "the function returns a plain value where the generated type holds an envelope; use `#[serde(default)]` on an `Option<...>` field (its default is `None`), or on a `#[encrypt(nested)]` collection"
            }
            "default"
                if matches!(field.mode(), Mode::Nested { .. }) && !has_default_companion(field) =>
            {
                "the generated companion of a nested struct has no default; make the field an `Option<...>` (default `None`), a `Vec` or a map"
            }
            "default"
                if field.option_inner.is_none() && !matches!(field.mode(), Mode::Nested { .. }) =>
            {
                "there is no default ciphertext; use an `Option<...>` field, whose default is `None`"
            }
            _ => continue,
        };
        let shown = match meta {
            Meta::NameValue(_) => format!("{name} = \"...\""),
            _ => name,
        };
        cx.error_spanned_by(
            meta.path(),
            format!("`#[serde({shown})]` cannot apply to an encrypted field: {reason}"),
        );
    }
}

/// Each deterministic field's `lookup_*` method must have a name of its
/// own: `A { b_c }` and `AB { c }` would both give `lookup_a_b_c`.
fn check_lookup_names(cx: &Ctxt, container: &Container<'_>) {
    let mut seen: Vec<(String, &Field<'_>)> = Vec::new();
    for field in container.fields() {
        let Some(encrypt) = &field.attrs.encrypt else {
            continue;
        };
        if let Some(lookup) = &encrypt.lookup {
            if encrypt.deterministic.is_none() {
                cx.error_spanned_by(
                    lookup,
                    "`lookup` names the lookup method of a deterministic field: add `deterministic`, or remove `lookup`",
                );
                continue;
            }
            let name = lookup.value();
            if name.starts_with("r#") || syn::parse_str::<syn::Ident>(&name).is_err() {
                cx.error_spanned_by(
                    lookup,
                    format!(
                        "`lookup` must be a method name, e.g. `lookup = \"find_by_{}\"`",
                        field.member_name()
                    ),
                );
                continue;
            }
        }
        let Some(method) = field.lookup_method() else {
            continue;
        };
        match seen.iter().find(|(name, _)| *name == method) {
            Some((_, first)) => cx.error_spanned_by(
                &encrypt.attr,
                format!(
                    "the lookup method `{method}` of `{}` is also generated for `{}`; name one with `#[encrypt(..., lookup = \"...\")]`",
                    field.aad_name, first.aad_name
                ),
            ),
            None => seen.push((method, field)),
        }
    }
}

/// Whether a nested field's companion type has a `Default`: `Option`,
/// `Vec` and maps of companions do (recognised by name, as serde
/// recognises `Option`); a derived companion does not.
fn has_default_companion(field: &Field<'_>) -> bool {
    let syn::Type::Path(path) = field.ty() else {
        return false;
    };
    path.path.segments.last().is_some_and(|last| {
        ["Option", "Vec", "HashMap", "BTreeMap"].contains(&last.ident.to_string().as_str())
    })
}

/// The first item named `name`, if any.
/// `#[encrypt(proto)]`: a prost message, whose companion is a prost message
/// with the same tags and each envelope as `bytes`. What has no such form
/// is refused here; a field of another prost type without `proto` too.
fn check_proto(cx: &Ctxt, container: &Container<'_>) {
    let Some(span) = container.attrs.proto else {
        if let Some(prost) = container.fields().find_map(|f| f.attrs.prost.as_ref()) {
            cx.error_spanned_by(
                prost,
                "a prost message needs `#[encrypt(proto)]` (encrypted-fields-build adds it): its companion is then a prost message too",
            );
        }
        return;
    };
    let refuse = |spanned: &dyn quote::ToTokens, what: &str| {
        cx.error_spanned_by(spanned, format!("{what} (`#[encrypt(proto)]`)"));
    };
    if !matches!(container.body, Body::Struct(Shape::Named, _)) {
        cx.syn_error(syn::Error::new(
            span,
            "`proto` takes a prost message: a struct with named fields",
        ));
        return;
    }
    if let Some(seal) = container
        .attrs
        .seal
        .as_ref()
        .or(container.attrs.sign.as_ref())
    {
        refuse(
            seal,
            "record seals cover a record's JSON form; a proto message has none yet: seal its fields, or wrap it in a message sealed as JSON",
        );
    }
    for field in container.fields() {
        let Some(prost) = &field.attrs.prost else {
            refuse(
                &field.original.ty,
                "every field of a prost message has `#[prost(...)]`",
            );
            continue;
        };
        let text = prost.meta.to_token_stream().to_string();
        match field.mode() {
            Mode::NestedSealed { .. } => refuse(
                prost,
                "a nested message sealed whole would need a protobuf plaintext; seal its fields (`nested` without `key`)",
            ),
            Mode::Sealed { .. } if text.contains("oneof") => refuse(
                prost,
                "a oneof cannot be sealed: its members are fields of the message; seal each member's value in its own message",
            ),
            Mode::Sealed { .. } if prost_tag(prost).is_none() => {
                refuse(prost, "no `tag = \"...\"` in `#[prost(...)]`")
            }
            _ => {}
        }
    }
}

/// The `tag = "N"` of a `#[prost(...)]` attribute.
pub(crate) fn prost_tag(prost: &syn::Attribute) -> Option<syn::LitStr> {
    let Meta::List(list) = &prost.meta else {
        return None;
    };
    list.parse_args_with(syn::punctuated::Punctuated::<Meta, syn::Token![,]>::parse_terminated)
        .ok()?
        .into_iter()
        .find_map(|meta| match meta {
            Meta::NameValue(nv) if nv.path.is_ident("tag") => match nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(tag),
                    ..
                }) => Some(tag),
                _ => None,
            },
            _ => None,
        })
}

/// A bound or deterministic field must write the same JSON every time:
/// `HashMap` and `HashSet` iterate in a different order in each process.
fn check_ordered(cx: &Ctxt, field: &Field<'_>, what: &str, why: &str) {
    struct Finder(Option<proc_macro2::Span>);
    impl<'ast> syn::visit::Visit<'ast> for Finder {
        fn visit_path_segment(&mut self, segment: &'ast syn::PathSegment) {
            if self.0.is_none() && (segment.ident == "HashMap" || segment.ident == "HashSet") {
                self.0 = Some(segment.ident.span());
            }
            syn::visit::visit_path_segment(self, segment);
        }
    }
    let mut finder = Finder(None);
    syn::visit::Visit::visit_type(&mut finder, field.ty());
    if let Some(span) = finder.0 {
        cx.syn_error(syn::Error::new(
            span,
            format!("a {what} field must write the same JSON every time ({why}), and `HashMap`/`HashSet` iterate in a different order in each process: use `BTreeMap`/`BTreeSet`"),
        ));
    }
}

fn find<'m>(metas: &'m [Meta], name: &str) -> Option<&'m Meta> {
    metas.iter().find(|m| m.path().is_ident(name))
}

fn meta_name(meta: &Meta) -> String {
    meta.path()
        .get_ident()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// `[a-z0-9][a-z0-9_.-]*`, the rule the runtime's keyrings enforce too
/// (the runtime crate cannot be a dependency of this proc-macro crate).
fn is_valid_alias(alias: &str) -> bool {
    let mut bytes = alias.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.-".contains(&b))
}

/// An alias whose variable would end in `_FILE`, which names a file.
fn names_a_file(alias: &str) -> bool {
    ["_file", "-file", ".file"]
        .iter()
        .any(|suffix| alias.ends_with(suffix))
}

/// A valid alias close to an invalid one, for the error message.
fn suggest_alias(alias: &str) -> String {
    let cleaned: String = alias
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_.-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .collect();
    if cleaned.is_empty() {
        "pii".to_owned()
    } else {
        cleaned
    }
}

/// `#[encrypt(derive(...))]` adds derives to a JSON companion; a proto
/// companion's derives are prost's.
fn check_derives(cx: &Ctxt, container: &Container<'_>) {
    let (sqlx, diesel) = (
        crate::expand::from_row(container),
        crate::expand::derives_diesel(container),
    );
    for field in container.fields() {
        check_database_attrs(cx, field, sqlx, diesel);
    }
    let Some(path) = container.attrs.derives.first() else {
        return;
    };
    // The companion derives these itself.
    const BUILT_IN: &[&str] = &["Clone", "Debug", "PartialEq", "Serialize", "Deserialize"];
    for path in &container.attrs.derives {
        if let Some(name) = path.segments.last().map(|s| s.ident.to_string()) {
            if BUILT_IN.contains(&name.as_str()) {
                cx.error_spanned_by(
                    path,
                    format!("the companion derives `{name}` already (it always has Clone, Debug, PartialEq, Serialize and Deserialize)"),
                );
            }
        }
    }
    if container.attrs.proto.is_some() {
        cx.error_spanned_by(
            path,
            "`derive(...)` adds derives to a JSON companion; a proto companion is a prost message",
        );
    }
    if container.record_seal().is_some() && crate::expand::derives_diesel(container) {
        cx.error_spanned_by(
            path,
            "a sealed record's seal has no Diesel column type: use sqlx (`derive(sqlx::FromRow)`) or store the record as JSON",
        );
    }
}

/// sqlx and Diesel options that would read or write an encrypted field's
/// column as something else than its envelope (JSON, a conversion, a
/// default, another expression, or nothing at all), on a companion that
/// derives their traits (where the attributes carry over).
fn check_database_attrs(cx: &Ctxt, field: &Field<'_>, sqlx: bool, diesel: bool) {
    const SQLX: &[&str] = &["json", "try_from", "flatten", "skip", "default"];
    const DIESEL: &[&str] = &[
        "serialize_as",
        "deserialize_as",
        "embed",
        "select_expression",
        "select_expression_type",
        "skip_insertion",
        "skip_update",
    ];
    if !matches!(
        field.mode(),
        Mode::Sealed { .. } | Mode::NestedSealed { .. }
    ) {
        return;
    }
    for attr in &field.attrs.database {
        let (krate, refused) = if sqlx && attr.path().is_ident("sqlx") {
            ("sqlx", SQLX)
        } else if diesel && attr.path().is_ident("diesel") {
            ("diesel", DIESEL)
        } else {
            continue;
        };
        let _ = attr.parse_nested_meta(|meta| {
            let name = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
            if refused.contains(&name.as_str()) {
                cx.error_spanned_by(
                    &meta.path,
                    format!("`#[{krate}({name})]` cannot apply to an encrypted field: its column holds the envelope"),
                );
            }
            if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            } else if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                meta.input.parse::<proc_macro2::TokenTree>()?;
            }
            Ok(())
        });
    }
}

/// `#[encrypt(schema)]` needs the runtime crate's `schemars` feature (which
/// turns on this crate's), and a JSON companion.
fn check_schema(cx: &Ctxt, container: &Container<'_>) {
    let Some(span) = container.attrs.schema else {
        return;
    };
    if !cfg!(feature = "schemars") {
        cx.syn_error(syn::Error::new(
            span,
            "`schema` needs the `schemars` feature of encrypted-fields (`utoipa` for OpenAPI too)",
        ));
    }
    if container.attrs.proto.is_some() {
        cx.syn_error(syn::Error::new(
            span,
            "a proto companion is protobuf bytes, not JSON: it has no JSON schema",
        ));
    }
    let tag = container
        .attrs
        .serde
        .iter()
        .any(|m| m.path().is_ident("tag"));
    if tag && matches!(container.body, Body::Struct(..)) {
        cx.syn_error(syn::Error::new(
            span,
            "`schema` cannot describe a struct's `#[serde(tag)]` member: schemars leaves it out",
        ));
    }
}

#[cfg(test)]
mod tests {
    /// The derive and the runtime keep one alias rule (the derive cannot
    /// call the runtime, which depends on it).
    #[test]
    fn the_alias_rule_is_the_runtimes() {
        let corpus = [
            "pii",
            "eu.pii-v2",
            "a",
            "9x",
            "banking_2",
            "",
            "Pii",
            "-pii",
            "_pii",
            ".pii",
            "pii file",
            "pii/x",
            "audit_file",
            "audit-file",
            "audit.file",
            "filed",
            "file",
            "é",
            "pii\n",
            "x_",
            "x.",
            "x-",
        ];
        for alias in corpus {
            let derive = super::is_valid_alias(alias) && !super::names_a_file(alias);
            assert_eq!(derive, encrypted_fields::is_valid_alias(alias), "{alias:?}");
        }
    }
}
