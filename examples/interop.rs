//! The Rust side of the Python twin's interop tests (`python/tests`): reads
//! one JSON request per line on stdin and answers one JSON line on stdout.
//!
//! ```text
//! {"op":"seal","keys":[B64,...],"alias":A,"context":C,"field":F,"value":V,"deterministic":false}
//! {"op":"open","keys":[B64,...],"alias":A,"context":C,"field":F,"envelope":E}
//! {"op":"legacy_open","key":B64,"text":T}
//! {"op":"load_env","vars":{"NAME":"VALUE",...}}
//! -> {"ok":RESULT} or {"error":{"kind":"authentication_failed","message":"..."}}
//! ```
//!
//! Keys arrive as standard base64, primary first. This is a test tool:
//! it prints decrypted values, which a service never should.

use std::io::{BufRead, Write};

use encrypted_fields::legacy::LegacyKey;
use encrypted_fields::{Binding, EnvKeyring, Error, Key, KeySet, MemoryKeyring, Nonce, Sealed};
use serde::Deserialize;
use serde_json::{Value, json};

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
}

fn main() -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for line in std::io::stdin().lock().lines() {
        let response = match serde_json::from_str::<Request>(&line?) {
            Ok(request) => match handle(request) {
                Ok(value) => json!({ "ok": value }),
                Err(error) => {
                    json!({ "error": { "kind": kind(&error), "message": error.to_string() } })
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
            let nonce = if deterministic {
                Nonce::Deterministic
            } else {
                Nonce::Random
            };
            let sealed = Sealed::seal_with(
                &keyring,
                &Binding::new(&alias, &context, &field),
                &value,
                nonce,
            )?;
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
    }
}

fn keyring(alias: &str, keys: &[String]) -> Result<MemoryKeyring, Error> {
    let keys = keys
        .iter()
        .map(|k| Key::from_base64(k))
        .collect::<Result<Vec<_>, _>>()?;
    MemoryKeyring::new().with(alias, KeySet::new(keys)?)
}

/// `ErrorKind::AuthenticationFailed` -> `authentication_failed`.
fn kind(error: &Error) -> String {
    let mut snake = String::new();
    for (i, c) in format!("{:?}", error.kind()).chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            snake.push('_');
        }
        snake.push(c.to_ascii_lowercase());
    }
    snake
}
