//! An emulator of the KMS API for the tests: `moto_server` on a free
//! loopback port, started per test and stopped when the guard drops. It
//! comes from the PATH or the Python environment testkit makes under
//! `target/`.
#![allow(dead_code)]

pub mod customer;

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};

pub struct Moto {
    child: testkit::KillOnDrop,
    pub url: String,
}

impl Moto {
    /// Starts moto on a port the OS says is free, retrying if another
    /// process takes it first.
    pub fn start() -> Moto {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let moto_server = testkit::executable("moto_server").expect("moto_server");
            let child = Command::new(moto_server)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto_server: on the PATH, or from the environment testkit makes");
            let mut moto = Moto {
                child: testkit::KillOnDrop(child),
                url: format!("http://127.0.0.1:{port}"),
            };
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = moto.child.0.try_wait() {
                    break; // exited: the port was taken; try another
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return moto;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("moto_server did not start");
    }

    /// A KMS client for this server: loopback, dummy credentials.
    pub fn client(&self) -> aws_sdk_kms::Client {
        client_for(&self.url)
    }

    /// The environment the CLI needs to reach this server.
    pub fn env(&self) -> [(&'static str, String); 4] {
        [
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
    }
}

pub fn client_for(url: &str) -> aws_sdk_kms::Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_kms::Client::from_conf(config)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A new symmetric KMS key; its id.
pub async fn create_key(client: &aws_sdk_kms::Client) -> String {
    let created = client.create_key().send().await.unwrap();
    created.key_metadata().unwrap().key_id().to_owned()
}

/// What the fake KMS answers to one `Decrypt` call.
pub enum Reply {
    /// The keyset text, as KMS returns a plaintext.
    Keyset(String),
    /// `400 ThrottlingException`, as KMS answers over its request quota.
    Throttle,
    /// `400 AccessDeniedException`.
    Deny,
    /// Accept the request and never answer.
    Hang,
}

/// A loopback HTTP server speaking just enough of the KMS JSON protocol
/// (`Decrypt`) to throttle, refuse or stall calls, which moto cannot.
/// `answer(alias, nth call for that alias)` decides each reply.
pub struct FakeKms {
    pub url: String,
    pub calls: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeKms {
    pub fn start(answer: impl Fn(&str, usize) -> Reply + Send + Sync + 'static) -> FakeKms {
        use std::collections::HashMap;
        use std::io::{BufRead, BufReader, Read, Write};
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::{Arc, Mutex};

        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answer = Arc::new(answer);
        let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (answer, seen, calls) = (answer.clone(), seen.clone(), counter.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    let mut writer = stream;
                    loop {
                        let mut length = 0;
                        loop {
                            let mut line = String::new();
                            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                                return;
                            }
                            let line = line.trim_end().to_ascii_lowercase();
                            if line.is_empty() {
                                break;
                            }
                            if let Some(value) = line.strip_prefix("content-length:") {
                                length = value.trim().parse().unwrap_or(0);
                            }
                        }
                        let mut body = vec![0; length];
                        if reader.read_exact(&mut body).is_err() {
                            return;
                        }
                        calls.fetch_add(1, Ordering::SeqCst);
                        let request: serde_json::Value =
                            serde_json::from_slice(&body).unwrap_or_default();
                        let alias = request["EncryptionContext"]["encrypted-fields:alias"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        let nth = {
                            let mut seen = seen.lock().unwrap();
                            let n = seen.entry(alias.clone()).or_default();
                            *n += 1;
                            *n
                        };
                        let (status, body) = match answer(&alias, nth) {
                            Reply::Keyset(text) => {
                                use base64::Engine as _;
                                let plaintext =
                                    base64::engine::general_purpose::STANDARD.encode(text);
                                (
                                    "200 OK",
                                    serde_json::json!({
                                        "KeyId": "arn:aws:kms:us-east-1:111122223333:key/fake",
                                        "Plaintext": plaintext,
                                        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                                    }),
                                )
                            }
                            Reply::Throttle => (
                                "400 Bad Request",
                                serde_json::json!({
                                    "__type": "ThrottlingException",
                                    "message": "Rate exceeded",
                                }),
                            ),
                            Reply::Deny => (
                                "400 Bad Request",
                                serde_json::json!({
                                    "__type": "AccessDeniedException",
                                    "message": "not allowed",
                                }),
                            ),
                            Reply::Hang => {
                                std::thread::sleep(Duration::from_secs(3600));
                                return;
                            }
                        };
                        let body = body.to_string();
                        let response = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if writer.write_all(response.as_bytes()).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        FakeKms { url, calls }
    }

    pub fn client(&self) -> aws_sdk_kms::Client {
        client_for(&self.url)
    }
}

/// A wrapped keyset line for `alias` the fake KMS accepts (the blob is
/// never checked there).
pub fn fake_wrapped(alias: &str) -> String {
    format!("kms1:{alias}:AAAA")
}
