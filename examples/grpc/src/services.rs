//! The three gRPC services, each over its own keyring, and the status a
//! client gets when a message does not decrypt.
//!
//! `accounts` holds every key and issues transactions; `banking` holds only
//! `banking`, settles a transaction and forwards it back to `accounts`,
//! with the fields it cannot read exactly as they came; `web` holds no key
//! and forwards what it receives unchanged.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use encrypted_fields::{Decrypt, Encrypt, Keyring, MaybeSealed};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use crate::model::payments::{
    Access, EncryptedTransaction, PaymentRequest, Settlement, TransactionId, View,
};
use crate::model::{self, Transaction};

/// The generated clients and servers (`build.rs`).
pub mod rpc {
    #![allow(clippy::all)]
    include!(concat!(env!("OUT_DIR"), "/payments.Accounts.rs"));
    include!(concat!(env!("OUT_DIR"), "/payments.Banking.rs"));
    include!(concat!(env!("OUT_DIR"), "/payments.Web.rs"));
}

use rpc::accounts_client::AccountsClient;
use rpc::banking_client::BankingClient;

/// The gRPC status of a message that does not decrypt or whose envelopes
/// do not authenticate: `FAILED_PRECONDITION`, the message "Encryption
/// Failed" and metadata `encrypted-fields-code: 40002`, whatever the cause,
/// as the REST spec's 40002 is: the client fetches keys (or a session)
/// again. The cause goes to this service's log only.
pub fn encryption_failed(service: &str, error: &encrypted_fields::Error) -> Status {
    eprintln!("{service}: refused a message: {error}");
    let mut status = Status::failed_precondition("Encryption Failed");
    status.metadata_mut().insert(
        "encrypted-fields-code",
        tonic::metadata::MetadataValue::from_static("40002"),
    );
    status
}

/// The rows a service keeps, by transaction id, as it received or sent them.
#[derive(Default)]
struct Rows(Mutex<BTreeMap<u64, EncryptedTransaction>>);

impl Rows {
    fn keep(&self, row: EncryptedTransaction) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(row.id, row);
    }

    fn get(&self, id: u64) -> Result<EncryptedTransaction, Status> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("no transaction {id}")))
    }

    /// What `keyring` reads of row `id`: each sensitive field, open or not.
    fn view(&self, service: &str, keyring: &dyn Keyring, id: u64) -> Result<View, Status> {
        let partial = self
            .get(id)?
            .decrypt_partial(keyring)
            .map_err(|e| encryption_failed(service, &e))?;
        let fields = model::access(&partial.value)
            .into_iter()
            .map(|(field, open)| Access { field, open })
            .collect();
        Ok(View { fields })
    }
}

/// Holds `pii`, `us_address` and `banking`: issues and records transactions.
pub struct Accounts {
    pub keyring: Arc<dyn Keyring>,
    /// As issued.
    rows: Rows,
    /// As banking sent them back.
    recorded: Rows,
    next_id: AtomicU64,
}

impl Accounts {
    pub fn new(keyring: Arc<dyn Keyring>) -> Self {
        Accounts {
            keyring,
            rows: Rows::default(),
            recorded: Rows::default(),
            next_id: AtomicU64::new(1),
        }
    }
}

#[tonic::async_trait]
impl rpc::accounts_server::Accounts for Accounts {
    async fn create(
        &self,
        request: Request<PaymentRequest>,
    ) -> Result<Response<EncryptedTransaction>, Status> {
        let request = request.into_inner();
        let find = |tag: &str| {
            model::directory()
                .into_iter()
                .find(|user| user.cash_tag == tag)
                .ok_or_else(|| Status::not_found(format!("no user {tag}")))
        };
        let transaction = Transaction {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            sender: Some(find(&request.from)?),
            receiver: Some(find(&request.to)?),
            amount_cents: request.amount_cents,
            notes: vec!["issued by accounts".into()],
        };
        let row = transaction
            .encrypt(&*self.keyring)
            .map_err(|e| encryption_failed("accounts", &e))?;
        self.rows.keep(row.clone());
        Ok(Response::new(row))
    }

    /// Takes a transaction back from banking: it must open whole here.
    async fn record(
        &self,
        request: Request<EncryptedTransaction>,
    ) -> Result<Response<TransactionId>, Status> {
        let row = request.into_inner();
        row.decrypt(&*self.keyring)
            .map_err(|e| encryption_failed("accounts", &e))?;
        let id = row.id;
        self.recorded.keep(row);
        Ok(Response::new(TransactionId { id }))
    }

    async fn row(
        &self,
        request: Request<TransactionId>,
    ) -> Result<Response<EncryptedTransaction>, Status> {
        self.rows.get(request.into_inner().id).map(Response::new)
    }

    async fn view(&self, request: Request<TransactionId>) -> Result<Response<View>, Status> {
        let id = request.into_inner().id;
        self.rows
            .view("accounts", &*self.keyring, id)
            .map(Response::new)
    }
}

/// Holds only `banking`: settles and forwards to accounts.
pub struct Banking {
    pub keyring: Arc<dyn Keyring>,
    pub accounts: AccountsClient<Channel>,
    rows: Rows,
}

impl Banking {
    pub fn new(keyring: Arc<dyn Keyring>, accounts: AccountsClient<Channel>) -> Self {
        Banking {
            keyring,
            accounts,
            rows: Rows::default(),
        }
    }
}

#[tonic::async_trait]
impl rpc::banking_server::Banking for Banking {
    async fn settle(
        &self,
        request: Request<EncryptedTransaction>,
    ) -> Result<Response<Settlement>, Status> {
        let row = request.into_inner();
        let partial = row
            .decrypt_partial(&*self.keyring)
            .map_err(|e| encryption_failed("banking", &e))?
            .value;
        let account = |user: &Option<model::payments::PartialCashUser>| match user
            .as_ref()
            .and_then(|u| u.linked_bank_account.as_ref())
        {
            Some(MaybeSealed::Open(account)) => {
                let digits: Vec<char> = account.account.chars().collect();
                let tail: String = digits[digits.len().saturating_sub(4)..].iter().collect();
                Ok(format!("****{tail}"))
            }
            _ => Err(Status::invalid_argument(
                "the transaction has no bank accounts",
            )),
        };
        let settlement = Settlement {
            transaction_id: partial.id,
            debited: account(&partial.sender)?,
            credited: account(&partial.receiver)?,
            amount_cents: partial.amount_cents,
        };
        // Forwarded sealed again: what banking cannot read goes on exactly
        // as it came.
        let forwarded = partial
            .encrypt(&*self.keyring)
            .map_err(|e| encryption_failed("banking", &e))?;
        self.rows.keep(forwarded.clone());
        self.accounts.clone().record(forwarded).await?;
        Ok(Response::new(settlement))
    }

    async fn row(
        &self,
        request: Request<TransactionId>,
    ) -> Result<Response<EncryptedTransaction>, Status> {
        self.rows.get(request.into_inner().id).map(Response::new)
    }

    async fn view(&self, request: Request<TransactionId>) -> Result<Response<View>, Status> {
        let id = request.into_inner().id;
        self.rows
            .view("banking", &*self.keyring, id)
            .map(Response::new)
    }
}

/// Holds no key: takes payments, forwards what accounts issues to banking
/// unchanged.
pub struct Web {
    pub keyring: Arc<dyn Keyring>,
    pub accounts: AccountsClient<Channel>,
    pub banking: BankingClient<Channel>,
    rows: Rows,
}

impl Web {
    pub fn new(
        keyring: Arc<dyn Keyring>,
        accounts: AccountsClient<Channel>,
        banking: BankingClient<Channel>,
    ) -> Self {
        Web {
            keyring,
            accounts,
            banking,
            rows: Rows::default(),
        }
    }
}

#[tonic::async_trait]
impl rpc::web_server::Web for Web {
    async fn pay(&self, request: Request<PaymentRequest>) -> Result<Response<Settlement>, Status> {
        let row = self
            .accounts
            .clone()
            .create(request.into_inner())
            .await?
            .into_inner();
        self.rows.keep(row.clone());
        let settlement = self.banking.clone().settle(row).await?;
        Ok(settlement)
    }

    async fn row(
        &self,
        request: Request<TransactionId>,
    ) -> Result<Response<EncryptedTransaction>, Status> {
        self.rows.get(request.into_inner().id).map(Response::new)
    }

    async fn view(&self, request: Request<TransactionId>) -> Result<Response<View>, Status> {
        let id = request.into_inner().id;
        self.rows.view("web", &*self.keyring, id).map(Response::new)
    }
}
