//! Heap allocations on the hot path, counted with an instrumented global
//! allocator: sealing a small field allocates nothing (the envelope is
//! stored inline), a large one only its envelope; opening allocates only
//! the value it returns; no cipher is built per field (keys are expanded at
//! load). One test function: the counter is process-wide.

mod common;

use std::alloc::System;

use common::{Customer, customer, keyring};
use encrypted_fields::{Binding, Decrypt, Encoding, Encrypt, Nonce, Sealed};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Allocations made by `run` (after one warm-up call, which sizes this
/// thread's scratch buffer).
fn allocations<R>(mut run: impl FnMut() -> R) -> (usize, R) {
    drop(run());
    let region = Region::new(GLOBAL);
    let result = run();
    (region.change().allocations, result)
}

#[test]
fn hot_path_allocations() {
    let keyring = keyring();
    let binding = Binding::new("pii", "Customer", "email");

    let small = "ada@example.com".to_owned();
    let (count, sealed) = allocations(|| Sealed::seal(&keyring, &binding, &small).unwrap());
    assert_eq!(count, 0, "sealing a small field allocates nothing");
    let (count, opened) = allocations(|| sealed.open(&keyring, &binding).unwrap());
    assert_eq!(opened, small);
    assert_eq!(count, 1, "opening allocates only the returned String");
    let (count, _) = allocations(|| {
        sealed
            .open(&keyring, &Binding::new("pii", "Customer", "email"))
            .map(|s: String| s.len())
    });
    assert_eq!(count, 1);

    let large = "x".repeat(64 * 1024);
    let (count, sealed) = allocations(|| Sealed::seal(&keyring, &binding, &large).unwrap());
    assert_eq!(
        count, 1,
        "sealing a large field allocates only its envelope"
    );
    let (count, _) = allocations(|| sealed.open(&keyring, &binding).unwrap());
    assert_eq!(
        count, 1,
        "opening a large field allocates only the returned String"
    );

    // A byte string (format version 3): sealed from the value's own bytes
    // into its envelope; opened straight into the buffer `ByteBuf` keeps,
    // or through the scratch buffer into the `Vec<u8>` serde fills.
    let blob = serde_bytes::ByteBuf::from(vec![7; 64 * 1024]);
    let (count, sealed) = allocations(|| {
        Sealed::seal_as(&keyring, &binding, &blob, Nonce::Random, Encoding::Bytes).unwrap()
    });
    assert_eq!(
        count, 1,
        "sealing a byte string allocates only its envelope"
    );
    let (count, opened) = allocations(|| sealed.open(&keyring, &binding).unwrap());
    assert_eq!(opened, blob);
    assert_eq!(count, 1, "opening a byte string allocates only the ByteBuf");
    let as_vec = Sealed::<Vec<u8>>::from_envelope(sealed.as_bytes().to_vec());
    let (count, opened) = allocations(|| as_vec.open(&keyring, &binding).unwrap());
    assert_eq!(opened, blob.into_vec());
    assert_eq!(count, 1, "opening into a Vec<u8> allocates only the Vec");

    // A whole struct: the output's own strings are the only allocations.
    let value = customer();
    let (count, wire) = allocations(|| value.encrypt(&keyring).unwrap());
    // The plain `tags: Vec<String>` cloned into the companion: the Vec and
    // its one String. Both envelopes are small enough to be inline.
    assert!(wire.account.as_bytes().len() <= 112);
    assert_eq!(
        count, 2,
        "encrypting allocates only the companion's contents"
    );
    let (count, back): (usize, Customer) = allocations(|| wire.decrypt(&keyring).unwrap());
    assert_eq!(back, value);
    // email (1), account's two strings (2), tags (2): the plain value's own.
    assert_eq!(
        count, 5,
        "decrypting allocates only the plain value's contents"
    );
}
