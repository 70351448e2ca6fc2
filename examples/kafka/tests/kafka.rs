//! Kafka events on a real broker (Tansu, started by the test on a free
//! loopback port): exact delivery counts for both consumer groups (each
//! read fails on a missing or an extra message), the access
//! matrix on the forwarded topic, and the pii envelopes forwarded byte for
//! byte, in JSON and in postcard with raw-byte envelopes.

#[path = "../src/broker.rs"]
mod broker;
#[path = "../src/model.rs"]
mod model;
#[path = "../src/pipeline.rs"]
mod pipeline;

use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, ExposeSecret, KeySize, generate_key};
use model::EncryptedTransaction;
use pipeline::{Format, SCREENED_TOPIC};

const EVENTS: u64 = 250;

#[test]
fn two_groups_read_what_their_keys_allow_and_forward_the_rest_unchanged() {
    let broker = broker::Tansu::start().unwrap();
    let brokers = broker.brokers.as_str();
    let key = || generate_key(KeySize::Aes256);
    let (pii, banking) = (key(), key());
    let full = EnvKeyring::from_vars([
        ("ENCRYPTED_FIELDS_KEY_PII", pii.expose_secret()),
        ("ENCRYPTED_FIELDS_KEY_BANKING", banking.expose_secret()),
    ])
    .unwrap();
    let banking_only =
        EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_BANKING", banking.expose_secret())]).unwrap();
    let no_keys = EnvKeyring::from_vars(Vec::<(String, String)>::new()).unwrap();

    pipeline::create_topics(brokers).unwrap();
    let plain = model::transactions(EVENTS);
    let events: Vec<EncryptedTransaction> =
        plain.iter().map(|tx| tx.encrypt(&full).unwrap()).collect();
    for format in [Format::Json, Format::Postcard] {
        let sent = pipeline::produce(brokers, format, format.topic(), &events).unwrap();
        assert_eq!(sent, events.len(), "every event acknowledged");
    }

    // The binary format carries raw envelope bytes, not base64 text.
    let postcard =
        pipeline::consume(brokers, "inspect", Format::Postcard.topic(), events.len()).unwrap();
    let envelope = events[0].sender.email.as_bytes();
    assert!(postcard[0].windows(envelope.len()).any(|w| w == envelope));
    assert!(!String::from_utf8_lossy(&postcard[0]).contains(&events[0].sender.email.to_text()));

    // ledger: every event of both topics, opened, exactly as sent.
    let opened = pipeline::ledger(brokers, &full, events.len()).unwrap();
    assert_eq!(opened.len(), 2 * events.len());
    assert_eq!(&opened[..events.len()], &plain[..]);
    assert_eq!(&opened[events.len()..], &plain[..]);

    // screening: forwards every event it read.
    let forwarded = pipeline::screening(brokers, &banking_only, events.len()).unwrap();
    assert_eq!(forwarded, 2 * events.len());

    let screened = pipeline::consume(brokers, "audit", SCREENED_TOPIC, forwarded).unwrap();
    let expected = |pii: bool, banking: bool| {
        let mut fields = Vec::new();
        for side in ["sender", "receiver"] {
            fields.push((format!("{side}.email"), pii));
            fields.push((format!("{side}.mailingAddress"), pii));
            fields.push((format!("{side}.bankAccount"), banking));
        }
        fields
    };
    for (bytes, sent) in screened.iter().zip(events.iter().chain(events.iter())) {
        let got = Format::Json.decode(bytes).unwrap();
        // The access matrix on the forwarded topic.
        for (keyring, pii, banking) in [
            (&full, true, true),
            (&banking_only, false, true),
            (&no_keys, false, false),
        ] {
            let partial = got.decrypt_partial(keyring).unwrap().value;
            assert_eq!(model::access(&partial), expected(pii, banking));
        }
        // pii: the very envelopes the producer sealed; banking: re-sealed
        // by screening, same content.
        for (got_user, sent_user) in [(&got.sender, &sent.sender), (&got.receiver, &sent.receiver)]
        {
            assert_eq!(got_user.email.as_bytes(), sent_user.email.as_bytes());
            assert_eq!(
                got_user.mailing_address.as_bytes(),
                sent_user.mailing_address.as_bytes()
            );
            assert_ne!(
                got_user.bank_account.as_bytes(),
                sent_user.bank_account.as_bytes()
            );
        }
        assert_eq!(got.decrypt(&full).unwrap(), sent.decrypt(&full).unwrap());
    }
}
