//! Checks that need the whole parsed input. Every user error the derive
//! reports comes from here or from parsing, never from expansion.

use syn::{GenericParam, Meta};

use crate::ast::{Body, Container, Field, Mode, Shape};
use crate::ctxt::Ctxt;

pub(crate) fn check(cx: &Ctxt, container: &Container<'_>) {
    check_generics(cx, container);
    check_enum(cx, container);
    check_context(cx, container);
    check_container_serde(cx, container);
    for field in container.fields() {
        check_field(cx, field);
    }
    if container.fields().all(|f| f.attrs.encrypt.is_none()) {
        cx.error_spanned_by(
            &container.input.ident,
            "no field has `#[encrypt(key = \"...\")]` or `#[encrypt(nested)]`; mark the sensitive fields, or remove `#[derive(Encrypt)]`",
        );
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
    let has = |name: &str| {
        container
            .attrs
            .serde
            .iter()
            .any(|m| m.path().is_ident(name))
    };
    let internally_tagged = has("tag") && !has("content") && !has("untagged");
    for variant in variants {
        for field in &variant.fields {
            if field.aad_name.matches('.').count() > 1 {
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

fn check_field(cx: &Ctxt, field: &Field<'_>) {
    let Some(encrypt) = &field.attrs.encrypt else {
        return;
    };
    match (&encrypt.key, encrypt.nested) {
        (None, None) if encrypt.malformed => {}
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
        if encrypt.nested.is_some() {
            cx.syn_error(syn::Error::new(
                span,
                "`deterministic` cannot combine with `nested`: the nested type's own envelopes are randomized; seal the field whole with `#[encrypt(key = \"...\", deterministic)]`",
            ));
        } else if encrypt.key.is_none() && !encrypt.malformed {
            cx.syn_error(syn::Error::new(
                span,
                "`deterministic` needs a key: `#[encrypt(key = \"...\", deterministic)]`",
            ));
        }
    }
    for meta in &field.attrs.serde {
        let name = meta_name(meta);
        let reason = match name.as_str() {
            "with" | "serialize_with" | "deserialize_with" => {
                "the field travels as a ciphertext string; implement `Serialize`/`Deserialize` on the field's type instead"
            }
            "flatten" if !matches!(field.mode(), Mode::Nested) => {
                "an envelope is one string with no fields to flatten; flatten a `#[encrypt(nested)]` field instead"
            }
            "skip" | "skip_serializing" | "skip_deserializing" => {
                "a skipped field is never sent; remove `#[encrypt]` or the skip"
            }
            "getter" | "borrow" => "the generated field is an owned envelope",
            "default" if field.option_inner.is_none() => {
                "there is no default ciphertext; use an `Option<...>` field, whose default is `None`"
            }
            _ => continue,
        };
        cx.error_spanned_by(
            meta.path(),
            format!("`#[serde({name})]` cannot apply to an encrypted field: {reason}"),
        );
    }
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
