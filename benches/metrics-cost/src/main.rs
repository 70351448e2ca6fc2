//! Seals and opens a 16-byte field N times (argument, default 100,000):
//! run under `valgrind --tool=callgrind` for instruction counts. With
//! `raw` as the second argument, the raw AEAD on the same plaintext bytes
//! (the value's JSON) instead: the difference is the library's own cost.

use aes_gcm_siv::aead::{AeadInOut, KeyInit};
use aes_gcm_siv::{Aes256GcmSiv, Nonce};
use encrypted_fields::{Binding, Sealed};
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let raw = args.next().as_deref() == Some("raw");
    let (keyring, metrics) = metrics_cost::setup();
    let binding = Binding::new("pii", "Customer", "email");
    let value = "0123456789abcd".to_owned();
    if raw {
        let cipher = Aes256GcmSiv::new_from_slice(metrics_cost::KEY_BYTES).unwrap();
        let aad = b"\x01\0\0\0\0\0\x03pii\0\x08Customer\0\x05email";
        let mut buf = serde_json::to_vec(&value).unwrap();
        let nonce = Nonce::from([7; 12]);
        for _ in 0..n {
            let tag = cipher
                .encrypt_inout_detached(&nonce, aad, black_box(&mut buf[..]).into())
                .unwrap();
            cipher
                .decrypt_inout_detached(&nonce, aad, black_box(&mut buf[..]).into(), &tag)
                .unwrap();
        }
    } else {
        for _ in 0..n {
            let sealed = Sealed::seal(&keyring, &binding, black_box(&value)).unwrap();
            black_box(sealed.open(&keyring, &binding).unwrap());
        }
    }
    println!(
        "{n} {} seals and opens, metrics {}",
        if raw { "raw" } else { "library" },
        if metrics { "on" } else { "off" }
    );
}
