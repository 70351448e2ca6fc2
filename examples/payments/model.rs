//! The demo's domain: a transaction between two cash users whose contact
//! details are sealed under `pii` and bank accounts under `banking`.

use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct BankAccount {
    pub routing: String,
    pub account: String,
}

impl BankAccount {
    /// The last four digits, as a statement shows them.
    pub fn masked(&self) -> String {
        let tail = self.account.len().saturating_sub(4);
        format!("****{}", &self.account[tail..])
    }
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
#[encrypt(schema)]
pub struct CashUser {
    pub cash_tag: String,
    #[encrypt(key = "pii")]
    pub email: String,
    #[encrypt(key = "pii")]
    pub mailing_address: String,
    #[encrypt(key = "banking")]
    pub bank_account: BankAccount,
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
#[encrypt(context = "transaction", schema)]
pub struct Transaction {
    pub id: u64,
    #[encrypt(nested)]
    pub sender: CashUser,
    #[encrypt(nested)]
    pub receiver: CashUser,
    pub amount_cents: i64,
}

/// What a client asks `web` for: no sensitive data, only cash tags.
#[derive(Serialize, Deserialize, Clone, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentRequest {
    pub from: String,
    pub to: String,
    pub amount_cents: i64,
}

/// What `banking` answers once it has moved the money.
#[derive(Serialize, Deserialize, Clone, PartialEq, Debug, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Settlement {
    pub transaction_id: u64,
    pub debited: String,
    pub credited: String,
    pub amount_cents: i64,
}

/// One service's view of a transaction: each field path with the value it
/// could read, or `None` where the field stayed sealed.
pub type View = Vec<(String, Option<String>)>;

/// The view a service with this partial transaction has. Sensitive values
/// show as `read`, never in clear, so the demo's output prints no PII.
pub fn view(tx: &PartialTransaction) -> View {
    let mut view = vec![
        ("id".to_owned(), Some(tx.id.to_string())),
        ("amountCents".to_owned(), Some(tx.amount_cents.to_string())),
    ];
    for (side, user) in sides(tx) {
        view.push((format!("{side}.cashTag"), Some(user.cash_tag.clone())));
        view.extend(
            user_access(side, user).map(|(field, open)| (field, open.then(|| "read".to_owned()))),
        );
    }
    view
}

/// Which sensitive fields of the partial transaction are open: the
/// matrix examples/kafka prints, which includes this file.
#[allow(dead_code)]
pub fn access(tx: &PartialTransaction) -> Vec<(String, bool)> {
    sides(tx)
        .into_iter()
        .flat_map(|(side, user)| user_access(side, user))
        .collect()
}

fn sides(tx: &PartialTransaction) -> [(&'static str, &PartialCashUser); 2] {
    [("sender", &tx.sender), ("receiver", &tx.receiver)]
}

/// One user's sensitive fields, by path, and whether each is open.
fn user_access(side: &str, user: &PartialCashUser) -> [(String, bool); 3] {
    [
        (format!("{side}.email"), user.email.is_open()),
        (
            format!("{side}.mailingAddress"),
            user.mailing_address.is_open(),
        ),
        (format!("{side}.bankAccount"), user.bank_account.is_open()),
    ]
}

/// The users `accounts` knows: demo data, not real people.
pub fn directory() -> Vec<CashUser> {
    let user = |tag: &str, email: &str, address: &str, account: &str| CashUser {
        cash_tag: tag.into(),
        email: email.into(),
        mailing_address: address.into(),
        bank_account: BankAccount {
            routing: "121000248".into(),
            account: account.into(),
        },
    };
    vec![
        user(
            "$ada",
            "ada@example.com",
            "1 Main St, San Francisco",
            "000123456789",
        ),
        user(
            "$grace",
            "grace@example.com",
            "9 Navy Rd, Arlington",
            "000987654321",
        ),
    ]
}
