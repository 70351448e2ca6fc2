//! Kafka events on a real broker (Tansu, started by the test on a free
//! loopback port): exact delivery counts for both consumer groups (each
//! read fails on a missing or an extra message), the access matrix on the
//! forwarded topic, events signed by the producer and checked by both
//! groups, and forwarded byte for byte by the group without the signing
//! key, in JSON and in postcard with raw-byte envelopes; and a group of two
//! members sharing a two-partition topic, each event opened exactly once.

#[path = "../src/broker.rs"]
mod broker;
#[path = "../src/keys.rs"]
mod keys;
#[path = "../src/model.rs"]
mod model;
#[path = "../src/pipeline.rs"]
mod pipeline;
#[path = "../src/proto.rs"]
mod proto;

use encrypted_fields::{Decrypt, Encrypt, ErrorKind, MaybeSealed};
use model::EncryptedEvent;
use pipeline::{Format, PARTITIONED_TOPIC, SCREENED_TOPIC};

const EVENTS: u64 = 250;

#[test]
fn two_groups_read_what_their_keys_allow_and_forward_the_rest_unchanged() {
    let broker = broker::Tansu::start().unwrap();
    let brokers = broker.brokers.as_str();
    let keys = keys::Keyrings::generate().unwrap();

    pipeline::create_topics(brokers).unwrap();

    // The protobuf topic: the gRPC example's messages, aliases from its .proto.
    let proto_plain = proto::transactions(EVENTS);
    let proto_events: Vec<proto::EncryptedTransaction> = proto_plain
        .iter()
        .map(|tx| tx.encrypt(&keys.proto).unwrap())
        .collect();
    assert_eq!(
        pipeline::produce_protobuf(brokers, &proto_events).unwrap(),
        proto_events.len()
    );
    let (opened, resealed) =
        pipeline::protobuf_groups(brokers, &keys.proto, &keys.screening, proto_events.len())
            .unwrap();
    assert_eq!(opened, proto_plain);
    for (got, sent) in resealed.iter().zip(&proto_events) {
        let (got, sent) = (got.sender.as_ref().unwrap(), sent.sender.as_ref().unwrap());
        // Screening could not read these: forwarded as they came.
        assert_eq!(got.email, sent.email);
        assert_eq!(got.mailing_address, sent.mailing_address);
        // It read and sealed the bank account again.
        assert_ne!(got.linked_bank_account, sent.linked_bank_account);
    }
    assert_eq!(resealed[0].decrypt(&keys.proto).unwrap(), proto_plain[0]);

    let plain = model::events(EVENTS);
    let events: Vec<EncryptedEvent> = plain
        .iter()
        .map(|event| event.encrypt(&keys.producer).unwrap())
        .collect();
    for format in [Format::Json, Format::Postcard] {
        let sent = pipeline::produce(brokers, format, format.topic(), &events).unwrap();
        assert_eq!(sent, events.len(), "every event acknowledged");
    }

    // The binary format carries raw envelope bytes, not base64 text.
    let postcard =
        pipeline::consume(brokers, "inspect", Format::Postcard.topic(), events.len()).unwrap();
    let envelope = events[0].transaction.sender.email.as_bytes();
    assert!(postcard[0].windows(envelope.len()).any(|w| w == envelope));
    let text = events[0].transaction.sender.email.to_text();
    assert!(!String::from_utf8_lossy(&postcard[0]).contains(&text));

    // ledger: every event of both topics, opened, exactly as sent.
    let opened = pipeline::ledger(brokers, &keys.ledger, events.len()).unwrap();
    assert_eq!(opened.len(), 2 * events.len());
    assert_eq!(&opened[..events.len()], &plain[..]);
    assert_eq!(&opened[events.len()..], &plain[..]);

    // screening: forwards every event it read.
    let forwarded = pipeline::screening(brokers, &keys.screening, events.len()).unwrap();
    assert_eq!(forwarded, 2 * events.len());

    let screened = pipeline::consume(brokers, "audit", SCREENED_TOPIC, forwarded).unwrap();
    // Screening holds no signing key: each forwarded event is the one the
    // producer signed, byte for byte.
    for (bytes, sent) in screened.iter().zip(events.iter().chain(events.iter())) {
        assert_eq!(*bytes, Format::Json.encode(sent).unwrap());
    }
    // It cannot change one either, and a changed one is refused.
    let mut view = Format::Json
        .decode(&screened[0])
        .unwrap()
        .decrypt_partial(&keys.screening)
        .unwrap()
        .value;
    if let MaybeSealed::Open(account) = &mut view.transaction.receiver.bank_account {
        account.account = "000999999999".into();
    }
    let error = view.encrypt(&keys.screening).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed, "{error}");
    let mut tampered = Format::Json.decode(&screened[0]).unwrap();
    tampered.transaction.amount_cents += 1;
    for consumer in [&keys.ledger, &keys.screening] {
        let error = tampered.decrypt_partial(consumer).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::AuthenticationFailed, "{error}");
    }
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
            (&keys.ledger, true, true),
            (&keys.screening, false, true),
            (&keys.none, false, false),
        ] {
            let partial = got.decrypt_partial(keyring).unwrap().value;
            assert_eq!(model::access(&partial), expected(pii, banking));
        }
        assert_eq!(got, *sent);
        assert_eq!(
            got.decrypt(&keys.ledger).unwrap(),
            sent.decrypt(&keys.ledger).unwrap()
        );
    }

    // The ledger scaled out: two members of one group share the two
    // partitions; together they open every event exactly once.
    let sent = pipeline::produce(brokers, Format::Json, PARTITIONED_TOPIC, &events).unwrap();
    assert_eq!(sent, events.len());
    let run =
        pipeline::ledger_group(brokers, "ledger-scaled", &keys.ledger, 2, events.len()).unwrap();
    assert_eq!(run.members.len(), 2);
    for member in &run.members {
        assert!(!member.is_empty(), "the broker gave a member no partition");
    }
    let mut opened: Vec<model::Event> = run.members.concat();
    opened.sort_by_key(|event| event.id);
    assert_eq!(opened, plain, "every event once, opened as sent");
    // What the bench times: when each member opened its first and last
    // event, counted from the group's first.
    let [(first_a, last_a), (first_b, last_b)] = run.spans[..] else {
        panic!("two members, two spans: {:?}", run.spans);
    };
    assert!(first_a <= last_a && first_b <= last_b);
    assert!(first_a.min(first_b).is_zero());
}
