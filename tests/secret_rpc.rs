//! Public-key sessions over real loopback HTTP (OS-picked port): the
//! JSON-RPC example's request and response shapes, every error code, the
//! `40002` re-initialization, and no plaintext or key material in any
//! response.

#[path = "../examples/secret_rpc/client.rs"]
mod client;
#[path = "../examples/secret_rpc/model.rs"]
#[allow(dead_code)]
mod model;
#[path = "../examples/secret_rpc/server.rs"]
mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use encrypted_fields::session::{SessionKeyring, SessionServer};
use encrypted_fields::{Encrypt, ExposeSecret};
use model::{EncryptedSecretData, SecretData};
use serde_json::{Value, json};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The example's server on a fresh loopback port, in its own thread.
fn serve(app: server::App) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        runtime().block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app.router()).await.unwrap();
        });
    });
    addr
}

fn secret() -> SecretData {
    SecretData {
        label: "living room".into(),
        pin: "4711".into(),
        wifi_passphrase: "correct horse battery staple".into(),
    }
}

/// One JSON-RPC call (or GET); the HTTP status and the parsed body.
fn raw(addr: SocketAddr, path: &str, body: Option<Value>) -> (u16, String) {
    runtime().block_on(async {
        let client = reqwest::Client::new();
        let url = format!("http://{addr}{path}");
        let request = match body {
            Some(body) => client.post(url).json(&body),
            None => client.get(url),
        };
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

fn public_key(addr: SocketAddr) -> String {
    let (status, body) = raw(addr, "/publicKey", None);
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["publicKey"].as_str().unwrap().to_owned()
}

fn send_call(enc_key: &str, secret_data: Value) -> Value {
    json!({
        "method": "sendSecretData",
        "id": 7,
        "params": [{ "encKey": enc_key, "secretData": secret_data }],
        "version": "1.0",
    })
}

fn sealed_for(keyring: &SessionKeyring) -> Value {
    serde_json::to_value(secret().encrypt(keyring).unwrap()).unwrap()
}

fn assert_clean(body: &str, also: &[&str]) {
    let s = secret();
    for needle in [s.pin.as_str(), s.wifi_passphrase.as_str()]
        .iter()
        .chain(also)
    {
        assert!(!body.contains(needle), "{needle} in {body}");
    }
}

#[test]
fn the_spec_shapes_round_trip_under_a_session_key() {
    let (sessions, private) = SessionServer::generate();
    let addr = serve(server::App::new(sessions));
    let public = public_key(addr);
    assert_eq!(public.len(), 43, "base64url of 32 bytes: {public}");

    let (keyring, enc_key) = SessionKeyring::initiate(&public).unwrap();
    let sealed = sealed_for(&keyring);
    assert_eq!(sealed["label"], "living room", "plain fields stay plain");
    let (status, body) = raw(addr, "/encryption", Some(send_call(&enc_key, sealed)));
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        json!({ "result": [], "id": 7 })
    );

    let get = json!({ "method": "getSecretData", "id": 8, "params": [{ "encKey": enc_key }], "version": "1.0" });
    let (status, body) = raw(addr, "/encryption", Some(get));
    assert_eq!(status, 200);
    assert_clean(&body, &[private.expose_secret()]);
    let mut answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["id"], 8);
    let sealed: EncryptedSecretData = serde_json::from_value(answer["result"][0].take()).unwrap();
    assert_eq!(
        encrypted_fields::Decrypt::decrypt(&sealed, &keyring).unwrap(),
        secret()
    );
}

#[test]
fn every_error_has_its_code_and_leaks_nothing() {
    let (sessions, private) = SessionServer::generate();
    let app = server::App::new(sessions);
    let addr = serve(app.clone());
    let (keyring, enc_key) = SessionKeyring::initiate(&public_key(addr)).unwrap();
    let (foreign_server, _) = SessionServer::generate();
    let (foreign_keyring, foreign_enc_key) =
        SessionKeyring::initiate(&foreign_server.public_key()).unwrap();

    let mut tampered = sealed_for(&keyring);
    let pin = tampered["pin"].as_str().unwrap().to_owned();
    let flipped = if pin.starts_with("AQ") { "AR" } else { "AQ" };
    tampered["pin"] = format!("{flipped}{}", &pin[2..]).into();
    let mut moved = sealed_for(&keyring);
    moved["pin"] = moved["wifiPassphrase"].clone();
    let mut tampered_key = enc_key.clone().into_bytes();
    tampered_key[60] = if tampered_key[60] == b'A' { b'B' } else { b'A' };
    let tampered_key = String::from_utf8(tampered_key).unwrap();

    let cases: Vec<(&str, Value, i64, &[&str])> = vec![
        (
            "encKey for another server",
            send_call(&foreign_enc_key, sealed_for(&foreign_keyring)),
            40002,
            &["encKey"],
        ),
        (
            "tampered encKey",
            send_call(&tampered_key, sealed_for(&keyring)),
            40002,
            &["encKey"],
        ),
        (
            "malformed encKey",
            send_call("not-a-key", sealed_for(&keyring)),
            40002,
            &["encKey"],
        ),
        (
            "fields sealed under another session",
            send_call(&enc_key, sealed_for(&foreign_keyring)),
            40002,
            &["pin"],
        ),
        (
            "tampered field",
            send_call(&enc_key, tampered),
            40002,
            &["pin"],
        ),
        (
            "field moved to another field",
            send_call(&enc_key, moved),
            40002,
            &["pin"],
        ),
        (
            "secretData of the wrong shape",
            send_call(&enc_key, json!({ "label": 1 })),
            3,
            &[],
        ),
        (
            "params not an array of one object",
            json!({ "method": "getSecretData", "id": 7, "params": [] }),
            3,
            &[],
        ),
        (
            "unknown method",
            json!({ "method": "setSecretData", "id": 7, "params": [] }),
            12,
            &[],
        ),
        (
            "nothing stored yet",
            json!({ "method": "getSecretData", "id": 7, "params": [{ "encKey": enc_key }] }),
            7,
            &[],
        ),
    ];
    for (case, call, code, names) in cases {
        let (status, body) = raw(addr, "/encryption", Some(call));
        assert_eq!(status, 200, "{case}: JSON-RPC errors travel in the body");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["error"][0], code, "{case}: {body}");
        assert_eq!(answer["id"], 7, "{case}: {body}");
        if code == 40002 {
            // One message for every cause: a client cannot tell a stale
            // session from a forged one. The log says which.
            assert_eq!(answer["error"][1], "Encryption Failed", "{case}: {body}");
            let cause = app.log().pop().expect("the cause is logged");
            for name in names {
                assert!(cause.contains(name), "{case}: {cause}");
            }
            assert_clean(&cause, &[private.expose_secret(), &enc_key]);
        }
        assert_clean(&body, &[private.expose_secret(), &enc_key]);
    }
    let (_, body) = raw(addr, "/encryption", Some(json!("not a call")));
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["error"][0],
        3,
        "{body}"
    );
}

#[test]
fn a_stale_session_gets_40002_and_the_client_starts_a_new_one() {
    let app = server::App::new(SessionServer::generate().0);
    let addr = serve(app.clone());
    let rt = runtime();
    let mut client = client::Client::new(&format!("http://{addr}"));
    rt.block_on(client.send_secret_data(&secret())).unwrap();
    assert_eq!(rt.block_on(client.get_secret_data()).unwrap(), secret());
    assert_eq!(client.reinitializations, 0);

    // A redeploy with a new key pair makes the client's encKey stale.
    app.replace_key_pair(SessionServer::generate().0);
    assert_eq!(rt.block_on(client.get_secret_data()).unwrap(), secret());
    assert_eq!(client.reinitializations, 1);
    // The new session keeps working without another re-initialization.
    rt.block_on(client.send_secret_data(&secret())).unwrap();
    assert_eq!(client.reinitializations, 1);
}

fn example() -> Command {
    let exe = std::env::current_exe().unwrap();
    let dir: PathBuf = exe
        .parent()
        .and_then(|d| d.parent())
        .unwrap()
        .join("examples");
    let mut command = Command::new(dir.join("secret_rpc"));
    command
        .env_remove("ENCRYPTED_FIELDS_SESSION_KEY")
        .env_remove("ENCRYPTED_FIELDS_SESSION_KEY_FILE");
    command
}

#[test]
fn the_example_runs_with_a_demo_key_and_refuses_to_invent_one_otherwise() {
    let output = example().arg("--demo-key").output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("throwaway server key pair"), "{stdout}");
    assert!(
        stdout.contains("client re-initialized 1 time(s)"),
        "{stdout}"
    );
    assert_eq!(stdout.matches("same as sent: true").count(), 2, "{stdout}");

    let output = example().output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("ENCRYPTED_FIELDS_SESSION_KEY is not set"),
        "{stderr}"
    );

    let (_, private) = SessionServer::generate();
    let output = example()
        .env("ENCRYPTED_FIELDS_SESSION_KEY", private.expose_secret())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !String::from_utf8(output.stdout)
            .unwrap()
            .contains("throwaway")
    );
}
