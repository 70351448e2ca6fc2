//! Public-key sessions over JSON-RPC, the flow of the REST encryption spec
//! we replace, with HPKE in place of RSA and our envelopes for the fields:
//!
//!     cargo run --example secret_rpc -- --demo-key
//!
//! The server's X25519 private key comes from `ENCRYPTED_FIELDS_SESSION_KEY`
//! (never generated per start in production: clients would re-initialize
//! on every restart); `--demo-key` makes a throwaway one and says so. The
//! demo stores a secret, reads it back, then replaces the server's key pair
//! to show a stale session answered with `40002` and the client starting a
//! new one.

mod client;
mod model;
mod server;

use std::error::Error;

use encrypted_fields::session::SessionServer;
use model::SecretData;

fn main() {
    if let Err(error) = run() {
        eprintln!("secret_rpc: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let sessions = match std::env::args().nth(1).as_deref() {
        Some("--demo-key") => {
            println!("made a throwaway server key pair for this run only (--demo-key)");
            SessionServer::generate().0
        }
        None => SessionServer::from_env()?,
        Some(other) => {
            return Err(format!("unknown argument {other}; usage: secret_rpc [--demo-key]").into());
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let app = server::App::new(sessions);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        println!("server listening on {base}");
        tokio::spawn(axum::serve(listener, app.clone().router()).into_future());

        let mut client = client::Client::new(&base);
        let secret = SecretData {
            label: "living room".into(),
            pin: "0000".into(),
            wifi_passphrase: "correct horse battery staple".into(),
        };
        client.send_secret_data(&secret).await?;
        println!("sendSecretData: stored, sealed under a fresh session key");
        let back = client.get_secret_data().await?;
        println!("getSecretData: read back {:?}, same as sent: {}", back.label, back == secret);

        app.replace_key_pair(SessionServer::generate().0);
        println!("server key pair replaced: the client's session is now stale");
        let back = client.get_secret_data().await?;
        println!(
            "getSecretData: server answered 40002, client re-initialized {} time(s), read back {:?}, same as sent: {}",
            client.reinitializations,
            back.label,
            back == secret
        );
        Ok(())
    })
}
