//! The `schemars` and `utoipa` features: companions of types marked
//! `#[encrypt(schema)]` describe themselves
//! as JSON Schema and OpenAPI, with each encrypted field a string of a
//! documented format whose description names its key alias, and a real
//! sealed body validates against the schema (Python's `jsonschema`).

mod common;
#[path = "common/jsonschema.rs"]
mod jsonschema;

use common::{BANKING_128, PII_256};
use encrypted_fields::{Encrypt, EnvKeyring};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{PartialSchema, ToSchema};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
#[encrypt(schema)]
struct Address {
    #[encrypt(key = "pii")]
    street: String,
    city: String,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
#[encrypt(seal = "banking", schema)]
struct Account {
    #[encrypt(bind)]
    id: u64,
    /// Where statements go.
    #[encrypt(key = "pii", deterministic)]
    email: String,
    #[encrypt(key = "pii")]
    #[serde(skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[encrypt(nested)]
    home: Address,
    #[encrypt(nested, key = "banking")]
    billing: Address,
    #[encrypt(nested)]
    kind: Kind,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(tag = "type")]
#[encrypt(schema)]
enum Kind {
    Person,
    Company {
        #[encrypt(key = "banking")]
        tax_id: String,
    },
}

fn keyring() -> EnvKeyring {
    EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", PII_256),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
    ])
    .unwrap()
}

fn account() -> Account {
    let address = |street: &str| Address {
        street: street.into(),
        city: "Springfield".into(),
    };
    Account {
        id: 7,
        email: "ada@example.com".into(),
        phone: None,
        home: address("742 Evergreen Terrace"),
        billing: address("1 Infinite Loop"),
        kind: Kind::Company {
            tax_id: "DE123456789".into(),
        },
    }
}

#[test]
fn the_json_schema_describes_envelopes_by_alias_and_a_sealed_body_validates() {
    let schema = serde_json::to_value(schemars::schema_for!(EncryptedAccount)).unwrap();
    assert_eq!(schema["title"], "EncryptedAccount", "its own name");
    let properties = &schema["properties"];
    assert_eq!(properties["id"]["type"], "integer", "plain as in Account");
    let email = &properties["email"];
    assert_eq!(email["type"], "string");
    assert_eq!(email["format"], "encrypted-fields-envelope");
    let description = email["description"].as_str().unwrap();
    assert!(
        description.starts_with("Where statements go.")
            && description.contains("deterministically with the key alias `pii`"),
        "{description}"
    );
    assert_eq!(
        properties["phone"]["type"],
        json!(["string", "null"]),
        "an Option is nullable"
    );
    assert_eq!(properties["home"]["$ref"], "#/$defs/EncryptedAddress");
    assert_eq!(properties["billing"]["format"], "encrypted-fields-envelope");
    assert!(
        properties["billing"]["description"]
            .as_str()
            .unwrap()
            .contains("nested record encrypted whole with the key alias `banking`")
    );
    assert_eq!(
        properties["_seal"]["format"],
        "encrypted-fields-record-seal"
    );
    let address = &schema["$defs"]["EncryptedAddress"]["properties"];
    assert_eq!(address["street"]["format"], "encrypted-fields-envelope");
    assert!(address["city"].get("format").is_none());

    let body = serde_json::to_value(account().encrypt(&keyring()).unwrap()).unwrap();
    let mut plaintext = body.clone();
    plaintext["email"] = json!("ada@example.com");
    let mut unsealed_child = body.clone();
    unsealed_child["home"]["street"] = json!({ "line": 1 });
    let mut wrong_kind = body.clone();
    wrong_kind["kind"]["type"] = json!("Robot");
    assert_eq!(
        jsonschema::validate(&schema, &[body, plaintext, unsealed_child, wrong_kind]),
        [true, false, false, false]
    );
}

#[test]
fn utoipa_gets_the_same_schema_with_components_for_what_it_refers_to() {
    assert_eq!(EncryptedAccount::name(), "EncryptedAccount");
    let schema = serde_json::to_value(EncryptedAccount::schema()).unwrap();
    let properties = &schema["properties"];
    assert_eq!(properties["email"]["format"], "encrypted-fields-envelope");
    assert_eq!(
        properties["home"]["$ref"],
        "#/components/schemas/EncryptedAddress"
    );
    let mut components = Vec::new();
    EncryptedAccount::schemas(&mut components);
    let names: Vec<&str> = components.iter().map(|(name, _)| name.as_str()).collect();
    assert!(
        names.contains(&"EncryptedAddress") && names.contains(&"EncryptedKind"),
        "{names:?}"
    );
    // utoipa has no `const`: the enum's tag is a one-value `enum`.
    let kind = components
        .iter()
        .find(|(name, _)| name == "EncryptedKind")
        .map(|(_, schema)| serde_json::to_value(schema).unwrap())
        .unwrap();
    let tags: Vec<&Value> = kind["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| &variant["properties"]["type"]["enum"])
        .collect();
    assert_eq!(tags, [&json!(["Person"]), &json!(["Company"])], "{kind}");

    // The OpenAPI form validates the same body.
    let body = serde_json::to_value(account().encrypt(&keyring()).unwrap()).unwrap();
    let mut plaintext = body.clone();
    plaintext["billing"] = json!({ "street": "1 Infinite Loop", "city": "Springfield" });
    let components: serde_json::Map<String, Value> = components
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap()))
        .collect();
    let document = json!({
        "allOf": [schema],
        "components": { "schemas": components },
    });
    assert_eq!(
        jsonschema::validate(&document, &[body, plaintext]),
        [true, false]
    );
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(schema)]
struct Page<T> {
    #[encrypt(nested)]
    items: Vec<T>,
    #[encrypt(key = "pii")]
    cursor: T,
}

#[test]
fn generic_companions_describe_their_parameters_companions() {
    let schema = serde_json::to_value(schemars::schema_for!(EncryptedPage<Address>)).unwrap();
    assert_eq!(schema["title"], "EncryptedPage");
    assert_eq!(
        schema["properties"]["items"]["items"]["$ref"],
        "#/$defs/EncryptedAddress"
    );
    assert_eq!(
        schema["properties"]["cursor"]["format"],
        "encrypted-fields-envelope"
    );
    assert_eq!(EncryptedPage::<Address>::name(), "EncryptedPage");
}

/// Shapes utoipa's model holds only after rewriting: a tuple, a map with
/// integer keys, a reference among tuple items, any JSON value.
#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[encrypt(schema)]
struct Ledger(
    #[encrypt(key = "pii")] String,
    #[encrypt(nested)] std::collections::BTreeMap<u64, Address>,
    #[encrypt(nested)] Address,
    serde_json::Value,
);

#[test]
fn tuples_integer_keyed_maps_and_any_values_keep_their_meaning_in_openapi() {
    let openapi = serde_json::to_value(EncryptedLedger::schema()).unwrap();
    assert!(
        !openapi.to_string().contains("has no OpenAPI form"),
        "{openapi}"
    );
    assert_eq!(openapi["items"], false, "a tuple: {openapi}");
    assert_eq!(
        openapi["prefixItems"][0]["format"],
        "encrypted-fields-envelope"
    );
    let mut components = Vec::new();
    EncryptedLedger::schemas(&mut components);
    let components: serde_json::Map<String, Value> = components
        .into_iter()
        .map(|(name, schema)| (name, serde_json::to_value(schema).unwrap()))
        .collect();
    let document = json!({
        "allOf": [openapi],
        "components": { "schemas": components },
    });
    let address = |street: &str| Address {
        street: street.into(),
        city: "Springfield".into(),
    };
    let ledger = Ledger(
        "ada@example.com".into(),
        [(7, address("1 Main St"))].into(),
        address("2 Main St"),
        json!({ "any": ["json", 1] }),
    );
    let body = serde_json::to_value(ledger.encrypt(&keyring()).unwrap()).unwrap();
    let mut plain_entry = body.clone();
    plain_entry[1]["7"]["street"] = json!({ "line": "1 Main St" });
    let mut extra = body.clone();
    extra.as_array_mut().unwrap().push(json!(1));
    assert_eq!(
        jsonschema::validate(&document, &[body, plain_entry, extra]),
        [true, false, false]
    );
}
