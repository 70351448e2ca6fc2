//! Encrypted fields in protobuf messages over real gRPC: three services,
//! each a process with its own keyring from its own environment.
//!
//!     cargo run -p example-grpc
//!
//! The key aliases are declared in `proto/payments.proto`
//! (`[(encrypted_fields.key) = "banking"]`); encrypted-fields-build derives
//! `Encrypt` on the prost types from them. `accounts` holds `pii`,
//! `us_address` and `banking` and issues transactions; `banking` holds only
//! `banking`, settles them and forwards them back to `accounts`; `web`
//! holds no key and forwards what it receives. The demo makes throwaway
//! keys, starts the three as child processes on loopback, pays $42.00
//! from `$ada` to `$grace` through `web`, and prints what each service
//! could read.

mod demo;
#[path = "../../payments/launch.rs"]
#[allow(dead_code)]
mod launch;
mod model;
mod services;

use std::error::Error;
use std::io::Write;
use std::sync::Arc;

use encrypted_fields::{Encrypt, EnvKeyring, Keyring};
use services::rpc::{
    accounts_client::AccountsClient, accounts_server::AccountsServer,
    banking_client::BankingClient, banking_server::BankingServer, web_server::WebServer,
};

use demo::{Platform, SERVICES};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => demo(),
        [command, name] if command == "serve" => serve(name),
        [command] if command == "descriptor-set" => std::io::stdout()
            .write_all(model::COMPANION_DESCRIPTORS)
            .map_err(Into::into),
        _ => {
            eprintln!("usage: example-grpc [serve accounts|banking|web | descriptor-set]");
            std::process::exit(2);
        }
    };
    if let Err(error) = result {
        eprintln!("example-grpc: {error}");
        std::process::exit(1);
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
}

/// `example-grpc serve NAME`: one service, keys from this process's
/// environment, upstreams from `ACCOUNTS_URL` and `BANKING_URL`.
fn serve(name: &str) -> Result<(), Box<dyn Error>> {
    let keyring: Arc<dyn Keyring> = Arc::new(EnvKeyring::from_env()?);
    // Exit when the parent closes our stdin (or dies).
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        let mut server = tonic::transport::Server::builder();
        let upstream = |var: &str| std::env::var(var).map_err(|_| format!("{var} is not set"));
        let router = match name {
            "accounts" => {
                keyring.require(model::Transaction::KEY_ALIASES)?;
                server.add_service(AccountsServer::new(services::Accounts::new(keyring)))
            }
            "banking" => {
                keyring.require(&["banking"])?;
                let accounts = AccountsClient::connect(upstream("ACCOUNTS_URL")?).await?;
                server.add_service(BankingServer::new(services::Banking::new(
                    keyring, accounts,
                )))
            }
            "web" => {
                let accounts = AccountsClient::connect(upstream("ACCOUNTS_URL")?).await?;
                let banking = BankingClient::connect(upstream("BANKING_URL")?).await?;
                server.add_service(WebServer::new(services::Web::new(
                    keyring, accounts, banking,
                )))
            }
            other => return Err(format!("unknown service {other}").into()),
        };
        println!("listening on {url}");
        std::io::stdout().flush()?;
        router.serve_with_incoming(incoming).await?;
        Ok::<_, Box<dyn Error>>(())
    })
}

/// Starts the three services and runs the scenario.
fn demo() -> Result<(), Box<dyn Error>> {
    println!(
        "making throwaway demo keys for this run only (pii, us_address, banking): never use them for real data\n"
    );
    let services = Platform::start(&std::env::current_exe()?)?;
    for (name, service) in SERVICES.iter().zip(&services.running) {
        println!("{name:<8} {}", service.url);
    }
    let report = runtime()?.block_on(demo::scenario(&services.urls()))?;
    print!("{}", demo::matrix_report(&report));
    Ok(())
}
