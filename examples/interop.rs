//! The Rust side of the Python twin's interop tests (`python/tests`): reads
//! one JSON request per line on stdin and answers one JSON line on stdout.
//!
//! ```text
//! {"op":"seal","keys":[B64,...],"alias":A,"context":C,"field":F,"value":V,"deterministic":false}
//! {"op":"seal_bytes","keys":[B64,...],"alias":A,"context":C,"field":F,"bytes":[0,255,...],"deterministic":false}
//! {"op":"open","keys":[B64,...],"alias":A,"context":C,"field":F,"envelope":E}
//! {"op":"legacy_open","key":B64,"text":T}
//! {"op":"load_env","vars":{"NAME":"VALUE",...}}
//! {"op":"seal_record","type":T,"vars":{"NAME":"VALUE",...},"value":PLAIN}
//! {"op":"open_record","type":T,"vars":{"NAME":"VALUE",...},"record":WIRE}
//! -> {"ok":RESULT} or {"error":{"kind":"authentication_failed","message":"..."}}
//! ```
//!
//! The record types T (below) declare each integrity mode of the derive:
//! `bound` (record binding), `positions` (position binding, list indexes,
//! map keys, a child sealed whole), `sealed` (MAC record seal), `signed`
//! (Ed25519 signature), and `transaction`, the payments demo's
//! (`examples/payments/model.rs`). `vars` are `ENCRYPTED_FIELDS_*` variables, read as
//! `EnvKeyring::from_vars` reads them.
//!
//! Keys arrive as standard base64, primary first. This is a test tool:
//! it prints decrypted values, which a service never should.

#[path = "payments/model.rs"]
#[allow(dead_code)]
mod model;

use std::io::{BufRead, Write};

use encrypted_fields::legacy::LegacyKey;
use encrypted_fields::{
    Binding, Encoding, EnvKeyring, Error, Key, KeySet, MemoryKeyring, Nonce, Sealed,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

#[derive(encrypted_fields::Encrypt, Serialize, Deserialize)]
#[encrypt(context = "account")]
struct Bound {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(bind)]
    region: String,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "pii", deterministic)]
    ssn: String,
    balance: i64,
}

#[derive(encrypted_fields::Encrypt, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CashUser {
    cash_tag: String,
    #[encrypt(key = "pii")]
    mailing_address: String,
    #[encrypt(key = "banking")]
    bank_account: String,
}

#[derive(encrypted_fields::Encrypt, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[encrypt(context = "transaction", bind_positions)]
struct Positions {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(nested)]
    sender: CashUser,
    #[encrypt(nested)]
    receiver: CashUser,
    #[encrypt(nested, bind_index)]
    witnesses: Vec<CashUser>,
    #[encrypt(nested)]
    by_role: std::collections::BTreeMap<String, CashUser>,
    #[encrypt(nested, key = "vault")]
    escrow: CashUser,
    memo: Option<String>,
}

#[derive(encrypted_fields::Encrypt, Serialize, Deserialize)]
#[encrypt(context = "account", seal = "records")]
struct MacSealed {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(nested)]
    holder: CashUser,
    balance: f64,
    tags: Vec<String>,
    note: Option<String>,
}

#[derive(encrypted_fields::Encrypt, Serialize, Deserialize)]
#[encrypt(context = "account", sign = "records", seal_member = "signature")]
struct Signed {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
    balance: i64,
    big: u128,
}

/// Seals or opens a record of the named type, through JSON both ways. A
/// value serde refuses answers `{"serde_error": "..."}`, as `open` does.
fn record(kind: &str, keyring: &EnvKeyring, value: Value, seal: bool) -> Result<Value, Error> {
    fn go<T>(keyring: &EnvKeyring, value: Value, seal: bool) -> Result<Value, Error>
    where
        T: encrypted_fields::Encrypt + Serialize + serde::de::DeserializeOwned,
        T::Encrypted:
            Serialize + serde::de::DeserializeOwned + encrypted_fields::Decrypt<Plain = T>,
    {
        let serde_error = |e: serde_json::Error| json!({ "serde_error": e.to_string() });
        let json = |v: &dyn erased::Json| v.to_value().unwrap_or_else(serde_error);
        if seal {
            match serde_json::from_value::<T>(value) {
                Ok(plain) => Ok(json(&plain.encrypt(keyring)?)),
                Err(error) => Ok(serde_error(error)),
            }
        } else {
            match serde_json::from_value::<T::Encrypted>(value) {
                Ok(wire) => Ok(json(&encrypted_fields::Decrypt::decrypt(&wire, keyring)?)),
                Err(error) => Ok(serde_error(error)),
            }
        }
    }
    match kind {
        "bound" => go::<Bound>(keyring, value, seal),
        "positions" => go::<Positions>(keyring, value, seal),
        "sealed" => go::<MacSealed>(keyring, value, seal),
        "signed" => go::<Signed>(keyring, value, seal),
        "transaction" => go::<model::Transaction>(keyring, value, seal),
        other => Ok(json!({ "serde_error": format!("no record type `{other}`") })),
    }
}

/// `to_value` for either side of [`record`] without naming its type.
mod erased {
    pub trait Json {
        fn to_value(&self) -> Result<serde_json::Value, serde_json::Error>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
            serde_json::to_value(self)
        }
    }
}

#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Request {
    Seal {
        keys: Vec<String>,
        alias: String,
        context: String,
        field: String,
        value: Value,
        #[serde(default)]
        deterministic: bool,
    },
    SealBytes {
        keys: Vec<String>,
        alias: String,
        context: String,
        field: String,
        bytes: Vec<u8>,
        #[serde(default)]
        deterministic: bool,
    },
    Open {
        keys: Vec<String>,
        alias: String,
        context: String,
        field: String,
        envelope: Value,
    },
    LegacyOpen {
        key: String,
        text: String,
    },
    LoadEnv {
        vars: std::collections::BTreeMap<String, String>,
    },
    SealRecord {
        r#type: String,
        vars: std::collections::BTreeMap<String, String>,
        value: Value,
    },
    OpenRecord {
        r#type: String,
        vars: std::collections::BTreeMap<String, String>,
        record: Value,
    },
}

fn main() -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let response = match serde_json::from_str::<Request>(&line?) {
            Ok(request) => match handle(request) {
                Ok(value) => json!({ "ok": value }),
                Err(error) => {
                    json!({ "error": { "kind": error.kind().as_str(), "message": error.to_string() } })
                }
            },
            Err(error) => {
                json!({ "error": { "kind": "bad_request", "message": error.to_string() } })
            }
        };
        writeln!(out, "{response}")?;
        out.flush()?;
    }
    Ok(())
}

fn nonce(deterministic: bool) -> Nonce {
    if deterministic {
        Nonce::Deterministic
    } else {
        Nonce::Random
    }
}

fn handle(request: Request) -> Result<Value, Error> {
    match request {
        Request::Seal {
            keys,
            alias,
            context,
            field,
            value,
            deterministic,
        } => {
            let keyring = keyring(&alias, &keys)?;
            let binding = Binding::new(&alias, &context, &field);
            let sealed = Sealed::seal_with(&keyring, &binding, &value, nonce(deterministic))?;
            Ok(Value::String(sealed.to_text()))
        }
        // Opened by `open` as a `serde_json::Value`: the bytes as numbers.
        Request::SealBytes {
            keys,
            alias,
            context,
            field,
            bytes,
            deterministic,
        } => {
            let keyring = keyring(&alias, &keys)?;
            let binding = Binding::new(&alias, &context, &field);
            let nonce = nonce(deterministic);
            let sealed = Sealed::seal_as(&keyring, &binding, &bytes, nonce, Encoding::Bytes)?;
            Ok(Value::String(sealed.to_text()))
        }
        Request::Open {
            keys,
            alias,
            context,
            field,
            envelope,
        } => {
            let keyring = keyring(&alias, &keys)?;
            // The envelope goes through serde, exactly as in a JSON document.
            let sealed: Sealed<Value> = match serde_json::from_value(envelope) {
                Ok(sealed) => sealed,
                Err(error) => return Ok(json!({ "serde_error": error.to_string() })),
            };
            sealed.open(&keyring, &Binding::new(&alias, &context, &field))
        }
        Request::LegacyOpen { key, text } => LegacyKey::from_base64(&key)?
            .decrypt_string(&text)
            .map(Value::String),
        Request::LoadEnv { vars } => {
            let keyring = EnvKeyring::from_vars(vars)?;
            Ok(json!({ "aliases": keyring.aliases() }))
        }
        Request::SealRecord {
            r#type,
            vars,
            value,
        } => record(&r#type, &EnvKeyring::from_vars(vars)?, value, true),
        Request::OpenRecord {
            r#type,
            vars,
            record: wire,
        } => record(&r#type, &EnvKeyring::from_vars(vars)?, wire, false),
    }
}

fn keyring(alias: &str, keys: &[String]) -> Result<MemoryKeyring, Error> {
    let keys = keys
        .iter()
        .map(|k| Key::from_base64(k))
        .collect::<Result<Vec<_>, _>>()?;
    MemoryKeyring::new().with(alias, KeySet::new(keys)?)
}
