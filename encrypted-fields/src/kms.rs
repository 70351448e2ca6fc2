//! Keysets wrapped by AWS KMS (feature `aws-kms`): every version of an
//! alias's key, primary first, encrypted under a KMS key as one line of
//! text that fits in an environment variable, a file or a secrets-manager
//! entry:
//!
//! ```text
//! kms1:<alias>:<base64url of the KMS ciphertext blob>
//! ```
//!
//! The blob is KMS `Encrypt` of the keyset's plain text (the
//! `ENCRYPTED_FIELDS_KEY_*` value: standard base64 keys, comma-separated)
//! under the encryption context `{"encrypted-fields:alias": "<alias>"}`,
//! so KMS refuses to unwrap it as any other alias. [`KmsKeyring`] unwraps
//! each keyset with one KMS call at start-up and then serves fields from
//! memory: no network on the hot path.
//!
//! A service needs only `kms:Decrypt` on the KMS key, which can be limited
//! to its aliases with the condition
//! `kms:EncryptionContext:encrypted-fields:alias`.

use std::fmt;

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind};
use crate::key::KeySet;
use crate::keyring::EnvKeyring;
use crate::keyring::{Keyring, MemoryKeyring, is_valid_alias, parse_keys};

/// The encryption context key that binds a wrapped keyset to its alias.
pub const CONTEXT_KEY: &str = "encrypted-fields:alias";
/// The prefix of the variables [`KmsKeyringBuilder::keysets_from_env`]
/// reads: `ENCRYPTED_FIELDS_KMS_KEYSET_PII=kms1:pii:...` (or `..._FILE`).
pub const VAR_PREFIX: &str = "ENCRYPTED_FIELDS_KMS_KEYSET_";
const FORMAT: &str = "kms1";

/// The variable for `alias`'s wrapped keyset: `pii-v2` gives
/// `ENCRYPTED_FIELDS_KMS_KEYSET_PII_V2`.
pub fn var_name(alias: &str) -> String {
    let plain = EnvKeyring::var_name(alias);
    let suffix = plain
        .strip_prefix("ENCRYPTED_FIELDS_KEY_")
        .unwrap_or(&plain);
    format!("{VAR_PREFIX}{suffix}")
}
/// How many KMS calls a load keeps in flight.
const CONCURRENCY: usize = 16;

/// Wraps a plain keyset (`ENCRYPTED_FIELDS_KEY_*` syntax) for `alias` under
/// the KMS key `kms_key_id`.
///
/// # Errors
///
/// [`ErrorKind::InvalidKey`] if the keyset does not parse or the alias is
/// invalid; [`ErrorKind::Kms`] naming the alias and the KMS error.
pub async fn wrap_keyset(
    client: &Client,
    kms_key_id: &str,
    alias: &str,
    keyset: &str,
) -> Result<String, Error> {
    check_alias(alias)?;
    parse_keys(keyset).map_err(|e| e.alias(alias))?;
    let output = client
        .encrypt()
        .key_id(kms_key_id)
        .plaintext(Blob::new(keyset.trim().as_bytes()))
        .encryption_context(CONTEXT_KEY, alias)
        .send()
        .await
        .map_err(|e| kms_error(alias, "Encrypt", &e))?;
    let blob = output
        .ciphertext_blob()
        .ok_or_else(|| kms_error(alias, "Encrypt", &Missing("ciphertext")))?;
    Ok(format!(
        "{FORMAT}:{alias}:{}",
        URL_SAFE_NO_PAD.encode(blob.as_ref())
    ))
}

/// A keyset unwrapped by KMS.
pub struct Unwrapped {
    /// The alias the keyset is bound to.
    pub alias: String,
    /// The plain keyset text: key material, wiped on drop.
    pub keyset: Zeroizing<String>,
    /// The ARN of the KMS key that wrapped it, as KMS reports it.
    pub kms_key_id: String,
}

impl fmt::Debug for Unwrapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unwrapped")
            .field("alias", &self.alias)
            .field("kms_key_id", &self.kms_key_id)
            .finish_non_exhaustive()
    }
}

/// Unwraps a `kms1:` keyset with one KMS `Decrypt` call. With
/// `kms_key_id`, KMS also refuses a keyset wrapped under any other key.
///
/// # Errors
///
/// [`ErrorKind::MalformedEnvelope`] for text that is not a wrapped keyset,
/// [`ErrorKind::Kms`] naming the alias and the KMS error (another alias's
/// context, another KMS key, KMS unreachable), [`ErrorKind::InvalidKey`] if
/// the unwrapped text is not a keyset.
pub async fn unwrap_keyset(
    client: &Client,
    wrapped: &str,
    kms_key_id: Option<&str>,
) -> Result<Unwrapped, Error> {
    let (alias, blob) = parse_wrapped(wrapped)?;
    let output = client
        .decrypt()
        .ciphertext_blob(Blob::new(blob))
        .encryption_context(CONTEXT_KEY, alias)
        .set_key_id(kms_key_id.map(str::to_owned))
        .send()
        .await
        .map_err(|e| kms_error(alias, "Decrypt", &e))?;
    let plaintext = output
        .plaintext()
        .ok_or_else(|| kms_error(alias, "Decrypt", &Missing("plaintext")))?;
    let keyset = Zeroizing::new(String::from_utf8(plaintext.as_ref().to_vec()).map_err(|_| {
        Error::new(ErrorKind::InvalidKey)
            .alias(alias)
            .detail("unwrapped keyset is not text")
    })?);
    parse_keys(&keyset).map_err(|e| e.alias(alias))?;
    Ok(Unwrapped {
        alias: alias.to_owned(),
        keyset,
        kms_key_id: output.key_id().unwrap_or_default().to_owned(),
    })
}

/// The alias a wrapped keyset names, without calling KMS.
///
/// # Errors
///
/// [`ErrorKind::MalformedEnvelope`] for text that is not a wrapped keyset.
pub fn wrapped_alias(wrapped: &str) -> Result<&str, Error> {
    parse_wrapped(wrapped).map(|(alias, _)| alias)
}

fn parse_wrapped(wrapped: &str) -> Result<(&str, Vec<u8>), Error> {
    let malformed = || {
        Error::new(ErrorKind::MalformedEnvelope)
            .detail("not a KMS-wrapped keyset (`kms1:<alias>:<base64url>`)")
    };
    let mut parts = wrapped.trim().splitn(3, ':');
    let (Some(FORMAT), Some(alias), Some(blob)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    check_alias(alias)?;
    let blob = URL_SAFE_NO_PAD
        .decode(blob)
        .map_err(|_| malformed().alias(alias))?;
    Ok((alias, blob))
}

fn check_alias(alias: &str) -> Result<(), Error> {
    if is_valid_alias(alias) {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::InvalidKey).detail("invalid alias in a wrapped keyset"))
    }
}

/// The KMS error and its causes on one line (the SDK's `Display` alone
/// says only "service error" or "dispatch failure").
fn kms_error(alias: &str, operation: &str, error: &dyn std::error::Error) -> Error {
    let mut detail = format!("KMS {operation}: {error}");
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    Error::new(ErrorKind::Kms).alias(alias).detail(detail)
}

/// A KMS response without the field it must have.
#[derive(Debug)]
struct Missing(&'static str);

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "no {} in the response", self.0)
    }
}

impl std::error::Error for Missing {}

/// A keyring loaded from KMS-wrapped keysets: one KMS call per keyset at
/// start-up, then every field is served from memory.
///
/// ```no_run
/// # async fn run(client: aws_sdk_kms::Client) -> Result<(), encrypted_fields::Error> {
/// use encrypted_fields::kms::KmsKeyring;
///
/// let keyring = KmsKeyring::builder(client).keysets_from_env()?.load().await?;
/// # Ok(()) }
/// ```
pub struct KmsKeyring {
    keys: MemoryKeyring,
    failures: Vec<Error>,
}

impl KmsKeyring {
    /// Starts a load through `client` (configure its region, credentials and
    /// endpoint as for any AWS SDK client).
    pub fn builder(client: Client) -> KmsKeyringBuilder {
        KmsKeyringBuilder {
            client,
            kms_key_id: None,
            wrapped: Vec::new(),
            allow_partial: false,
        }
    }

    /// The keysets that failed to unwrap, when the load allowed that.
    pub fn failures(&self) -> &[Error] {
        &self.failures
    }

    /// The aliases loaded, sorted.
    pub fn aliases(&self) -> Vec<&str> {
        self.keys.aliases()
    }
}

impl Keyring for KmsKeyring {
    fn key_set(&self, alias: &str) -> Option<&KeySet> {
        self.keys.key_set(alias)
    }
}

impl fmt::Debug for KmsKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsKeyring")
            .field("keys", &self.keys)
            .field("failures", &self.failures.len())
            .finish()
    }
}

/// What [`KmsKeyring::builder`] returns: the keysets to load and how.
pub struct KmsKeyringBuilder {
    client: Client,
    kms_key_id: Option<String>,
    wrapped: Vec<Zeroizing<String>>,
    allow_partial: bool,
}

impl KmsKeyringBuilder {
    /// Adds one wrapped keyset (`kms1:<alias>:...`).
    pub fn keyset(mut self, wrapped: impl Into<String>) -> Self {
        self.wrapped.push(Zeroizing::new(wrapped.into()));
        self
    }

    /// Adds every `ENCRYPTED_FIELDS_KMS_KEYSET_*` variable (a `..._FILE`
    /// one names a file holding the text).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] naming a variable that is not UTF-8 or a
    /// file that cannot be read.
    pub fn keysets_from_env(mut self) -> Result<Self, Error> {
        for (name, value) in std::env::vars_os() {
            let Some(name) = name.to_str().filter(|n| n.starts_with(VAR_PREFIX)) else {
                continue;
            };
            let invalid = |detail: String| {
                Error::new(ErrorKind::InvalidKey).detail(format!("{name}: {detail}"))
            };
            let value = value
                .into_string()
                .map_err(|_| invalid("value is not UTF-8".to_owned()))?;
            let text = if name.ends_with("_FILE") {
                std::fs::read_to_string(&value)
                    .map_err(|e| invalid(format!("cannot read the file it names: {}", e.kind())))?
            } else {
                value
            };
            self.wrapped.push(Zeroizing::new(text));
        }
        Ok(self)
    }

    /// Accepts only keysets wrapped under this KMS key (id, ARN or alias
    /// ARN): KMS refuses the others.
    pub fn kms_key_id(mut self, kms_key_id: impl Into<String>) -> Self {
        self.kms_key_id = Some(kms_key_id.into());
        self
    }

    /// Starts with the keysets that unwrapped even if some did not, listing
    /// those in [`KmsKeyring::failures`]. Off by default: a service should
    /// not start without keys it was configured with.
    pub fn allow_partial(mut self, allow: bool) -> Self {
        self.allow_partial = allow;
        self
    }

    /// Unwraps every keyset, up to 16 KMS calls at a time.
    ///
    /// # Errors
    ///
    /// Unless partial loads are allowed, the first failure by alias order:
    /// [`ErrorKind::Kms`] naming the alias and the KMS error, or
    /// [`ErrorKind::MalformedEnvelope`] / [`ErrorKind::InvalidKey`] for
    /// text that is not a wrapped keyset; and [`ErrorKind::InvalidKey`] if
    /// two keysets name the same alias. Must run inside a tokio runtime.
    pub async fn load(self) -> Result<KmsKeyring, Error> {
        let mut pending = self.wrapped.into_iter();
        let mut running = JoinSet::new();
        let mut results = Vec::new();
        loop {
            while running.len() < CONCURRENCY {
                let Some(wrapped) = pending.next() else { break };
                let client = self.client.clone();
                let kms_key_id = self.kms_key_id.clone();
                running.spawn(async move {
                    unwrap_keyset(&client, &wrapped, kms_key_id.as_deref()).await
                });
            }
            match running.join_next().await {
                Some(result) => results.push(result.unwrap_or_else(|_| {
                    Err(Error::new(ErrorKind::Kms).detail("a KMS call panicked"))
                })),
                None => break,
            }
        }
        let mut keys = MemoryKeyring::new();
        let mut failures = Vec::new();
        for result in results {
            let loaded = result.and_then(|unwrapped| {
                if keys.key_set(&unwrapped.alias).is_some() {
                    return Err(Error::new(ErrorKind::InvalidKey)
                        .alias(&unwrapped.alias)
                        .detail("two wrapped keysets name this alias"));
                }
                keys.insert(&unwrapped.alias, parse_keys(&unwrapped.keyset)?)
            });
            if let Err(error) = loaded {
                failures.push(error);
            }
        }
        failures.sort_by(|a, b| a.key_alias().cmp(&b.key_alias()));
        match failures.first() {
            Some(first) if !self.allow_partial => Err(first.clone()),
            _ => Ok(KmsKeyring { keys, failures }),
        }
    }
}
