//! Three services over real HTTP on loopback, each with its own keyring
//! from its own environment:
//!
//!     cargo run --example payments
//!
//! `accounts` holds `pii` and `banking` and creates transactions; `banking`
//! holds only `banking` and settles them; `web` holds neither, shows
//! amounts and cash tags, and forwards what it cannot read unchanged. The
//! demo makes throwaway keys, starts the three as child processes, pays
//! $42.00 from `$ada` to `$grace` through `web`, and prints what each
//! service could see. Each service serves `GET /metrics`: the `metrics`
//! feature's counters, rendered by `metrics-exporter-prometheus`.

mod launch;
mod model;
mod services;

use std::error::Error;
use std::io::Write;
use std::sync::Arc;

use encrypted_fields::{Encrypt, EnvKeyring, ExposeSecret, KeySize, Keyring, generate_key};
use model::{EncryptedTransaction, PaymentRequest, Settlement, Transaction, View};
use serde_json::Value;

const SERVICES: [&str; 3] = ["accounts", "banking", "web"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [] => demo(),
        [serve, name] if serve == "serve" => serve_one(name),
        _ => {
            eprintln!("usage: payments [serve accounts|banking|web]");
            std::process::exit(2);
        }
    };
    if let Err(error) = result {
        eprintln!("payments: {error}");
        std::process::exit(1);
    }
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

/// `payments serve NAME`: one service, keys from this process's environment.
fn serve_one(name: &str) -> Result<(), Box<dyn Error>> {
    // Installed before the keys load, so the key gauge is set too.
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    let keyring = EnvKeyring::from_env()?;
    let router = match name {
        "accounts" => {
            keyring.require(Transaction::KEY_ALIASES)?;
            services::accounts(Arc::new(keyring))
        }
        "banking" => {
            keyring.require(&["banking"])?;
            services::banking(Arc::new(keyring))
        }
        "web" => {
            let upstream = services::Upstream {
                client: reqwest::Client::new(),
                accounts: std::env::var("ACCOUNTS_URL")?,
                banking: std::env::var("BANKING_URL")?,
            };
            services::web(Arc::new(keyring), upstream)
        }
        other => return Err(format!("unknown service {other}").into()),
    };
    let router = router.merge(services::metrics(metrics));
    // Exit when the parent closes our stdin (or dies).
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("listening on http://{}", listener.local_addr()?);
        std::io::stdout().flush()?;
        axum::serve(listener, router).await?;
        Ok(())
    })
}

/// Starts the three services and runs the scenario.
fn demo() -> Result<(), Box<dyn Error>> {
    println!(
        "making throwaway demo keys for this run only (pii, banking): never use them for real data\n"
    );
    let pii = generate_key(KeySize::Aes256);
    let banking_key = generate_key(KeySize::Aes256);
    let exe = std::env::current_exe()?;
    let pii_var = EnvKeyring::var_name("pii");
    let banking_var = EnvKeyring::var_name("banking");
    let accounts = launch::start(
        &exe,
        "accounts",
        &[
            (pii_var.as_str(), pii.expose_secret()),
            (banking_var.as_str(), banking_key.expose_secret()),
        ],
    )?;
    let banking = launch::start(
        &exe,
        "banking",
        &[(banking_var.as_str(), banking_key.expose_secret())],
    )?;
    let web = launch::start(
        &exe,
        "web",
        &[
            ("ACCOUNTS_URL", &accounts.url),
            ("BANKING_URL", &banking.url),
        ],
    )?;
    for (name, service) in SERVICES.iter().zip([&accounts, &banking, &web]) {
        println!("{name:<8} {}", service.url);
    }
    let urls = [
        accounts.url.as_str(),
        banking.url.as_str(),
        web.url.as_str(),
    ];
    let report = runtime()?.block_on(scenario(urls))?;
    print!("{report}");
    Ok(())
}

/// Pays through `web`, then asks each service for its row and its view.
async fn scenario(urls: [&str; 3]) -> Result<String, Box<dyn Error>> {
    let client = reqwest::Client::new();
    let [_, _, web] = urls;
    let request = PaymentRequest {
        from: "$ada".into(),
        to: "$grace".into(),
        amount_cents: 4_200,
    };
    let settlement: Settlement =
        services::fetch(client.post(format!("{web}/payments")).json(&request)).await?;
    let id = settlement.transaction_id;
    let mut views = Vec::new();
    let mut rows = Vec::new();
    for url in urls {
        let view: View = services::fetch(client.get(format!("{url}/views/{id}"))).await?;
        let row: EncryptedTransaction =
            services::fetch(client.get(format!("{url}/transactions/{id}"))).await?;
        views.push(view);
        rows.push(serde_json::to_value(row)?);
    }
    let mut out = format!(
        "\nbanking settled transaction {id}: {} -> {}, {} cents\n\nwhat each service could read:\n",
        settlement.debited, settlement.credited, settlement.amount_cents
    );
    out.push_str(&matrix(&views));
    let [issued, settled, forwarded] = [&rows[0], &rows[1], &rows[2]];
    out.push_str(&format!(
        "\nweb forwarded the row accounts issued byte for byte: {}\n\
         banking kept the pii envelopes it cannot read unchanged: {}\n",
        yes(issued == forwarded),
        yes(pii_envelopes(issued) == pii_envelopes(settled)),
    ));
    Ok(out)
}

/// The access matrix: one row per field, one column per service.
pub fn matrix(views: &[View]) -> String {
    let mut out = format!("{:<26}", "field");
    for name in SERVICES {
        out.push_str(&format!("{name:<10}"));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    for (i, (field, _)) in views[0].iter().enumerate() {
        out.push_str(&format!("{field:<26}"));
        for view in views {
            let cell = view[i].1.as_deref().unwrap_or("sealed");
            out.push_str(&format!("{cell:<10}"));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

/// The `pii` envelopes of a row, in field order.
pub fn pii_envelopes(row: &Value) -> Vec<&Value> {
    ["sender", "receiver"]
        .iter()
        .flat_map(|side| [&row[side]["email"], &row[side]["mailingAddress"]])
        .collect()
}

fn yes(condition: bool) -> &'static str {
    if condition { "yes" } else { "NO" }
}
