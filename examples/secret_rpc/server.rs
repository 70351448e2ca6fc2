//! The JSON-RPC server: `GET /publicKey` serves the session public key and
//! `POST /encryption` takes the spec's calls,
//!
//!     {"method": "sendSecretData", "id": 1, "version": "1.0",
//!      "params": [{"encKey": "...", "secretData": {"label": "...", "pin": "<envelope>", ...}}]}
//!     {"method": "getSecretData", "id": 2, "version": "1.0", "params": [{"encKey": "..."}]}
//!
//! answering `{"result": [...], "id": N}` or `{"error": [code, "message"], "id": N}`
//! with HTTP 200, as the spec does. Every cryptographic failure, a stale or
//! foreign `encKey` included, is error `40002` with the one message
//! "Encryption Failed": the client re-initializes. The cause goes to the
//! server's log (stderr), never to the client, so a client cannot tell a
//! stale session from a forged one.
//!
//! Sessions encrypt the transport, they do not authenticate the caller: as
//! in the spec, anyone who opens a session (anyone who can fetch the public
//! key) can call `getSecretData` and read the stored secret. A real service
//! puts its own authentication (mTLS, a token checked by a layer) in front.

use std::sync::{Arc, Mutex, RwLock};

use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::routing::{get, post};
use axum::{Json, Router};
use encrypted_fields::session::{SessionKeyring, SessionServer};
use encrypted_fields::{Decrypt, Encrypt};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::model::{
    ENCRYPTION_FAILED, EncryptedSecretData, ILLEGAL_ARGUMENT, ILLEGAL_STATE, NO_SUCH_METHOD,
    SecretData,
};

/// The server's key pair and the one secret it keeps (in memory, opened:
/// the server is the endpoint the secret is meant for).
#[derive(Clone)]
pub struct App {
    sessions: Arc<RwLock<SessionServer>>,
    secret: Arc<Mutex<Option<SecretData>>>,
    /// The causes of the 40002 errors sent, as logged.
    log: Arc<Mutex<Vec<String>>>,
}

impl App {
    pub fn new(sessions: SessionServer) -> Self {
        App {
            sessions: Arc::new(RwLock::new(sessions)),
            secret: Arc::default(),
            log: Arc::default(),
        }
    }

    /// What the server has logged about refused calls.
    #[cfg_attr(not(test), expect(dead_code, reason = "read by tests/secret_rpc.rs"))]
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Replaces the key pair, as a redeploy with a new secret does: every
    /// session made before is stale from now on.
    pub fn replace_key_pair(&self, sessions: SessionServer) {
        *self.sessions.write().unwrap_or_else(|p| p.into_inner()) = sessions;
    }

    pub fn router(self) -> Router {
        Router::new()
            .route("/publicKey", get(public_key))
            .route("/encryption", post(rpc))
            .with_state(self)
    }

    fn open(&self, enc_key: &str) -> Result<SessionKeyring, RpcError> {
        let sessions = self.sessions.read().unwrap_or_else(|p| p.into_inner());
        sessions.open(enc_key).map_err(RpcError::crypto)
    }
}

async fn public_key(State(app): State<App>) -> Json<Value> {
    let sessions = app.sessions.read().unwrap_or_else(|p| p.into_inner());
    Json(json!({ "publicKey": sessions.public_key() }))
}

#[derive(Deserialize)]
struct Call {
    method: String,
    id: Value,
    #[serde(default)]
    params: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendParams {
    enc_key: String,
    secret_data: Value,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetParams {
    enc_key: String,
}

async fn rpc(State(app): State<App>, call: Result<Json<Call>, JsonRejection>) -> Json<Value> {
    let Ok(Json(call)) = call else {
        return Json(json!({ "error": [ILLEGAL_ARGUMENT, "not a JSON-RPC call"], "id": null }));
    };
    let outcome = match call.method.as_str() {
        "sendSecretData" => send_secret_data(&app, &call.params),
        "getSecretData" => get_secret_data(&app, &call.params),
        _ => Err(RpcError::new(NO_SUCH_METHOD, "No Such Method")),
    };
    Json(match outcome {
        Ok(result) => json!({ "result": result, "id": call.id }),
        Err(RpcError(code, message, cause)) => {
            if let Some(cause) = cause {
                eprintln!("secret_rpc: {message}: {cause}");
                app.log
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(cause);
            }
            json!({ "error": [code, message], "id": call.id })
        }
    })
}

fn send_secret_data(app: &App, params: &[Value]) -> Result<Vec<Value>, RpcError> {
    let params: SendParams = first(params)?;
    let session = app.open(&params.enc_key)?;
    let sealed: EncryptedSecretData = serde_json::from_value(params.secret_data)
        .map_err(|_| RpcError::illegal("secretData is not the expected object"))?;
    let secret = sealed.decrypt(&session).map_err(RpcError::crypto)?;
    *app.secret.lock().unwrap_or_else(|p| p.into_inner()) = Some(secret);
    Ok(Vec::new())
}

fn get_secret_data(app: &App, params: &[Value]) -> Result<Vec<Value>, RpcError> {
    let params: GetParams = first(params)?;
    let session = app.open(&params.enc_key)?;
    let secret = app.secret.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let secret = secret.ok_or_else(|| RpcError::new(ILLEGAL_STATE, "no secret data stored"))?;
    let sealed = secret.encrypt(&session).map_err(RpcError::crypto)?;
    let sealed = serde_json::to_value(sealed).map_err(|_| RpcError::illegal("unserializable"))?;
    Ok(vec![sealed])
}

/// The spec's params: an array holding one object.
fn first<T: serde::de::DeserializeOwned>(params: &[Value]) -> Result<T, RpcError> {
    match params {
        [object] => serde_json::from_value(object.clone())
            .map_err(|_| RpcError::illegal("params[0] is not the expected object")),
        _ => Err(RpcError::illegal("params must hold exactly one object")),
    }
}

/// A JSON-RPC error: code, message (no plaintext, no key material) and,
/// for the log only, the cause of a cryptographic failure.
struct RpcError(i64, String, Option<String>);

impl RpcError {
    fn new(code: i64, message: &str) -> Self {
        RpcError(code, message.to_owned(), None)
    }

    fn crypto(error: encrypted_fields::Error) -> Self {
        RpcError(
            ENCRYPTION_FAILED,
            "Encryption Failed".to_owned(),
            Some(error.to_string()),
        )
    }

    fn illegal(message: &str) -> Self {
        RpcError::new(ILLEGAL_ARGUMENT, &format!("Illegal Argument: {message}"))
    }
}
