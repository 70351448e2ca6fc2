//! What both the bench and the loop seal: a small field and a struct, with
//! the recorder installed when the `metrics` feature is on.

use encrypted_fields::{Encrypt, EnvKeyring};
use serde::{Deserialize, Serialize};

pub const KEY: &str = "YmVuY2gta2V5LTAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=";
pub const KEY_BYTES: &[u8; 32] = b"bench-key-0000000000000000000000";

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
pub struct Customer {
    pub id: u64,
    #[encrypt(key = "pii")]
    pub email: String,
    #[encrypt(key = "banking")]
    pub iban: String,
}

pub fn customer() -> Customer {
    Customer {
        id: 42,
        email: "ada@example.com".into(),
        iban: "DE89370400440532013000".into(),
    }
}

/// Installs a Prometheus recorder (with the feature, unless
/// `METRICS_COST_NO_RECORDER` is set: the feature on, nobody listening),
/// then loads the keys, as a service does. Returns whether metrics are on.
pub fn setup() -> (EnvKeyring, bool) {
    #[cfg(feature = "metrics")]
    if std::env::var_os("METRICS_COST_NO_RECORDER").is_none() {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .expect("install the recorder");
    }
    let keyring = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", KEY),
        ("ENCRYPTED_FIELDS_KEY_BANKING", KEY),
    ])
    .expect("bench keys");
    (keyring, cfg!(feature = "metrics"))
}
