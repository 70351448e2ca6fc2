use encrypted_fields::Encrypt;

// sqlx options that would read the envelope column as something else, and
// a derive the companion has already.
#[derive(Encrypt)]
#[encrypt(derive(sqlx::FromRow, Clone))]
struct Customer {
    id: i64,
    #[encrypt(key = "pii")]
    #[sqlx(json)]
    email: String,
    #[encrypt(key = "pii")]
    #[sqlx(rename = "addr", default)]
    address: String,
}

fn main() {}
