//! Arbitrary bytes as an envelope: parsing, opening, inspection, rotation.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| encrypted_fields_workspace::fuzzing::envelope(data));
