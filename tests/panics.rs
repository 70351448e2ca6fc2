//! A field type whose `Serialize` or `Deserialize` panics must not leave
//! its plaintext behind for the next envelope sealed or opened on the same
//! thread: servers and batch tools catch panics and reuse their threads.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use common::keyring;
use encrypted_fields::{Binding, Sealed};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const EMAIL: Binding<'static> = Binding::new("pii", "Customer", "email");
const ACCOUNT: Binding<'static> = Binding::new("banking", "Customer", "account");
const NUMBER: Binding<'static> = Binding::new("pii", "Customer", "number");

/// An IBAN whose `Deserialize` asserts on what it reads, after serde has
/// read it.
#[derive(Serialize, Debug)]
struct CheckedIban(String);

impl<'de> Deserialize<'de> for CheckedIban {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let iban = String::deserialize(deserializer)?;
        assert!(iban.starts_with("GB"), "not a UK account");
        Ok(CheckedIban(iban))
    }
}

/// A number whose `Deserialize` panics once it has its value.
#[derive(Serialize, Debug)]
struct Odd(u64);

impl<'de> Deserialize<'de> for Odd {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u64::deserialize(deserializer)?;
        assert!(n % 2 == 1, "even");
        Ok(Odd(n))
    }
}

/// A record whose `Serialize` writes its first field and then panics.
struct HalfWritten;

impl Serialize for HalfWritten {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut record = serializer.serialize_struct("Record", 2)?;
        record.serialize_field("iban", "DE89370400440532013000")?;
        panic!("serializer gave up half way");
    }
}

fn quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    catch_unwind(AssertUnwindSafe(f))
}

/// Seals and opens an email on this thread and checks that the envelope
/// holds exactly its 17-byte JSON plaintext.
fn next_seal_is_exact() {
    let keyring = keyring();
    let sealed = Sealed::seal(&keyring, &EMAIL, &"ada@example.com".to_owned()).unwrap();
    assert_eq!(sealed.inspect().unwrap().plaintext_len, 17);
    assert_eq!(sealed.open(&keyring, &EMAIL).unwrap(), "ada@example.com");
    let number = Sealed::seal(&keyring, &NUMBER, &34u64).unwrap();
    assert_eq!(number.inspect().unwrap().plaintext_len, 2);
    assert_eq!(number.open(&keyring, &NUMBER).unwrap(), 34);
}

#[test]
fn a_deserialize_that_panics_leaves_nothing_for_the_next_seal() {
    let keyring = keyring();
    let iban = "DE89370400440532013000".to_owned();
    let sealed = Sealed::<String>::seal(&keyring, &ACCOUNT, &iban).unwrap();
    let checked = Sealed::<CheckedIban>::from_envelope(sealed.as_bytes().to_vec());
    assert!(quietly(|| checked.open(&keyring, &ACCOUNT)).is_err());
    next_seal_is_exact();
}

#[test]
fn a_deserialize_that_panics_on_a_number_leaves_no_digits_behind() {
    let keyring = keyring();
    let sealed = Sealed::<u64>::seal(&keyring, &NUMBER, &12).unwrap();
    let odd = Sealed::<Odd>::from_envelope(sealed.as_bytes().to_vec());
    assert!(quietly(|| odd.open(&keyring, &NUMBER)).is_err());
    next_seal_is_exact();
}

#[test]
fn a_serialize_that_panics_half_way_leaves_no_partial_record() {
    let keyring = keyring();
    assert!(quietly(|| Sealed::seal(&keyring, &ACCOUNT, &HalfWritten)).is_err());
    next_seal_is_exact();
}

#[test]
fn a_panic_inside_a_derived_struct_leaves_nothing_for_the_next_record() {
    use encrypted_fields::{Decrypt, Encrypt};

    #[derive(Encrypt, Serialize, Deserialize, Debug)]
    struct Payout {
        #[encrypt(key = "banking")]
        iban: CheckedIban,
    }
    #[derive(Encrypt, Serialize, Deserialize, Debug, PartialEq)]
    struct Contact {
        #[encrypt(key = "pii")]
        email: String,
    }

    let keyring = keyring();
    let payout = Payout {
        iban: CheckedIban("DE89370400440532013000".into()),
    };
    let wire = payout.encrypt(&keyring).unwrap();
    assert!(quietly(|| wire.decrypt(&keyring)).is_err());
    let contact = Contact {
        email: "ada@example.com".into(),
    };
    let sealed = contact.encrypt(&keyring).unwrap();
    assert_eq!(sealed.email.inspect().unwrap().plaintext_len, 17);
    assert_eq!(sealed.decrypt(&keyring).unwrap(), contact);
}
