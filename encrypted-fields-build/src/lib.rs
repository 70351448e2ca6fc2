//! Build helper for [encrypted-fields](https://docs.rs/encrypted-fields) with
//! Protocol Buffers: the key alias of each encrypted field is declared in
//! the `.proto` itself, with the options of `encrypted_fields/options.proto`
//! (shipped in this crate and importable without a copy), and this crate
//! makes prost derive `Encrypt` accordingly.
//!
//! ```proto
//! import "encrypted_fields/options.proto";
//!
//! message CashUser {
//!   string cash_tag = 1;
//!   string mailing_address = 2 [(encrypted_fields.key) = "us_address"];
//! }
//! ```
//!
//! ```no_run
//! // build.rs
//! fn main() -> std::io::Result<()> {
//!     encrypted_fields_build::compile_protos(&["proto/payments.proto"], &["proto"])
//! }
//! ```
//!
//! Every message with an encrypted or nested field gets
//! `#[derive(encrypted_fields::Encrypt)]` and `#[encrypt(proto)]`: its
//! companion (`EncryptedCashUser`) is itself a prost message with the same
//! field numbers, each encrypted field carried as `bytes` (the envelope),
//! each nested field as the child's companion, every other field as it
//! was. [`Protos::companion_descriptor_set`] describes those companions
//! for other languages. `.proto` files are compiled by `protox` (pure
//! Rust): no `protoc` is needed.
//!
//! What has no companion form, or would let a value travel in clear, is
//! refused here, naming the field: any option on a `oneof` member; `nested`
//! with `key`, or on a message without encrypted fields; a plain field
//! holding a message that has some; `key` on a message that has some of its
//! own, on `bytes`, or on a message holding `bytes` or a well-known type;
//! `deterministic` on a message holding a map; a field name prost would
//! change (the envelope is bound to the Rust field's name, which is then
//! the `.proto` name); a message with encrypted fields declared inside
//! another or declaring one; an rpc over such a message. The type context
//! bound into envelopes is the message's full name (`payments.CashUser`)
//! unless `(encrypted_fields.context)` says otherwise.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use prost_reflect::{
    DescriptorPool, ExtensionDescriptor, FieldDescriptor, Kind, MessageDescriptor, Value,
};
use prost_types::{
    DescriptorProto, FileDescriptorProto, FileDescriptorSet, field_descriptor_proto,
};

/// The options file, as `import "encrypted_fields/options.proto";` finds it.
pub const OPTIONS_PROTO: &str = include_str!("../proto/encrypted_fields/options.proto");
const OPTIONS_NAME: &str = "encrypted_fields/options.proto";

/// Compiles `protos` (found under `includes`) and generates Rust types in
/// `OUT_DIR`, as `prost_build::compile_protos` does, with `Encrypt` derived
/// as the options declare. For tonic services, or more prost settings, use
/// [`configure`].
///
/// # Errors
///
/// A `.proto` that does not compile, an option that has no companion form
/// (see the crate docs), or prost-build's own errors.
pub fn compile_protos(
    protos: &[impl AsRef<Path>],
    includes: &[impl AsRef<Path>],
) -> io::Result<()> {
    let Protos {
        files, mut config, ..
    } = configure(protos, includes)?;
    config.compile_fds(files)
}

/// Compiles `protos` and returns their descriptors with a prost-build
/// configuration that derives `Encrypt` as their options declare, to
/// generate code with (`prost_build::Config::compile_fds`, or
/// `tonic_prost_build::Builder::compile_fds_with_config`).
///
/// # Errors
///
/// As [`compile_protos`], without prost-build's.
pub fn configure(protos: &[impl AsRef<Path>], includes: &[impl AsRef<Path>]) -> io::Result<Protos> {
    let mut resolver = protox::file::ChainFileResolver::new();
    resolver.add(OptionsFile);
    for include in includes {
        resolver.add(protox::file::IncludeFileResolver::new(
            include.as_ref().to_owned(),
        ));
    }
    resolver.add(protox::file::GoogleFileResolver::new());
    let mut compiler = protox::Compiler::with_file_resolver(resolver);
    compiler.include_imports(true).include_source_info(true);
    for proto in protos {
        compiler.open_file(proto).map_err(invalid)?;
    }
    // Every file read from disk, imports included: Cargo reruns the build
    // when any of them changes.
    for file in compiler.files() {
        if let Some(path) = file.path() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let pool = compiler.descriptor_pool();
    let options = Options::new(&pool)?;
    let mut config = prost_build::Config::new();
    let mut encrypted = BTreeMap::new();
    for message in pool.all_messages() {
        if let Some(plan) = options.plan(&message)? {
            encrypted.insert(message.full_name().to_owned(), plan);
        }
    }
    check_references(&pool, &encrypted)?;
    config.skip_debug(encrypted.keys().map(|name| format!(".{name}")));
    let mut sealed_whole = BTreeMap::new();
    for message in pool.all_messages() {
        let Some(plan) = encrypted.get(message.full_name()) else {
            continue;
        };
        plan.configure(&mut config, &message);
        for field in message.fields() {
            if plan.seals(field.name()) {
                if let Some(Kind::Message(inner)) = nested_kind(&field) {
                    serde_closure(&inner, &field, &encrypted, &mut sealed_whole)?;
                }
            }
        }
    }
    // A message sealed whole is sealed as its JSON (FORMAT.md section 5):
    // it and every message in it derive serde. prost-build applies an
    // attribute to what is declared inside the path too, so an inner
    // declaration whose outer message is listed is left out.
    let serde = "#[derive(::encrypted_fields::__private::serde::Serialize, ::encrypted_fields::__private::serde::Deserialize)] #[serde(crate = \"::encrypted_fields::__private::serde\")]";
    for path in sealed_whole.keys() {
        let covered = sealed_whole
            .keys()
            .any(|outer| outer != path && path.starts_with(&format!("{outer}.")));
        if !covered {
            config.type_attribute(path, serde);
        }
    }
    let files = compiler.file_descriptor_set();
    let companion = companion_set(&files, &encrypted);
    Ok(Protos {
        files,
        config,
        companion,
    })
}

/// What [`configure`] returns.
pub struct Protos {
    /// Every compiled file, imports included.
    pub files: FileDescriptorSet,
    /// prost-build's configuration: the `Encrypt` derives and attributes.
    pub config: prost_build::Config,
    companion: FileDescriptorSet,
}

impl Protos {
    /// The companion messages as a protobuf `FileDescriptorSet`, for other
    /// languages to decode sealed messages: for each file with encrypted
    /// messages, a file `<name>.encrypted.proto` in the same package that
    /// imports it and declares `Encrypted<Message>` for each of them, with
    /// the same field numbers: an encrypted field as `bytes`, a nested one
    /// as the child's companion, any other as it was. The set includes the
    /// files they import.
    pub fn companion_descriptor_set(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&self.companion)
    }

    /// Writes [`companion_descriptor_set`](Self::companion_descriptor_set)
    /// to `path`.
    ///
    /// # Errors
    ///
    /// The file cannot be written.
    pub fn write_companion_descriptor_set(&self, path: impl AsRef<Path>) -> io::Result<()> {
        std::fs::write(path, self.companion_descriptor_set())
    }
}

/// Serves `encrypted_fields/options.proto` from this crate's copy.
struct OptionsFile;

impl protox::file::FileResolver for OptionsFile {
    fn open_file(&self, name: &str) -> Result<protox::file::File, protox::Error> {
        if name == OPTIONS_NAME {
            protox::file::File::from_source(name, OPTIONS_PROTO)
        } else {
            Err(protox::Error::file_not_found(name))
        }
    }
}

fn invalid(error: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, error.to_string())
}

/// The options' extension descriptors (absent when no file imports them).
struct Options {
    key: Option<ExtensionDescriptor>,
    nested: Option<ExtensionDescriptor>,
    deterministic: Option<ExtensionDescriptor>,
    bind: Option<ExtensionDescriptor>,
    bind_index: Option<ExtensionDescriptor>,
    context: Option<ExtensionDescriptor>,
    bind_positions: Option<ExtensionDescriptor>,
}

/// The message option `encrypted_fields.<name>`.
fn message_extension(pool: &DescriptorPool, name: &str) -> Option<ExtensionDescriptor> {
    pool.all_extensions().find(|e| {
        e.full_name() == format!("encrypted_fields.{name}")
            && e.containing_message().full_name() == "google.protobuf.MessageOptions"
    })
}

/// What one field asks for.
#[derive(Default)]
struct FieldPlan {
    key: Option<String>,
    nested: bool,
    deterministic: bool,
    bind: bool,
    bind_index: bool,
}

/// What one message asks for.
struct MessagePlan {
    context: String,
    bind_positions: bool,
    fields: Vec<(String, FieldPlan)>,
}

impl Options {
    fn new(pool: &DescriptorPool) -> io::Result<Self> {
        let ext = |name: &str| pool.get_extension_by_name(&format!("encrypted_fields.{name}"));
        Ok(Options {
            key: ext("key"),
            nested: ext("nested"),
            deterministic: ext("deterministic"),
            bind: ext("bind"),
            bind_index: ext("bind_index"),
            // Message options share names with field options: by extendee.
            context: message_extension(pool, "context"),
            bind_positions: message_extension(pool, "bind_positions"),
        })
    }

    fn field(&self, field: &FieldDescriptor) -> FieldPlan {
        let options = field.options();
        let flag = |ext: &Option<ExtensionDescriptor>| {
            ext.as_ref().is_some_and(|ext| {
                options.has_extension(ext) && *options.get_extension(ext) == Value::Bool(true)
            })
        };
        let key = self
            .key
            .as_ref()
            .filter(|ext| options.has_extension(ext))
            .and_then(|ext| match &*options.get_extension(ext) {
                Value::String(key) => Some(key.clone()),
                _ => None,
            });
        FieldPlan {
            key,
            nested: flag(&self.nested),
            deterministic: flag(&self.deterministic),
            bind: flag(&self.bind),
            bind_index: flag(&self.bind_index),
        }
    }

    /// The message's plan, if it has encrypted or nested fields; an error
    /// for an option that has no companion form.
    fn plan(&self, message: &MessageDescriptor) -> io::Result<Option<MessagePlan>> {
        if message.is_map_entry() {
            return Ok(None);
        }
        let mut fields = Vec::new();
        for field in message.fields() {
            let plan = self.field(&field);
            let fail = |why: &str| Err(invalid(format!("{}: {why}", field.full_name())));
            let encrypted = plan.key.is_some() || plan.nested;
            if (encrypted || plan.bind) && !prost_keeps_name(field.name()) {
                return fail(
                    "an encrypted, nested or bound field needs a lower_snake_case name that prost keeps as it is (no leading, trailing or double `_`, not `self`, `super` or `crate`): the envelope is bound to the Rust field's name",
                );
            }
            let any = encrypted || plan.bind || plan.deterministic || plan.bind_index;
            if any && field.containing_oneof().is_some_and(|o| !o.is_synthetic()) {
                return fail(
                    "a oneof member takes no encrypted_fields option: prost generates it as a variant, which the derive does not see; move the field out of the oneof",
                );
            }
            if plan.key.is_some() && field.kind() == Kind::Bytes {
                return fail(
                    "`bytes` would be sealed as a JSON array of numbers: a plaintext three to four times longer, whose length tells the values; not supported yet",
                );
            }
            if plan.nested && plan.key.is_some() {
                return fail(
                    "`nested` with `key` would seal the child's companion whole, which needs a protobuf plaintext; use one or the other",
                );
            }
            if plan.nested && !matches!(nested_kind(&field), Some(Kind::Message(_))) {
                return fail(
                    "`nested` takes a message field (single, repeated or a map's values) whose type has encrypted fields",
                );
            }
            if plan.bind_index && !(plan.nested && field.is_list()) {
                return fail("`bind_index` takes a repeated nested field");
            }
            if plan.deterministic && plan.key.is_none() {
                return fail("`deterministic` needs a `key`");
            }
            if plan.bind && encrypted {
                return fail("`bind` goes on a plain field that identifies the record");
            }
            if encrypted || plan.bind {
                fields.push((field.name().to_owned(), plan));
            }
        }
        if !fields
            .iter()
            .any(|(_, plan)| plan.key.is_some() || plan.nested)
        {
            return Ok(None);
        }
        let options = message.options();
        let context = self
            .context
            .as_ref()
            .filter(|ext| options.has_extension(ext))
            .and_then(|ext| match &*options.get_extension(ext) {
                Value::String(context) => Some(context.clone()),
                _ => None,
            })
            .unwrap_or_else(|| message.full_name().to_owned());
        let bind_positions = self.bind_positions.as_ref().is_some_and(|ext| {
            options.has_extension(ext) && *options.get_extension(ext) == Value::Bool(true)
        });
        Ok(Some(MessagePlan {
            context,
            bind_positions,
            fields,
        }))
    }
}

/// Every message (and oneof) in `message`, which a field seals whole:
/// each gets serde derives. Well-known types have none.
fn serde_closure(
    message: &MessageDescriptor,
    field: &FieldDescriptor,
    encrypted: &BTreeMap<String, MessagePlan>,
    out: &mut BTreeMap<String, ()>,
) -> io::Result<()> {
    let refuse = |why: String| Err(invalid(format!("{}: {why}", field.full_name())));
    if message.package_name() == "google.protobuf" {
        return refuse(format!(
            "a message sealed whole is sealed as JSON, and {} has no JSON form here; seal its own fields instead",
            message.full_name()
        ));
    }
    if encrypted.contains_key(message.full_name()) {
        return refuse(format!(
            "{} has encrypted fields of its own, which sealing it whole under one alias would put behind this field's key alone; mark the field `nested` instead",
            message.full_name()
        ));
    }
    if out
        .insert(format!(".{}", message.full_name()), ())
        .is_some()
    {
        return Ok(());
    }
    for inner in message.fields() {
        if inner.kind() == Kind::Bytes || nested_kind(&inner) == Some(Kind::Bytes) {
            return refuse(format!(
                "{} is `bytes`, which JSON writes as an array of numbers: a plaintext three to four times longer, its length telling the values; seal the message's other fields, or carry it outside",
                inner.full_name()
            ));
        }
        if let Some(Kind::Message(child)) = nested_kind(&inner) {
            serde_closure(&child, field, encrypted, out)?;
        }
    }
    Ok(())
}

/// What no single field's options show: references between messages, and
/// services. A plain field holding a message with encrypted fields would
/// carry it in clear; `nested` needs a message that has some; a message
/// with a plan is declared at file level and declares no other message
/// (prost-build would give the inner one its attributes); an rpc over it
/// would send its plain form.
fn check_references(
    pool: &DescriptorPool,
    encrypted: &BTreeMap<String, MessagePlan>,
) -> io::Result<()> {
    let has_plan = |m: &MessageDescriptor| encrypted.contains_key(m.full_name());
    let messages = pool
        .all_messages()
        .filter(|m| m.package_name() != "google.protobuf" && !m.is_map_entry());
    for message in messages {
        if has_plan(&message) {
            let fail = |why: &str| Err(invalid(format!("{}: {why}", message.full_name())));
            if message.parent_message().is_some() {
                return fail(
                    "a message with encrypted fields must be declared at file level, not inside another message",
                );
            }
            if message.child_messages().any(|child| !child.is_map_entry()) {
                return fail(
                    "a message with encrypted fields cannot declare other messages inside it: declare them at file level",
                );
            }
            for prefix in ["Encrypted", "Partial"] {
                let package = message.package_name();
                let name = match package {
                    "" => format!("{prefix}{}", message.name()),
                    _ => format!("{package}.{prefix}{}", message.name()),
                };
                if pool.get_message_by_name(&name).is_some() {
                    return fail(&format!(
                        "{name} is already declared; the derive generates that name"
                    ));
                }
            }
        }
        let plan = encrypted.get(message.full_name());
        for field in message.fields() {
            let Some(Kind::Message(target)) = nested_kind(&field) else {
                continue;
            };
            let option = plan.and_then(|p| p.fields.iter().find(|(n, _)| n == field.name()));
            let nested = option.is_some_and(|(_, p)| p.nested);
            let sealed = option.is_some_and(|(_, p)| p.key.is_some());
            let fail = |why: &str| Err(invalid(format!("{}: {why}", field.full_name())));
            if nested && !has_plan(&target) {
                return fail(&format!(
                    "`nested` needs a message with encrypted fields, and {} has none: seal the field with `key`, or leave it plain",
                    target.full_name()
                ));
            }
            if !nested && !sealed && has_plan(&target) {
                return fail(&format!(
                    "{} has encrypted fields; a plain field would carry it in clear: mark this field `(encrypted_fields.nested) = true`",
                    target.full_name()
                ));
            }
            if sealed
                && option.is_some_and(|(_, p)| p.deterministic)
                && has_map(&target, &mut Vec::new())
            {
                return fail(
                    "a deterministic field must write the same JSON every time, and a map in it iterates in a different order in each process",
                );
            }
        }
    }
    for service in pool.services() {
        for method in service.methods() {
            for message in [method.input(), method.output()] {
                if has_plan(&message) {
                    return Err(invalid(format!(
                        "{}: {} has encrypted fields, and a generated service would send it in clear; declare the service over its companion Encrypted{} in Rust (tonic_build::manual, as examples/grpc/build.rs does)",
                        method.full_name(),
                        message.full_name(),
                        message.name()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Whether `message` holds a map at any depth.
fn has_map(message: &MessageDescriptor, seen: &mut Vec<String>) -> bool {
    if seen.iter().any(|s| s == message.full_name()) {
        return false;
    }
    seen.push(message.full_name().to_owned());
    message.fields().any(|field| {
        field.is_map() || matches!(field.kind(), Kind::Message(child) if has_map(&child, seen))
    })
}

/// Whether prost names the Rust field exactly as the `.proto` does: lower
/// snake case it does not change, and not a keyword it renames.
fn prost_keeps_name(name: &str) -> bool {
    let snake = !name.is_empty()
        && name.split('_').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && !name.starts_with(|c: char| c.is_ascii_digit());
    snake && !matches!(name, "self" | "super" | "crate")
}

/// A field's message kind, for maps its values'.
fn nested_kind(field: &FieldDescriptor) -> Option<Kind> {
    match field.kind() {
        Kind::Message(entry) if entry.is_map_entry() => Some(entry.map_entry_value_field().kind()),
        kind => Some(kind),
    }
}

impl MessagePlan {
    /// Whether the field `name` is sealed (`key`).
    fn seals(&self, name: &str) -> bool {
        self.fields
            .iter()
            .any(|(n, plan)| n == name && plan.key.is_some())
    }

    fn configure(&self, config: &mut prost_build::Config, message: &MessageDescriptor) {
        let path = format!(".{}", message.full_name());
        // prost's own `Debug` would print every encrypted value: the
        // derive's redacted one replaces it (`skip_debug`, set once for
        // every message in `configure`). A oneof's members are plain, and
        // its enum, declared inside the message, loses prost's `Debug` too.
        for oneof in message.oneofs().filter(|o| !o.is_synthetic()) {
            config.type_attribute(format!("{path}.{}", oneof.name()), "#[derive(Debug)]");
        }
        let mut container = vec![
            format!("context = {:?}", self.context),
            "proto".to_owned(),
            "redact_debug".to_owned(),
        ];
        if self.bind_positions {
            container.push("bind_positions".to_owned());
        }
        config.message_attribute(&path, "#[derive(::encrypted_fields::Encrypt)]");
        config.message_attribute(&path, format!("#[encrypt({})]", container.join(", ")));
        for (name, plan) in &self.fields {
            let mut options = Vec::new();
            if let Some(key) = &plan.key {
                options.push(format!("key = {key:?}"));
            }
            for (on, option) in [
                (plan.nested, "nested"),
                (plan.deterministic, "deterministic"),
                (plan.bind, "bind"),
                (plan.bind_index, "bind_index"),
            ] {
                if on {
                    options.push(option.to_owned());
                }
            }
            config.field_attribute(
                format!("{path}.{name}"),
                format!("#[encrypt({})]", options.join(", ")),
            );
        }
    }
}

/// The companion files (see [`Protos::companion_descriptor_set`]).
fn companion_set(
    files: &FileDescriptorSet,
    encrypted: &BTreeMap<String, MessagePlan>,
) -> FileDescriptorSet {
    let mut out = files.file.clone();
    // Files with companions, seen so far: a file comes after its imports.
    let mut companions = std::collections::BTreeSet::new();
    for file in &files.file {
        let package = file.package();
        let prefix = if package.is_empty() {
            String::new()
        } else {
            format!("{package}.")
        };
        let messages: Vec<DescriptorProto> = file
            .message_type
            .iter()
            .filter_map(|m| companion_message(m, &format!("{prefix}{}", m.name()), encrypted))
            .collect();
        if messages.is_empty() {
            continue;
        }
        // It uses what its file uses, the file itself, and the companions
        // of the files it imports (other options, such as a Java outer
        // class name, belong to the file alone).
        let mut dependency = file.dependency.clone();
        dependency.push(file.name().to_owned());
        dependency.extend(
            file.dependency
                .iter()
                .filter(|dep| companions.contains(dep.as_str()))
                .map(|dep| companion_file_name(dep)),
        );
        companions.insert(file.name());
        out.push(FileDescriptorProto {
            name: Some(companion_file_name(file.name())),
            package: file.package.clone(),
            dependency,
            message_type: messages,
            syntax: file.syntax.clone(),
            ..FileDescriptorProto::default()
        });
    }
    FileDescriptorSet { file: out }
}

fn companion_file_name(file: &str) -> String {
    format!(
        "{}.encrypted.proto",
        file.strip_suffix(".proto").unwrap_or(file)
    )
}

/// `Encrypted<Name>` for a message with a plan, its encrypted nested
/// declarations inside it; `None` for a message without one.
fn companion_message(
    message: &DescriptorProto,
    full_name: &str,
    encrypted: &BTreeMap<String, MessagePlan>,
) -> Option<DescriptorProto> {
    let plan = encrypted.get(full_name)?;
    let mut companion = message.clone();
    companion.name = Some(format!("Encrypted{}", message.name()));
    companion.options = None;
    companion.extension.clear();
    // Nested declarations: encrypted ones become companions here; map
    // entries stay (their value type may change below); others are
    // referred to where they are declared.
    companion.nested_type = message
        .nested_type
        .iter()
        .filter_map(|nested| {
            let nested_name = format!("{full_name}.{}", nested.name());
            if nested.options.as_ref().is_some_and(|o| o.map_entry()) {
                let mut entry = nested.clone();
                for field in &mut entry.field {
                    retype(field, encrypted);
                }
                Some(entry)
            } else {
                companion_message(nested, &nested_name, encrypted)
            }
        })
        .collect();
    companion.enum_type.clear();
    for field in &mut companion.field {
        let sealed = plan
            .fields
            .iter()
            .any(|(name, p)| name == field.name() && p.key.is_some());
        if sealed {
            field.r#type = Some(field_descriptor_proto::Type::Bytes as i32);
            field.type_name = None;
            field.label = Some(field_descriptor_proto::Label::Optional as i32);
            field.default_value = None;
            field.options = None;
        } else if field
            .type_name
            .as_deref()
            .is_some_and(|t| t.starts_with(&format!(".{full_name}.")))
            && message.nested_type.iter().any(|n| {
                n.options.as_ref().is_some_and(|o| o.map_entry())
                    && field.type_name.as_deref() == Some(&format!(".{full_name}.{}", n.name()))
            })
        {
            // A map: its entry is declared in the companion, same name.
            let entry = field
                .type_name
                .as_deref()
                .and_then(|t| t.rsplit('.').next())
                .unwrap_or_default();
            field.type_name = Some(format!(".{}.{entry}", companion_name(full_name, encrypted)));
        } else {
            retype(field, encrypted);
        }
    }
    Some(companion)
}

/// A field referring to a message with a plan refers to its companion.
fn retype(
    field: &mut prost_types::FieldDescriptorProto,
    encrypted: &BTreeMap<String, MessagePlan>,
) {
    if let Some(name) = field.type_name.as_deref().and_then(|t| t.strip_prefix('.')) {
        if encrypted.contains_key(name) {
            field.type_name = Some(format!(".{}", companion_name(name, encrypted)));
        }
    }
}

/// `pkg.Outer.Inner` -> `pkg.EncryptedOuter.EncryptedInner`, each message
/// on the way with a plan renamed.
fn companion_name(full_name: &str, encrypted: &BTreeMap<String, MessagePlan>) -> String {
    let mut path = String::new();
    let mut out = Vec::new();
    for part in full_name.split('.') {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(part);
        if encrypted.contains_key(&path) {
            out.push(format!("Encrypted{part}"));
        } else {
            out.push(part.to_owned());
        }
    }
    out.join(".")
}
