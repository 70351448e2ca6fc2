//! Integrity beyond the field, each against a baseline in the same run:
//! record binding (the reference `Customer` round trip, bound to its `id`
//! or not), a MAC record seal and an Ed25519 signature over a record of
//! about 1 KiB of JSON (against the same record unsealed, and against the
//! bare primitive over a message of that size).

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{Signer, Verifier};
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use support::customer::{Address, customer};

/// One customer type per mode, alike but for their declarations.
macro_rules! customer {
    ($name:ident [$($container:tt)*] [$($id:tt)*]) => {
        #[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
        #[encrypt(context = "Customer" $($container)*)]
        struct $name {
            $(#[encrypt($id)])*
            id: u64,
            name: String,
            #[encrypt(key = "pii")]
            email: String,
            #[encrypt(key = "pii")]
            ssn: String,
            #[encrypt(key = "pii")]
            address: Address,
            balance_cents: i64,
            /// Plain notes that make the record about 1 KiB of JSON.
            notes: Vec<String>,
        }

        impl $name {
            /// The reference record (`support::customer`) with `notes`.
            fn new(notes: usize) -> Self {
                let support::customer::Customer { id, name, email, ssn, address, balance_cents } =
                    customer();
                $name {
                    id,
                    name,
                    email,
                    ssn,
                    address,
                    balance_cents,
                    notes: (0..notes).map(|i| format!("note {i:03}: {}", "x".repeat(40))).collect(),
                }
            }
        }
    };
}

customer!(Plain [] []);
customer!(Bound [] [bind]);
customer!(Sealed [, seal = "records"] []);
customer!(Signed [, sign = "records"] []);

/// Notes for a record of about 1 KiB of JSON once sealed.
const NOTES_1KIB: usize = 12;

fn keyring() -> EnvKeyring {
    EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", support::KEY),
        ("ENCRYPTED_FIELDS_KEY_RECORDS", support::KEY),
        (
            "ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS",
            "c2lnbmluZy1zZWVkLTAwMDAwMDAwMDAwMDAwMDAwMDA=",
        ),
    ])
    .unwrap()
}

/// Encrypt to JSON and back: what a service pays per record.
fn round_trip<T>(keyring: &EnvKeyring, value: &T) -> T
where
    T: Encrypt,
    T::Encrypted: Serialize + for<'de> Deserialize<'de> + Decrypt<Plain = T>,
{
    let json = serde_json::to_string(&value.encrypt(keyring).unwrap()).unwrap();
    serde_json::from_str::<T::Encrypted>(&json)
        .unwrap()
        .decrypt(keyring)
        .unwrap()
}

fn binding(c: &mut Criterion) {
    let keyring = keyring();
    let (plain, bound) = (Plain::new(0), Bound::new(0));
    let mut group = c.benchmark_group("record_binding");
    group.bench_function("unbound_round_trip", |b| {
        b.iter(|| round_trip(&keyring, black_box(&plain)))
    });
    group.bench_function("bound_round_trip", |b| {
        b.iter(|| round_trip(&keyring, black_box(&bound)))
    });
    group.finish();
}

fn seals(c: &mut Criterion) {
    let keyring = keyring();
    let (plain, sealed, signed) = (
        Plain::new(NOTES_1KIB),
        Sealed::new(NOTES_1KIB),
        Signed::new(NOTES_1KIB),
    );
    let json_len = serde_json::to_string(&sealed.encrypt(&keyring).unwrap())
        .unwrap()
        .len();
    assert!((900..1300).contains(&json_len), "{json_len} bytes of JSON");
    let (plain_wire, sealed_wire, signed_wire) = (
        plain.encrypt(&keyring).unwrap(),
        sealed.encrypt(&keyring).unwrap(),
        signed.encrypt(&keyring).unwrap(),
    );

    let mut group = c.benchmark_group("record_seal_1KiB");
    group.bench_function("unsealed_encrypt", |b| {
        b.iter(|| black_box(&plain).encrypt(&keyring).unwrap())
    });
    group.bench_function("mac_encrypt", |b| {
        b.iter(|| black_box(&sealed).encrypt(&keyring).unwrap())
    });
    group.bench_function("signed_encrypt", |b| {
        b.iter(|| black_box(&signed).encrypt(&keyring).unwrap())
    });
    group.bench_function("unsealed_decrypt", |b| {
        b.iter(|| black_box(&plain_wire).decrypt(&keyring).unwrap())
    });
    group.bench_function("mac_decrypt", |b| {
        b.iter(|| black_box(&sealed_wire).decrypt(&keyring).unwrap())
    });
    group.bench_function("signed_decrypt", |b| {
        b.iter(|| black_box(&signed_wire).decrypt(&keyring).unwrap())
    });

    // The bare primitives over a message of the record's size.
    let message = vec![0x5a_u8; json_len];
    let mac_key = [7u8; 32];
    group.bench_function("raw_hmac_sha256", |b| {
        b.iter(|| {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&mac_key).unwrap();
            mac.update(black_box(&message));
            mac.finalize().into_bytes()
        })
    });
    let signing = ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]);
    let verifying = signing.verifying_key();
    let signature = signing.sign(&message);
    group.bench_function("raw_ed25519_sign", |b| {
        b.iter(|| signing.sign(black_box(&message)))
    });
    group.bench_function("raw_ed25519_verify", |b| {
        b.iter(|| verifying.verify(black_box(&message), &signature).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::config(std::time::Duration::from_secs(2));
    targets = binding, seals
}
criterion_main!(benches);
