use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize)]
#[allow(clippy::upper_case_acronyms)]
enum Handle {
    A {
        #[encrypt(key = "pii", deterministic)]
        b_c: String,
    },
    AB {
        #[encrypt(key = "pii", deterministic)]
        c: String,
    },
    C {
        #[encrypt(key = "pii", lookup = "find_c")]
        c: String,
    },
    D {
        #[encrypt(key = "pii", deterministic, lookup = "find d")]
        d: String,
    },
}

fn main() {}
