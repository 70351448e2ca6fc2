use std::collections::{HashMap, HashSet};

use encrypted_fields::Encrypt;
use serde::{Deserialize, Serialize};

#[derive(Encrypt, Serialize, Deserialize)]
struct Order {
    #[encrypt(bind)]
    parts: HashMap<String, u32>,
    #[encrypt(key = "pii", deterministic)]
    tags: Option<HashSet<String>>,
}

fn main() {}
