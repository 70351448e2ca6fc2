//! `KmsKeyring` on a real KMS API (moto on loopback): keysets wrapped per
//! alias, unwrapped once at start-up, bound to their alias and KMS key.

mod support;

use encrypted_fields::kms::{self, KmsKeyring};
use encrypted_fields::{Decrypt, Encrypt, ErrorKind, ExposeSecret, KeySize, Keyring, generate_key};
use serde::{Deserialize, Serialize};
use support::{Moto, create_key, runtime};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Customer {
    id: u64,
    #[encrypt(key = "pii")]
    email: String,
    #[encrypt(key = "banking")]
    iban: String,
}

fn customer() -> Customer {
    Customer {
        id: 7,
        email: "ada@example.com".into(),
        iban: "DE89370400440532013000".into(),
    }
}

fn key() -> String {
    generate_key(KeySize::Aes256).expose_secret().to_owned()
}

#[test]
fn wrapped_keysets_load_once_and_serve_fields_locally() {
    let moto = Moto::start();
    let client = moto.client();
    let rt = runtime();
    rt.block_on(async {
        let kms_key = create_key(&client).await;
        let pii = kms::wrap_keyset(&client, &kms_key, "pii", &key())
            .await
            .unwrap();
        let banking = kms::wrap_keyset(&client, &kms_key, "banking", &key())
            .await
            .unwrap();
        assert!(pii.starts_with("kms1:pii:"), "{pii}");
        assert!(
            pii.len() < 1024,
            "fits an environment variable: {}",
            pii.len()
        );
        let keyring = KmsKeyring::builder(client.clone())
            .kms_key_id(&kms_key)
            .keyset(&pii)
            .keyset(&banking)
            .load()
            .await
            .unwrap();
        assert_eq!(keyring.aliases(), ["banking", "pii"]);
        keyring.require(Customer::KEY_ALIASES).unwrap();
        let wire = customer().encrypt(&keyring).unwrap();
        assert_eq!(wire.decrypt(&keyring).unwrap(), customer());
        let shown = format!("{keyring:?}");
        assert!(!shown.contains(&pii[10..30]), "{shown}");
    });
}

#[test]
fn rotation_adds_a_version_and_old_data_stays_readable() {
    let moto = Moto::start();
    let client = moto.client();
    runtime().block_on(async {
        let kms_key = create_key(&client).await;
        let (old, new) = (key(), key());
        let v1 = kms::wrap_keyset(&client, &kms_key, "pii", &old)
            .await
            .unwrap();
        let load = |wrapped: String| KmsKeyring::builder(client.clone()).keyset(wrapped).load();
        let before = load(v1).await.unwrap();
        let sealed = encrypted_fields::Sealed::seal(
            &before,
            &encrypted_fields::Binding::new("pii", "Customer", "email"),
            &"ada@example.com".to_owned(),
        )
        .unwrap();
        // The new key becomes primary; the old one stays to open old data.
        let v2 = kms::wrap_keyset(&client, &kms_key, "pii", &format!("{new},{old}"))
            .await
            .unwrap();
        let after = load(v2).await.unwrap();
        let binding = encrypted_fields::Binding::new("pii", "Customer", "email");
        assert_eq!(sealed.open(&after, &binding).unwrap(), "ada@example.com");
        let fresh = encrypted_fields::Sealed::seal(&after, &binding, &"x".to_owned()).unwrap();
        assert_eq!(
            Some(fresh.key_id().unwrap()),
            after.key_set("pii").map(|set| set.primary().id())
        );
        assert_ne!(fresh.key_id(), sealed.key_id());
    });
}

#[test]
fn keysets_for_another_alias_or_kms_key_are_refused() {
    let moto = Moto::start();
    let client = moto.client();
    runtime().block_on(async {
        let (kms_key, other_kms_key) = (create_key(&client).await, create_key(&client).await);
        let pii = kms::wrap_keyset(&client, &kms_key, "pii", &key())
            .await
            .unwrap();

        // Relabelled as another alias: the encryption context no longer
        // matches, and KMS refuses.
        let relabelled = pii.replacen("kms1:pii:", "kms1:banking:", 1);
        let error = KmsKeyring::builder(client.clone())
            .keyset(relabelled)
            .load()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Kms);
        assert_eq!(error.key_alias(), Some("banking"));
        assert!(error.to_string().contains("InvalidCiphertext"), "{error}");

        // Wrapped under another KMS key than the service expects.
        let error = KmsKeyring::builder(client.clone())
            .kms_key_id(&other_kms_key)
            .keyset(&pii)
            .load()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Kms);
        assert_eq!(error.key_alias(), Some("pii"));

        // Two keysets for one alias.
        let twice = KmsKeyring::builder(client.clone())
            .keyset(&pii)
            .keyset(&pii)
            .load()
            .await
            .unwrap_err();
        assert_eq!(twice.kind(), ErrorKind::InvalidKey, "{twice}");

        // Not a wrapped keyset at all.
        let error = KmsKeyring::builder(client.clone())
            .keyset("kms1:pii:not base64!")
            .load()
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::MalformedEnvelope, "{error}");
    });
}

#[test]
fn no_partial_keyring_unless_asked_and_a_clear_error_when_kms_is_down() {
    let moto = Moto::start();
    let client = moto.client();
    let rt = runtime();
    let (pii, forged) = rt.block_on(async {
        let kms_key = create_key(&client).await;
        let pii = kms::wrap_keyset(&client, &kms_key, "pii", &key())
            .await
            .unwrap();
        let banking = kms::wrap_keyset(&client, &kms_key, "banking", &key())
            .await
            .unwrap();
        (pii, banking.replacen("kms1:banking:", "kms1:audit:", 1))
    });
    rt.block_on(async {
        let strict = KmsKeyring::builder(client.clone())
            .keyset(&pii)
            .keyset(&forged)
            .load()
            .await;
        assert_eq!(strict.unwrap_err().key_alias(), Some("audit"));
        let partial = KmsKeyring::builder(client.clone())
            .keyset(&pii)
            .keyset(&forged)
            .allow_partial(true)
            .load()
            .await
            .unwrap();
        assert_eq!(partial.aliases(), ["pii"]);
        assert_eq!(partial.failures().len(), 1);
        assert_eq!(partial.failures()[0].key_alias(), Some("audit"));
    });

    let url = moto.url.clone();
    drop(moto);
    let error = rt
        .block_on(
            KmsKeyring::builder(support::client_for(&url))
                .keyset(&pii)
                .load(),
        )
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Kms);
    let message = error.to_string();
    assert!(
        message.contains("`pii`") && message.contains("KMS Decrypt"),
        "{message}"
    );
    assert!(
        message.contains("dispatch") || message.contains("onnect"),
        "names the transport failure: {message}"
    );
}

/// Before, a KMS endpoint that accepted the connection and never answered
/// hung start-up forever.
#[test]
fn a_kms_that_never_answers_fails_the_load_at_its_deadline() {
    let fake = support::FakeKms::start(|_, _| support::Reply::Hang);
    let started = std::time::Instant::now();
    let error = runtime()
        .block_on(
            KmsKeyring::builder(fake.client())
                .deadline(std::time::Duration::from_secs(2))
                .keyset(support::fake_wrapped("pii"))
                .load(),
        )
        .unwrap_err();
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
    assert_eq!(error.kind(), ErrorKind::Kms);
    assert_eq!(error.key_alias(), Some("pii"));
    assert!(error.to_string().contains("deadline"), "{error}");
}

/// Before, a load of many aliases that KMS throttled exhausted the SDK's
/// retries and failed on the first throttled alias.
#[test]
fn throttled_calls_are_retried_within_the_deadline() {
    const ALIASES: usize = 40;
    let keysets: Vec<String> = (0..ALIASES).map(|_| key()).collect();
    let answers = keysets.clone();
    // Every alias is throttled three times (the SDK's own attempts) first.
    let fake = support::FakeKms::start(move |alias, nth| {
        if nth <= 3 {
            return support::Reply::Throttle;
        }
        let i: usize = alias.trim_start_matches('a').parse().unwrap();
        support::Reply::Keyset(answers[i].clone())
    });
    let mut builder = KmsKeyring::builder(fake.client());
    for i in 0..ALIASES {
        builder = builder.keyset(support::fake_wrapped(&format!("a{i}")));
    }
    let keyring = runtime().block_on(builder.load()).unwrap();
    assert_eq!(keyring.aliases().len(), ALIASES);
    assert!(keyring.failures().is_empty());
    let calls = fake.calls.load(std::sync::atomic::Ordering::SeqCst);
    assert!(calls >= 4 * ALIASES, "{calls} calls");
}

/// Before, the load reported only the first failure.
#[test]
fn every_alias_that_failed_is_named_in_one_error() {
    let fake = support::FakeKms::start(|alias, _| match alias {
        "pii" => support::Reply::Keyset(key()),
        _ => support::Reply::Deny,
    });
    let error = runtime()
        .block_on(
            KmsKeyring::builder(fake.client())
                .keyset(support::fake_wrapped("pii"))
                .keyset(support::fake_wrapped("banking"))
                .keyset(support::fake_wrapped("audit"))
                .load(),
        )
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Kms);
    let message = error.to_string();
    assert!(message.contains("2 of 3 keysets did not load"), "{message}");
    for alias in ["`banking`", "`audit`"] {
        assert!(message.contains(alias), "{alias}: {message}");
    }
    assert!(message.contains("AccessDenied"), "{message}");
}

/// With `allow_partial`, an alias that failed to load is an error where it
/// is used, not a field another service may open (partial decryption, and
/// so `PartialEncryptedJson`, would otherwise forward it as "not ours").
#[test]
fn a_failed_alias_is_an_error_in_partial_decryption() {
    let fake = support::FakeKms::start(|alias, _| match alias {
        "pii" => support::Reply::Keyset("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=".into()),
        _ => support::Reply::Deny,
    });
    let keyring = runtime()
        .block_on(
            KmsKeyring::builder(fake.client())
                .keyset(support::fake_wrapped("pii"))
                .keyset(support::fake_wrapped("banking"))
                .allow_partial(true)
                .load(),
        )
        .unwrap();
    assert_eq!(keyring.aliases(), ["pii"]);
    let full = encrypted_fields::EnvKeyring::from_vars([
        (
            "ENCRYPTED_FIELDS_KEY_PII",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        ("ENCRYPTED_FIELDS_KEY_BANKING", "AAECAwQFBgcICQoLDA0ODw=="),
    ])
    .unwrap();
    let wire = customer().encrypt(&full).unwrap();
    let error = wire.decrypt_partial(&keyring).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Kms, "{error}");
    assert_eq!(error.key_alias(), Some("banking"));
    assert_eq!(error.field(), Some("iban"));
    // A keyring that was never given `banking` still forwards it.
    let pii_only = encrypted_fields::EnvKeyring::from_vars([(
        "ENCRYPTED_FIELDS_KEY_PII",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    )])
    .unwrap();
    let partial = wire.decrypt_partial(&pii_only).unwrap();
    assert_eq!(partial.inaccessible, ["banking"]);
}

/// Before, text that named no alias was only listed with `allow_partial`,
/// so the alias it was meant for read as "not this service's"; and a
/// deadline of `Duration::MAX` panicked on overflow.
#[test]
fn text_naming_no_alias_fails_even_a_partial_load() {
    let fake = support::FakeKms::start(|_, _| support::Reply::Keyset(key()));
    let error = runtime()
        .block_on(
            KmsKeyring::builder(fake.client())
                .keyset(support::fake_wrapped("pii"))
                .keyset("not a wrapped keyset")
                .allow_partial(true)
                .deadline(std::time::Duration::MAX)
                .load(),
        )
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::MalformedEnvelope, "{error}");
    assert!(error.to_string().contains("keyset 2"), "{error}");

    // Malformed after a valid alias: that alias failed, and stays an error.
    let keyring = runtime()
        .block_on(
            KmsKeyring::builder(fake.client())
                .keyset(support::fake_wrapped("pii"))
                .keyset("kms1:banking:not base64!")
                .allow_partial(true)
                .deadline(std::time::Duration::MAX)
                .load(),
        )
        .unwrap();
    assert_eq!(keyring.aliases(), ["pii"]);
    assert!(encrypted_fields::Keyring::load_failure(&keyring, "banking").is_some());
}
