//! The client side of the spec's flow: fetch the public key, make a
//! session, call; on error `40002` fetch the key again, make a new session
//! and retry once.

use encrypted_fields::session::SessionKeyring;
use encrypted_fields::{Decrypt, Encrypt};
use serde_json::{Value, json};

use crate::model::{ENCRYPTION_FAILED, EncryptedSecretData, SecretData};

pub struct Client {
    http: reqwest::Client,
    base: String,
    session: Option<(SessionKeyring, String)>,
    next_id: u64,
    /// How many times a `40002` made this client start a new session.
    pub reinitializations: u32,
}

/// Why a call failed: transport, the server's JSON-RPC error, or a
/// response that does not decrypt.
#[derive(Debug)]
pub enum CallError {
    Http(reqwest::Error),
    Rpc(i64, String),
    Crypto(encrypted_fields::Error),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Http(error) => write!(f, "http: {error}"),
            CallError::Rpc(code, message) => write!(f, "error {code}: {message}"),
            CallError::Crypto(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for CallError {}

impl From<reqwest::Error> for CallError {
    fn from(error: reqwest::Error) -> Self {
        CallError::Http(error)
    }
}

impl From<encrypted_fields::Error> for CallError {
    fn from(error: encrypted_fields::Error) -> Self {
        CallError::Crypto(error)
    }
}

impl Client {
    pub fn new(base: &str) -> Self {
        Client {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            session: None,
            next_id: 1,
            reinitializations: 0,
        }
    }

    /// `GET /publicKey` and a fresh session for it.
    async fn initialize(&mut self) -> Result<(), CallError> {
        let body: Value = self
            .http
            .get(format!("{}/publicKey", self.base))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let public_key = body["publicKey"].as_str().unwrap_or_default();
        self.session = Some(SessionKeyring::initiate(public_key)?);
        Ok(())
    }

    /// Calls `method` with params built for the current session; on `40002`
    /// starts a new session and calls once more. Returns the session the
    /// result belongs to and the result.
    async fn call(
        &mut self,
        method: &str,
        params: impl Fn(&SessionKeyring, &str) -> Result<Value, encrypted_fields::Error>,
    ) -> Result<(&SessionKeyring, Vec<Value>), CallError> {
        let mut retried = false;
        loop {
            if self.session.is_none() {
                self.initialize().await?;
            }
            let (keyring, enc_key) = self.session.as_ref().expect("initialized above");
            let call = json!({
                "method": method,
                "id": self.next_id,
                "params": [params(keyring, enc_key)?],
                "version": "1.0",
            });
            self.next_id += 1;
            let mut answer: Value = self
                .http
                .post(format!("{}/encryption", self.base))
                .json(&call)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            if let Some(error) = answer.get("error") {
                let code = error[0].as_i64().unwrap_or_default();
                if code == ENCRYPTION_FAILED && !retried {
                    retried = true;
                    self.reinitializations += 1;
                    self.session = None;
                    continue;
                }
                let message = error[1].as_str().unwrap_or_default().to_owned();
                return Err(CallError::Rpc(code, message));
            }
            let result = serde_json::from_value(answer["result"].take()).unwrap_or_default();
            let (keyring, _) = self.session.as_ref().expect("initialized above");
            return Ok((keyring, result));
        }
    }

    pub async fn send_secret_data(&mut self, secret: &SecretData) -> Result<(), CallError> {
        self.call("sendSecretData", |keyring, enc_key| {
            let sealed = serde_json::to_value(secret.encrypt(keyring)?)
                .expect("a companion type serializes");
            Ok(json!({ "encKey": enc_key, "secretData": sealed }))
        })
        .await?;
        Ok(())
    }

    pub async fn get_secret_data(&mut self) -> Result<SecretData, CallError> {
        let (keyring, mut result) = self
            .call("getSecretData", |_, enc_key| {
                Ok(json!({ "encKey": enc_key }))
            })
            .await?;
        let sealed: EncryptedSecretData = result
            .pop()
            .and_then(|value| serde_json::from_value(value).ok())
            .ok_or_else(|| CallError::Rpc(0, "result is not secret data".to_owned()))?;
        Ok(sealed.decrypt(keyring)?)
    }
}
