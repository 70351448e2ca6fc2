//! Keys for the tests: an old and a new key for each alias, and the
//! environments of the three stages of a rotation.

use encrypted_fields::{EnvKeyring, ExposeSecret, KeySize, generate_key};

pub type Env = [(&'static str, String); 2];

pub struct Keys {
    old: (String, String),
    new: (String, String),
}

impl Keys {
    pub fn new() -> Keys {
        let key = || generate_key(KeySize::Aes256).expose_secret().to_owned();
        Keys {
            old: (key(), key()),
            new: (key(), key()),
        }
    }

    fn env(&self, pii: &str, banking: &str) -> Env {
        [
            ("ENCRYPTED_FIELDS_KEY_PII", pii.to_owned()),
            ("ENCRYPTED_FIELDS_KEY_BANKING", banking.to_owned()),
        ]
    }

    /// The keys rows were first sealed with.
    pub fn old(&self) -> Env {
        self.env(&self.old.0, &self.old.1)
    }

    /// New primaries, the old keys still there to open what is not
    /// rotated yet.
    pub fn rotating(&self) -> Env {
        self.env(
            &format!("{},{}", self.new.0, self.old.0),
            &format!("{},{}", self.new.1, self.old.1),
        )
    }

    /// After the rotation: the old keys dropped.
    pub fn new_only(&self) -> Env {
        self.env(&self.new.0, &self.new.1)
    }
}

pub fn keyring(env: Env) -> EnvKeyring {
    EnvKeyring::from_vars(env).unwrap()
}
