//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the
//! fuzz targets' code on the stable toolchain, so every input the fuzzer
//! kept, and every crash it found and we fixed, stays a regression test.

use std::path::Path;

use encrypted_fields_workspace::fuzzing;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} panicked", path.display());
        count += 1;
    }
    count
}

#[test]
fn envelope_corpus_replays_without_panics() {
    let replayed = replay("envelope", fuzzing::envelope);
    assert!(
        replayed >= 6,
        "only {replayed} inputs in fuzz/corpus/envelope"
    );
}

#[test]
fn json_decrypt_corpus_replays_without_panics() {
    let replayed = replay("json_decrypt", fuzzing::json_decrypt);
    assert!(
        replayed >= 3,
        "only {replayed} inputs in fuzz/corpus/json_decrypt"
    );
}

#[test]
fn fresh_seeds_exercise_the_valid_paths() {
    // The seeds are real envelopes and documents; they must open.
    let seeds = fuzzing::seeds();
    assert!(seeds.iter().filter(|(t, _)| *t == "json_decrypt").count() >= 3);
    for (target, data) in seeds {
        match target {
            "envelope" => fuzzing::envelope(&data),
            _ => {
                let doc: encrypted_fields_workspace::fuzzing::EncryptedFuzzCustomer =
                    serde_json::from_slice(&data).unwrap();
                assert!(encrypted_fields::Decrypt::decrypt(&doc, fuzzing::keyring()).is_ok());
                fuzzing::json_decrypt(&data);
            }
        }
    }
}
