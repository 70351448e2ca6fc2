//! What a public-key session costs, in units of the cheapest thing the
//! library does: opening one small field. `initiate` (client: X25519 key
//! generation and encapsulation) and `open` (server: decapsulation) are
//! paid once per session; every field after that costs a field open.

#[path = "support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use encrypted_fields::session::{SessionKeyring, SessionServer};
use encrypted_fields::{Binding, Sealed};
use support::keyring;

fn session(c: &mut Criterion) {
    let keyring = keyring();
    let binding = Binding::new("pii", "Customer", "email");
    let field = Sealed::seal(&keyring, &binding, &"ada@example.com".to_owned()).unwrap();
    let (server, _) = SessionServer::generate();
    let public_key = server.public_key();
    let (_, enc_key) = SessionKeyring::initiate(&public_key).unwrap();

    let mut group = c.benchmark_group("session");
    group.bench_function("baseline: open one 15-byte field", |b| {
        b.iter(|| black_box(&field).open(&keyring, &binding).unwrap())
    });
    group.bench_function("client initiate", |b| {
        b.iter(|| SessionKeyring::initiate(black_box(&public_key)).unwrap())
    });
    group.bench_function("server open encKey", |b| {
        b.iter(|| server.open(black_box(&enc_key)).unwrap())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = support::config(Duration::from_secs(3));
    targets = session
}
criterion_main!(benches);
