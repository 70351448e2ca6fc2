//! What the build helper accepts and refuses, on real `.proto` files, and
//! the companion descriptor set it writes.

use prost::Message;

/// `configure` on one file `test.proto` holding `body` (after the header).
fn configure(body: &str) -> std::io::Result<encrypted_fields_build::Protos> {
    let dir = tempfile::tempdir().unwrap();
    let proto = format!(
        "syntax = \"proto3\";\npackage shop;\nimport \"encrypted_fields/options.proto\";\n{body}"
    );
    std::fs::write(dir.path().join("test.proto"), proto).unwrap();
    encrypted_fields_build::configure(&[dir.path().join("test.proto")], &[dir.path()])
}

fn refused(body: &str, expected: &str) {
    let error = match configure(body) {
        Ok(_) => panic!("accepted: {body}"),
        Err(error) => error.to_string(),
    };
    assert!(error.contains(expected), "{error}\n(for {body})");
}

const CARD: &str = r#"message Card { string number = 1 [(encrypted_fields.key) = "pci"]; }"#;

#[test]
fn what_has_no_companion_form_is_refused_naming_the_field() {
    // Every option on a oneof member: prost makes it a variant the derive
    // does not see, so the card would travel in clear.
    refused(
        &format!(
            "{CARD} message Payment {{ string memo = 1 [(encrypted_fields.key) = \"pii\"]; oneof method {{ Card card = 2 [(encrypted_fields.nested) = true]; string iban = 3; }} }}"
        ),
        "shop.Payment.card: a oneof member takes no encrypted_fields option",
    );
    refused(
        &format!(
            "{CARD} message Ledger {{ Card card = 1 [(encrypted_fields.nested) = true, (encrypted_fields.key) = \"x\"]; }}"
        ),
        "`nested` with `key`",
    );
    // A plain reference to a message with encrypted fields.
    refused(
        &format!(
            "{CARD} message Audit {{ string note = 1 [(encrypted_fields.key) = \"pii\"]; Card card = 2; }}"
        ),
        "shop.Audit.card: shop.Card has encrypted fields; a plain field would carry it in clear",
    );
    refused(
        &format!("{CARD} message Wallet {{ map<string, Card> cards = 1; }}"),
        "shop.Wallet.cards: shop.Card has encrypted fields",
    );
    // Sealing a message with encrypted fields of its own under one key.
    refused(
        &format!(
            "{CARD} message Ledger {{ Card card = 1 [(encrypted_fields.key) = \"banking\"]; }}"
        ),
        "shop.Ledger.card: shop.Card has encrypted fields of its own",
    );
    refused(
        "message Plain { string a = 1; } message Holder { Plain plain = 1 [(encrypted_fields.nested) = true]; string s = 2 [(encrypted_fields.key) = \"pii\"]; }",
        "`nested` needs a message with encrypted fields",
    );
    refused(
        "message Blob { bytes data = 1 [(encrypted_fields.key) = \"pii\"]; }",
        "shop.Blob.data: `bytes` would be sealed as a JSON array",
    );
    refused(
        "message Tags { map<string, string> tags = 1; } message Holder { Tags tags = 1 [(encrypted_fields.key) = \"pii\", (encrypted_fields.deterministic) = true]; }",
        "a deterministic field must write the same JSON every time",
    );
    refused(
        "import \"google/protobuf/timestamp.proto\"; message When { google.protobuf.Timestamp at = 1; } message Holder { When when = 1 [(encrypted_fields.key) = \"pii\"]; }",
        "google.protobuf.Timestamp has no JSON form here",
    );
    // Names prost would change, which the envelope binds.
    for name in ["foo__bar", "_foo", "foo_", "self", "camelCase"] {
        refused(
            &format!("message Named {{ string {name} = 1 [(encrypted_fields.key) = \"pii\"]; }}"),
            "lower_snake_case name that prost keeps",
        );
    }
    // Declarations prost-build would give the outer message's attributes.
    refused(
        "message Order { message Item { string sku = 1; } repeated Item items = 1; string note = 2 [(encrypted_fields.key) = \"pii\"]; }",
        "shop.Order: a message with encrypted fields cannot declare other messages inside it",
    );
    refused(
        &format!("message Outer {{ {CARD} }}"),
        "shop.Outer.Card: a message with encrypted fields must be declared at file level",
    );
    refused(
        &format!("{CARD} message EncryptedCard {{ string x = 1; }}"),
        "shop.EncryptedCard is already declared",
    );
    // A generated service would send the plain form.
    refused(
        &format!("{CARD} service Cards {{ rpc Get(Card) returns (Card); }}"),
        "shop.Cards.Get: shop.Card has encrypted fields, and a generated service would send it in clear",
    );
}

#[test]
fn the_companion_descriptor_set_declares_every_companion_with_its_imports() {
    let protos = configure(
        r#"
        import "google/protobuf/timestamp.proto";
        message Card {
          string number = 1 [(encrypted_fields.key) = "pci"];
          google.protobuf.Timestamp issued = 2;
          optional string holder = 3 [(encrypted_fields.key) = "pii"];
        }
        message Wallet {
          option (encrypted_fields.bind_positions) = true;
          uint64 id = 1 [(encrypted_fields.bind) = true];
          map<string, Card> by_name = 2 [(encrypted_fields.nested) = true];
          repeated Card cards = 3 [(encrypted_fields.nested) = true, (encrypted_fields.bind_index) = true];
          oneof kind { string personal = 4; string business = 5; }
        }
        "#,
    )
    .unwrap();
    let set = prost_types::FileDescriptorSet::decode(protos.companion_descriptor_set().as_slice())
        .unwrap();
    let companion = set
        .file
        .iter()
        .find(|f| f.name() == "test.encrypted.proto")
        .unwrap();
    assert!(companion.dependency.contains(&"test.proto".to_owned()));
    assert!(
        companion
            .dependency
            .contains(&"google/protobuf/timestamp.proto".to_owned())
    );
    assert!(companion.options.is_none());
    let message = |name: &str| {
        companion
            .message_type
            .iter()
            .find(|m| m.name() == name)
            .unwrap()
    };
    let card = message("EncryptedCard");
    let field = |m: &prost_types::DescriptorProto, name: &str| {
        m.field.iter().find(|f| f.name() == name).unwrap().clone()
    };
    use prost_types::field_descriptor_proto::Type;
    assert_eq!(field(card, "number").r#type(), Type::Bytes);
    assert_eq!(field(card, "holder").r#type(), Type::Bytes);
    assert_eq!(
        field(card, "issued").type_name(),
        ".google.protobuf.Timestamp"
    );
    let wallet = message("EncryptedWallet");
    assert_eq!(field(wallet, "cards").type_name(), ".shop.EncryptedCard");
    assert_eq!(
        field(wallet, "by_name").type_name(),
        ".shop.EncryptedWallet.ByNameEntry"
    );
    let entry = wallet
        .nested_type
        .iter()
        .find(|n| n.name() == "ByNameEntry")
        .unwrap();
    assert_eq!(field(entry, "value").type_name(), ".shop.EncryptedCard");
    assert_eq!(field(wallet, "id").r#type(), Type::Uint64);
}
