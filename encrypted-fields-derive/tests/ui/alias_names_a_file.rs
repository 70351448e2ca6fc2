use encrypted_fields::Encrypt;

#[derive(Encrypt)]
struct Report {
    #[encrypt(key = "audit_file")]
    body: String,
}

fn main() {}
