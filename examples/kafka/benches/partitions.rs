//! The `ledger` group with one member and with two, on the two-partition
//! topic, in one run (BENCHMARKS.md, "Scaling out"): a throwaway broker,
//! 20,000 signed events, each member checking every signature and opening
//! every field of its partitions' events. A run is timed from the group's
//! first opened event to its last, so group formation (a few seconds of
//! broker rebalancing) is left out; each run is a new group reading the
//! topic from the start.
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

use encrypted_fields::Encrypt;
use pipeline::{Format, PARTITIONED_TOPIC};

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
    let mut ratios = Vec::new();
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
        let ratio = one.as_secs_f64() / two.as_secs_f64();
        println!(
            "round {round}: 1 member {:.0} ms, 2 members {:.0} ms ({spans}): {ratio:.2}x",
            one.as_secs_f64() * 1e3,
            two.as_secs_f64() * 1e3,
        );
        ratios.push(ratio);
    }
    ratios.sort_by(f64::total_cmp);
    println!("median {:.2}x over {ROUNDS} rounds", ratios[ROUNDS / 2]);
}
