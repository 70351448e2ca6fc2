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

/// base64url without padding, as the companion's deserializer accepts it.
const BASE64URL: &str = "^[A-Za-z0-9_-]*$";

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
    use utoipa::openapi::schema::Schema;

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

    /// utoipa's schema model has no `const`; `enum` with one value says
    /// the same (JSON Schema 2020-12, section 6.1.3).
    fn convert(mut value: Value) -> RefOr<Schema> {
        consts_to_enums(&mut value);
        // Every JSON object is a valid `Object` schema to utoipa (unknown
        // keywords are ignored), so this does not fail on schemars' output;
        // were it to, an unconstrained schema is the honest fallback.
        serde_json::from_value(value).unwrap_or_else(|_| RefOr::T(Schema::default()))
    }

    /// Rewrites `const` in `schema` and its subschemas, and nowhere else:
    /// a property may be named `const`, and `default` or `enum` hold data.
    fn consts_to_enums(schema: &mut Value) {
        let Value::Object(map) = schema else {
            return;
        };
        if let Some(constant) = map.remove("const") {
            map.insert("enum".into(), Value::Array(vec![constant]));
        }
        for (keyword, value) in map.iter_mut() {
            match keyword.as_str() {
                "properties" | "patternProperties" | "$defs" | "dependentSchemas" => {
                    if let Value::Object(named) = value {
                        named.values_mut().for_each(consts_to_enums);
                    }
                }
                "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                    if let Value::Array(schemas) = value {
                        schemas.iter_mut().for_each(consts_to_enums);
                    }
                }
                "items"
                | "additionalProperties"
                | "unevaluatedProperties"
                | "not"
                | "if"
                | "then"
                | "else"
                | "contains"
                | "propertyNames" => consts_to_enums(value),
                _ => {}
            }
        }
    }
}
