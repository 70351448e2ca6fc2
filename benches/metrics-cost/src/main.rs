//! Seals and opens a 16-byte field N times (argument, default 100,000):
//! run under `valgrind --tool=callgrind` for instruction counts.

use encrypted_fields::{Binding, Sealed};
use std::hint::black_box;

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let (keyring, metrics) = metrics_cost::setup();
    let binding = Binding::new("pii", "Customer", "email");
    let value = "0123456789abcdef".to_owned();
    for _ in 0..n {
        let sealed = Sealed::seal(&keyring, &binding, black_box(&value)).unwrap();
        black_box(sealed.open(&keyring, &binding).unwrap());
    }
    println!(
        "{n} seals and opens, metrics {}",
        if metrics { "on" } else { "off" }
    );
}
