//! The demo's platform (three service processes with their own keys) and
//! its scenario, shared by `main.rs` and the tests.

use std::error::Error;
use std::path::Path;

use encrypted_fields::{EnvKeyring, ExposeSecret, KeySize, generate_key};

use crate::launch;
use crate::model::payments::{
    EncryptedTransaction, PaymentRequest, Settlement, TransactionId, View,
};
use crate::services::rpc::{
    accounts_client::AccountsClient, banking_client::BankingClient, web_client::WebClient,
};

pub const SERVICES: [&str; 3] = ["accounts", "banking", "web"];

/// The three service processes (`exe serve NAME`), with throwaway keys.
pub struct Platform {
    pub running: [launch::Running; 3],
    /// The keys, as the `accounts` process has them (the tests open rows
    /// with them).
    #[allow(dead_code)]
    pub keys: Vec<(String, String)>,
}

impl Platform {
    pub fn start(exe: &Path) -> Result<Self, Box<dyn Error>> {
        let key = || generate_key(KeySize::Aes256).expose_secret().to_owned();
        let keys: Vec<(String, String)> = ["pii", "us_address", "banking"]
            .iter()
            .map(|alias| (EnvKeyring::var_name(alias), key()))
            .collect();
        let accounts = launch::start(exe, "accounts", &keys)?;
        let banking = launch::start(
            exe,
            "banking",
            &[
                keys[2].clone(),
                ("ACCOUNTS_URL".to_owned(), accounts.url.clone()),
            ],
        )?;
        let web = launch::start(
            exe,
            "web",
            &[
                ("ACCOUNTS_URL", &accounts.url),
                ("BANKING_URL", &banking.url),
            ],
        )?;
        Ok(Platform {
            running: [accounts, banking, web],
            keys,
        })
    }

    pub fn urls(&self) -> [String; 3] {
        self.running.each_ref().map(|r| r.url.clone())
    }
}

/// What the scenario saw: the settlement, each service's view and row
/// (accounts': the one it issued; banking's: the one it forwarded; web's:
/// the one it received and passed on).
pub struct Report {
    pub settlement: Settlement,
    pub views: [View; 3],
    pub rows: [EncryptedTransaction; 3],
}

/// Pays through `web`, then asks each service for its view and its row.
pub async fn scenario(urls: &[String; 3]) -> Result<Report, Box<dyn Error>> {
    let [accounts, banking, web] = urls;
    let mut accounts = AccountsClient::connect(accounts.clone()).await?;
    let mut banking = BankingClient::connect(banking.clone()).await?;
    let mut web = WebClient::connect(web.clone()).await?;
    let request = PaymentRequest {
        from: "$ada".into(),
        to: "$grace".into(),
        amount_cents: 4_200,
    };
    let settlement = web.pay(request).await?.into_inner();
    let id = TransactionId {
        id: settlement.transaction_id,
    };
    let views = [
        accounts.view(id).await?.into_inner(),
        banking.view(id).await?.into_inner(),
        web.view(id).await?.into_inner(),
    ];
    let rows = [
        accounts.row(id).await?.into_inner(),
        banking.row(id).await?.into_inner(),
        web.row(id).await?.into_inner(),
    ];
    Ok(Report {
        settlement,
        views,
        rows,
    })
}

/// The settlement and the access matrix, as the demo prints them.
pub fn matrix_report(report: &Report) -> String {
    let s = &report.settlement;
    let mut out = format!(
        "\nbanking settled transaction {}: {} -> {}, {} cents\n\nwhat each service could read:\n",
        s.transaction_id, s.debited, s.credited, s.amount_cents
    );
    out.push_str(&matrix(&report.views));
    let [issued, settled, received] = &report.rows;
    let yes = |same: bool| if same { "yes" } else { "NO" };
    let bytes = prost::Message::encode_to_vec;
    out.push_str(&format!(
        "\nweb forwarded the transaction accounts issued byte for byte: {}\n\
         banking forwarded the envelopes it cannot read byte for byte: {}\n",
        yes(bytes(received) == bytes(issued)),
        yes(unreadable_by_banking(issued) == unreadable_by_banking(settled)),
    ));
    out
}

/// The envelopes banking holds no key for (`pii`, `us_address`), in order.
pub fn unreadable_by_banking(row: &EncryptedTransaction) -> Vec<Vec<u8>> {
    [&row.sender, &row.receiver]
        .into_iter()
        .flatten()
        .flat_map(|user| [user.email.clone(), user.mailing_address.clone()])
        .collect()
}

/// The access matrix: one row per field, one column per service.
pub fn matrix(views: &[View; 3]) -> String {
    let mut out = format!("{:<30}", "field");
    for name in SERVICES {
        out.push_str(&format!("{name:<10}"));
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    for (i, access) in views[0].fields.iter().enumerate() {
        out.push_str(&format!("{:<30}", access.field));
        for view in views {
            let open = view.fields.get(i).is_some_and(|a| a.open);
            out.push_str(&format!("{:<10}", if open { "read" } else { "sealed" }));
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}
