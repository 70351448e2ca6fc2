//! Metrics through the `metrics` facade (feature `metrics`), for whichever
//! exporter the application installs (Prometheus, StatsD, OpenTelemetry):
//!
//! - `encrypted_fields_operations_total{operation, alias, key_id, outcome}`
//! - `encrypted_fields_failures_total{operation, alias, key_id, error}`
//! - `encrypted_fields_keys{alias}`
//!
//! (docs/guide/operations.md has the table). Never plaintext, key bytes or
//! ciphertext: labels are the operation, the alias, the key id and the
//! outcome or error kind.
//!
//! Registering a counter builds its labels and looks it up in the
//! recorder's registry, which would cost about as much as sealing a small
//! field; so each thread keeps the handles it registered, per recorder, and
//! an operation costs a lookup in that cache and an atomic add.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::hash::Hasher;
use std::sync::{PoisonError, RwLock};

use metrics::{Counter, Recorder};
use rustc_hash::{FxHashMap, FxHasher};

use crate::binding::Binding;
use crate::error::ErrorKind;
use crate::key::{Key, KeyId, KeySet};

const OPERATIONS: &str = "encrypted_fields_operations_total";
const FAILURES: &str = "encrypted_fields_failures_total";
const KEYS: &str = "encrypted_fields_keys";

/// How an operation on one field ended.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Outcome {
    Sealed,
    Opened,
    Rotated,
    /// Partial decryption kept it sealed: no key for its alias.
    LeftSealed,
    Failed(ErrorKind),
}

impl Outcome {
    /// A number per outcome, for [`slot_hash`].
    fn code(self) -> u64 {
        match self {
            Outcome::Sealed => 1,
            Outcome::Opened => 2,
            Outcome::Rotated => 3,
            Outcome::LeftSealed => 4,
            Outcome::Failed(kind) => 16 + kind as u64,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Outcome::Sealed => "sealed",
            Outcome::Opened => "opened",
            Outcome::Rotated => "rotated",
            Outcome::LeftSealed => "left_sealed",
            Outcome::Failed(_) => "failed",
        }
    }
}

/// One thread's handles, for the recorder they were registered with.
#[derive(Default)]
struct Handles {
    /// The recorder's address: another recorder (one installed later, or a
    /// test's local one) gets handles of its own.
    recorder: usize,
    slots: Vec<Slot>,
    /// Indexes into `slots` by [`slot_hash`].
    by_hash: FxHashMap<u64, Vec<usize>>,
    /// The slots used last, checked before hashing: a struct's few fields
    /// repeat the same handful of aliases and outcomes.
    recent: [usize; RECENT],
    next_recent: usize,
}

const RECENT: usize = 8;

struct Slot {
    alias: Box<str>,
    operation: &'static str,
    key_id: Option<KeyId>,
    outcome: Outcome,
    counted: Counter,
    failure: Option<Counter>,
}

impl Slot {
    fn is(
        &self,
        operation: &'static str,
        alias: &str,
        key_id: Option<KeyId>,
        outcome: Outcome,
    ) -> bool {
        self.outcome == outcome
            && self.key_id == key_id
            && (std::ptr::eq(self.operation, operation) || self.operation == operation)
            && *self.alias == *alias
    }
}

impl Handles {
    fn for_recorder(recorder: usize) -> Self {
        Handles {
            recorder,
            slots: Vec::new(),
            by_hash: FxHashMap::default(),
            recent: [usize::MAX; RECENT],
            next_recent: 0,
        }
    }

    /// The slot of these labels, registered with `recorder` the first time.
    fn slot(
        &mut self,
        recorder: &dyn Recorder,
        operation: &'static str,
        alias: &str,
        key_id: Option<KeyId>,
        outcome: Outcome,
    ) -> Option<&Slot> {
        let slots = &self.slots;
        let recent = self.recent.iter().copied().find(|&i| {
            slots
                .get(i)
                .is_some_and(|slot| slot.is(operation, alias, key_id, outcome))
        });
        let index = match recent {
            Some(index) => index,
            // Only loaded keys' ids get series (and cache slots) of their own.
            None if key_id.is_some_and(|id| !is_loaded(id)) => {
                return self.slot(recorder, operation, alias, None, outcome);
            }
            None => {
                let bucket = self
                    .by_hash
                    .entry(slot_hash(operation, alias, key_id, outcome))
                    .or_default();
                let found = bucket.iter().copied().find(|&i| {
                    slots
                        .get(i)
                        .is_some_and(|slot| slot.is(operation, alias, key_id, outcome))
                });
                let index = found.unwrap_or(slots.len());
                if found.is_none() {
                    bucket.push(index);
                    self.slots
                        .push(register(recorder, operation, alias, key_id, outcome));
                }
                self.recent[self.next_recent] = index;
                self.next_recent = (self.next_recent + 1) % RECENT;
                index
            }
        };
        self.slots.get(index)
    }
}

thread_local! {
    static HANDLES: RefCell<Handles> = RefCell::new(Handles::default());
}

/// Counts one operation on the field at `binding`. `key_id` is labelled
/// only where a key was used (sealed, opened, rotated, failed to
/// authenticate) and is one loaded through
/// [`MemoryKeyring::insert`](crate::MemoryKeyring::insert): an id read
/// from an envelope that was refused or left sealed is the sender's choice,
/// and so is a public-key session's, and either would let a sender mint
/// series without bound. What [`scope::comparing`] seals and opens is not
/// an operation of its own, and is not counted.
pub(crate) fn count(
    operation: &'static str,
    binding: &Binding<'_>,
    key_id: Option<KeyId>,
    outcome: Outcome,
) {
    if crate::scope::is_comparing() {
        return;
    }
    // The key's id where a key was used; not an envelope's claim.
    let key_id = match outcome {
        Outcome::Sealed | Outcome::Opened | Outcome::Rotated => key_id,
        Outcome::Failed(
            ErrorKind::AuthenticationFailed | ErrorKind::Deserialize | ErrorKind::Serialize,
        ) => key_id,
        Outcome::Failed(_) | Outcome::LeftSealed => None,
    };
    metrics::with_recorder(|recorder| {
        let address = std::ptr::from_ref::<dyn Recorder>(recorder).cast::<()>() as usize;
        // A recorder that counts into this very cache would re-enter it:
        // such an operation goes uncounted rather than panic.
        let _ = HANDLES.try_with(|handles| {
            let Ok(mut handles) = handles.try_borrow_mut() else {
                return;
            };
            if handles.recorder != address {
                *handles = Handles::for_recorder(address);
                describe(recorder);
            }
            if let Some(slot) = handles.slot(recorder, operation, binding.alias(), key_id, outcome)
            {
                slot.counted.increment(1);
                if let Some(failure) = &slot.failure {
                    failure.increment(1);
                }
            }
        });
    });
}

/// The hash of a slot's fields, with rustc's FxHash (a few multiplies
/// for a short alias, where the standard SipHash cost more than the rest
/// of counting). The inputs are declared aliases and known key ids, not a
/// sender's bytes, so a keyed hash buys nothing here.
fn slot_hash(operation: &str, alias: &str, key_id: Option<KeyId>, outcome: Outcome) -> u64 {
    let mut hasher = FxHasher::default();
    // The operations differ in their first letter.
    hasher.write_u8(operation.as_bytes().first().copied().unwrap_or(0));
    hasher.write(alias.as_bytes());
    hasher.write_usize(alias.len());
    hasher.write_u64(key_id.map_or(0, |id| {
        u64::from(u32::from_le_bytes(*id.as_bytes())) | 1 << 32
    }));
    hasher.write_u64(outcome.code());
    hasher.finish()
}

/// The ids of the keys loaded into keyrings: the key ids that may be
/// labels. It only grows, with the keys an operator loads.
static LOADED: RwLock<BTreeSet<KeyId>> = RwLock::new(BTreeSet::new());

fn is_loaded(id: KeyId) -> bool {
    LOADED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .contains(&id)
}

/// Sets the number of keys loaded for `alias`, and lets their ids be labels.
pub(crate) fn keys_loaded(alias: &str, keys: &KeySet) {
    LOADED
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .extend(keys.keys().iter().map(Key::id));
    metrics::gauge!(KEYS, "alias" => alias.to_owned()).set(keys.keys().len() as f64);
}

fn register(
    recorder: &dyn Recorder,
    operation: &'static str,
    alias: &str,
    key_id: Option<KeyId>,
    outcome: Outcome,
) -> Slot {
    static METADATA: metrics::Metadata<'static> =
        metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));
    let id = key_id.map(|id| id.to_string()).unwrap_or_default();
    let labels = |last: (&'static str, String)| {
        vec![
            metrics::Label::new("operation", operation),
            metrics::Label::new("alias", alias.to_owned()),
            metrics::Label::new("key_id", id.clone()),
            metrics::Label::new(last.0, last.1),
        ]
    };
    let counted =
        metrics::Key::from_parts(OPERATIONS, labels(("outcome", outcome.label().to_owned())));
    let failure = match outcome {
        Outcome::Failed(kind) => Some(metrics::Key::from_parts(
            FAILURES,
            labels(("error", kind.as_str().to_owned())),
        )),
        _ => None,
    };
    Slot {
        alias: alias.into(),
        operation,
        key_id,
        outcome,
        counted: recorder.register_counter(&counted, &METADATA),
        failure: failure.map(|key| recorder.register_counter(&key, &METADATA)),
    }
}

fn describe(recorder: &dyn Recorder) {
    recorder.describe_counter(
        OPERATIONS.into(),
        None,
        "Fields sealed, opened, rotated, left sealed for lack of a key, or failed".into(),
    );
    recorder.describe_counter(
        FAILURES.into(),
        None,
        "Failed field operations, by error kind".into(),
    );
    recorder.describe_gauge(
        KEYS.into(),
        None,
        "Keys loaded for an alias (its primary and older versions)".into(),
    );
}
