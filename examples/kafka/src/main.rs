//! Encrypted fields in Kafka events on a real broker:
//!
//!     cargo run -p example-kafka
//!
//! Without `KAFKA_BROKERS` it starts a throwaway Tansu broker (in-memory,
//! free loopback port), and it always makes throwaway keys; it says so. A
//! producer publishes 100 sealed transactions, signed, as JSON and as
//! postcard; the `ledger` group (pii + banking + the verifying key) checks
//! and opens them all; the `screening` group (banking + the verifying key)
//! reads the bank accounts and forwards every event to a third topic as the
//! producer signed it; the demo prints what each keyring can read there.
//! Last, two members of one `ledger` group share a two-partition topic.

mod broker;
mod keys;
mod model;
mod pipeline;
mod proto;

use encrypted_fields::{Decrypt, Encrypt, Keyring};
use pipeline::{Failure, Format};

const EVENTS: u64 = 100;

fn main() {
    if let Err(error) = run() {
        eprintln!("example-kafka: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Failure> {
    let (_broker, brokers) = match std::env::var("KAFKA_BROKERS") {
        Ok(brokers) => (None, brokers),
        Err(_) => {
            let broker = broker::Tansu::start()?;
            println!(
                "started a throwaway Tansu broker for this run ({})",
                broker.brokers
            );
            let brokers = broker.brokers.clone();
            (Some(broker), brokers)
        }
    };
    println!(
        "making throwaway demo keys for this run only (pii, banking, the producer's signing key)\n"
    );
    let keys = keys::Keyrings::generate()?;

    pipeline::create_topics(&brokers)?;
    let events: Vec<_> = model::events(EVENTS)
        .iter()
        .map(|event| event.encrypt(&keys.producer))
        .collect::<Result<_, _>>()?;
    for format in [Format::Json, Format::Postcard] {
        let sent = pipeline::produce(&brokers, format, format.topic(), &events)?;
        println!("producer: {sent} events to {}", format.topic());
    }
    // The same transactions as the gRPC example's protobuf messages, whose
    // `.proto` declares the aliases (addresses under `us_address` there).
    let proto_events: Vec<_> = proto::transactions(EVENTS)
        .iter()
        .map(|tx| tx.encrypt(&keys.proto))
        .collect::<Result<_, _>>()?;
    let sent = pipeline::produce_protobuf(&brokers, &proto_events)?;
    println!("producer: {sent} events to {}", pipeline::PROTOBUF_TOPIC);
    let opened = pipeline::ledger(&brokers, &keys.ledger, events.len())?;
    println!(
        "ledger (pii + banking): checked the signature of and opened {} events, all as sent: {}",
        opened.len(),
        opened
            .chunks(events.len())
            .all(|chunk| chunk == model::events(EVENTS))
    );
    let (proto_opened, proto_resealed) =
        pipeline::protobuf_groups(&brokers, &keys.proto, &keys.screening, proto_events.len())?;
    println!(
        "{}: ledger opened {} events, all as sent: {}; screening kept the envelopes it cannot read byte for byte: {}",
        pipeline::PROTOBUF_TOPIC,
        proto_opened.len(),
        proto_opened == proto::transactions(EVENTS),
        proto_resealed
            .iter()
            .zip(&proto_events)
            .all(|(got, sent)| got.sender.as_ref().map(|u| &u.email)
                == sent.sender.as_ref().map(|u| &u.email))
    );
    // The ledger scaled out: one group, two members, two partitions.
    pipeline::produce(&brokers, Format::Json, pipeline::PARTITIONED_TOPIC, &events)?;
    let group = pipeline::ledger_group(&brokers, "ledger-scaled", &keys.ledger, 2, events.len())?;
    let shares: Vec<usize> = group.members.iter().map(Vec::len).collect();
    let ends: Vec<u128> = group
        .spans
        .iter()
        .map(|(_, last)| last.as_millis())
        .collect();
    println!(
        "{}: two ledger members shared {} partitions and opened {shares:?} events, the last after {ends:?} ms (debug build)",
        pipeline::PARTITIONED_TOPIC,
        pipeline::PARTITIONS,
    );
    let forwarded = pipeline::screening(&brokers, &keys.screening, events.len())?;
    println!(
        "screening (banking): forwarded {forwarded} events to {}",
        pipeline::SCREENED_TOPIC
    );

    let screened = pipeline::consume(&brokers, "audit", pipeline::SCREENED_TOPIC, forwarded)?;
    let first = Format::Json.decode(&screened[0])?;
    println!(
        "\nwhat each keyring can read on {}:",
        pipeline::SCREENED_TOPIC
    );
    println!("{:<26}{:<10}{:<11}no keys", "field", "ledger", "screening");
    let keyrings: [&dyn Keyring; 3] = [&keys.ledger, &keys.screening, &keys.none];
    let views: Vec<Vec<(String, bool)>> = keyrings
        .iter()
        .map(|keyring| Ok(model::access(&first.decrypt_partial(*keyring)?.value)))
        .collect::<Result<_, Failure>>()?;
    for (i, (field, _)) in views[0].iter().enumerate() {
        let cells: Vec<&str> = views
            .iter()
            .map(|view| if view[i].1 { "read" } else { "sealed" })
            .collect();
        println!("{field:<26}{:<10}{:<11}{}", cells[0], cells[1], cells[2]);
    }
    let unchanged = screened
        .iter()
        .zip(events.iter().chain(events.iter()))
        .all(|(bytes, sent)| Format::Json.encode(sent).is_ok_and(|sent| *bytes == sent));
    println!(
        "\nevents forwarded byte for byte, signature included: {}",
        if unchanged { "yes" } else { "NO" }
    );
    // A consumer refuses an event whose amount was changed on the way.
    let mut tampered = Format::Json.decode(&screened[0])?;
    tampered.transaction.amount_cents += 1;
    println!(
        "an event whose amount was changed after signing: {}",
        match tampered.decrypt(&keys.ledger) {
            Ok(_) => "accepted (WRONG)".to_owned(),
            Err(error) => format!("refused ({:?})", error.kind()),
        }
    );
    Ok(())
}
