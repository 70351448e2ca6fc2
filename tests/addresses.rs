//! Nothing in the project points to an address or page that does not
//! exist: the only URLs in documentation (docs/guide's chapters included)
//! and manifests are loopback ones, and the only e-mail domains are the
//! reserved `example.*` (RFC 2606).
//! Before, SECURITY.md named a security mailbox and Cargo.toml a
//! repository that do not exist.

use std::path::{Path, PathBuf};

fn documents(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md"), root.join("SECURITY.md")];
    let dirs = [
        ".",
        "docs",
        "docs/guide",
        "encrypted-fields",
        "encrypted-fields-derive",
        "encrypted-fields-cli",
        "examples/kafka",
        "examples/postgres",
        "python",
    ];
    for dir in dirs {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name == "Cargo.toml" || (name.ends_with(".md") && dir != ".") {
                files.push(path);
            }
        }
    }
    files
}

/// Every `http://` or `https://` address, and every `name@domain.tld`.
fn addresses(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for word in text.split(|c: char| c.is_whitespace() || "()<>\"'`[],;".contains(c)) {
        if let Some(start) = word.find("http://").or_else(|| word.find("https://")) {
            found.push(word[start..].to_owned());
        } else if let Some((user, domain)) = word.split_once('@') {
            let domain = domain.trim_end_matches(['.', ':']);
            if !user.is_empty() && domain.contains('.') && !domain.contains('{') {
                found.push(word.to_owned());
            }
        }
    }
    found
}

fn allowed(address: &str) -> bool {
    let loopback = ["://127.0.0.1", "://localhost", "://[::1]"];
    if address.contains("://") {
        return loopback.iter().any(|l| address.contains(l));
    }
    let domain = address.rsplit('@').next().unwrap_or_default();
    ["example.com", "example.org", "example.net"]
        .iter()
        .any(|reserved| domain.trim_end_matches(['.', ':']).ends_with(reserved))
}

#[test]
fn documents_and_manifests_point_only_to_addresses_that_exist() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut invented = Vec::new();
    for file in documents(root) {
        let text = std::fs::read_to_string(&file).unwrap();
        for address in addresses(&text) {
            if !allowed(&address) {
                invented.push(format!("{}: {address}", file.display()));
            }
        }
    }
    assert!(invented.is_empty(), "{invented:#?}");
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    let text = "mail security@encrypted-fields.dev or see <https://github.com/x/y>; \
                ada@example.com at http://127.0.0.1:8080/ and `pii@CashUser`";
    let found = addresses(text);
    assert_eq!(
        found,
        [
            "security@encrypted-fields.dev",
            "https://github.com/x/y",
            "ada@example.com",
            "http://127.0.0.1:8080/"
        ]
    );
    let refused: Vec<&String> = found.iter().filter(|a| !allowed(a)).collect();
    assert_eq!(refused.len(), 2);
}
