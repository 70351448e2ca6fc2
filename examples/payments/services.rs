//! The three services, each an axum router over its own keyring:
//! `accounts` (pii + banking) creates transactions, `banking` (banking)
//! settles them, `web` (no keys) shows them and passes them on.
//!
//! Every service keeps the transaction row it holds (the companion type,
//! sealed fields and all, as a database would) and its view of it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use encrypted_fields::axum::{EncryptedJsonRejection, PartialEncryptedJson};
use encrypted_fields::{Decrypt, Encrypt, Keyring};
use utoipa::OpenApi;

use crate::model::{
    EncryptedTransaction, PartialTransaction, PaymentRequest, Settlement, Transaction, View,
    directory, view,
};

/// What every service shares: its keyring, its rows, and where its
/// upstream services are (only `web` has any).
#[derive(Clone)]
pub struct Service {
    keyring: Arc<dyn Keyring>,
    rows: Arc<Mutex<HashMap<u64, (EncryptedTransaction, View)>>>,
    upstream: Option<Upstream>,
}

/// `web`'s way to `accounts` and `banking`.
#[derive(Clone)]
pub struct Upstream {
    pub client: reqwest::Client,
    pub accounts: String,
    pub banking: String,
}

impl FromRef<Service> for Arc<dyn Keyring> {
    fn from_ref(service: &Service) -> Self {
        service.keyring.clone()
    }
}

impl Service {
    fn new(keyring: Arc<dyn Keyring>, upstream: Option<Upstream>) -> Self {
        Service {
            keyring,
            rows: Arc::default(),
            upstream,
        }
    }

    /// Keeps `row` and this service's view of it.
    fn keep(&self, partial: &PartialTransaction, row: EncryptedTransaction) {
        let mut rows = self
            .rows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        rows.insert(partial.id, (row, view(partial)));
    }
}

/// `accounts`: looks the users up in its directory and issues the sealed
/// transaction.
pub fn accounts(keyring: Arc<dyn Keyring>) -> Router {
    Router::new()
        .route("/transactions", post(create))
        .merge(records())
        .with_state(Service::new(keyring, None))
}

/// `banking`: reads the bank accounts, never the contact details.
pub fn banking(keyring: Arc<dyn Keyring>) -> Router {
    Router::new()
        .route("/settlements", post(settle))
        .merge(records())
        .with_state(Service::new(keyring, None))
}

/// `web`: asks `accounts` for a transaction and forwards it to `banking`.
pub fn web(keyring: Arc<dyn Keyring>, upstream: Upstream) -> Router {
    Router::new()
        .route("/payments", post(pay))
        .merge(records())
        .with_state(Service::new(keyring, Some(upstream)))
}

/// `GET /metrics`: what the `metrics` feature counted in this process, in
/// Prometheus' text format (the counters need no upkeep task).
pub fn metrics(handle: metrics_exporter_prometheus::PrometheusHandle) -> Router {
    Router::new().route("/metrics", get(move || std::future::ready(handle.render())))
}

/// Routes every service has: the row it keeps, its view of it, and the
/// demo's OpenAPI document.
fn records() -> Router<Service> {
    Router::new()
        .route("/transactions/{id}", get(row))
        .route("/views/{id}", get(view_of))
        .route(
            "/openapi.json",
            get(|| std::future::ready(Json(Api::openapi()))),
        )
}

/// The demo's API. `EncryptedTransaction` describes itself (the
/// `utoipa` feature): plain fields as in `Transaction`, each encrypted field
/// a string of format `encrypted-fields-envelope` whose description names
/// its key alias, each nested companion a reference.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create, settle, pay, row),
    components(schemas(EncryptedTransaction, PaymentRequest, Settlement))
)]
pub struct Api;

/// `accounts` issues a sealed transaction between two cash users.
#[utoipa::path(post, path = "/transactions", request_body = PaymentRequest,
    responses((status = 200, description = "The transaction, sealed", body = EncryptedTransaction)))]
async fn create(
    State(service): State<Service>,
    Json(request): Json<PaymentRequest>,
) -> Result<Json<EncryptedTransaction>, Failure> {
    let find = |tag: &str| {
        directory()
            .into_iter()
            .find(|user| user.cash_tag == tag)
            .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, format!("no user {tag}")))
    };
    let id = 9001 + service.rows.lock().map_or(0, |rows| rows.len() as u64);
    let transaction = Transaction {
        id,
        sender: find(&request.from)?,
        receiver: find(&request.to)?,
        amount_cents: request.amount_cents,
    };
    let row = transaction.encrypt(&*service.keyring)?;
    let partial = row.decrypt_partial(&*service.keyring)?.value;
    service.keep(&partial, row.clone());
    Ok(Json(row))
}

/// `banking` settles a sealed transaction, reading only the bank accounts.
#[utoipa::path(post, path = "/settlements", request_body = EncryptedTransaction,
    responses((status = 200, description = "Settled", body = Settlement)))]
async fn settle(
    State(service): State<Service>,
    request: Result<PartialEncryptedJson<PartialTransaction>, EncryptedJsonRejection>,
) -> Result<Json<Settlement>, Response> {
    // The client gets the code and one fixed message; the cause (alias,
    // field, kind) goes to this service's log only.
    let PartialEncryptedJson(transaction) = request.map_err(|rejection| {
        if let Some(detail) = rejection.detail() {
            eprintln!("banking: refused a settlement: {detail}");
        }
        rejection.into_response()
    })?;
    settle_opened(&service, transaction).map_err(IntoResponse::into_response)
}

fn settle_opened(
    service: &Service,
    transaction: PartialTransaction,
) -> Result<Json<Settlement>, Failure> {
    let (Some(from), Some(to)) = (
        transaction.sender.bank_account.open(),
        transaction.receiver.bank_account.open(),
    ) else {
        return Err(Failure::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "banking cannot read the bank accounts".to_owned(),
        ));
    };
    let settlement = Settlement {
        transaction_id: transaction.id,
        debited: from.masked(),
        credited: to.masked(),
        amount_cents: transaction.amount_cents,
    };
    // Re-sealing passes the `pii` fields through untouched.
    let row = transaction.encrypt(&*service.keyring)?;
    service.keep(&transaction, row);
    Ok(Json(settlement))
}

/// `web` asks `accounts` for a transaction and forwards it to `banking`.
#[utoipa::path(post, path = "/payments", request_body = PaymentRequest,
    responses((status = 200, description = "Settled", body = Settlement)))]
async fn pay(
    State(service): State<Service>,
    Json(request): Json<PaymentRequest>,
) -> Result<Json<Settlement>, Failure> {
    let upstream = service.upstream.as_ref().ok_or_else(Failure::internal)?;
    let issued: EncryptedTransaction = fetch(
        upstream
            .client
            .post(format!("{}/transactions", upstream.accounts))
            .json(&request),
    )
    .await?;
    // `web` holds no key: every sealed field stays sealed, and sealing the
    // partial value again gives back the same envelopes, byte for byte.
    let transaction = issued.decrypt_partial(&*service.keyring)?.value;
    let forwarded = transaction.encrypt(&*service.keyring)?;
    let settlement = fetch(
        upstream
            .client
            .post(format!("{}/settlements", upstream.banking))
            .json(&forwarded),
    )
    .await?;
    service.keep(&transaction, forwarded);
    Ok(Json(settlement))
}

/// Sends `request` and reads a JSON answer; an error status is an error.
pub async fn fetch<R: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<R, reqwest::Error> {
    request.send().await?.error_for_status()?.json().await
}

/// The transaction row this service keeps, sealed fields and all.
#[utoipa::path(get, path = "/transactions/{id}", params(("id" = u64, Path, description = "The transaction's id")),
    responses((status = 200, description = "The row", body = EncryptedTransaction)))]
async fn row(
    State(service): State<Service>,
    Path(id): Path<u64>,
) -> Result<Json<EncryptedTransaction>, Failure> {
    service.with_row(id, |(row, _)| Json(row.clone()))
}

async fn view_of(
    State(service): State<Service>,
    Path(id): Path<u64>,
) -> Result<Json<View>, Failure> {
    service.with_row(id, |(_, view)| Json(view.clone()))
}

impl Service {
    fn with_row<R>(
        &self,
        id: u64,
        f: impl FnOnce(&(EncryptedTransaction, View)) -> R,
    ) -> Result<R, Failure> {
        let rows = self.rows.lock().map_err(|_| Failure::internal())?;
        rows.get(&id)
            .map(f)
            .ok_or_else(|| Failure::new(StatusCode::NOT_FOUND, format!("no transaction {id}")))
    }
}

/// A failed request: the status and a message with no sensitive data
/// (encryption errors name fields and aliases only).
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, message: String) -> Self {
        Failure { status, message }
    }

    fn internal() -> Self {
        Failure::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error".to_owned(),
        )
    }
}

impl From<encrypted_fields::Error> for Failure {
    /// The cause to the log, a fixed message to the client.
    fn from(error: encrypted_fields::Error) -> Self {
        eprintln!("payments: {error}");
        Failure::internal()
    }
}

impl From<reqwest::Error> for Failure {
    fn from(error: reqwest::Error) -> Self {
        Failure::new(StatusCode::BAD_GATEWAY, format!("upstream: {error}"))
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message });
        (self.status, Json(body)).into_response()
    }
}
