//! The axum integration over real HTTP on loopback (ports picked by the
//! OS): handlers take and return plain values; every rejection has its
//! status and code and leaks no plaintext or key material.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{StatusCode, header};
use axum::middleware::{from_fn_with_state, map_response};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use common::{
    BANKING_128, Customer, EncryptedCustomer, PII_256, PII_256_NEW, PartialCustomer, customer,
    keyring,
};
use encrypted_fields::axum::{
    EncryptedJson, EncryptedJsonRejection, PartialEncryptedJson, encrypt_responses, session_keys,
};
use encrypted_fields::session::{SessionKeyring, SessionServer};
use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, Keyring, MemoryKeyring, Sealed};
use serde_json::Value;

#[derive(Clone)]
struct AppState {
    keyring: Arc<dyn Keyring>,
    /// What the server logs about refused requests: the rejections' detail.
    log: Arc<Mutex<Vec<String>>>,
}

impl AppState {
    fn new(keyring: Arc<dyn Keyring>) -> Self {
        AppState {
            keyring,
            log: Arc::default(),
        }
    }
}

impl FromRef<AppState> for Arc<dyn Keyring> {
    fn from_ref(state: &AppState) -> Self {
        state.keyring.clone()
    }
}

/// Takes the extractor's result, as a service that logs refusals does: the
/// client gets the rejection's fixed message, the log its cause.
async fn create(
    State(state): State<AppState>,
    request: Result<EncryptedJson<Customer>, EncryptedJsonRejection>,
) -> Result<String, EncryptedJsonRejection> {
    match request {
        Ok(EncryptedJson(customer)) => Ok(format!("{} {}", customer.id, customer.account.holder)),
        Err(rejection) => {
            if let Some(detail) = rejection.detail() {
                state.log.lock().unwrap().push(detail.to_string());
            }
            Err(rejection)
        }
    }
}

async fn show() -> EncryptedJson<Customer> {
    EncryptedJson(customer())
}

/// Opens what this service can, edits it, and sends the rest back as it came.
async fn relabel(
    PartialEncryptedJson(mut partial): PartialEncryptedJson<PartialCustomer>,
) -> PartialEncryptedJson<PartialCustomer> {
    partial.tags.push(format!(
        "email-open:{} account-open:{}",
        partial.email.is_open(),
        partial.account.is_open()
    ));
    PartialEncryptedJson(partial)
}

/// The app, with `keyring` in its state and responses encrypted.
fn app(keyring: Arc<dyn Keyring>) -> Router {
    app_with(AppState::new(keyring))
}

fn app_with(state: AppState) -> Router {
    Router::new()
        .route("/customers", post(create))
        .route("/customers/42", get(show))
        .route("/customers/relabel", post(relabel))
        .layer(from_fn_with_state(state.clone(), encrypt_responses))
        .with_state(state)
}

/// Serves the app with `keyring` on a fresh loopback port.
fn serve(keyring: Arc<dyn Keyring>) -> SocketAddr {
    serve_app(app(keyring))
}

/// Serves `app` on a fresh loopback port (picked by the OS).
fn serve_app(app: Router) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    addr
}

/// One HTTP/1.1 request; the whole response as received (empty if the
/// server closed the connection without one).
fn raw_request(addr: SocketAddr, method: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    String::from_utf8_lossy(&response).into_owned()
}

/// One HTTP/1.1 request; returns the status, the head (lower-cased) and the body.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    content_type: &str,
    body: &str,
) -> (u16, String, String) {
    request_with(
        addr,
        method,
        path,
        &format!("Content-Type: {content_type}\r\n"),
        body,
    )
}

/// [`request`] with any header lines (each ending in `\r\n`).
fn request_with(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &str,
    body: &str,
) -> (u16, String, String) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).unwrap().parse().unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, head.to_ascii_lowercase(), body.to_owned())
}

fn post_json(addr: SocketAddr, content_type: &str, body: &str) -> (u16, String) {
    post_to(addr, "/customers", content_type, body)
}

fn post_to(addr: SocketAddr, path: &str, content_type: &str, body: &str) -> (u16, String) {
    let (status, _, body) = request(addr, "POST", path, content_type, body);
    (status, body)
}

fn assert_clean(body: &str) {
    for secret in [
        "ada@example.com",
        "DE89370400440532013000",
        PII_256,
        PII_256_NEW,
        BANKING_128,
    ] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
}

fn wire_json() -> Value {
    serde_json::to_value(customer().encrypt(&keyring()).unwrap()).unwrap()
}

#[test]
fn handlers_get_plain_values() {
    let addr = serve(Arc::new(keyring()));
    let (status, body) = post_json(addr, "application/json", &wire_json().to_string());
    assert_eq!((status, body.as_str()), (200, "42 Ada Lovelace"));
}

#[test]
fn every_rejection_has_its_status_and_code_and_leaks_nothing() {
    let addr = serve(Arc::new(keyring()));
    let foreign = serve(Arc::new(
        EnvKeyring::from_vars([
            ("ENCRYPTED_FIELDS_KEY_PII", PII_256_NEW),
            ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
        ])
        .unwrap(),
    ));
    let no_banking_state = AppState::new(Arc::new(
        EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", PII_256)]).unwrap(),
    ));
    let no_banking = serve_app(app_with(no_banking_state.clone()));

    let mut tampered = wire_json();
    let mut bytes = serde_json::from_value::<Sealed<String>>(tampered["email"].clone())
        .unwrap()
        .as_bytes()
        .to_vec();
    bytes[20] ^= 1;
    tampered["email"] = serde_json::to_value(Sealed::<String>::from_envelope(bytes)).unwrap();
    let mut plaintext_where_sealed = wire_json();
    plaintext_where_sealed["email"] = "ada@example.com".into();

    /// A request, where it goes, and the status and code that must come back.
    type Case<'a> = (
        &'a str,
        SocketAddr,
        &'a str,
        String,
        (u16, u64),
        &'a [&'a str],
    );
    let json = "application/json";
    let cases: Vec<Case<'_>> = vec![
        (
            "malformed JSON",
            addr,
            json,
            "{\"id\": 42,".to_owned(),
            (400, 40000),
            &[],
        ),
        (
            "not JSON content",
            addr,
            "text/plain",
            wire_json().to_string(),
            (415, 40000),
            &[],
        ),
        (
            "plaintext where sealed",
            addr,
            json,
            plaintext_where_sealed.to_string(),
            (422, 40000),
            &[],
        ),
        (
            "tampered envelope",
            addr,
            json,
            tampered.to_string(),
            (422, 40002),
            &["email", "pii"],
        ),
        (
            "foreign key",
            foreign,
            json,
            wire_json().to_string(),
            (422, 40002),
            &["email", "pii"],
        ),
        (
            "service lacks the alias",
            no_banking,
            json,
            wire_json().to_string(),
            (422, 40002),
            &["account", "banking"],
        ),
    ];
    for (case, target, content_type, body, (status, code), names) in cases {
        let (got_status, got_body) = post_json(target, content_type, &body);
        assert_eq!(got_status, status, "{case}: {got_body}");
        let json: Value =
            serde_json::from_str(&got_body).unwrap_or_else(|_| panic!("{case}: body {got_body}"));
        assert_eq!(json["code"], code, "{case}: {got_body}");
        let fixed = if code == 40002 {
            "Encryption Failed"
        } else {
            "request body is not the expected JSON"
        };
        assert_eq!(json["message"], fixed, "{case}: one message per code");
        assert_clean(&got_body);
        if !names.is_empty() {
            let logged = if target == no_banking {
                no_banking_state.log.lock().unwrap().pop()
            } else {
                None
            };
            if let Some(logged) = logged {
                for name in names {
                    assert!(logged.contains(name), "{case}: {logged}");
                }
                assert_clean(&logged);
            }
        }
    }
}

/// Before, a service holding only `pii` answered three probes with three
/// messages, so a client learned which aliases and key ids it holds.
#[test]
fn error_bodies_do_not_tell_a_missing_alias_from_a_retired_key_or_a_forgery() {
    let state = AppState::new(Arc::new(
        EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", PII_256)]).unwrap(),
    ));
    let addr = serve_app(app_with(state.clone()));
    // 1: an alias the service lacks.
    let missing_alias = wire_json();
    // 2: a `pii` envelope under a key the service does not hold (the email
    // comes first, so it is what fails).
    let retired = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", PII_256_NEW),
        ("ENCRYPTED_FIELDS_KEY_BANKING", BANKING_128),
    ])
    .unwrap();
    let retired_key = serde_json::to_value(customer().encrypt(&retired).unwrap()).unwrap();
    // 3: a forged `pii` envelope.
    let mut forged = wire_json();
    let email = Sealed::<String>::from_text(forged["email"].as_str().unwrap()).unwrap();
    let mut bytes = email.as_bytes().to_vec();
    bytes[25] ^= 1;
    forged["email"] = Sealed::<String>::from_envelope(bytes).to_text().into();

    let mut answers = Vec::new();
    for probe in [&missing_alias, &retired_key, &forged] {
        let (status, body) = post_json(addr, "application/json", &probe.to_string());
        answers.push((status, body));
    }
    let (status, body) = &answers[0];
    assert_eq!(*status, 422, "{body}");
    assert!(
        answers.iter().all(|answer| answer == &answers[0]),
        "{answers:?}"
    );
    let log = state.log.lock().unwrap().clone();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log[0].contains("no key for alias `banking`"), "{log:?}");
    assert!(log[1].contains("no key with this id"), "{log:?}");
    assert!(log[2].contains("failed authentication"), "{log:?}");
}

#[test]
fn responses_are_encrypted_on_the_way_out() {
    let addr = serve(Arc::new(keyring()));
    let (status, head, body) = request(addr, "GET", "/customers/42", "application/json", "");
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("content-type: application/json"), "{head}");
    assert_clean(&body);
    let wire: EncryptedCustomer = serde_json::from_str(&body).unwrap();
    assert_eq!(wire.decrypt(&keyring()).unwrap(), customer());
}

async fn created() -> impl IntoResponse {
    (
        StatusCode::CREATED,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::LOCATION, "/customers/42"),
            (header::SET_COOKIE, "session=1; HttpOnly"),
        ],
        EncryptedJson(customer()),
    )
}

async fn forbidden() -> impl IntoResponse {
    (StatusCode::FORBIDDEN, EncryptedJson(customer()))
}

async fn failed() -> impl IntoResponse {
    (StatusCode::INTERNAL_SERVER_ERROR, EncryptedJson(customer()))
}

async fn inner_layer(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert("x-inner-layer", "kept".parse().unwrap());
    // Describing a body the layer never saw: must not survive sealing.
    headers.insert(header::ETAG, "\"placeholder\"".parse().unwrap());
    headers.insert(header::CONTENT_ENCODING, "gzip".parse().unwrap());
    response
}

/// Before, the middleware rebuilt the response: `201` and every header the
/// handler or an inner layer set were lost, and a `403` arrived as `200`.
#[test]
fn sealed_responses_keep_their_status_and_headers() {
    let state = AppState::new(Arc::new(keyring()));
    let addr = serve_app(
        Router::new()
            .route("/created", post(created))
            .route("/forbidden", get(forbidden))
            .route("/failed", get(failed))
            .route("/customers/42", get(show))
            .layer(map_response(inner_layer))
            .layer(from_fn_with_state(state.clone(), encrypt_responses))
            .with_state(state),
    );
    let (status, head, body) = request(addr, "POST", "/created", "application/json", "");
    assert_eq!(status, 201, "{head}");
    for line in [
        "cache-control: no-store",
        "location: /customers/42",
        "set-cookie: session=1; httponly",
        "x-inner-layer: kept",
        "content-type: application/json",
        &format!("content-length: {}", body.len()),
    ] {
        assert!(head.contains(line), "{line} missing from {head}");
    }
    let wire: EncryptedCustomer = serde_json::from_str(&body).unwrap();
    assert_eq!(wire.decrypt(&keyring()).unwrap(), customer());
    assert_clean(&body);

    let (status, head, body) = request(addr, "GET", "/forbidden", "application/json", "");
    assert_eq!(status, 403, "{head}");
    let wire: EncryptedCustomer = serde_json::from_str(&body).unwrap();
    assert_eq!(wire.decrypt(&keyring()).unwrap(), customer());

    let (status, head, _) = request(addr, "GET", "/customers/42", "application/json", "");
    assert_eq!(status, 200, "{head}");
    assert!(head.contains("x-inner-layer: kept"), "{head}");
    for dropped in ["etag:", "content-encoding:"] {
        assert!(!head.contains(dropped), "{dropped} kept in {head}");
    }

    // A handler's own 500 stays a 500 (before, it was taken for the
    // placeholder and became 200).
    let (status, head, body) = request(addr, "GET", "/failed", "application/json", "");
    assert_eq!(status, 500, "{head}");
    let wire: EncryptedCustomer = serde_json::from_str(&body).unwrap();
    assert_eq!(wire.decrypt(&keyring()).unwrap(), customer());
}

#[test]
fn response_failures_are_never_a_success() {
    // Without the middleware, even under a handler's `201`: no response at
    // all (the body fails before the status line is sent), never a 2xx.
    let bare = serve_app(
        Router::new()
            .route("/customers/42", get(show))
            .route("/created", get(created)),
    );
    for path in ["/customers/42", "/created"] {
        let response = raw_request(bare, "GET", path);
        assert!(
            !response.starts_with("HTTP/1.1 2"),
            "{path}: a success without the middleware: {response}"
        );
        assert_clean(&response);
    }

    // A keyring without an alias the response needs: 500, code 40002.
    let no_banking = serve(Arc::new(
        EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", PII_256)]).unwrap(),
    ));
    let (status, _, body) = request(no_banking, "GET", "/customers/42", "application/json", "");
    assert_eq!(status, 500, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["code"], 40002);
    assert_eq!(json["message"], "Encryption Failed");
    assert_clean(&body);
}

#[test]
fn a_partial_service_forwards_what_it_cannot_read_byte_for_byte() {
    let pii_only = serve(Arc::new(
        EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", PII_256)]).unwrap(),
    ));
    let sent = wire_json();
    let (status, body) = post_to(
        pii_only,
        "/customers/relabel",
        "application/json",
        &sent.to_string(),
    );
    assert_eq!(status, 200, "{body}");
    assert_clean(&body);
    let back: Value = serde_json::from_str(&body).unwrap();
    // The sealed field went back out unchanged; the opened one was re-sealed.
    assert_eq!(back["account"], sent["account"]);
    assert_ne!(back["email"], sent["email"]);
    let wire: EncryptedCustomer = serde_json::from_value(back).unwrap();
    let customer_back = wire.decrypt(&keyring()).unwrap();
    assert_eq!(
        customer_back.tags,
        ["vip", "email-open:true account-open:false"]
    );
    assert_eq!(customer_back.email, customer().email);

    // Partial access is not lax access: a tampered envelope is still refused.
    let mut tampered = sent.clone();
    let email = Sealed::<String>::from_text(tampered["email"].as_str().unwrap()).unwrap();
    let mut bytes = email.as_bytes().to_vec();
    bytes[20] ^= 1;
    tampered["email"] = Sealed::<String>::from_envelope(bytes).to_text().into();
    let (status, body) = post_to(
        pii_only,
        "/customers/relabel",
        "application/json",
        &tampered.to_string(),
    );
    assert_eq!(status, 422, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["code"], 40002);
    assert_clean(&body);
}

async fn echo(EncryptedJson(customer): EncryptedJson<Customer>) -> EncryptedJson<Customer> {
    EncryptedJson(customer)
}

#[test]
fn public_key_sessions_on_rest_routes_read_and_answer_under_the_session_key() {
    let sessions = Arc::new(SessionServer::generate().0);
    // The state's keyring holds nothing: every key here is a session's.
    let state = AppState::new(Arc::new(MemoryKeyring::new()));
    let addr = serve_app(
        Router::new()
            .route("/echo", post(echo))
            .layer(from_fn_with_state(sessions.clone(), session_keys))
            .with_state(state),
    );
    let (keyring, enc_key) = SessionKeyring::initiate(&sessions.public_key()).unwrap();
    let body = |keyring: &SessionKeyring| {
        serde_json::to_string(&customer().encrypt(keyring).unwrap()).unwrap()
    };
    let call = |enc_key: Option<&str>, body: &str| {
        let mut headers = "Content-Type: application/json\r\n".to_owned();
        if let Some(enc_key) = enc_key {
            headers.push_str(&format!("Enc-Key: {enc_key}\r\n"));
        }
        let (status, _, body) = request_with(addr, "POST", "/echo", &headers, body);
        assert_clean(&body);
        if let Some(enc_key) = enc_key.filter(|key| key.len() > 8) {
            assert!(!body.contains(enc_key), "echoes the encKey: {body}");
        }
        (status, body)
    };

    let (status, answer) = call(Some(&enc_key), &body(&keyring));
    assert_eq!(status, 200, "{answer}");
    let wire: EncryptedCustomer = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        wire.decrypt(&keyring).unwrap(),
        customer(),
        "answered under the session key"
    );

    let (other_keyring, foreign_enc_key) =
        SessionKeyring::initiate(&SessionServer::generate().0.public_key()).unwrap();
    for (case, enc_key, body) in [
        ("no header", None, body(&keyring)),
        (
            "encKey for another server",
            Some(foreign_enc_key.as_str()),
            body(&other_keyring),
        ),
        (
            "fields under another session",
            Some(enc_key.as_str()),
            body(&other_keyring),
        ),
        ("malformed encKey", Some("nope"), body(&keyring)),
    ] {
        let (status, answer) = call(enc_key, &body);
        assert_eq!(status, 422, "{case}: {answer}");
        let json: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(json["code"], 40002, "{case}: {answer}");
    }
}

#[derive(
    encrypted_fields::Encrypt, serde::Serialize, serde::Deserialize, Clone, PartialEq, Debug,
)]
#[encrypt(seal = "records")]
struct Payment {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(key = "pii")]
    payee: String,
    amount_cents: i64,
}

const RECORDS: &str = "cmVjb3Jkcy1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDA=";

async fn pay(EncryptedJson(payment): EncryptedJson<Payment>) -> String {
    format!("{} {}", payment.id, payment.amount_cents)
}

async fn forward(
    PartialEncryptedJson(payment): PartialEncryptedJson<PartialPayment>,
) -> PartialEncryptedJson<PartialPayment> {
    PartialEncryptedJson(payment)
}

/// The extractors check record seals: an edited amount or a missing seal
/// is refused like a tampered field; a service without the seal key reads
/// what it can and forwards the record byte for byte.
#[test]
fn extractors_check_record_seals() {
    let full: Arc<dyn Keyring> = Arc::new(
        EnvKeyring::from_vars([
            ("ENCRYPTED_FIELDS_KEY_PII", PII_256),
            ("ENCRYPTED_FIELDS_KEY_RECORDS", RECORDS),
        ])
        .unwrap(),
    );
    let pii_only: Arc<dyn Keyring> =
        Arc::new(EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", PII_256)]).unwrap());
    let routes = |keyring: Arc<dyn Keyring>| {
        let state = AppState::new(keyring);
        serve_app(
            Router::new()
                .route("/pay", post(pay))
                .route("/forward", post(forward))
                .layer(from_fn_with_state(state.clone(), encrypt_responses))
                .with_state(state),
        )
    };
    let (checker, forwarder) = (routes(full.clone()), routes(pii_only));
    let payment = Payment {
        id: 7,
        payee: "Ada Lovelace".into(),
        amount_cents: 1_250,
    };
    let sent = serde_json::to_value(payment.encrypt(&*full).unwrap()).unwrap();
    let (status, body) = post_to(checker, "/pay", "application/json", &sent.to_string());
    assert_eq!((status, body.as_str()), (200, "7 1250"));

    let mut edited = sent.clone();
    edited["amount_cents"] = 1_250_000.into();
    let mut unsealed = sent.clone();
    unsealed.as_object_mut().unwrap().remove("_seal");
    for attacked in [&edited, &unsealed] {
        let (status, body) = post_to(checker, "/pay", "application/json", &attacked.to_string());
        assert_eq!(status, 422, "{body}");
        assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["code"], 40002);
        assert_clean(&body);
    }

    let (status, body) = post_to(forwarder, "/forward", "application/json", &sent.to_string());
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap(), sent);
}
