//! The sealed protobuf Transaction in another language: Python decodes it
//! with the companion descriptor set and the `protobuf` package, opens its
//! fields with the Python twin, and seals a Transaction that Rust opens.

#[path = "../src/model.rs"]
#[allow(dead_code)]
mod model;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use base64::Engine;
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, ExposeSecret, KeySize, generate_key};
use model::payments::EncryptedTransaction;
use prost::Message;
use serde_json::{Value, json};

#[test]
fn python_opens_what_rust_seals_and_rust_opens_what_python_seals() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let vars: Vec<(String, String)> = ["pii", "us_address", "banking"]
        .iter()
        .map(|alias| {
            let key = generate_key(KeySize::Aes256);
            (EnvKeyring::var_name(alias), key.expose_secret().to_owned())
        })
        .collect();
    let keys = EnvKeyring::from_vars(vars.clone()).unwrap();
    let users = model::directory();
    let transaction = model::Transaction {
        id: 41,
        sender: Some(users[0].clone()),
        receiver: Some(users[1].clone()),
        amount_cents: 4_200,
        notes: vec!["sealed in Rust".into()],
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let request = json!({
        "descriptors": b64.encode(model::COMPANION_DESCRIPTORS),
        "sealed": b64.encode(transaction.encrypt(&keys).unwrap().encode_to_vec()),
        "vars": vars.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
    });
    let mut child = Command::new(testkit::python().unwrap())
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/proto_interop.py"))
        .env("PYTHONPATH", root.join("python"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();

    // Python read every field Rust sealed.
    let opened = &answer["opened"];
    assert_eq!(opened["id"], 41);
    assert_eq!(opened["sender"]["email"], "ada@example.com");
    assert_eq!(
        opened["receiver"]["mailing_address"],
        "9 Navy Rd, Arlington"
    );
    assert_eq!(
        opened["sender"]["linked_bank_account"],
        json!({"routing": "121000248", "account": "000123456789"})
    );

    // Rust opens what Python sealed.
    let bytes = b64.decode(answer["sealed"].as_str().unwrap()).unwrap();
    let back = EncryptedTransaction::decode(bytes.as_slice())
        .unwrap()
        .decrypt(&keys)
        .unwrap();
    assert_eq!(back.id, 42);
    assert_eq!(back.amount_cents, 777);
    let sender = back.sender.unwrap();
    assert_eq!(sender.email, "python+ada@example.com");
    assert_eq!(sender.linked_bank_account, users[0].linked_bank_account);
    assert_eq!(
        back.receiver.unwrap().mailing_address,
        users[1].mailing_address
    );
}
