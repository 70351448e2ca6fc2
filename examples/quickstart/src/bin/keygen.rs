//! Prints one line, `ENCRYPTED_FIELDS_KEY_<ALIAS>=<key>`, for a fresh key:
//!
//!     cargo run -q -p quickstart --bin keygen -- pii >> .env
//!     cargo run -q -p quickstart --bin keygen -- legacy-partner --bits 128
//!
//! AES-256 by default; `--bits 128` makes the 16-byte keys that existing
//! integrations use. Nothing but that line goes to stdout.

use std::process::ExitCode;

use encrypted_fields::{EnvKeyring, ExposeSecret, KeySize, generate_key, is_valid_alias};

const USAGE: &str = "usage: keygen ALIAS [--bits 128|256]";

fn main() -> ExitCode {
    match parse(std::env::args().skip(1)) {
        Ok((alias, size)) => {
            let key = generate_key(size);
            println!("{}={}", EnvKeyring::var_name(&alias), key.expose_secret());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("keygen: {message}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<(String, KeySize), String> {
    let mut alias = None;
    let mut size = KeySize::Aes256;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--bits" => {
                size = match args.next().as_deref() {
                    Some("128") => KeySize::Aes128,
                    Some("256") => KeySize::Aes256,
                    _ => return Err("--bits takes 128 or 256".into()),
                }
            }
            "-h" | "--help" => return Err("prints a fresh key for an alias".into()),
            _ if alias.is_none() && !arg.starts_with('-') => alias = Some(arg),
            _ => return Err(format!("unexpected argument `{arg}`")),
        }
    }
    let alias = alias.ok_or("missing ALIAS")?;
    if !is_valid_alias(&alias) {
        return Err(format!(
            "invalid alias `{alias}`: use lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit"
        ));
    }
    Ok((alias, size))
}
