//! Arbitrary bytes as the JSON of a derived companion type, then decryption.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| encrypted_fields_workspace::fuzzing::json_decrypt(data));
