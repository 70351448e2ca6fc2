//! JSON Schema (feature `schemars`) and OpenAPI (feature `utoipa`) for the
//! generated companion types. The derive adds `#[derive(JsonSchema)]` to
//! each companion, so its plain fields, serde attributes and nested
//! companions are described as schemars describes any type; this module
//! describes what only the library knows: an envelope, a record seal, and
//! how a JSON Schema becomes an OpenAPI 3.1 schema, so both documents come
//! from one description.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};

use crate::record::RecordSeal;
use crate::sealed::Sealed;

/// The `format` of an encrypted field's string: an envelope as base64url
/// text without padding (docs/FORMAT.md).
pub const ENVELOPE_FORMAT: &str = "encrypted-fields-envelope";

/// The `format` of a sealed record's seal member: a MAC or signature as
/// base64url text without padding (docs/FORMAT.md).
pub const RECORD_SEAL_FORMAT: &str = "encrypted-fields-record-seal";

/// base64url without padding, as the companion's deserializer accepts it
/// (no length of 1 modulo 4).
const BASE64URL: &str = "^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$";

/// Inline, whatever `T` is: an envelope is a string, not a reference to a
/// definition per sealed type. The field's description (from the derive)
/// names its key alias.
impl<T> JsonSchema for Sealed<T> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "EncryptedFieldsEnvelope".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": ENVELOPE_FORMAT,
            "pattern": BASE64URL,
        })
    }
}

impl JsonSchema for RecordSeal {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "EncryptedFieldsRecordSeal".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": RECORD_SEAL_FORMAT,
            "pattern": BASE64URL,
            "description": "The record seal: a MAC or signature over every other member.",
        })
    }
}

#[cfg(feature = "utoipa")]
pub(crate) mod openapi {
    //! A companion's `utoipa::ToSchema`, from its JSON Schema: OpenAPI 3.1
    //! schemas are JSON Schema (draft 2020-12), with definitions under
    //! `#/components/schemas/`.

    use schemars::JsonSchema;
    use schemars::generate::{SchemaGenerator, SchemaSettings};
    use serde_json::Value;
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType};

    fn generator() -> SchemaGenerator {
        SchemaSettings::draft2020_12()
            .with(|settings| {
                settings.definitions_path = "/components/schemas/".into();
                settings.meta_schema = None;
            })
            .into_generator()
    }

    /// `T`'s own schema, with references to the components it uses.
    pub(crate) fn schema<T: JsonSchema + ?Sized>() -> RefOr<Schema> {
        convert(T::json_schema(&mut generator()).to_value())
    }

    /// The components `T`'s schema refers to, at any depth.
    pub(crate) fn schemas<T: JsonSchema + ?Sized>(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        let mut generator = generator();
        T::json_schema(&mut generator);
        for (name, definition) in generator.take_definitions(true) {
            schemas.push((name, convert(definition)));
        }
    }

    /// The schema in utoipa's model. That model is narrower than JSON
    /// Schema, so `schema` is first rewritten into equivalents it can hold
    /// ([`fit`]); what still does not parse becomes an unconstrained schema
    /// that says so, never a wrong type.
    fn convert(mut value: Value) -> RefOr<Schema> {
        fit(&mut value);
        serde_json::from_value(value).unwrap_or_else(|_| {
            RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(SchemaType::AnyValue)
                    .description(Some(
                        "encrypted-fields: this JSON Schema has no OpenAPI form in utoipa's model",
                    ))
                    .build(),
            ))
        })
    }

    /// Keywords whose value is one subschema, a list of them, or a map of
    /// names to them.
    const ONE: &[&str] = &[
        "items",
        "additionalProperties",
        "unevaluatedProperties",
        "not",
        "if",
        "then",
        "else",
        "contains",
        "propertyNames",
    ];
    const LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
    const NAMED: &[&str] = &[
        "properties",
        "patternProperties",
        "$defs",
        "dependentSchemas",
    ];
    const COMPOSITE: &[&str] = &["allOf", "anyOf", "oneOf"];
    /// What utoipa keeps beside a `$ref`.
    const BESIDE_REF: &[&str] = &["$ref", "description", "summary", "readOnly", "writeOnly"];

    /// Rewrites `schema` and its subschemas (never data: `default`,
    /// `enum`, `examples`, or a property that happens to be named `const`)
    /// into forms utoipa 6 parses without loss:
    /// - `const` becomes a one-value `enum` (JSON Schema 2020-12, 6.1.3);
    /// - `true` and a schema without `type`, `$ref` or a composition become
    ///   `type: null`, utoipa's any-value (it requires `type` otherwise);
    /// - `prefixItems` without `items` gets `items: false` (a tuple), and
    ///   a reference among them is wrapped in `allOf` (utoipa's prefix
    ///   items are schemas, not references);
    /// - `patternProperties` (a map with non-string keys) moves into
    ///   `additionalProperties`, where utoipa has a place for it;
    /// - a `$ref` with siblings utoipa's reference drops is wrapped in
    ///   `allOf`, and so is a composition beside a `type` (utoipa would
    ///   read the `type` and drop the composition).
    fn fit(schema: &mut Value) {
        if *schema == Value::Bool(true) {
            *schema = serde_json::json!({ "type": null });
            return;
        }
        let Value::Object(map) = schema else {
            return;
        };
        for (keyword, value) in map.iter_mut() {
            let keyword = keyword.as_str();
            if ONE.contains(&keyword) {
                fit(value);
            } else if LIST.contains(&keyword) {
                if let Value::Array(schemas) = value {
                    schemas.iter_mut().for_each(fit);
                    if keyword == "prefixItems" {
                        for item in schemas.iter_mut().filter(|s| s.get("$ref").is_some()) {
                            *item = serde_json::json!({ "allOf": [item.take()] });
                        }
                    }
                }
            } else if NAMED.contains(&keyword) {
                if let Value::Object(named) = value {
                    named.values_mut().for_each(fit);
                }
            }
        }
        if let Some(constant) = map.remove("const") {
            map.insert("enum".into(), Value::Array(vec![constant]));
        }
        if map.contains_key("prefixItems") && !map.contains_key("items") {
            map.insert("items".into(), Value::Bool(false));
        }
        if let Some(Value::Object(patterns)) = map.remove("patternProperties") {
            if let Some(values) = patterns.into_iter().next().map(|(_, schema)| schema) {
                map.insert("additionalProperties".into(), values);
            }
        }
        if map.contains_key("$ref") && map.keys().any(|k| !BESIDE_REF.contains(&k.as_str())) {
            let reference = serde_json::json!({ "$ref": map.remove("$ref") });
            map.insert("allOf".into(), Value::Array(vec![reference]));
        } else if map.contains_key("type") && COMPOSITE.iter().any(|k| map.contains_key(*k)) {
            let compositions: serde_json::Map<String, Value> = COMPOSITE
                .iter()
                .filter_map(|k| map.remove(*k).map(|v| ((*k).to_owned(), v)))
                .collect();
            let rest = Value::Object(std::mem::take(map));
            map.insert(
                "allOf".into(),
                Value::Array(vec![rest, Value::Object(compositions)]),
            );
        } else if !map.contains_key("type")
            && !map.contains_key("$ref")
            && !COMPOSITE.iter().any(|k| map.contains_key(*k))
        {
            map.insert("type".into(), Value::Null);
        }
    }
}
