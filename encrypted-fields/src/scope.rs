//! Record and position binding (format version 2): the values that
//! identify a record and where a value sits in the outermost one, encoded
//! for the AAD, and the per-thread scope through which the derive's code
//! hands them from a value to its nested children.

use crate::binding::Binding;
use crate::error::{Error, ErrorKind};

impl<'a> Binding<'a> {
    /// Also binds to `record`: an envelope sealed this way opens only in the
    /// record with the same identifying values (format version 2).
    pub fn in_record(self, record: &'a RecordBinding) -> Self {
        self.with_scope(&record.0, self.position_bytes(), self.accepts_unbound())
    }

    /// Also binds to where the value sits in the outermost value (format
    /// version 2).
    pub fn at(self, position: &'a Position) -> Self {
        self.with_scope(self.record_bytes(), &position.0, self.accepts_unbound())
    }
}

/// The values that identify a record (FORMAT.md section 4.1), to bind
/// envelopes to: for each type that declares bound fields, its context and
/// each bound field's serialized name and JSON value.
///
/// ```
/// use encrypted_fields::{Binding, RecordBinding};
///
/// let mut record = RecordBinding::new();
/// record.push_type("customer", &[("id", "7")])?;
/// let binding = Binding::new("pii", "customer", "email").in_record(&record);
/// assert!(binding.is_scoped());
/// # Ok::<(), encrypted_fields::Error>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct RecordBinding(pub(crate) Vec<u8>);

impl RecordBinding {
    /// No values yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one type's bound fields: its `context` and each field's
    /// serialized name and value as JSON text, written as FORMAT.md section
    /// 5 says a deterministic plaintext is (`7`, `"ada"`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Serialize`](crate::ErrorKind::Serialize) if a name is
    /// longer than 65535 bytes, a value longer than 2^32 - 1 bytes, or more
    /// than 65535 fields are given.
    pub fn push_type(&mut self, context: &str, fields: &[(&str, &str)]) -> Result<(), Error> {
        let too_long = || {
            Error::new(ErrorKind::Serialize).detail("a record binding name or value is too long")
        };
        push_u16(&mut self.0, context.as_bytes()).ok_or_else(too_long)?;
        let count = u16::try_from(fields.len()).map_err(|_| too_long())?;
        self.0.extend_from_slice(&count.to_be_bytes());
        for (name, json) in fields {
            push_u16(&mut self.0, name.as_bytes()).ok_or_else(too_long)?;
            push_u32(&mut self.0, json.as_bytes()).ok_or_else(too_long)?;
        }
        Ok(())
    }
}

/// A bound field's value, written as JSON text (FORMAT.md section 4.1)
/// into a reused buffer: entering a bound type allocates nothing.
pub trait BoundValue {
    /// Appends the value's JSON text to `out`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Serialize`](crate::ErrorKind::Serialize) if the value
    /// cannot be written as JSON.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), Error>;
}

impl<T: serde::Serialize + ?Sized> BoundValue for T {
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        serde_json::to_writer(out, self).map_err(|_| {
            Error::new(ErrorKind::Serialize)
                .detail("a bound field's value cannot be written as JSON")
        })
    }
}

/// Where a value sits inside the outermost value (FORMAT.md section 4.1):
/// the context of the type that starts position binding, then the fields,
/// map keys and list indexes on the way down.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Position(pub(crate) Vec<u8>);

/// The kinds of step in a [`Position`]: one byte each on the wire.
pub(crate) const STEP_ROOT: u8 = 0x00;
pub(crate) const STEP_MEMBER: u8 = 0x01;
pub(crate) const STEP_KEY: u8 = 0x02;
pub(crate) const STEP_INDEX: u8 = 0x03;

impl Position {
    /// The root of the outermost value, of type `context`.
    pub fn root(context: &str) -> Self {
        let mut position = Position(Vec::new());
        position.step(STEP_ROOT, context.as_bytes());
        position
    }

    /// Down into the field serialized as `name` (`Variant.field` in an enum).
    pub fn member(mut self, name: &str) -> Self {
        self.step(STEP_MEMBER, name.as_bytes());
        self
    }

    /// Down into the map entry whose key is written `key` as a JSON member
    /// name (a number key as its digits).
    pub fn key(mut self, key: &str) -> Self {
        self.step(STEP_KEY, key.as_bytes());
        self
    }

    /// Down into the list element at `index`.
    pub fn index(mut self, index: u64) -> Self {
        self.0.push(STEP_INDEX);
        self.0.extend_from_slice(&index.to_be_bytes());
        self
    }

    pub(crate) fn step(&mut self, kind: u8, bytes: &[u8]) {
        self.0.push(kind);
        // Names over 4 GiB cannot occur: values are capped far below.
        push_u32(&mut self.0, bytes).unwrap_or(());
    }
}

fn push_u16(out: &mut Vec<u8>, bytes: &[u8]) -> Option<()> {
    out.extend_from_slice(&u16::try_from(bytes.len()).ok()?.to_be_bytes());
    out.extend_from_slice(bytes);
    Some(())
}

fn push_u32(out: &mut Vec<u8>, bytes: &[u8]) -> Option<()> {
    out.extend_from_slice(&u32::try_from(bytes.len()).ok()?.to_be_bytes());
    out.extend_from_slice(bytes);
    Some(())
}

/// What the derive's code is inside: the record and position that the
/// envelopes it seals or opens now are bound to, besides alias, context and
/// field. Per thread, because a value and its nested children are sealed
/// by nested calls of the same `encrypt`, which takes no scope argument;
/// each step down is an [`Entered`] guard that restores it on the way up.
struct Current {
    record: RecordBinding,
    position: Position,
    /// The next list down binds its elements to their indexes.
    index_next: bool,
    /// A type on the way down accepts version-1 envelopes (migration).
    legacy: bool,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Current> = const {
        std::cell::RefCell::new(Current {
            record: RecordBinding(Vec::new()),
            position: Position(Vec::new()),
            index_next: false,
            legacy: false,
        })
    };
}

/// A step into a scope; leaving it (drop, unwinding included) restores
/// the scope as it was.
#[must_use = "the scope lasts as long as this guard"]
pub struct Entered {
    record_len: usize,
    position_len: usize,
    index_next: bool,
    legacy: bool,
}

impl Drop for Entered {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|current| {
            if let Ok(mut current) = current.try_borrow_mut() {
                current.record.0.truncate(self.record_len);
                current.position.0.truncate(self.position_len);
                current.index_next = self.index_next;
                current.legacy = self.legacy;
            }
        });
    }
}

/// Changes the scope with `change` and returns the guard that undoes it.
/// The guard exists before the change and the borrow ends first, so an
/// error or a panic in `change` leaves the scope as it was.
fn enter(change: impl FnOnce(&mut Current) -> Result<(), Error>) -> Result<Entered, Error> {
    CURRENT.with(|cell| {
        let entered = {
            let current = cell.try_borrow().map_err(|_| reentered())?;
            Entered {
                record_len: current.record.0.len(),
                position_len: current.position.0.len(),
                index_next: current.index_next,
                legacy: current.legacy,
            }
        };
        let mut current = cell.try_borrow_mut().map_err(|_| reentered())?;
        change(&mut current)?;
        drop(current);
        Ok(entered)
    })
}

/// Enters a value of type `context`: its bound fields (name and JSON value)
/// join the record; with `positions`, position binding starts here unless
/// an enclosing value started it; with `legacy`, version-1 envelopes open.
pub(crate) fn enter_type(
    context: &str,
    record: &[(&str, &dyn BoundValue)],
    positions: bool,
    legacy: bool,
) -> Result<Entered, Error> {
    if record.is_empty() {
        return enter(|current| {
            enter_positions(current, context, positions, legacy);
            Ok(())
        });
    }
    // The values are written first, each as u32be(len) || JSON, outside
    // the scope's borrow: a `Serialize` that panics or fails leaves the
    // scope as it was.
    BOUND_JSON.with(|values| {
        let mut values = values.try_borrow_mut().map_err(|_| reentered())?;
        values.clear();
        for (_, value) in record {
            let at = values.len();
            values.extend_from_slice(&[0; 4]);
            value.write_json(&mut values)?;
            let len = u32::try_from(values.len() - at - 4).map_err(|_| too_long())?;
            values[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        enter(|current| {
            let out = &mut current.record.0;
            push_u16(out, context.as_bytes()).ok_or_else(too_long)?;
            let count = u16::try_from(record.len()).map_err(|_| too_long())?;
            out.extend_from_slice(&count.to_be_bytes());
            let mut rest = values.as_slice();
            for (name, _) in record {
                push_u16(out, name.as_bytes()).ok_or_else(too_long)?;
                let (len, _) = rest.split_first_chunk::<4>().ok_or_else(too_long)?;
                let segment = 4 + u32::from_be_bytes(*len) as usize;
                out.extend_from_slice(&rest[..segment]);
                rest = &rest[segment..];
            }
            enter_positions(current, context, positions, legacy);
            Ok(())
        })
    })
}

thread_local! {
    /// The JSON text of the bound values being entered.
    static BOUND_JSON: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

fn too_long() -> Error {
    Error::new(ErrorKind::Serialize).detail("a record binding name or value is too long")
}

fn reentered() -> Error {
    // Only a `Serialize` impl that encrypts a derived type while its own
    // field is being sealed gets here.
    Error::new(ErrorKind::Serialize).detail("encrypt called from inside a field's Serialize impl")
}

/// With `positions`, position binding starts here unless an enclosing
/// value started it; with `legacy`, version-1 envelopes open.
fn enter_positions(current: &mut Current, context: &str, positions: bool, legacy: bool) {
    if positions && current.position.0.is_empty() {
        current.position.step(STEP_ROOT, context.as_bytes());
    }
    current.index_next = false;
    current.legacy |= legacy;
}

/// Enters the nested field serialized as `name`: a position step when
/// position binding is on; `indexed` binds the list it holds to indexes.
pub(crate) fn enter_member(name: &str, indexed: bool) -> Result<Entered, Error> {
    enter(|current| {
        if !current.position.0.is_empty() {
            current.position.step(STEP_MEMBER, name.as_bytes());
        }
        current.index_next = indexed;
        Ok(())
    })
}

/// Whether the list being entered binds its elements to their indexes.
pub(crate) fn lists_are_indexed() -> bool {
    CURRENT.with(|current| current.try_borrow().is_ok_and(|c| c.index_next))
}

/// Enters the list element at `index`.
pub(crate) fn enter_index(index: usize) -> Result<Entered, Error> {
    enter(|current| {
        current.position.0.push(STEP_INDEX);
        current
            .position
            .0
            .extend_from_slice(&(index as u64).to_be_bytes());
        current.index_next = false;
        Ok(())
    })
}

/// Whether position binding is on, so map entries are bound to their keys.
pub(crate) fn positions_are_bound() -> bool {
    CURRENT.with(|current| current.try_borrow().is_ok_and(|c| !c.position.0.is_empty()))
}

/// Enters the map entry whose key is written `key` as a JSON member name.
pub(crate) fn enter_key(key: &str) -> Result<Entered, Error> {
    enter(|current| {
        current.position.step(STEP_KEY, key.as_bytes());
        current.index_next = false;
        Ok(())
    })
}

thread_local! {
    static COMPARING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// While held, every field is sealed with a deterministic nonce, so two
/// values seal to equal bytes exactly when their plaintexts are equal:
/// how [`record::forward`](crate::record) tells whether a partial record
/// changed. What is sealed meanwhile is compared and dropped, never sent.
#[must_use = "comparison lasts as long as this guard"]
pub(crate) struct Comparing(bool);

impl Drop for Comparing {
    fn drop(&mut self) {
        let _ = COMPARING.try_with(|comparing| comparing.set(self.0));
    }
}

pub(crate) fn comparing() -> Comparing {
    Comparing(COMPARING.with(|comparing| comparing.replace(true)))
}

pub(crate) fn is_comparing() -> bool {
    COMPARING.with(std::cell::Cell::get)
}

/// Runs `f` with `binding` in the current scope. A scope that cannot be
/// read (a field's own `Serialize` sealing another value) is an error,
/// never an unbound envelope.
pub(crate) fn scoped<R>(
    binding: &Binding<'_>,
    f: impl FnOnce(&Binding<'_>) -> Result<R, Error>,
) -> Result<R, Error> {
    CURRENT.with(|current| match current.try_borrow() {
        Ok(current) if !current.record.0.is_empty() || !current.position.0.is_empty() => {
            f(&binding.with_scope(&current.record.0, &current.position.0, current.legacy))
        }
        Ok(_) => f(binding),
        Err(_) => Err(reentered()),
    })
}

/// The member name a map key is written as: a string key's text, a number
/// key's digits (as serde_json writes map keys).
pub(crate) fn key_text<K: serde::Serialize + ?Sized>(key: &K) -> Result<String, Error> {
    let failed = || Error::new(ErrorKind::Serialize).detail("map key is not a JSON member name");
    let json = serde_json::to_string(key).map_err(|_| failed())?;
    match serde_json::from_str::<serde_json::Value>(&json).map_err(|_| failed())? {
        serde_json::Value::String(text) => Ok(text),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) => Ok(json),
        _ => Err(failed()),
    }
}
