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
    #[encrypt(key = "pii")]
    #[sqlx(try_from = "String", skip)]
    phone: String,
    #[encrypt(key = "pii")]
    #[diesel(skip_insertion)] // not checked: no Diesel derive here
    notes: String,
}

// Diesel's derives on a sealed record (its seal has no Diesel type), and a
// Diesel option that would write something else than the envelope.
#[derive(Encrypt)]
#[encrypt(seal = "records", derive(diesel::Queryable, diesel::Insertable))]
struct Account {
    #[encrypt(bind)]
    id: i64,
    #[encrypt(key = "pii")]
    #[diesel(serialize_as = String)]
    email: String,
}

fn main() {}
