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
use std::time::{Duration, Instant};

use aws_sdk_kms::Client;
use aws_sdk_kms::config::AsyncSleep;
use aws_sdk_kms::config::timeout::TimeoutConfig;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tokio::task::JoinSet;
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind};
use crate::key::KeySet;
use crate::keyring::read_secret_var;
use crate::keyring::{Keyring, MemoryKeyring, check_alias, parse_keys};

/// The encryption context key that binds a wrapped keyset to its alias.
pub const CONTEXT_KEY: &str = "encrypted-fields:alias";
/// The prefix of the variables [`KmsKeyringBuilder::keysets_from_env`]
/// reads: `ENCRYPTED_FIELDS_KMS_KEYSET_PII=kms1:pii:...` (or `..._FILE`).
pub const VAR_PREFIX: &str = "ENCRYPTED_FIELDS_KMS_KEYSET_";
const FORMAT: &str = "kms1";

/// The variable for `alias`'s wrapped keyset: `pii-v2` gives
/// `ENCRYPTED_FIELDS_KMS_KEYSET_PII_V2`.
pub fn var_name(alias: &str) -> String {
    crate::keyring::prefixed_var_name(VAR_PREFIX, alias)
}
/// How many KMS calls a load keeps in flight.
const CONCURRENCY: usize = 16;
/// How long a load may take, unless [`KmsKeyringBuilder::deadline`] says
/// otherwise: enough for a thousand aliases with throttling, short enough
/// that a KMS endpoint that never answers stops start-up with an error.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
/// The longest deadline [`KmsKeyringBuilder::deadline`] takes; longer ones
/// are cut to it (a start-up that waits an hour for KMS has failed).
pub const MAX_DEADLINE: Duration = Duration::from_secs(3600);
/// The first wait after KMS throttles a call, doubled on each retry up to
/// [`MAX_BACKOFF`], with random jitter.
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Wraps a plain keyset (`ENCRYPTED_FIELDS_KEY_*` syntax) for `alias` under
/// the KMS key `kms_key_id`, giving up after [`DEFAULT_DEADLINE`].
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
    parse_keys(keyset).map_err(|e| e.prefixed(&format!("keyset for alias `{alias}`")))?;
    // The SDK copies the keyset into its request buffer, which it does not
    // wipe: wrapping is an operator's job, not a service's.
    let output = client
        .encrypt()
        .key_id(kms_key_id)
        .plaintext(Blob::new(keyset.trim_ascii().as_bytes()))
        .encryption_context(CONTEXT_KEY, alias)
        .customize()
        .config_override(timeout(DEFAULT_DEADLINE))
        .send()
        .await
        .map_err(|e| match &e {
            SdkError::TimeoutError(_) => no_answer(alias, "Encrypt"),
            _ => kms_error(alias, "Encrypt", &e),
        })?;
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
    /// The keys, parsed (`Debug` shows ids and sizes only).
    pub keys: KeySet,
    /// The ARN of the KMS key that wrapped it; empty if KMS did not say.
    pub kms_key_id: String,
}

impl fmt::Debug for Unwrapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unwrapped")
            .field("alias", &self.alias)
            .field("keys", &self.keys)
            .field("kms_key_id", &self.kms_key_id)
            .finish_non_exhaustive()
    }
}

/// Unwraps a `kms1:` keyset with one KMS `Decrypt` call, giving up after
/// [`DEFAULT_DEADLINE`]. With `kms_key_id`, KMS also refuses a keyset
/// wrapped under any other key.
///
/// # Errors
///
/// [`ErrorKind::MalformedEnvelope`] for text that is not a wrapped keyset
/// ([`ErrorKind::InvalidKey`] if only its alias is invalid),
/// [`ErrorKind::Kms`] naming the alias and the KMS error (another alias's
/// context, another KMS key, KMS unreachable), [`ErrorKind::InvalidKey`] if
/// the unwrapped text is not a keyset.
pub async fn unwrap_keyset(
    client: &Client,
    wrapped: &str,
    kms_key_id: Option<&str>,
) -> Result<Unwrapped, Error> {
    unwrap_once(client, wrapped, kms_key_id, DEFAULT_DEADLINE)
        .await
        .map_err(Failed::into_error)
}

/// Why one `Decrypt` failed: throttled (worth retrying after a wait), or
/// anything else.
enum Failed {
    Throttled(Error),
    Other(Error),
}

impl Failed {
    fn into_error(self) -> Error {
        match self {
            Failed::Throttled(error) | Failed::Other(error) => error,
        }
    }
}

/// A whole-operation timeout for one call. The SDK sets no read timeout by
/// default: a KMS endpoint that accepts the connection and never answers
/// would hang start-up (or the CLI) for ever.
fn timeout(limit: Duration) -> aws_sdk_kms::config::Builder {
    aws_sdk_kms::Config::builder()
        .timeout_config(TimeoutConfig::builder().operation_timeout(limit).build())
}

fn no_answer(alias: &str, operation: &str) -> Error {
    Error::new(ErrorKind::Kms)
        .alias(alias)
        .detail(format!("KMS {operation}: no answer before the deadline"))
}

/// One `Decrypt`, given up after `limit`.
async fn unwrap_once(
    client: &Client,
    wrapped: &str,
    kms_key_id: Option<&str>,
    limit: Duration,
) -> Result<Unwrapped, Failed> {
    let (alias, blob) = parse_wrapped(wrapped).map_err(Failed::Other)?;
    let request = client
        .decrypt()
        .ciphertext_blob(Blob::new(blob))
        .encryption_context(CONTEXT_KEY, alias)
        .set_key_id(kms_key_id.map(str::to_owned))
        .customize()
        .config_override(timeout(limit));
    let mut output = request.send().await.map_err(|e| match &e {
        SdkError::TimeoutError(_) => Failed::Other(no_answer(alias, "Decrypt")),
        _ if e.code() == Some("ThrottlingException") => {
            Failed::Throttled(kms_error(alias, "Decrypt", &e))
        }
        _ => Failed::Other(kms_error(alias, "Decrypt", &e)),
    })?;
    // Take the plaintext out of the response, so the only copy is wiped.
    let plaintext = output
        .plaintext
        .take()
        .ok_or_else(|| Failed::Other(kms_error(alias, "Decrypt", &Missing("plaintext"))))?;
    let bytes = Zeroizing::new(plaintext.into_inner());
    let context = || format!("keyset for alias `{alias}`");
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Failed::Other(
            Error::new(ErrorKind::InvalidKey)
                .alias(alias)
                .detail(format!("{}: unwrapped keyset is not text", context())),
        )
    })?;
    let keys = parse_keys(text).map_err(|e| Failed::Other(e.prefixed(&context()).alias(alias)))?;
    Ok(Unwrapped {
        alias: alias.to_owned(),
        keyset: Zeroizing::new(text.to_owned()),
        keys,
        kms_key_id: output.key_id().unwrap_or_default().to_owned(),
    })
}

/// The alias a wrapped keyset names, without calling KMS.
///
/// # Errors
///
/// [`ErrorKind::MalformedEnvelope`] for text that is not a wrapped keyset,
/// [`ErrorKind::InvalidKey`] for an invalid alias.
pub fn wrapped_alias(wrapped: &str) -> Result<&str, Error> {
    parse_wrapped(wrapped).map(|(alias, _)| alias)
}

fn parse_wrapped(wrapped: &str) -> Result<(&str, Vec<u8>), Error> {
    let malformed = || {
        Error::new(ErrorKind::MalformedEnvelope)
            .detail("not a KMS-wrapped keyset (`kms1:<alias>:<base64url>`)")
    };
    let mut parts = wrapped.trim_ascii().splitn(3, ':');
    let (Some(FORMAT), Some(alias), Some(blob)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    check_alias(alias)?;
    let blob = URL_SAFE_NO_PAD
        .decode(blob)
        .map_err(|_| malformed().alias(alias))?;
    Ok((alias, blob))
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

/// [`unwrap_once`] until it succeeds, fails for a reason other than
/// throttling, or the deadline comes: throttled calls wait (with backoff
/// and jitter) and try again, as a thousand aliases loading at once can
/// exhaust the SDK's own retries.
async fn unwrap_by(
    client: &Client,
    wrapped: &str,
    kms_key_id: Option<&str>,
    deadline: Instant,
) -> Result<Unwrapped, Error> {
    let sleep = client
        .config()
        .sleep_impl()
        .or_else(aws_smithy_async::rt::sleep::default_async_sleep);
    let mut backoff = FIRST_BACKOFF;
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            let alias = wrapped_alias(wrapped).unwrap_or("?");
            return Err(Error::new(ErrorKind::Kms)
                .alias(alias)
                .detail("KMS Decrypt: not loaded before the load's deadline"));
        }
        match unwrap_once(client, wrapped, kms_key_id, remaining).await {
            Ok(unwrapped) => return Ok(unwrapped),
            Err(Failed::Throttled(error)) => {
                let wait = backoff.mul_f64(rand::random_range(0.5..1.0));
                match &sleep {
                    Some(sleep) if Instant::now() + wait < deadline => {
                        sleep.sleep(wait).await;
                        backoff = (backoff * 2).min(MAX_BACKOFF);
                    }
                    _ => return Err(error),
                }
            }
            Err(Failed::Other(error)) => return Err(error),
        }
    }
}

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
            deadline: DEFAULT_DEADLINE,
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

    /// An alias whose keyset failed to load (with `allow_partial`) is an
    /// error wherever it is used, never "not this service's".
    fn load_failure(&self, alias: &str) -> Option<&Error> {
        self.failures
            .iter()
            .find(|failure| failure.key_alias() == Some(alias))
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
    /// Each wrapped keyset and where it came from, for error messages.
    wrapped: Vec<(String, Zeroizing<String>)>,
    allow_partial: bool,
    deadline: Duration,
}

impl KmsKeyringBuilder {
    /// Adds one wrapped keyset (`kms1:<alias>:...`).
    pub fn keyset(mut self, wrapped: impl Into<String>) -> Self {
        let source = format!("keyset {}", self.wrapped.len() + 1);
        self.wrapped.push((source, Zeroizing::new(wrapped.into())));
        self
    }

    /// Adds every `ENCRYPTED_FIELDS_KMS_KEYSET_<ALIAS>` variable (or
    /// `..._FILE`, naming a file that holds the text), read as
    /// `ENCRYPTED_FIELDS_KEY_*` variables are.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] naming the variable: not UTF-8, both it
    /// and its `_FILE` set, a file that cannot be read, or a keyset for
    /// another alias than the variable's name says.
    pub fn keysets_from_env(mut self) -> Result<Self, Error> {
        let mut names = Vec::new();
        for (name, _) in std::env::vars_os() {
            if !name.as_encoded_bytes().starts_with(VAR_PREFIX.as_bytes()) {
                continue;
            }
            // Skipping it would drop a keyset the operator meant to set.
            let Some(name) = name.to_str() else {
                return Err(Error::new(ErrorKind::InvalidKey).detail(format!(
                    "a variable named {VAR_PREFIX}... is not UTF-8: {}",
                    name.to_string_lossy()
                )));
            };
            names.push(name.strip_suffix("_FILE").unwrap_or(name).to_owned());
        }
        names.sort();
        names.dedup();
        for name in names {
            let Some(text) = read_secret_var(&name)? else {
                continue;
            };
            // The alias inside the text is authoritative (KMS binds it);
            // a variable named for another alias is a deployment mistake.
            if let Ok(alias) = wrapped_alias(&text)
                && var_name(alias) != name
            {
                return Err(Error::new(ErrorKind::InvalidKey).detail(format!(
                    "{name}: holds the keyset of alias `{alias}`, whose variable is {}",
                    var_name(alias)
                )));
            }
            self.wrapped.push((name, text));
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
    /// not start without keys it was configured with. An alias that failed
    /// stays an error wherever it is used ([`Keyring::load_failure`]):
    /// partial decryption does not treat its fields as another service's.
    pub fn allow_partial(mut self, allow: bool) -> Self {
        self.allow_partial = allow;
        self
    }

    /// How long the whole load may take ([`DEFAULT_DEADLINE`], 30 s, unless
    /// set; at most [`MAX_DEADLINE`]): KMS calls still unanswered then fail,
    /// naming their alias. Throttled calls are retried with backoff until
    /// then.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline.min(MAX_DEADLINE);
        self
    }

    /// Unwraps every keyset, up to 16 KMS calls at a time, within the
    /// [`deadline`](Self::deadline).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidKey`] if two keysets name the same alias (even
    /// with partial loads: which one to use would be a guess), or if called
    /// outside a tokio runtime; [`ErrorKind::MalformedEnvelope`], naming
    /// where it came from, for text that does not even name an alias (with
    /// partial loads too: no alias could stay an error where it is used).
    /// Unless partial loads are allowed, every
    /// failure at once: one failure as it is ([`ErrorKind::Kms`] naming the
    /// alias and the KMS error, or [`ErrorKind::MalformedEnvelope`] /
    /// [`ErrorKind::InvalidKey`] for text that is not a wrapped keyset,
    /// naming where it came from); several as one [`ErrorKind::Kms`] error
    /// listing each, by alias.
    pub async fn load(self) -> Result<KmsKeyring, Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::new(ErrorKind::InvalidKey)
                .detail("KmsKeyring::load must run inside a tokio runtime"));
        }
        let mut failures = Vec::new();
        let mut seen: Vec<(String, &str)> = Vec::new();
        let mut valid = Vec::new();
        for (source, wrapped) in &self.wrapped {
            match wrapped_alias(wrapped) {
                Err(error) => match parse_wrapped(wrapped) {
                    // Malformed after a valid alias: that alias failed.
                    Err(named) if named.key_alias().is_some() => {
                        failures.push(named.prefixed(source));
                    }
                    _ => return Err(error.prefixed(source)),
                },
                Ok(alias) => {
                    if let Some((_, first)) = seen.iter().find(|(a, _)| a == alias) {
                        return Err(Error::new(ErrorKind::InvalidKey).detail(format!(
                            "{first} and {source} both hold a keyset for alias `{alias}`; keep one"
                        )));
                    }
                    seen.push((alias.to_owned(), source));
                    valid.push(wrapped.clone());
                }
            }
        }
        let deadline = Instant::now() + self.deadline;
        let mut pending = valid.into_iter();
        let mut running = JoinSet::new();
        // Which alias each task loads, so even a panicked one is named.
        let mut tasks = std::collections::HashMap::new();
        let mut keys = MemoryKeyring::new();
        loop {
            while running.len() < CONCURRENCY {
                let Some(wrapped) = pending.next() else { break };
                let alias = wrapped_alias(&wrapped).unwrap_or_default().to_owned();
                let client = self.client.clone();
                let kms_key_id = self.kms_key_id.clone();
                let task = running.spawn(async move {
                    unwrap_by(&client, &wrapped, kms_key_id.as_deref(), deadline).await
                });
                tasks.insert(task.id(), alias);
            }
            let Some(joined) = running.join_next_with_id().await else {
                break;
            };
            let loaded = match joined {
                Ok((_, loaded)) => loaded,
                Err(failed) => Err(Error::new(ErrorKind::Kms)
                    .alias(tasks.get(&failed.id()).map_or("", String::as_str))
                    .detail(
                        "the KMS call panicked (does the tokio runtime have its \
                         I/O and time drivers? `enable_all`)",
                    )),
            }
            .and_then(|unwrapped| keys.insert(&unwrapped.alias, unwrapped.keys));
            if let Err(error) = loaded {
                failures.push(error);
            }
        }
        failures.sort_by(|a, b| a.key_alias().cmp(&b.key_alias()));
        match failures.as_slice() {
            [] => Ok(KmsKeyring { keys, failures }),
            _ if self.allow_partial => Ok(KmsKeyring { keys, failures }),
            [only] => Err(only.clone()),
            all => {
                let each: Vec<String> = all.iter().map(ToString::to_string).collect();
                Err(Error::new(ErrorKind::Kms).detail(format!(
                    "{} of {} keysets did not load: {}",
                    all.len(),
                    self.wrapped.len(),
                    each.join("; ")
                )))
            }
        }
    }
}
