//! Bounded input: an oversized envelope is refused before it is decoded,
//! and the limit is configurable. One test function, because the limit is
//! process-wide and tests in one binary run in parallel.

mod common;

use std::time::Instant;

use common::{EncryptedCustomer, customer, keyring};
use encrypted_fields::{Binding, Decrypt, Encoding, Encrypt, ErrorKind, Nonce, Sealed};

/// Peak resident memory of this process (Linux), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[test]
fn oversized_envelopes_are_refused_before_decoding() {
    assert_eq!(
        encrypted_fields::max_envelope_len(),
        encrypted_fields::DEFAULT_MAX_ENVELOPE_LEN
    );

    // A 100 MB string where an envelope belongs (valid base64url text).
    let mut json = String::with_capacity(100 * 1024 * 1024 + 64);
    json.push_str("{\"email\":\"");
    json.extend(std::iter::repeat_n('A', 100 * 1024 * 1024));
    json.push_str("\",\"id\":1}");
    let before = peak_rss();
    let started = Instant::now();
    let err = serde_json::from_str::<EncryptedCustomer>(&json)
        .unwrap_err()
        .to_string();
    let elapsed = started.elapsed();
    let after = peak_rss();
    assert!(err.contains("text of 104857600 bytes is over the"), "{err}");
    if let (Some(before), Some(after)) = (before, after) {
        // Decoding 100 MB of base64 would take 75 MB more; refusing takes none.
        assert!(
            after - before < 8 * 1024 * 1024,
            "peak memory grew by {} bytes",
            after - before
        );
    }
    eprintln!("100 MB envelope text refused in {elapsed:?}");
    drop(json);

    // Raw (binary) envelopes: refused before any copy.
    let binding = Binding::new("pii", "Customer", "email");
    let huge = Sealed::<String>::from_envelope(vec![1; 17 * 1024 * 1024]);
    assert_eq!(
        huge.open(&keyring(), &binding).unwrap_err().kind(),
        ErrorKind::MalformedEnvelope
    );

    // Configurable: a 1 KiB limit refuses a 2 KiB value when sealing and a
    // larger envelope when reading; normal values still pass.
    let keyring = keyring();
    let big = Sealed::seal(&keyring, &binding, &"x".repeat(2048)).unwrap();
    encrypted_fields::set_max_envelope_len(1024);
    let sealing = Sealed::seal(&keyring, &binding, &"x".repeat(2048)).unwrap_err();
    assert_eq!(sealing.kind(), ErrorKind::Serialize);
    assert!(
        sealing.to_string().contains("over the 1024-byte limit"),
        "{sealing}"
    );
    assert_eq!(
        big.open(&keyring, &binding).unwrap_err().kind(),
        ErrorKind::MalformedEnvelope
    );
    let text = serde_json::to_value(&big).unwrap();
    assert!(serde_json::from_value::<Sealed<String>>(text).is_err());
    assert_eq!(
        customer()
            .encrypt(&keyring)
            .unwrap()
            .decrypt(&keyring)
            .unwrap(),
        customer()
    );

    // Without a limit, a byte string whose length is only declared (2^62
    // elements, three written) is not taken at its word: it seals.
    struct Claims;
    impl serde::Serialize for Claims {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            let mut seq = serializer.serialize_seq(Some(1 << 62))?;
            for byte in [1_u8, 2, 3] {
                seq.serialize_element(&byte)?;
            }
            seq.end()
        }
    }
    encrypted_fields::set_max_envelope_len(usize::MAX);
    let claims = Sealed::seal_as(&keyring, &binding, &Claims, Nonce::Random, Encoding::Bytes);
    let opened: Vec<u8> = Sealed::from_envelope(claims.unwrap().as_bytes().to_vec())
        .open(&keyring, &binding)
        .unwrap();
    assert_eq!(opened, [1, 2, 3]);
    encrypted_fields::set_max_envelope_len(encrypted_fields::DEFAULT_MAX_ENVELOPE_LEN);
}
