//! The secret a client stores on the server: its sensitive fields travel
//! sealed under the session key (a session keyring answers every alias).

use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
#[serde(rename_all = "camelCase")]
#[encrypt(context = "secretData")]
pub struct SecretData {
    pub label: String,
    #[encrypt(key = "session")]
    pub pin: String,
    #[encrypt(key = "session")]
    pub wifi_passphrase: String,
}

/// The error code for every cryptographic failure: re-initialize.
pub const ENCRYPTION_FAILED: i64 = 40002;
/// The spec's code for parameters of the wrong shape.
pub const ILLEGAL_ARGUMENT: i64 = 3;
/// The spec's code for a call that needs state the server lacks.
pub const ILLEGAL_STATE: i64 = 7;
/// The spec's code for an unknown method.
pub const NO_SUCH_METHOD: i64 = 12;
