//! Fields of JSON documents, found by JSON pointer and sealed, opened or
//! re-sealed in place: every byte outside the fields touched stays as it
//! was, and a value is sealed as its exact JSON text, so what the library
//! opens into a typed field is what the document held.

use std::io::{Read, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::process::ExitCode;

use encrypted_fields::{
    Binding, Encoding, KeyId, Keyring, Nonce, RecordBinding, RecordSeal, SealKind, SealSpec, Sealed,
};
use serde_json::value::RawValue;

use crate::{Outcome, Usage, keys};

#[derive(clap::Args)]
pub struct Args {
    /// The JSON document: a file, or `-` for stdin.
    #[arg(default_value = "-")]
    input: PathBuf,
    #[command(flatten)]
    pub fields: FieldArgs,
}

/// The fields to work on and where the keys come from; shared with `rotate`.
#[derive(clap::Args)]
pub struct FieldArgs {
    /// A field: `POINTER=ALIAS[@CONTEXT][,deterministic]`, e.g. `/email=pii`
    /// or `/sender/email=pii@CashUser`. POINTER is RFC 6901 (`~1` for `/`,
    /// `~0` for `~`; it may contain `=`). The envelope is bound to ALIAS, the
    /// context (the type name, or its `#[encrypt(context = "...")]`) and the
    /// pointer's last segment as the field name, so that segment must name
    /// an object member, not an array element. A pointer the document lacks
    /// is an error (see --allow-missing); null fields are left alone.
    /// Repeatable.
    #[arg(long = "field", required = true, value_parser = FieldSpec::parse)]
    pub specs: Vec<FieldSpec>,
    /// The context for fields without `@CONTEXT`.
    #[arg(long)]
    pub context: Option<String>,
    /// Use the KMS-wrapped keysets in `ENCRYPTED_FIELDS_KMS_KEYSET_*`
    /// instead of the plain `ENCRYPTED_FIELDS_KEY_*` variables.
    #[arg(long)]
    pub kms: bool,
    /// Leave documents that lack a field's pointer as they are (noted on
    /// stderr), instead of failing.
    #[arg(long)]
    pub allow_missing: bool,
    /// `encrypt` only: leave a field that already holds an envelope opening
    /// under its binding as it is, instead of refusing the document. Only
    /// for re-running on your own output: on input a client influences it
    /// lets the client plant another record's envelope, which a later
    /// `decrypt` would show it.
    #[arg(long)]
    pub skip_sealed: bool,
    /// Binds every random field's envelope to the record: the value at this
    /// pointer (a top-level member, such as `/id`), as the library's
    /// `#[encrypt(bind)]` on that field does for the --context type. An
    /// envelope moved to another record then fails to open. Repeatable.
    #[arg(long = "bind", value_name = "POINTER")]
    pub bind: Vec<String>,
    /// Seals the whole record with a MAC under ALIAS (as the library's
    /// `#[encrypt(seal = "ALIAS")]` on the --context type), in the member
    /// --seal-member: `decrypt` and `rotate` check it, so an edited,
    /// added, removed or swapped member is refused.
    #[arg(long, value_name = "ALIAS", conflicts_with = "sign")]
    pub seal: Option<String>,
    /// As --seal, with an Ed25519 signature: `encrypt` needs the signing key
    /// (ENCRYPTED_FIELDS_SIGNING_KEY_<ALIAS>), `decrypt` a verifying key
    /// (ENCRYPTED_FIELDS_VERIFYING_KEY_<ALIAS>, or the signing key).
    #[arg(long, value_name = "ALIAS")]
    pub sign: Option<String>,
    /// The member that holds the seal.
    #[arg(long, value_name = "NAME", default_value = "_seal")]
    pub seal_member: String,
}

/// What --bind, --seal and --sign declare for the record.
struct RecordOptions {
    context: String,
    /// Top-level member names whose values identify the record.
    bind: Vec<String>,
    seal: Option<(SealKind, String)>,
    member: String,
}

impl RecordOptions {
    fn new(args: &FieldArgs) -> Result<Option<Self>, Usage> {
        let seal = match (&args.seal, &args.sign) {
            (Some(alias), _) => Some((SealKind::Mac, alias.clone())),
            (_, Some(alias)) => Some((SealKind::Signature, alias.clone())),
            (None, None) => None,
        };
        if args.bind.is_empty() && seal.is_none() {
            return Ok(None);
        }
        let context = args.context.clone().ok_or_else(|| {
            Usage("--bind, --seal and --sign need --context: the record's type".to_owned())
        })?;
        if let Some((_, alias)) = &seal
            && !encrypted_fields::is_valid_alias(alias)
        {
            return Err(Usage(format!("`{alias}` is not an alias")));
        }
        let bind = args
            .bind
            .iter()
            .map(|pointer| match pointer.strip_prefix('/').map(unescape) {
                Some(Some(name)) if !pointer[1..].contains('/') => Ok(name),
                _ => Err(Usage(format!(
                    "--bind {pointer}: expected a top-level member, such as /id"
                ))),
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(RecordOptions {
            context,
            bind,
            seal,
            member: args.seal_member.clone(),
        }))
    }

    fn spec(&self) -> Option<SealSpec<'_>> {
        let (kind, alias) = self.seal.as_ref()?;
        Some(SealSpec::new(*kind, alias, &self.context, &self.member))
    }

    /// The record binding of `text`: each bound member's value as JSON text,
    /// written as the library writes it.
    fn record(&self, text: &str) -> Result<RecordBinding, String> {
        let mut values = Vec::new();
        for name in &self.bind {
            let pointer = format!("/{}", name.replace('~', "~0").replace('/', "~1"));
            let located = locate(text, &pointer).map_err(|e| format!("{pointer}: {e}"))?;
            let Some(located) = located else {
                return Err(format!(
                    "{pointer}: the record has no such value to bind to"
                ));
            };
            let value = bound_text(&text[located.span]).map_err(|e| format!("{pointer}: {e}"))?;
            values.push((name.as_str(), value));
        }
        let fields: Vec<(&str, &str)> = values.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let mut record = RecordBinding::new();
        if !fields.is_empty() {
            record
                .push_type(&self.context, &fields)
                .map_err(|e| e.to_string())?;
        }
        Ok(record)
    }
}

#[derive(Clone, Debug)]
pub struct FieldSpec {
    pointer: String,
    alias: String,
    context: Option<String>,
    field: String,
    nonce: Nonce,
}

impl FieldSpec {
    /// Parses `POINTER=ALIAS[@CONTEXT][,deterministic]`. A pointer may hold
    /// `=` (an alias cannot), so the split is at the first `=` whose rest
    /// reads as an alias and options.
    fn parse(text: &str) -> Result<Self, String> {
        let usage = || format!("`{text}`: expected POINTER=ALIAS[@CONTEXT][,deterministic]");
        let (pointer, alias, context, nonce) = text
            .match_indices('=')
            .find_map(|(at, _)| {
                let (pointer, rest) = (&text[..at], &text[at + 1..]);
                let (rest, nonce) = match rest.strip_suffix(",deterministic") {
                    Some(rest) => (rest, Nonce::Deterministic),
                    None => (rest, Nonce::Random),
                };
                let (alias, context) = match rest.split_once('@') {
                    Some((_, "")) => return None,
                    Some((alias, context)) => (alias, Some(context.to_owned())),
                    None => (rest, None),
                };
                encrypted_fields::is_valid_alias(alias).then_some((pointer, alias, context, nonce))
            })
            .ok_or_else(usage)?;
        if !pointer.starts_with('/') {
            return Err(usage());
        }
        let tokens = pointer
            .split('/')
            .skip(1)
            .map(unescape)
            .collect::<Option<Vec<String>>>()
            .ok_or_else(|| format!("`{pointer}`: `~` must be followed by `0` or `1` (RFC 6901)"))?;
        Ok(FieldSpec {
            pointer: pointer.to_owned(),
            alias: alias.to_owned(),
            context,
            field: tokens.last().cloned().unwrap_or_default(),
            nonce,
        })
    }
}

/// The fields of `args`, bound, ready to apply to documents.
pub struct Fields {
    specs: Vec<(FieldSpec, String)>,
    pub keyring: Box<dyn Keyring>,
    /// Every alias's primary key id: what `rotate` expects of envelopes
    /// sealed inside a field, which no pointer reaches.
    primaries: Vec<KeyId>,
    allow_missing: bool,
    skip_sealed: bool,
    record: Option<RecordOptions>,
}

/// Something `apply` leaves as it was, for the caller to report.
pub enum Note<'a> {
    /// The document has no value at this pointer (with `--allow-missing`).
    Absent(&'a str),
    /// The value at this pointer is already an envelope that opens under
    /// the field's binding: encrypting it again would make decrypting once
    /// return the envelope.
    AlreadySealed(&'a str),
}

/// What to do to each field.
#[derive(Clone, Copy)]
pub enum Direction {
    Encrypt,
    Decrypt,
    Rotate,
}

impl Fields {
    pub fn new(args: FieldArgs) -> Result<Self, Box<dyn std::error::Error>> {
        let record = RecordOptions::new(&args)?;
        let specs: Vec<(FieldSpec, String)> = args
            .specs
            .into_iter()
            .map(
                |spec| match spec.context.clone().or_else(|| args.context.clone()) {
                    Some(context) => Ok((spec, context)),
                    None => Err(Usage(format!(
                        "field {} needs a context: --context NAME, or {}={}@NAME",
                        spec.pointer, spec.pointer, spec.alias
                    ))),
                },
            )
            .collect::<Result<_, _>>()?;
        if let Some(options) = &record {
            for name in &options.bind {
                if specs.iter().any(|(spec, _)| {
                    spec.pointer.strip_prefix('/').and_then(unescape).as_deref()
                        == Some(name.as_str())
                }) {
                    return Err(Usage(format!(
                        "--bind /{name} names a member that --field encrypts: a record is identified by plain members"
                    ))
                    .into());
                }
            }
        }
        let (keyring, primaries) = keys::keyring(args.kms)?;
        // A missing alias is configuration, not a bad record: stop before
        // the first one rather than fail every record.
        let mut aliases: Vec<&str> = specs.iter().map(|(spec, _)| spec.alias.as_str()).collect();
        if let Some((SealKind::Mac, alias)) = record.as_ref().and_then(|r| r.seal.as_ref()) {
            aliases.push(alias);
        }
        keyring.require(&aliases)?;
        if let Some((SealKind::Signature, alias)) = record.as_ref().and_then(|r| r.seal.as_ref())
            && keyring.verifying_keys(alias).is_none()
        {
            return Err(format!(
                "no signing or verifying key for alias `{alias}` \
                 (ENCRYPTED_FIELDS_SIGNING_KEY_* or ENCRYPTED_FIELDS_VERIFYING_KEY_*)"
            )
            .into());
        }
        Ok(Fields {
            specs,
            keyring,
            primaries,
            allow_missing: args.allow_missing,
            skip_sealed: args.skip_sealed,
            record,
        })
    }

    /// Applies `direction` to every field of one document; returns the new
    /// text and how many fields changed.
    pub fn apply(&self, text: &str, direction: Direction) -> Result<(String, usize), String> {
        self.apply_noting(text, direction, |_| {})
    }

    /// [`apply`](Self::apply), telling `note` what it left as it was.
    pub fn apply_noting(
        &self,
        text: &str,
        direction: Direction,
        mut note: impl FnMut(Note<'_>),
    ) -> Result<(String, usize), String> {
        let mut text = text.to_owned();
        let mut changed = 0;
        let record = match &self.record {
            Some(options) => options.record(&text)?,
            None => RecordBinding::new(),
        };
        let spec = self.record.as_ref().and_then(RecordOptions::spec);
        let received_seal = match &spec {
            Some(spec) => self.check_seal(&text, spec, direction)?,
            None => None,
        };
        for (spec, context) in &self.specs {
            let binding = Binding::new(&spec.alias, context, &spec.field);
            // Deterministic fields stay unbound, as in the library: equal
            // values must match across records.
            let binding = match spec.nonce {
                Nonce::Random => binding.in_record(&record),
                Nonce::Deterministic => binding,
            };
            let fail = |error: &dyn std::fmt::Display| format!("{}: {error}", spec.pointer);
            let Some(located) = locate(&text, &spec.pointer).map_err(|e| fail(&e))? else {
                if !self.allow_missing {
                    return Err(fail(
                        &"the document has no such value (--allow-missing to leave it as it is)",
                    ));
                }
                note(Note::Absent(&spec.pointer));
                continue;
            };
            if located.in_array {
                return Err(fail(
                    &"names an array element, which has no field name to bind the envelope to; \
                      seal the whole array (its pointer) instead",
                ));
            }
            let span = located.span;
            let value = &text[span.clone()];
            if value == "null" {
                continue;
            }
            let replacement = match direction {
                Direction::Encrypt => {
                    if already_sealed(&*self.keyring, &binding, value).map_err(|e| fail(&e))? {
                        if !self.skip_sealed {
                            return Err(fail(
                                &"already holds an envelope: refusing to seal it again \
                                  (--skip-sealed leaves it, for re-running on your own output)",
                            ));
                        }
                        note(Note::AlreadySealed(&spec.pointer));
                        continue;
                    }
                    readable(value).map_err(|e| fail(&e))?;
                    let raw = plaintext(value, spec.nonce).map_err(|e| fail(&e))?;
                    let sealed = Sealed::seal_with(&*self.keyring, &binding, &raw, spec.nonce)
                        .map_err(|e| fail(&e))?;
                    Some(format!("\"{}\"", sealed.to_text()))
                }
                Direction::Decrypt => {
                    let sealed = envelope(value).map_err(|e| fail(&e))?;
                    let raw = open(&sealed, &*self.keyring, &binding).map_err(|e| fail(&e))?;
                    readable(raw.get()).map_err(|e| fail(&e))?;
                    Some(raw.get().to_owned())
                }
                Direction::Rotate => {
                    let mut sealed = envelope(value).map_err(|e| fail(&e))?;
                    // Envelopes sealed inside this one (a nested type sealed
                    // whole) are out of reach of any pointer: one under an
                    // old key fails the record rather than let the old key
                    // be dropped while it still holds data.
                    let inner = open(&sealed, &*self.keyring, &binding).map_err(|e| fail(&e))?;
                    if let Some(stale) = stale_envelope(inner.get(), &self.primaries) {
                        return Err(fail(&format_args!(
                            "holds an envelope under key {stale}, which is no alias's primary; \
                             a pointer cannot reach it: re-encrypt such records with the \
                             library's `reencrypt`"
                        )));
                    }
                    let rotated = sealed
                        .rotate(&*self.keyring, &binding, spec.nonce)
                        .map_err(|e| fail(&e))?;
                    rotated.then(|| format!("\"{}\"", sealed.to_text()))
                }
            };
            if let Some(replacement) = replacement {
                text.replace_range(span, &replacement);
                changed += 1;
            }
        }
        if let Some(spec) = &spec {
            changed += self.finish_seal(&mut text, spec, direction, received_seal, changed)?;
        }
        Ok((text, changed))
    }

    /// The seal the document arrives with: checked for `decrypt` and
    /// `rotate` (before any field is touched); for `encrypt`, a document
    /// that has one is refused unless --skip-sealed (then checked, and
    /// kept).
    fn check_seal(
        &self,
        text: &str,
        spec: &SealSpec<'_>,
        direction: Direction,
    ) -> Result<Option<RecordSeal>, String> {
        let member = spec.member();
        let fail = |error: &dyn std::fmt::Display| format!("the record seal ({member}): {error}");
        let pointer = format!("/{}", member.replace('~', "~0").replace('/', "~1"));
        let located = locate(text, &pointer).map_err(|e| fail(&e))?;
        if matches!(direction, Direction::Encrypt) && located.is_some() && !self.skip_sealed {
            return Err(fail(
                &"the record already has this member: refusing to seal it again \
                  (--skip-sealed keeps a valid seal, for re-running on your own output)",
            ));
        }
        // `null` is no seal, as the library's typed reader takes it.
        let present = located.is_some();
        let located = located.filter(|located| &text[located.span.clone()] != "null");
        if matches!(direction, Direction::Encrypt) && present && located.is_none() {
            return Err(fail(
                &"the record already has this member, null: refusing to add another",
            ));
        }
        let seal = match &located {
            Some(located) => Some(
                serde_json::from_str::<RecordSeal>(&text[located.span.clone()])
                    .map_err(|_| fail(&"not a record seal"))?,
            ),
            None => None,
        };
        if seal.is_some() || !matches!(direction, Direction::Encrypt) {
            spec.verify_json(&*self.keyring, text, seal.as_ref())
                .map_err(|e| fail(&e))?;
        }
        Ok(seal)
    }

    /// The seal after the fields (`fields` of them changed): made
    /// (`encrypt`; again under --skip-sealed if a field was sealed now),
    /// made again if anything changed or it is not under the current key
    /// (`rotate`; an unchanged signature stays when this keyring cannot
    /// sign), or removed, as the plain record has none (`decrypt`).
    /// Returns 1 if it changed.
    fn finish_seal(
        &self,
        text: &mut String,
        spec: &SealSpec<'_>,
        direction: Direction,
        received: Option<RecordSeal>,
        fields: usize,
    ) -> Result<usize, String> {
        let fail =
            |error: &dyn std::fmt::Display| format!("the record seal ({}): {error}", spec.member());
        let seal_text = |seal: &RecordSeal| serde_json::to_string(seal).map_err(|e| fail(&e));
        // Located again: the fields before it may have changed length.
        let pointer = format!("/{}", spec.member().replace('~', "~0").replace('/', "~1"));
        let span = locate(text, &pointer)
            .map_err(|e| fail(&e))?
            .map(|located| located.span);
        let Some(old) = received else {
            if !matches!(direction, Direction::Encrypt) {
                return Err(fail(&"missing"));
            }
            let seal = spec.seal_json(&*self.keyring, text).map_err(|e| fail(&e))?;
            let member = serde_json::to_string(spec.member()).map_err(|e| fail(&e))?;
            append_member(text, &member, &seal_text(&seal)?)
                .ok_or_else(|| fail(&"the record is not a JSON object"))?;
            return Ok(1);
        };
        let span = span.ok_or_else(|| fail(&"missing"))?;
        if matches!(direction, Direction::Decrypt) {
            remove_member(text, span).ok_or_else(|| fail(&"cannot remove the member"))?;
            return Ok(0);
        }
        let cannot_sign =
            spec.kind() == SealKind::Signature && self.keyring.signing_key(spec.alias()).is_none();
        if cannot_sign {
            return match fields {
                0 => Ok(0),
                _ => Err(fail(
                    &"fields changed, and this keyring cannot sign the record again \
                      (ENCRYPTED_FIELDS_SIGNING_KEY_...)",
                )),
            };
        }
        let seal = spec.seal_json(&*self.keyring, text).map_err(|e| fail(&e))?;
        if seal == old {
            return Ok(0);
        }
        text.replace_range(span, &seal_text(&seal)?);
        Ok(1)
    }
}

/// Adds `"name": value` as the last member of the top-level object.
fn append_member(text: &mut String, name: &str, value: &str) -> Option<()> {
    let end = text.trim_end().len();
    let close = end
        .checked_sub(1)
        .filter(|&at| text.as_bytes()[at] == b'}')?;
    let body = text[..close].trim_end();
    let empty = body.trim_start().ends_with('{');
    let separator = if empty { "" } else { "," };
    text.insert_str(close, &format!("{separator}{name}:{value}"));
    Some(())
}

/// Removes the top-level member whose value spans `value`, with its name
/// and one separating comma, leaving every other byte as it was.
fn remove_member(text: &mut String, value: Range<usize>) -> Option<()> {
    let bytes = text.as_bytes();
    let skip_back = |mut at: usize| {
        while at > 0 && bytes[at - 1].is_ascii_whitespace() {
            at -= 1;
        }
        at
    };
    // Back over `:` to the name's closing quote, then to its opening one
    // (a quote preceded by an even number of backslashes).
    let colon = skip_back(value.start).checked_sub(1)?;
    (bytes[colon] == b':').then_some(())?;
    let close = skip_back(colon).checked_sub(1)?;
    (bytes[close] == b'"').then_some(())?;
    let open = (0..close).rev().find(|&at| {
        bytes[at] == b'"'
            && bytes[..at]
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count()
                % 2
                == 0
    })?;
    let mut after = value.end;
    while after < bytes.len() && bytes[after].is_ascii_whitespace() {
        after += 1;
    }
    let range = if bytes.get(after) == Some(&b',') {
        open..after + 1
    } else {
        // The last member: take the comma before it instead.
        let before = skip_back(open);
        match before.checked_sub(1).map(|at| bytes[at]) {
            Some(b',') => before - 1..value.end,
            _ => open..value.end,
        }
    };
    text.replace_range(range, "");
    Some(())
}

/// A bound member's value as the library binds it: as serde_json writes the
/// typed value it reads (`"\u0061"` as `"a"`, `1.50` as `1.5`); integers
/// keep their digits. Objects and arrays are refused: their text depends
/// on the Rust type's field order, which the command cannot know.
fn bound_text(value: &str) -> Result<String, String> {
    let refuse = || "a bound member must hold a string, a number, a boolean or null".to_owned();
    match value.as_bytes().first() {
        Some(b'{' | b'[') | None => Err(refuse()),
        Some(b'"') => serde_json::from_str::<String>(value)
            .and_then(|text| serde_json::to_string(&text))
            .map_err(|_| refuse()),
        Some(b't' | b'f' | b'n') => Ok(value.to_owned()),
        _ if value != "-0" && !value.contains(['.', 'e', 'E']) => Ok(value.to_owned()),
        _ => serde_json::from_str::<f64>(value)
            .ok()
            .filter(|number| number.is_finite())
            .and_then(|number| serde_json::to_string(&number).ok())
            .ok_or_else(refuse),
    }
}

/// What a value is sealed as: its exact text, never a reparsed copy (a
/// number beyond 64 bits or a long decimal would change). One exception: a
/// deterministic string is written with the escapes serde_json uses
/// (`"\u0061"` becomes `"a"`), so its envelope equals the one the library
/// makes for the same `String` and lookups match; the text it stands for
/// is the same. Numbers are sealed as written: lookups match the library's
/// when the document writes them as serde_json does (integers always).
fn plaintext(value: &str, nonce: Nonce) -> Result<Box<RawValue>, serde_json::Error> {
    if nonce == Nonce::Deterministic && value.starts_with('"') {
        let text: String = serde_json::from_str(value)?;
        return RawValue::from_string(serde_json::to_string(&text)?);
    }
    RawValue::from_string(value.to_owned())
}

/// The key id of an envelope inside `json` (a string that reads as a
/// version-1 envelope) that is not under one of `primaries`, if any.
fn stale_envelope(json: &str, primaries: &[KeyId]) -> Option<KeyId> {
    let value: serde_json::Value = serde_json::from_str(json).ok()?;
    let mut stack = vec![&value];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::String(text) => {
                let key_id = Sealed::<()>::from_text(text).ok().and_then(|s| s.key_id());
                if let Some(id) = key_id.filter(|id| !primaries.contains(id)) {
                    return Some(id);
                }
            }
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(members) => stack.extend(members.values()),
            _ => {}
        }
    }
    None
}

/// Whether a value is one readers take (FORMAT.md section 5): the byte
/// spans the command works on are checked only as JSON syntax, which lets
/// `1e400`, a lone surrogate escape or 128 levels of nesting through.
fn readable(value: &str) -> Result<(), String> {
    serde_json::from_str::<serde_json::Value>(value)
        .map(drop)
        .map_err(|_| {
            "not a value readers take (FORMAT.md section 5: a number beyond binary64, \
             a lone surrogate escape, or nesting deeper than 127 levels)"
                .to_owned()
        })
}

fn envelope(value: &str) -> Result<Sealed<Box<RawValue>>, String> {
    serde_json::from_str(value).map_err(|_| "not an envelope string".to_owned())
}

/// Opens an envelope to its JSON text: a byte string (format version 3 or
/// 4) as the array of its numbers, which is its JSON form.
fn open(
    sealed: &Sealed<Box<RawValue>>,
    keyring: &dyn Keyring,
    binding: &Binding<'_>,
) -> Result<Box<RawValue>, String> {
    if sealed.inspect().map(|info| info.encoding()).ok() != Some(Encoding::Bytes) {
        return sealed.open(keyring, binding).map_err(|e| e.to_string());
    }
    let bytes: Vec<u8> = Sealed::<Vec<u8>>::from_envelope(sealed.as_bytes().to_vec())
        .open(keyring, binding)
        .map_err(|e| e.to_string())?;
    serde_json::to_string(&bytes)
        .and_then(RawValue::from_string)
        .map_err(|_| "the byte string has no JSON form".to_owned())
}

/// Whether `value` is already an envelope for `binding`: a JSON string that
/// reads as an envelope of a known version and opens. One that reads as an envelope
/// but does not open here (tampered, another alias's or a retired key) is
/// an error: sealing it again would hide it under a second layer.
fn already_sealed(
    keyring: &dyn Keyring,
    binding: &Binding<'_>,
    value: &str,
) -> Result<bool, String> {
    let Ok(text) = serde_json::from_str::<String>(value) else {
        return Ok(false);
    };
    let Ok(sealed) = Sealed::<Box<RawValue>>::from_text(&text) else {
        return Ok(false);
    };
    if sealed.inspect().is_err() {
        return Ok(false);
    }
    match open(&sealed, keyring, binding) {
        Ok(_) => Ok(true),
        Err(error) => Err(format!(
            "already holds what reads as an envelope, which does not open here ({error}); \
             refusing to seal it again"
        )),
    }
}

/// `encrypt` and `decrypt`: one document in, one out on stdout.
pub fn run(args: Args, direction: Direction) -> Outcome {
    let fields = Fields::new(args.fields)?;
    let mut text = String::new();
    if args.input.as_os_str() == "-" {
        std::io::stdin().read_to_string(&mut text)?;
    } else {
        text = std::fs::read_to_string(&args.input)
            .map_err(|e| format!("{}: {e}", args.input.display()))?;
    }
    let (out, _) = fields.apply_noting(&text, direction, |note| match note {
        Note::Absent(pointer) => {
            eprintln!("encrypted-fields: the document has no {pointer}; left as it was");
        }
        Note::AlreadySealed(pointer) => {
            eprintln!("encrypted-fields: {pointer} is already sealed; left as it was");
        }
    })?;
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}

/// `inspect`: what an envelope says without a key.
pub fn inspect(text: &str, hex: bool) -> Outcome {
    let sealed: Sealed<Box<RawValue>> = if hex {
        let digits: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = (0..digits.len())
            .step_by(2)
            .map(|at| {
                digits
                    .get(at..at + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or("not an envelope: expected hex digits, two per byte")?;
        Sealed::from_envelope(bytes)
    } else {
        serde_json::from_value(serde_json::Value::String(
            text.trim().trim_matches('"').to_owned(),
        ))
        .map_err(|_| "not an envelope: expected base64url text of an envelope (--hex for bytes)")?
    };
    let info = sealed.inspect()?;
    out!("version: {}", info.version);
    out!("key id: {}", info.key_id);
    match info.encoding() {
        Encoding::Json => out!("plaintext: {} bytes of JSON", info.plaintext_len),
        Encoding::Bytes => out!("plaintext: a byte string of {} bytes", info.plaintext_len),
    }
    out!("alias: not carried (bound, with type and field, through the AAD)");
    out!("mode: not carried (random and deterministic envelopes share one layout)");
    Ok(ExitCode::SUCCESS)
}

/// Where a pointer's value is: its byte range, and whether it is an
/// array element (which has no field name to bind an envelope to).
struct Located {
    span: Range<usize>,
    in_array: bool,
}

/// The value at `pointer` (RFC 6901) in `text`, or `None` if the document
/// has no such value. An object on the way with a duplicate key is an
/// error: which of the two values to seal would be a guess, and the other
/// would stay in clear.
fn locate(text: &str, pointer: &str) -> Result<Option<Located>, serde_json::Error> {
    let mut current: &RawValue = serde_json::from_str(text)?;
    let mut in_array = false;
    for token in pointer.split('/').skip(1) {
        // Checked when the field was parsed.
        let token = unescape(token).unwrap_or_default();
        let inner = current.get();
        in_array = inner.starts_with('[');
        let next = if inner.starts_with('{') {
            let Entries(entries) = serde_json::from_str(inner)?;
            entries
                .into_iter()
                .find(|(key, _)| *key == token)
                .map(|(_, value)| value)
        } else if inner.starts_with('[') {
            let array: Vec<&RawValue> = serde_json::from_str(inner)?;
            array_index(&token).and_then(|i| array.get(i).copied())
        } else {
            None
        };
        match next {
            Some(next) => current = next,
            None => return Ok(None),
        }
    }
    // `current` borrows from `text`: its offset is where it starts there.
    let start = current.get().as_ptr() as usize - text.as_ptr() as usize;
    Ok(Some(Located {
        span: start..start + current.get().len(),
        in_array,
    }))
}

/// An RFC 6901 array index: `0`, or digits without a leading zero.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    (digits && (token == "0" || !token.starts_with('0')))
        .then(|| token.parse().ok())
        .flatten()
}

/// An object's members in order, refusing duplicate keys.
struct Entries<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for Entries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Entries<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Self::Value, M::Error> {
                let mut entries: Vec<(String, &'a RawValue)> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                while let Some((key, value)) = map.next_entry::<String, &'de RawValue>()? {
                    if !seen.insert(key.clone()) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate key `{key}`"
                        )));
                    }
                    entries.push((key, value));
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

/// A pointer token with `~1` and `~0` decoded; `None` for any other `~`
/// (RFC 6901 section 3: `~2` or a trailing `~` is not a pointer).
fn unescape(token: &str) -> Option<String> {
    let mut out = String::with_capacity(token.len());
    let mut chars = token.chars();
    while let Some(c) = chars.next() {
        match c {
            '~' => match chars.next() {
                Some('0') => out.push('~'),
                Some('1') => out.push('/'),
                _ => return None,
            },
            c => out.push(c),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_finds_exact_spans() {
        let text = r#" {"a": {"b/c": [1, {"d": "x\"y"}]}, "e~f": null} "#;
        let at = |p: &str| locate(text, p).unwrap().map(|l| &text[l.span]);
        assert_eq!(at("/a/b~1c/1/d"), Some(r#""x\"y""#));
        assert_eq!(at("/a/b~1c/0"), Some("1"));
        assert_eq!(at("/e~0f"), Some("null"));
        assert_eq!(at("/a/missing"), None);
        assert_eq!(at("/a/b~1c/9"), None);
        assert_eq!(at("/a/b~1c/01"), None);
        assert_eq!(at("/a/b~1c/+1"), None);
        let twice = r#"{"email": "a@x", "email": "b@x"}"#;
        assert!(locate(twice, "/email").is_err());
    }

    #[test]
    fn deterministic_strings_are_sealed_as_serde_json_writes_them() {
        let sealed = plaintext(r#""\u0061da""#, Nonce::Deterministic).unwrap();
        assert_eq!(sealed.get(), r#""ada""#);
        let kept = plaintext(r#""\u0061da""#, Nonce::Random).unwrap();
        assert_eq!(kept.get(), r#""\u0061da""#);
    }

    #[test]
    fn numbers_are_sealed_exactly_as_written() {
        for number in [
            "12345678901234567890123",
            "-340282366920938463463374607431768211455",
            "0.1000000000000000055511151231257827021181583404541015625",
            "-0",
            "1.50",
            "1e400",
        ] {
            for nonce in [Nonce::Random, Nonce::Deterministic] {
                assert_eq!(plaintext(number, nonce).unwrap().get(), number);
            }
        }
    }

    #[test]
    fn field_specs_parse_or_explain() {
        let spec = FieldSpec::parse("/sender/email=pii@CashUser,deterministic").unwrap();
        assert_eq!(
            (
                spec.alias.as_str(),
                spec.context.as_deref(),
                spec.field.as_str()
            ),
            ("pii", Some("CashUser"), "email")
        );
        assert_eq!(spec.nonce, Nonce::Deterministic);
        for bad in ["email=pii", "/email", "/email=PII", "/a~2b=pii", "/a~=pii"] {
            assert!(FieldSpec::parse(bad).is_err(), "{bad}");
        }
        // `=` in the pointer: the split is where an alias follows.
        let spec = FieldSpec::parse("/k=ey=pii@x=y").unwrap();
        assert_eq!(
            (
                spec.pointer.as_str(),
                spec.alias.as_str(),
                spec.context.as_deref()
            ),
            ("/k=ey", "pii", Some("x=y"))
        );
        assert_eq!(spec.field, "k=ey");
        let escaped = FieldSpec::parse("/a~1b/c~0d=pii").unwrap();
        assert_eq!(escaped.field, "c~d");
    }
}
