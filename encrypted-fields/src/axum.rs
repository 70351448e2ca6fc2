//! axum integration (feature `axum`): `EncryptedJson<T>` reads a JSON body
//! of `T`'s companion type and decrypts it with the keyring in the router's
//! state, so handlers take plain domain values; returned from a handler, it
//! is encrypted on the way out by the [`encrypt_responses`] middleware.
//!
//! The state must give an `Arc<dyn Keyring>` through axum's `FromRef`
//! convention (any keyring type becomes one with `Arc::new`). A middleware
//! can give one request its own keyring instead ([`RequestKeyring`]); with
//! the `hpke` feature, [`session_keys`] does so for public-key sessions.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::Json;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRef, FromRequest, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind};
use crate::keyring::Keyring;
use crate::traits::{Decrypt, Encrypt};

/// The error code for every cryptographic failure, as the REST encryption
/// spec we replace defines it: the client should re-initialize its keys.
pub const ENCRYPTION_FAILED: u32 = 40002;
/// The error code for a body that is not the expected JSON.
pub const MALFORMED_REQUEST: u32 = 40000;

/// The one message clients get with [`ENCRYPTION_FAILED`], whatever the
/// cause: telling a missing alias from a retired key or a forgery would let
/// a client probe which aliases and keys a service holds. The cause is in
/// [`EncryptedJsonRejection::detail`] and in the audit events.
const ENCRYPTION_FAILED_MESSAGE: &str = "Encryption Failed";
/// The one message clients get with [`MALFORMED_REQUEST`].
const MALFORMED_REQUEST_MESSAGE: &str = "request body is not the expected JSON";

/// A JSON body whose encrypted fields are opened on the way in.
///
/// ```
/// # use encrypted_fields::Encrypt;
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Encrypt, Serialize, Deserialize)]
/// # struct Customer { #[encrypt(key = "pii")] email: String }
/// use encrypted_fields::axum::EncryptedJson;
///
/// async fn create(EncryptedJson(customer): EncryptedJson<Customer>) -> String {
///     format!("{} bytes of email", customer.email.len())
/// }
/// # let _ = create;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct EncryptedJson<T>(pub T);

impl<T, S> FromRequest<S> for EncryptedJson<T>
where
    T: Encrypt + Send,
    T::Encrypted: DeserializeOwned + Decrypt<Plain = T> + Send,
    Arc<dyn Keyring>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = EncryptedJsonRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let open = |wire: T::Encrypted, keyring: &dyn Keyring| wire.decrypt(keyring);
        read(req, state, open).await.map(EncryptedJson)
    }
}

/// A JSON body opened as far as this service's keyring allows: for a
/// service that holds only some of the aliases a type uses.
///
/// `P` is the generated partial type (`Partial` + name): fields whose alias
/// the keyring lacks stay [`MaybeSealed::Sealed`](crate::MaybeSealed) and,
/// returned as a response, go back out byte for byte, so a service can
/// forward what it cannot read.
///
/// ```
/// # use encrypted_fields::Encrypt;
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Encrypt, Serialize, Deserialize)]
/// # struct Transaction { #[encrypt(key = "pii")] memo: String, #[encrypt(key = "banking")] iban: String }
/// use encrypted_fields::axum::PartialEncryptedJson;
///
/// async fn settle(
///     PartialEncryptedJson(tx): PartialEncryptedJson<PartialTransaction>,
/// ) -> PartialEncryptedJson<PartialTransaction> {
///     let _iban = tx.iban.open(); // `Some` where this service holds `banking`
///     PartialEncryptedJson(tx)    // `memo` goes back out as it came
/// }
/// # let _ = settle;
/// ```
///
/// A tampered envelope or a wrong key is still refused (422, `40002`):
/// only a missing alias leaves a field sealed.
#[derive(Debug, Clone, Copy, Default)]
pub struct PartialEncryptedJson<P>(pub P);

impl<P, S> FromRequest<S> for PartialEncryptedJson<P>
where
    P: Encrypt + Send,
    P::Encrypted: DeserializeOwned + Decrypt<Partial = P> + Send,
    Arc<dyn Keyring>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = EncryptedJsonRejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let open = |wire: P::Encrypted, keyring: &dyn Keyring| wire.decrypt_partial(keyring);
        read(req, state, open)
            .await
            .map(|partial| PartialEncryptedJson(partial.value))
    }
}

impl<P> IntoResponse for PartialEncryptedJson<P>
where
    P: Encrypt + Send + 'static,
    P::Encrypted: Serialize,
{
    /// Re-sealed by [`encrypt_responses`]: opened fields under the primary
    /// key, still-sealed ones unchanged.
    fn into_response(self) -> Response {
        EncryptedJson(self.0).into_response()
    }
}

/// The JSON body as the companion type `W`, opened by `open` with the
/// request's keyring: both extractors.
async fn read<W, S, R>(
    req: Request,
    state: &S,
    open: impl FnOnce(W, &dyn Keyring) -> Result<R, Error>,
) -> Result<R, EncryptedJsonRejection>
where
    W: DeserializeOwned,
    Arc<dyn Keyring>: FromRef<S>,
    S: Send + Sync,
{
    let keyring = keyring_for(&req, Arc::<dyn Keyring>::from_ref(state));
    let Json(wire) = Json::<W>::from_request(req, state)
        .await
        .map_err(EncryptedJsonRejection::json)?;
    open(wire, &*keyring).map_err(EncryptedJsonRejection::request)
}

/// The keyring a request is served with: a middleware's
/// [`RequestKeyring`], else the state's.
fn keyring_for(request: &Request, state: Arc<dyn Keyring>) -> Arc<dyn Keyring> {
    match request.extensions().get::<RequestKeyring>() {
        Some(RequestKeyring(for_request)) => for_request.clone(),
        None => state,
    }
}

/// A keyring for one request, put in the request's extensions by a
/// middleware (such as [`session_keys`]): `EncryptedJson` and
/// [`encrypt_responses`] use it instead of the state's.
#[derive(Clone)]
pub struct RequestKeyring(pub Arc<dyn Keyring>);

/// Encryption deferred until [`encrypt_responses`] supplies the keyring:
/// `IntoResponse` has no access to router state.
type Seal = Box<dyn FnOnce(&dyn Keyring) -> Result<Vec<u8>, Error> + Send>;

/// What `EncryptedJson::into_response` leaves for the middleware. (Response
/// extensions must be `Clone` and `Sync`, hence the shared slot.)
#[derive(Clone)]
struct PendingEncryption(Arc<Mutex<Option<Seal>>>);

/// The status a pending `EncryptedJson` response carries until
/// [`encrypt_responses`] seals it, and then becomes `200 OK`. A handler that
/// sets another (`(StatusCode::CREATED, EncryptedJson(v))`, or its own
/// `500`) keeps it. `599` is outside every registered code, so no handler
/// status is mistaken for it; layers inside the middleware see it.
pub const PENDING_STATUS: StatusCode = match StatusCode::from_u16(599) {
    Ok(status) => status,
    Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
};

/// Headers that describe the placeholder body, not the sealed one: an inner
/// layer may have set them (a checksum, a compression it never applied).
const BODY_HEADERS: [header::HeaderName; 5] = [
    header::CONTENT_LENGTH,
    header::CONTENT_ENCODING,
    header::CONTENT_RANGE,
    header::ETAG,
    header::HeaderName::from_static("digest"),
];

impl<T> IntoResponse for EncryptedJson<T>
where
    T: Encrypt + Send + 'static,
    T::Encrypted: Serialize,
{
    /// A response the [`encrypt_responses`] middleware completes: it
    /// replaces the body with the sealed JSON and keeps the status and
    /// headers the handler and inner layers set.
    ///
    /// Without that middleware there is no response: the placeholder body
    /// fails when it is sent, so the connection is closed before a status
    /// line (HTTP/1.1; a proxy in front answers 502), or the stream is
    /// reset after the status line (HTTP/2). A handler's own status (`201`)
    /// cannot turn a missing middleware into a success, except where the
    /// body is never read: the answer to `HEAD`, or a `204`/`304` the
    /// handler chose, goes out with its status and no body.
    fn into_response(self) -> Response {
        let value = self.0;
        let seal: Seal = Box::new(move |keyring: &dyn Keyring| {
            let wire = value.encrypt(keyring)?;
            serde_json::to_vec(&wire).map_err(|_| Error::new(ErrorKind::Serialize))
        });
        let mut response = Response::new(Body::new(NotSealed));
        *response.status_mut() = PENDING_STATUS;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
            .extensions_mut()
            .insert(PendingEncryption(Arc::new(Mutex::new(Some(seal)))));
        response
    }
}

/// The body of an `EncryptedJson` response nobody sealed: it fails on the
/// first read, so the server sends no (successful) response at all.
struct NotSealed;

impl HttpBody for NotSealed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other(
            "EncryptedJson response without the encrypt_responses middleware",
        ))))
    }
}

/// Middleware that encrypts `EncryptedJson` responses with the keyring the
/// state gives:
///
/// ```
/// # use std::sync::Arc;
/// # use encrypted_fields::{Encrypt, Keyring};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Encrypt, Serialize, Deserialize)]
/// # struct Customer { #[encrypt(key = "pii")] email: String }
/// use axum::Router;
/// use axum::routing::get;
/// use encrypted_fields::axum::{EncryptedJson, encrypt_responses};
///
/// async fn show() -> EncryptedJson<Customer> {
///     EncryptedJson(Customer { email: "ada@example.com".into() })
/// }
///
/// fn app(state: Arc<dyn Keyring>) -> Router {
///     Router::new()
///         .route("/customers/{id}", get(show))
///         .layer(axum::middleware::from_fn_with_state(state.clone(), encrypt_responses))
///         .with_state(state)
/// }
/// # let _ = app;
/// ```
///
/// A keyring that lacks an alias the value needs is a server error: 500,
/// code `40002`, naming field and alias.
///
/// Layers inside this one see a pending response as [`PENDING_STATUS`]
/// with a body that cannot be read: put compression, checksums, metrics and
/// tracing outside it, so they see the sealed response. Headers an inner
/// layer sets about the body (`content-encoding`, `etag`, ...) are dropped.
pub async fn encrypt_responses(
    State(keyring): State<Arc<dyn Keyring>>,
    request: Request,
    next: Next,
) -> Response {
    let keyring = keyring_for(&request, keyring);
    complete(next.run(request).await, &*keyring)
}

/// Seals a response `EncryptedJson` left pending, keeping its status
/// (`200` for the placeholder) and every header but those describing the
/// placeholder body ([`BODY_HEADERS`]; `content-length` is recomputed by
/// hyper); any other response passes as is.
fn complete(response: Response, keyring: &dyn Keyring) -> Response {
    let (mut parts, body) = response.into_parts();
    let seal = parts
        .extensions
        .remove::<PendingEncryption>()
        .and_then(|PendingEncryption(slot)| slot.lock().ok().and_then(|mut seal| seal.take()));
    let Some(seal) = seal else {
        return Response::from_parts(parts, body);
    };
    match seal(keyring) {
        Ok(sealed) => {
            if parts.status == PENDING_STATUS {
                parts.status = StatusCode::OK;
            }
            for name in BODY_HEADERS {
                parts.headers.remove(name);
            }
            parts
                .headers
                .entry(header::CONTENT_TYPE)
                .or_insert(HeaderValue::from_static("application/json"));
            Response::from_parts(parts, Body::from(sealed))
        }
        Err(error) => {
            EncryptedJsonRejection::crypto(StatusCode::INTERNAL_SERVER_ERROR, error).into_response()
        }
    }
}

/// The header that carries a public-key session's `encKey` on REST routes.
#[cfg(feature = "hpke")]
pub const ENC_KEY_HEADER: &str = "enc-key";

/// Middleware for public-key sessions on REST routes (features `axum` and
/// `hpke`): opens the `Enc-Key` header with the server's key pair, so
/// `EncryptedJson` reads the request and seals the response under that
/// session's key.
///
/// ```
/// # use std::sync::Arc;
/// # use encrypted_fields::{Encrypt, Keyring, MemoryKeyring};
/// # use serde::{Deserialize, Serialize};
/// # #[derive(Encrypt, Serialize, Deserialize)]
/// # struct Secret { #[encrypt(key = "pii")] pin: String }
/// use axum::Router;
/// use axum::routing::post;
/// use encrypted_fields::axum::{EncryptedJson, session_keys};
/// use encrypted_fields::session::SessionServer;
///
/// async fn store(EncryptedJson(secret): EncryptedJson<Secret>) -> EncryptedJson<Secret> {
///     EncryptedJson(secret)
/// }
///
/// fn app(sessions: SessionServer) -> Router {
///     // Only session keys here: the state's keyring is empty.
///     let state: Arc<dyn Keyring> = Arc::new(MemoryKeyring::new());
///     Router::new()
///         .route("/secret", post(store))
///         .layer(axum::middleware::from_fn_with_state(Arc::new(sessions), session_keys))
///         .with_state(state)
/// }
/// # let _ = app;
/// ```
///
/// A missing, stale, foreign or tampered `encKey` is refused with 422 and
/// code `40002`: the client fetches the public key and starts a new session.
#[cfg(feature = "hpke")]
pub async fn session_keys(
    State(sessions): State<Arc<crate::session::SessionServer>>,
    mut request: Request,
    next: Next,
) -> Response {
    let refuse = |error: Error| {
        EncryptedJsonRejection::crypto(StatusCode::UNPROCESSABLE_ENTITY, error).into_response()
    };
    let Some(enc_key) = request.headers().get(ENC_KEY_HEADER) else {
        return refuse(
            Error::new(ErrorKind::MalformedEnvelope)
                .alias("encKey")
                .detail(format!("no {ENC_KEY_HEADER} header: start a session")),
        );
    };
    let session = match enc_key.to_str().map(|text| sessions.open(text)) {
        Ok(Ok(session)) => Arc::new(session),
        Ok(Err(error)) => return refuse(error),
        Err(_) => {
            return refuse(
                Error::new(ErrorKind::MalformedEnvelope)
                    .alias("encKey")
                    .detail(format!("{ENC_KEY_HEADER} is not text")),
            );
        }
    };
    request
        .extensions_mut()
        .insert(RequestKeyring(session.clone()));
    complete(next.run(request).await, &*session)
}

/// Why an `EncryptedJson` request (or response) was refused. The body is
/// JSON, `{"code": ..., "message": "..."}`, with one fixed message per code
/// (`40002`: "Encryption Failed"; `40000`: "request body is not the
/// expected JSON"), so clients cannot tell a missing alias from a retired
/// key or a forgery. The cause, naming alias and field but never
/// plaintext, keys or ciphertext, is in [`detail`](Self::detail) for the
/// server's log (take `Result<EncryptedJson<T>, EncryptedJsonRejection>` in
/// a handler to log it), and in the audit events of the `tracing` feature.
#[derive(Debug)]
pub struct EncryptedJsonRejection {
    status: StatusCode,
    code: u32,
    detail: Option<Error>,
}

impl EncryptedJsonRejection {
    /// A body that is not JSON of the companion type: axum's status (400,
    /// or 415 without a JSON content type), and no detail that could quote
    /// the body.
    fn json(rejection: JsonRejection) -> Self {
        EncryptedJsonRejection {
            status: rejection.status(),
            code: MALFORMED_REQUEST,
            detail: None,
        }
    }

    /// A request that does not decrypt: 422 with `40002` for every
    /// cryptographic failure (a missing alias included: on a request, the
    /// client sent what this service cannot read), 500 for anything else.
    fn request(error: Error) -> Self {
        let status = match error.kind() {
            ErrorKind::UnknownAlias
            | ErrorKind::UnknownKeyId
            | ErrorKind::MalformedEnvelope
            | ErrorKind::UnsupportedVersion
            | ErrorKind::AuthenticationFailed
            | ErrorKind::Deserialize => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::crypto(status, error)
    }

    fn crypto(status: StatusCode, error: Error) -> Self {
        EncryptedJsonRejection {
            status,
            code: ENCRYPTION_FAILED,
            detail: Some(error),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code: `40002` or `40000`.
    pub fn code(&self) -> u32 {
        self.code
    }

    /// The cause of a `40002`, for the server's log: kind, alias, field.
    /// Never sent to the client.
    pub fn detail(&self) -> Option<&Error> {
        self.detail.as_ref()
    }
}

impl IntoResponse for EncryptedJsonRejection {
    fn into_response(self) -> Response {
        let message = match self.code {
            MALFORMED_REQUEST => MALFORMED_REQUEST_MESSAGE,
            _ => ENCRYPTION_FAILED_MESSAGE,
        };
        let body = serde_json::json!({ "code": self.code, "message": message });
        (self.status, Json(body)).into_response()
    }
}
