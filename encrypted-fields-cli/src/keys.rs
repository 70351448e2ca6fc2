//! Keys and keysets: `keygen`, the `keyset` rotation steps, and the
//! keyrings and KMS client the other commands use.
//!
//! A keyset is what `ENCRYPTED_FIELDS_KEY_<ALIAS>` holds: standard base64
//! keys, comma-separated, primary first; or the same text wrapped by KMS
//! (`kms1:<alias>:...`), which these commands unwrap, change and wrap again
//! under the same KMS key.

use std::process::ExitCode;

use clap::Subcommand;
use encrypted_fields::kms::{self, KmsKeyring};
use encrypted_fields::{EnvKeyring, ExposeSecret, Key, KeyId, KeySize, Keyring, generate_key};
use zeroize::Zeroizing;

use crate::{Outcome, Usage, runtime};

/// Where a keyset comes from. A plain keyset as an argument would sit in
/// `/proc/<pid>/cmdline` and the shell's history for every user to read.
const KEYSET_HELP: &str = "The keyset: `-` to read it from stdin, `@FILE` for a file, `env:NAME` \
for an environment variable, or a KMS-wrapped keyset (`kms1:...`, ciphertext, safe to pass). \
A plain keyset as an argument is refused: every user on the machine could read it in \
/proc/<pid>/cmdline.";

#[derive(Subcommand)]
pub enum Step {
    /// Adds a fresh key as a secondary: services can read with it before
    /// anything is sealed with it.
    Add {
        #[arg(help = KEYSET_HELP)]
        keyset: String,
        /// Key size.
        #[arg(long, default_value = "256", value_parser = ["128", "256"])]
        bits: String,
    },
    /// Makes the key with this id the primary: new envelopes use it.
    Promote {
        #[arg(help = KEYSET_HELP)]
        keyset: String,
        /// The key id, 8 hex digits (see `keyset show`).
        key_id: String,
    },
    /// Removes a key that is no longer primary: envelopes sealed with it
    /// stop opening, so `rotate` the data first.
    Drop {
        #[arg(help = KEYSET_HELP)]
        keyset: String,
        /// The key id, 8 hex digits (see `keyset show`).
        key_id: String,
    },
    /// Lists the key ids, primary first (on stdout).
    Show {
        #[arg(help = KEYSET_HELP)]
        keyset: String,
    },
}

pub fn keygen(alias: &str, bits: &str, kms_key_id: Option<&str>) -> Outcome {
    if !encrypted_fields::is_valid_alias(alias) {
        return Err(format!("invalid alias `{alias}`: {}", encrypted_fields::ALIAS_RULE).into());
    }
    let key = generate_key(size(bits));
    match kms_key_id {
        None => out!("{}={}", EnvKeyring::var_name(alias), key.expose_secret()),
        Some(kms_key_id) => {
            let wrapped = runtime()?.block_on(async {
                kms::wrap_keyset(&kms_client().await, kms_key_id, alias, key.expose_secret()).await
            })?;
            out!("{}={wrapped}", kms::var_name(alias));
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub fn keyset(step: Step) -> Outcome {
    let text = match &step {
        Step::Add { keyset, .. }
        | Step::Promote { keyset, .. }
        | Step::Drop { keyset, .. }
        | Step::Show { keyset } => read_arg(keyset)?,
    };
    let runtime = runtime()?;
    let client = text
        .starts_with("kms1:")
        .then(|| runtime.block_on(kms_client()));
    // Plain text to work on, and how to wrap it again.
    let (plain, wrap): (Zeroizing<String>, Option<(String, String)>) = match &client {
        None => (text, None),
        Some(client) => {
            let unwrapped = runtime.block_on(kms::unwrap_keyset(client, &text, None))?;
            let wrap = (unwrapped.alias.clone(), unwrapped.kms_key_id.clone());
            (unwrapped.keyset, Some(wrap))
        }
    };
    let mut keys: Vec<Zeroizing<String>> = plain
        .split(',')
        .map(|key| Zeroizing::new(key.trim().to_owned()))
        .collect();
    let ids = |keys: &[Zeroizing<String>]| -> Result<Vec<String>, encrypted_fields::Error> {
        keys.iter()
            .map(|key| Key::from_base64(key).map(|key| key.id().to_string()))
            .collect()
    };
    let before = ids(&keys)?;
    let position = |key_id: &str| {
        before.iter().position(|id| id == key_id).ok_or_else(|| {
            format!(
                "no key with id {key_id} in this keyset (it has {})",
                before.join(", ")
            )
        })
    };
    match &step {
        Step::Show { .. } => {
            for (i, id) in before.iter().enumerate() {
                out!("{id}{}", if i == 0 { " primary" } else { "" });
            }
            return Ok(ExitCode::SUCCESS);
        }
        Step::Add { bits, .. } => keys.push(Zeroizing::new(
            generate_key(size(bits)).expose_secret().to_owned(),
        )),
        Step::Promote { key_id, .. } => {
            let key = keys.remove(position(key_id)?);
            keys.insert(0, key);
        }
        Step::Drop { key_id, .. } => {
            let i = position(key_id)?;
            if i == 0 {
                return Err(format!("{key_id} is the primary: promote another key first").into());
            }
            keys.remove(i);
        }
    }
    let after = ids(&keys)?;
    eprintln!("keyset: {} (primary first)", after.join(", "));
    let plain = Zeroizing::new(
        keys.iter()
            .map(|key| key.as_str())
            .collect::<Vec<_>>()
            .join(","),
    );
    match (client, wrap) {
        (Some(client), Some((alias, kms_key_id))) => {
            let wrapped =
                runtime.block_on(kms::wrap_keyset(&client, &kms_key_id, &alias, &plain))?;
            out!("{wrapped}");
        }
        _ => out!("{}", plain.as_str()),
    }
    Ok(ExitCode::SUCCESS)
}

/// The keyring for `encrypt`, `decrypt` and `rotate`: the
/// `ENCRYPTED_FIELDS_KEY_*` variables, or with `kms` the
/// `ENCRYPTED_FIELDS_KMS_KEYSET_*` ones unwrapped through KMS.
/// Also returns the id of every alias's primary key: `rotate` checks
/// that envelopes sealed inside a field are under one.
/// A keyring and every alias's primary key id.
pub type Loaded = (Box<dyn Keyring>, Vec<KeyId>);

pub fn keyring(kms: bool) -> Result<Loaded, Box<dyn std::error::Error>> {
    let primaries = |keyring: &dyn Keyring, aliases: Vec<&str>| -> Vec<KeyId> {
        aliases
            .into_iter()
            .filter_map(|alias| keyring.key_set(alias).map(|set| set.primary().id()))
            .collect()
    };
    if !kms {
        let keyring = EnvKeyring::from_env()?;
        let ids = primaries(&keyring, keyring.aliases());
        return Ok((Box::new(keyring), ids));
    }
    let keyring = runtime()?.block_on(async {
        KmsKeyring::builder(kms_client().await)
            .keysets_from_env()?
            .load()
            .await
    })?;
    let ids = primaries(&keyring, keyring.aliases());
    let signing = EnvKeyring::from_env()?;
    Ok((Box::new(KmsWithSigning { keyring, signing }), ids))
}

/// The KMS keysets, with the signing and verifying keys of the environment
/// (`ENCRYPTED_FIELDS_SIGNING_KEY_*`, `..._VERIFYING_KEY_*`), which KMS
/// does not wrap.
struct KmsWithSigning {
    keyring: KmsKeyring,
    signing: EnvKeyring,
}

impl Keyring for KmsWithSigning {
    fn key_set(&self, alias: &str) -> Option<&encrypted_fields::KeySet> {
        self.keyring.key_set(alias)
    }

    fn load_failure(&self, alias: &str) -> Option<&encrypted_fields::Error> {
        self.keyring.load_failure(alias)
    }

    fn signing_key(&self, alias: &str) -> Option<&encrypted_fields::SigningKey> {
        self.signing.signing_key(alias)
    }

    fn verifying_keys(&self, alias: &str) -> Option<&encrypted_fields::VerifyingKeys> {
        self.signing.verifying_keys(alias)
    }
}

/// A KMS client configured the standard AWS way (environment, profile;
/// `AWS_ENDPOINT_URL` for a local KMS API), over rustls with ring.
pub async fn kms_client() -> aws_sdk_kms::Client {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    let config = aws_config::from_env().http_client(http).load().await;
    aws_sdk_kms::Client::new(&config)
}

fn size(bits: &str) -> KeySize {
    if bits == "128" {
        KeySize::Aes128
    } else {
        KeySize::Aes256
    }
}

/// The keyset an argument names (`-`, `@FILE`, `env:NAME`) or holds (a
/// wrapped `kms1:` keyset), trimmed, in a wiping buffer. A plain keyset in
/// the argument itself is a usage error.
fn read_arg(arg: &str) -> Result<Zeroizing<String>, Box<dyn std::error::Error>> {
    let mut text = Zeroizing::new(String::new());
    if arg == "-" {
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
    } else if let Some(path) = arg.strip_prefix('@') {
        // Neither the path nor the name is echoed: a key pasted after `@`
        // or `env:` by mistake would reach the terminal and CI logs.
        let unreadable =
            |e: std::io::Error| format!("the file after `@` cannot be read: {}", e.kind());
        let mut file = std::fs::File::open(path).map_err(unreadable)?;
        std::io::Read::read_to_string(&mut file, &mut text).map_err(unreadable)?;
    } else if let Some(name) = arg.strip_prefix("env:") {
        let value = std::env::var(name)
            .map_err(|_| "the variable after `env:` is not set (or not UTF-8)".to_owned())?;
        text = Zeroizing::new(value);
    } else if arg.trim_ascii().starts_with("kms1:") {
        text.push_str(arg);
    } else {
        return Err(Box::new(Usage(
            "refusing a keyset given as an argument: every user on this machine can read it in \
             /proc/<pid>/cmdline. Pass `-` and the keyset on stdin, `@FILE`, or `env:NAME`"
                .to_owned(),
        )));
    }
    Ok(Zeroizing::new(text.trim_ascii().to_owned()))
}
