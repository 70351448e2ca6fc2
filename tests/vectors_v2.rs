//! Golden vectors of format version 2 and record seals
//! (`tests/vectors/v2.json`, FORMAT.md sections 4.1, 9, 12 and 13), and of
//! versions 3 and 4 (`tests/vectors/bytes.json`, section 5.1), written by an
//! implementation independent of this crate (`tests/vectors/generate_v2.py`
//! and `generate_bytes.py`, from FORMAT.md): every envelope opens or fails
//! as recorded, every canonical encoding, every seal and every
//! deterministic envelope is reproduced, every altered record is refused
//! as recorded.

use encrypted_fields::{
    Binding, Encoding, EnvKeyring, ErrorKind, Key, KeySet, MemoryKeyring, Nonce, Position,
    RecordBinding, RecordSeal, SealKind, SealSpec, Sealed,
};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
struct File {
    envelopes: Vec<Envelope>,
    canonical: Vec<Canonical>,
    seals: Vec<Seal>,
}

#[derive(Deserialize)]
struct Scope {
    record: Vec<RecordType>,
    position: Vec<(String, Value)>,
    #[serde(default)]
    legacy_unbound: bool,
}

#[derive(Deserialize)]
struct RecordType {
    context: String,
    fields: Vec<(String, String)>,
}

#[derive(Deserialize)]
struct Envelope {
    description: String,
    result: String,
    key: String,
    alias: String,
    context: String,
    field: String,
    value: Value,
    envelope: String,
    #[serde(flatten)]
    sealed_with: Scope,
    open_with: Option<Scope>,
}

#[derive(Deserialize)]
struct Canonical {
    description: String,
    json: String,
    member: String,
    canonical_hex: String,
}

#[derive(Deserialize)]
struct Seal {
    description: String,
    result: String,
    kind: String,
    alias: String,
    context: String,
    member: String,
    key: Option<String>,
    signing_seed: Option<String>,
    verifying_key: Option<String>,
    record: Value,
    sealed_record: Option<Value>,
    seal: String,
    open_with: Option<OpenWith>,
}

#[derive(Deserialize)]
struct OpenWith {
    kind: Option<String>,
    alias: Option<String>,
    context: Option<String>,
    key: Option<String>,
    verifying_key: Option<String>,
}

fn file() -> File {
    serde_json::from_str(include_str!("vectors/v2.json")).expect("vector file parses")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// `ErrorKind::AuthenticationFailed` -> `authentication_failed`.
fn kind_name(kind: ErrorKind) -> String {
    let mut snake = String::new();
    for (i, c) in format!("{kind:?}").chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    snake
}

impl Scope {
    fn record(&self) -> RecordBinding {
        let mut record = RecordBinding::new();
        for ty in &self.record {
            let fields: Vec<(&str, &str)> = ty
                .fields
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            record.push_type(&ty.context, &fields).unwrap();
        }
        record
    }

    fn position(&self) -> Position {
        let mut position = Position::default();
        for (kind, arg) in &self.position {
            position = match (kind.as_str(), arg) {
                ("root", Value::String(context)) => Position::root(context),
                ("member", Value::String(name)) => position.member(name),
                ("key", Value::String(key)) => position.key(key),
                ("index", Value::Number(n)) => position.index(n.as_u64().unwrap()),
                other => panic!("unknown step {other:?}"),
            };
        }
        position
    }

    /// The binding of `alias`, `context` and `field` with this scope.
    fn binding<'a>(
        &self,
        names: [&'a str; 3],
        record: &'a RecordBinding,
        position: &'a Position,
    ) -> Binding<'a> {
        let [alias, context, field] = names;
        let mut binding = Binding::new(alias, context, field);
        if !self.record.is_empty() {
            binding = binding.in_record(record);
        }
        if !self.position.is_empty() {
            binding = binding.at(position);
        }
        if self.legacy_unbound {
            binding = binding.accepting_unbound();
        }
        binding
    }
}

fn keyring(alias: &str, key: &str) -> MemoryKeyring {
    let key = Key::from_base64(key).unwrap();
    MemoryKeyring::new()
        .with(alias, KeySet::new(vec![key]).unwrap())
        .unwrap()
}

fn check_result<T: std::fmt::Debug + PartialEq>(
    opened: Result<T, encrypted_fields::Error>,
    expected: &str,
    value: &T,
    description: &str,
) {
    match (&opened, expected) {
        (Ok(opened), "ok") => assert_eq!(opened, value, "{description}"),
        (Err(error), expected) => {
            assert_eq!(kind_name(error.kind()), expected, "{description}: {error}")
        }
        (Ok(opened), expected) => {
            panic!("{description}: opened to {opened:?}, expected {expected}")
        }
    }
}

#[test]
fn version_2_envelopes_open_or_fail_as_recorded() {
    let envelopes = file().envelopes;
    assert!(envelopes.len() >= 30, "{}", envelopes.len());
    for v in &envelopes {
        let scope = v.open_with.as_ref().unwrap_or(&v.sealed_with);
        let (record, position) = (scope.record(), scope.position());
        let binding = scope.binding([&v.alias, &v.context, &v.field], &record, &position);
        let keyring = keyring(&v.alias, &v.key);
        let opened = Sealed::<Value>::from_text(&v.envelope)
            .and_then(|sealed| sealed.open(&keyring, &binding));
        check_result(opened, &v.result, &v.value, &v.description);
    }
}

/// One vector of `bytes.json`, as sealed or as its reader sees it.
#[derive(Deserialize)]
struct BytesVector {
    description: String,
    result: String,
    key: String,
    alias: String,
    context: String,
    field: String,
    plaintext_hex: String,
    envelope: String,
    #[serde(default)]
    deterministic: bool,
    #[serde(flatten)]
    scope: Scope,
}

/// Each vector as sealed, and as read: with `open_with`'s members instead.
fn bytes_vectors() -> Vec<(BytesVector, BytesVector)> {
    let file: Value = serde_json::from_str(include_str!("vectors/bytes.json")).unwrap();
    let vectors = file["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 16, "{}", vectors.len());
    vectors
        .iter()
        .map(|v| {
            let mut read = v.clone();
            if let Some(Value::Object(changes)) = v.get("open_with") {
                read.as_object_mut().unwrap().extend(changes.clone());
            }
            let parse = |v: Value| serde_json::from_value::<BytesVector>(v).unwrap();
            (parse(v.clone()), parse(read))
        })
        .collect()
}

#[test]
fn version_3_and_4_envelopes_open_or_fail_as_recorded_in_every_byte_type() {
    for (_, v) in bytes_vectors() {
        let (record, position) = (v.scope.record(), v.scope.position());
        let binding = v
            .scope
            .binding([&v.alias, &v.context, &v.field], &record, &position);
        let keyring = keyring(&v.alias, &v.key);
        let plaintext = unhex(&v.plaintext_hex);
        // An owned buffer (decrypted into in place), a `u8` sequence, and
        // borrowed-bytes types all read the same bytes.
        let open = |text: &str| Sealed::<serde_bytes::ByteBuf>::from_text(text);
        let buf = open(&v.envelope).and_then(|s| s.open(&keyring, &binding));
        check_result(
            buf.map(|b| b.into_vec()),
            &v.result,
            &plaintext,
            &v.description,
        );
        let seq =
            Sealed::<Vec<u8>>::from_text(&v.envelope).and_then(|s| s.open(&keyring, &binding));
        check_result(seq, &v.result, &plaintext, &v.description);
        let shared =
            Sealed::<bytes::Bytes>::from_text(&v.envelope).and_then(|s| s.open(&keyring, &binding));
        check_result(
            shared.map(|b| b.to_vec()),
            &v.result,
            &plaintext,
            &v.description,
        );
    }
}

#[test]
fn deterministic_version_3_envelopes_are_reproduced() {
    let mut reproduced = 0;
    for (v, _) in bytes_vectors() {
        if !v.deterministic || v.result != "ok" {
            continue;
        }
        let keyring = keyring(&v.alias, &v.key);
        let (record, position) = (v.scope.record(), v.scope.position());
        let binding = v
            .scope
            .binding([&v.alias, &v.context, &v.field], &record, &position);
        let plaintext = serde_bytes::ByteBuf::from(unhex(&v.plaintext_hex));
        let sealed = Sealed::seal_as(
            &keyring,
            &binding,
            &plaintext,
            Nonce::Deterministic,
            Encoding::Bytes,
        )
        .unwrap();
        assert_eq!(sealed.to_text(), v.envelope, "{}", v.description);
        reproduced += 1;
    }
    assert!(reproduced >= 1);
}

#[test]
fn canonical_encodings_are_reproduced() {
    let canonical = file().canonical;
    assert!(canonical.len() >= 20);
    for v in &canonical {
        let bytes = encrypted_fields::__private::canonical_json(&v.json, &v.member)
            .unwrap_or_else(|e| panic!("{}: {e}", v.description));
        assert_eq!(hex(&bytes), v.canonical_hex, "{}", v.description);
    }
}

#[test]
fn record_seals_are_reproduced_and_checked_as_recorded() {
    let seals = file().seals;
    assert!(seals.len() >= 20);
    for v in &seals {
        let open_with = v.open_with.as_ref();
        let pick = |ours: Option<&Option<String>>, theirs: &Option<String>| {
            ours.and_then(|o| o.clone()).or_else(|| theirs.clone())
        };
        let kind_text = open_with
            .and_then(|o| o.kind.clone())
            .unwrap_or(v.kind.clone());
        let kind = |text: &str| match text {
            "mac" => SealKind::Mac,
            _ => SealKind::Signature,
        };
        let alias = open_with
            .and_then(|o| o.alias.clone())
            .unwrap_or(v.alias.clone());
        let context = open_with
            .and_then(|o| o.context.clone())
            .unwrap_or(v.context.clone());
        let var = |prefix: &str, alias: &str| format!("{prefix}{}", alias.to_uppercase());
        let mut vars = Vec::new();
        if let Some(key) = pick(open_with.map(|o| &o.key), &v.key) {
            vars.push((var("ENCRYPTED_FIELDS_KEY_", &alias), key));
        }
        if let Some(verifying) = pick(open_with.map(|o| &o.verifying_key), &v.verifying_key) {
            vars.push((var("ENCRYPTED_FIELDS_VERIFYING_KEY_", &alias), verifying));
        }
        let reader = EnvKeyring::from_vars(vars).unwrap();
        let spec = SealSpec::new(kind(&kind_text), &alias, &context, &v.member);

        // The seal as sealed: reproduced exactly (MAC and Ed25519 are
        // deterministic), by the writer's own keys.
        if v.result == "ok" || v.sealed_record.is_some() {
            let sealed = v.sealed_record.as_ref().unwrap_or(&v.record);
            let mut writer = Vec::new();
            if let Some(key) = &v.key {
                writer.push((var("ENCRYPTED_FIELDS_KEY_", &v.alias), key.clone()));
            }
            if let Some(seed) = &v.signing_seed {
                writer.push((var("ENCRYPTED_FIELDS_SIGNING_KEY_", &v.alias), seed.clone()));
            }
            let writer = EnvKeyring::from_vars(writer).unwrap();
            let made = SealSpec::new(kind(&v.kind), &v.alias, &v.context, &v.member)
                .seal_json(&writer, &sealed.to_string())
                .unwrap_or_else(|e| panic!("{}: {e}", v.description));
            assert_eq!(
                serde_json::to_value(&made).unwrap(),
                Value::String(v.seal.clone()),
                "{}",
                v.description
            );
        }

        // What a reader of the JSON gets.
        // `null` is no seal, as the typed reader's `Option` takes it.
        let seal = v
            .record
            .get(&v.member)
            .filter(|seal| !seal.is_null())
            .map(|text| serde_json::from_value::<RecordSeal>(text.clone()));
        let checked = match seal {
            Some(Err(_)) => Err("malformed_envelope".to_owned()),
            Some(Ok(seal)) => spec
                .verify_json(&reader, &v.record.to_string(), Some(&seal))
                .map_err(|e| kind_name(e.kind())),
            None => spec
                .verify_json(&reader, &v.record.to_string(), None)
                .map_err(|e| kind_name(e.kind())),
        };
        match (checked, v.result.as_str()) {
            (Ok(()), "ok") => {}
            // A typed reader refuses an undeclared member before the seal;
            // a reader of the JSON sees a record that does not match it.
            (Err(got), "unknown_member") => {
                assert_eq!(got, "authentication_failed", "{}", v.description)
            }
            (Err(got), expected) => assert_eq!(got, expected, "{}", v.description),
            (Ok(()), expected) => panic!("{}: accepted, expected {expected}", v.description),
        }
    }
}
