//! Plaintext the library handles must not survive in memory it owns after
//! the call: neither in a buffer it frees nor in one it keeps. Checked by
//! scanning this process's writable anonymous memory (heap, arenas,
//! stacks) through `/proc/self/mem`, with no `unsafe`, for a random marker
//! that exists nowhere else.
//!
//! What remains is what SECURITY.md lists (values the caller owns, the
//! companion a nested-sealed child passes through, serde_json's scratch
//! buffer for escapes inside structured values).
//!
//! One test function: other tests running in parallel would allocate and
//! free while we scan, and a marker only makes sense within one scenario.
#![cfg(target_os = "linux")]

mod common;

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::FileExt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use common::keyring;
use encrypted_fields::{Binding, Encoding, Nonce, Sealed};
use serde::de::{self, Deserialize, Deserializer, Visitor};
use zeroize::Zeroize;

const NOTE: Binding<'static> = Binding::new("pii", "Customer", "note");

/// Text before each marker: long enough that its allocations fall in a size
/// class the scan's own small allocations do not reuse, and that the
/// allocator's free-list pointers (written over the start of a freed block)
/// do not reach the marker.
const LONG: &str = "line one of a long note, long enough to stay out of small size classes; \
    line one of a long note, long enough to stay out of small size classes; \
    line one of a long note, long enough to stay out of small size classes: ";

/// A secret that exists only once: kept shifted by one (so the needle we
/// search with does not match itself), revealed only into `Zeroizing` text.
struct Marker {
    shifted: Vec<u8>,
}

impl Marker {
    fn new() -> Self {
        let mut shifted = Vec::with_capacity(32);
        for _ in 0..32 {
            let digit = rand_digit();
            shifted.push(b"0123456789abcdef"[digit] + 1);
        }
        Marker { shifted }
    }

    /// `prefix` + the marker, built in place at its final capacity, so no
    /// reallocation leaves a copy behind.
    fn text(&self, prefix: &str) -> zeroize::Zeroizing<String> {
        let mut text = String::with_capacity(prefix.len() + self.shifted.len());
        text.push_str(prefix);
        for &b in &self.shifted {
            text.push(char::from(b - 1));
        }
        zeroize::Zeroizing::new(text)
    }

    /// Whether the marker's bytes are anywhere in this process's writable
    /// anonymous memory.
    fn is_in_memory(&self) -> bool {
        let maps = BufReader::new(File::open("/proc/self/maps").unwrap());
        let mem = File::open("/proc/self/mem").unwrap();
        let mut chunk = vec![0u8; 1 << 16];
        let overlap = self.shifted.len() - 1;
        for line in maps.lines() {
            let line = line.unwrap();
            let fields: Vec<&str> = line.split_whitespace().collect();
            let anonymous = fields.len() == 5 || fields.get(5) == Some(&"[heap]");
            if fields[1] != "rw-p" || !anonymous {
                continue;
            }
            let (start, end) = fields[0].split_once('-').unwrap();
            let start = u64::from_str_radix(start, 16).unwrap();
            let end = u64::from_str_radix(end, 16).unwrap();
            let mut at = start;
            while at < end {
                let len = chunk.len().min(usize::try_from(end - at).unwrap());
                let Ok(read) = mem.read_at(&mut chunk[..len], at) else {
                    break;
                };
                if read == 0 {
                    break;
                }
                if self.matches(&chunk[..read]) {
                    return true;
                }
                // Step back so a marker across two chunks is still seen.
                at += u64::try_from(read.saturating_sub(overlap).max(1)).unwrap();
            }
        }
        false
    }

    fn matches(&self, haystack: &[u8]) -> bool {
        let first = self.shifted[0].wrapping_sub(1);
        let n = self.shifted.len();
        (0..haystack.len().saturating_sub(n - 1)).any(|i| {
            haystack[i] == first
                && haystack[i..i + n]
                    .iter()
                    .zip(&self.shifted)
                    .all(|(&b, &s)| b.wrapping_add(1) == s)
        })
    }
}

fn rand_digit() -> usize {
    use std::hash::{BuildHasher, RandomState};
    usize::try_from(RandomState::new().hash_one(std::time::Instant::now()) % 16).unwrap()
}

/// Reads a string and panics inside the visitor, without copying it.
struct Refuses;

impl<'de> Deserialize<'de> for Refuses {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Refuses;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Refuses, E> {
                panic!("refused")
            }
        }
        deserializer.deserialize_str(V)
    }
}

#[test]
fn plaintext_is_not_left_in_memory() {
    let keyring = keyring();

    // The scanner finds a marker in freed memory: this test can fail.
    let control = Marker::new();
    let freed: String = control.text(LONG).to_string();
    drop(std::hint::black_box(freed));
    assert!(control.is_in_memory(), "the scanner misses freed strings");

    // A string with escape sequences, opened and wiped by the caller.
    let marker = Marker::new();
    let sealed = {
        let value = marker.text(&format!("{}\nline two: \"", LONG));
        Sealed::seal(&keyring, &NOTE, &*value).unwrap()
    };
    let mut opened: String = sealed.open(&keyring, &NOTE).unwrap();
    assert!(opened.starts_with("line one"));
    opened.zeroize();
    assert!(
        !marker.is_in_memory(),
        "opening an escaped string left its plaintext in memory"
    );

    // A value whose Deserialize panics while it holds the plaintext: the
    // scratch buffer is wiped as the panic unwinds.
    let marker = Marker::new();
    let sealed = {
        let value = marker.text(LONG);
        Sealed::seal(&keyring, &NOTE, &*value).unwrap()
    };
    let refuses = Sealed::<Refuses>::from_envelope(sealed.as_bytes().to_vec());
    let result = catch_unwind(AssertUnwindSafe(|| refuses.open(&keyring, &NOTE)));
    assert!(result.is_err());
    assert!(
        !marker.is_in_memory(),
        "a panic while opening left the plaintext in memory"
    );

    // A byte string (format version 3): sealed from the caller's bytes and
    // from a `Vec<u8>` gathered in the scratch buffer, opened into an owned
    // buffer, into a `Vec<u8>` one byte at a time, and refused by `String`.
    let marker = Marker::new();
    let envelope = {
        let value = marker.text(LONG);
        let bytes = serde_bytes::Bytes::new(value.as_bytes());
        let sealed = Sealed::seal_as(&keyring, &NOTE, &bytes, Nonce::Random, Encoding::Bytes);
        sealed.unwrap().as_bytes().to_vec()
    };
    let mut owned: serde_bytes::ByteBuf = Sealed::from_envelope(envelope.clone())
        .open(&keyring, &NOTE)
        .unwrap();
    assert!(owned.starts_with(b"line one"));
    owned.zeroize();
    let mut seq: Vec<u8> = Sealed::from_envelope(envelope)
        .open(&keyring, &NOTE)
        .unwrap();
    let resealed = Sealed::seal_as(&keyring, &NOTE, &seq, Nonce::Random, Encoding::Bytes).unwrap();
    seq.zeroize();
    let not_text = Sealed::<String>::from_envelope(resealed.as_bytes().to_vec());
    assert!(not_text.open(&keyring, &NOTE).is_err());
    assert!(
        !marker.is_in_memory(),
        "sealing or opening a byte string left its plaintext in memory"
    );
}
