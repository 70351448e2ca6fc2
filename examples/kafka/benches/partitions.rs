//! The `ledger` group with one member and with two, on the two-partition
//! topic, in one run (BENCHMARKS.md, "Scaling out"): a throwaway broker,
//! 20,000 signed events, each member checking every signature and opening
//! every field of its partitions' events. A run is timed from the group's
//! first opened event to its last, so group formation (a few seconds of
//! broker rebalancing) is left out; each run is a new group reading the
//! topic from the start.
//!
//! Each round also runs a reference beside the group: two independent
//! consumers, each assigned one partition (no group, no coordination),
//! doing the same work at once. One member's time over theirs is what two
//! consumers gain on this machine with nothing to coordinate.
//!
//!     cargo bench -p example-kafka --bench partitions

#[path = "../src/broker.rs"]
mod broker;
#[path = "../src/keys.rs"]
#[allow(dead_code, reason = "the bench needs the producer and ledger only")]
mod keys;
#[path = "../src/model.rs"]
#[allow(dead_code, reason = "the bench publishes and opens events only")]
mod model;
#[path = "../src/pipeline.rs"]
#[allow(dead_code, reason = "the bench uses the partitioned topic only")]
mod pipeline;
#[path = "../src/proto.rs"]
#[allow(dead_code, reason = "pipeline.rs names the protobuf messages")]
mod proto;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use encrypted_fields::{Decrypt, Encrypt, Keyring};
use pipeline::{Format, PARTITIONED_TOPIC};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

const EVENTS: u64 = 20_000;
const ROUNDS: usize = 3;

fn main() {
    let broker = broker::Tansu::start().unwrap();
    let brokers = broker.brokers.as_str();
    let keys = keys::Keyrings::generate().unwrap();
    let (producer, ledger) = (keys.producer, keys.ledger);
    pipeline::create_topics(brokers).unwrap();
    let events: Vec<model::EncryptedEvent> = model::events(EVENTS)
        .iter()
        .map(|event| event.encrypt(&producer).unwrap())
        .collect();
    pipeline::produce(brokers, Format::Json, PARTITIONED_TOPIC, &events).unwrap();
    let expected = events.len();
    println!("{EVENTS} events on {} partitions", pipeline::PARTITIONS);
    let (mut ratios, mut references) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let run = |members: usize| {
            let group = format!("ledger-{members}-{round}");
            let run = pipeline::ledger_group(brokers, &group, &ledger, members, expected).unwrap();
            let counts: Vec<usize> = run.members.iter().map(Vec::len).collect();
            assert_eq!(counts.iter().sum::<usize>(), expected);
            let spans: Vec<String> = (run.spans.iter().zip(&counts))
                .map(|((first, last), count)| {
                    let ms = |d: &std::time::Duration| d.as_millis();
                    format!("{count} events from {} to {} ms", ms(first), ms(last))
                })
                .collect();
            let busy = run
                .spans
                .iter()
                .map(|&(_, last)| last)
                .max()
                .unwrap_or_default();
            (busy, spans.join(", "))
        };
        let (one, _) = run(1);
        let (two, spans) = run(2);
        let pair = independent_pair(brokers, &ledger, round, expected);
        let ratio = one.as_secs_f64() / two.as_secs_f64();
        let reference = one.as_secs_f64() / pair.as_secs_f64();
        println!(
            "round {round}: 1 member {:.0} ms, 2 members {:.0} ms ({spans}): {ratio:.2}x; \
             two independent consumers {:.0} ms: {reference:.2}x",
            one.as_secs_f64() * 1e3,
            two.as_secs_f64() * 1e3,
            pair.as_secs_f64() * 1e3,
        );
        ratios.push(ratio);
        references.push(reference);
    }
    ratios.sort_by(f64::total_cmp);
    references.sort_by(f64::total_cmp);
    println!(
        "median {:.2}x over {ROUNDS} rounds; independent consumers {:.2}x",
        ratios[ROUNDS / 2],
        references[ROUNDS / 2]
    );
}

/// Two consumers outside any group, each assigned one partition from its
/// start, checking, opening and keeping every event at once, as the
/// members do (less the offset bookkeeping a group needs); timed as the
/// group is, from the first opened event to the last. Both read until
/// they have opened every event between them. (Not until the high
/// watermark: Tansu answered one a few hundred events short.)
fn independent_pair(
    brokers: &str,
    keyring: &(dyn Keyring + Sync),
    round: usize,
    expected: usize,
) -> Duration {
    let opened = AtomicUsize::new(0);
    let spans: Vec<(Instant, Instant)> = std::thread::scope(|scope| {
        let consumers: Vec<_> = (0..pipeline::PARTITIONS)
            .map(|partition| {
                let opened = &opened;
                scope.spawn(move || {
                    let consumer: BaseConsumer = ClientConfig::new()
                        .set("bootstrap.servers", brokers)
                        .set("group.id", format!("independent-{round}-{partition}"))
                        .set("enable.auto.commit", "false")
                        .create()
                        .unwrap();
                    let mut assigned = TopicPartitionList::new();
                    assigned
                        .add_partition_offset(PARTITIONED_TOPIC, partition, Offset::Beginning)
                        .unwrap();
                    consumer.assign(&assigned).unwrap();
                    let (mut first, mut last, mut events) = (None, None, Vec::new());
                    let deadline = Instant::now() + Duration::from_secs(60);
                    while opened.load(Ordering::SeqCst) < expected {
                        assert!(Instant::now() < deadline, "consumer {partition} stalled");
                        let message = match consumer.poll(Duration::from_millis(100)) {
                            None => continue,
                            Some(Ok(message)) => message,
                            // As the members do: the client reconnects on
                            // its own, and the deadline bounds it.
                            Some(Err(error @ KafkaError::MessageConsumption(_))) => {
                                eprintln!("consumer {partition}: {error}");
                                continue;
                            }
                            Some(Err(error)) => panic!("consumer {partition}: {error}"),
                        };
                        let event = Format::Json
                            .decode(message.payload().unwrap_or_default())
                            .unwrap()
                            .decrypt(keyring)
                            .unwrap();
                        let now = Instant::now();
                        first.get_or_insert(now);
                        last = Some(now);
                        events.push(event);
                        opened.fetch_add(1, Ordering::SeqCst);
                    }
                    let first = first.expect("every partition holds events");
                    (first, last.unwrap_or(first))
                })
            })
            .collect();
        consumers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    assert_eq!(opened.into_inner(), expected);
    let first = spans.iter().map(|s| s.0).min().unwrap();
    let last = spans.iter().map(|s| s.1).max().unwrap();
    last - first
}
