//! The producer, the two consumer groups and the topics between them.
//!
//! `transactions.json` and `transactions.postcard` carry the same events,
//! sealed, as JSON (envelopes as base64url text) and as postcard
//! (envelopes as raw bytes), each signed by the producer. The `ledger`
//! group holds `pii`, `banking` and the verifying key, and opens
//! everything; the `screening` group holds only `banking` and the verifying
//! key, reads the bank accounts, and forwards each event to
//! `transactions.screened` exactly as the producer signed it.
//!
//! `transactions.partitioned` has two partitions: the `ledger` group scaled
//! out, any number of members sharing them (`ledger_group`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use encrypted_fields::{Decrypt, Encrypt, Keyring};
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::model::{EncryptedEvent, Event};
use crate::proto;

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

pub const JSON_TOPIC: &str = "transactions.json";
pub const POSTCARD_TOPIC: &str = "transactions.postcard";
pub const SCREENED_TOPIC: &str = "transactions.screened";
/// The gRPC example's protobuf `Transaction`, sealed: each encrypted field
/// a `bytes` envelope, the key aliases declared in its `.proto`.
pub const PROTOBUF_TOPIC: &str = "transactions.protobuf";
/// The JSON events again, on two partitions (keyed, so spread, by id), for
/// a group whose members share them.
pub const PARTITIONED_TOPIC: &str = "transactions.partitioned";
pub const PARTITIONS: i32 = 2;

/// How an event is written on a topic.
#[derive(Clone, Copy, Debug)]
pub enum Format {
    Json,
    Postcard,
}

impl Format {
    pub fn topic(self) -> &'static str {
        match self {
            Format::Json => JSON_TOPIC,
            Format::Postcard => POSTCARD_TOPIC,
        }
    }

    pub fn encode(self, event: &EncryptedEvent) -> Result<Vec<u8>, Failure> {
        Ok(match self {
            Format::Json => serde_json::to_vec(event)?,
            Format::Postcard => postcard::to_allocvec(event)?,
        })
    }

    pub fn decode(self, bytes: &[u8]) -> Result<EncryptedEvent, Failure> {
        Ok(match self {
            Format::Json => serde_json::from_slice(bytes)?,
            Format::Postcard => postcard::from_bytes(bytes)?,
        })
    }
}

fn config(brokers: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config.set("bootstrap.servers", brokers);
    config
}

/// Creates the topics, one partition each but the partitioned one (the
/// broker does not create them on first use).
pub fn create_topics(brokers: &str) -> Result<(), Failure> {
    let admin: AdminClient<DefaultClientContext> = config(brokers).create()?;
    let topics: Vec<NewTopic<'_>> = [
        (JSON_TOPIC, 1),
        (POSTCARD_TOPIC, 1),
        (SCREENED_TOPIC, 1),
        (PROTOBUF_TOPIC, 1),
        (PARTITIONED_TOPIC, PARTITIONS),
    ]
    .iter()
    .map(|&(name, partitions)| NewTopic::new(name, partitions, TopicReplication::Fixed(1)))
    .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let results = runtime.block_on(admin.create_topics(&topics, &AdminOptions::new()))?;
    for result in results {
        result.map_err(|(topic, code)| format!("creating {topic}: {code}"))?;
    }
    Ok(())
}

/// Counts the broker's acknowledgements: `flush` returns once every
/// message has a delivery report, not once every report is a success.
#[derive(Default)]
struct Deliveries {
    delivered: AtomicUsize,
    failed: Mutex<Option<String>>,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
            }
            Err((error, _)) => {
                let mut failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
                failed.get_or_insert_with(|| error.to_string());
            }
        }
    }
}

/// Publishes `events` to `topic` as `format`, keyed by transaction id, and
/// waits until the broker has acknowledged every one.
pub fn produce(
    brokers: &str,
    format: Format,
    topic: &str,
    events: &[EncryptedEvent],
) -> Result<usize, Failure> {
    let payloads = events
        .iter()
        .map(|event| Ok((event.id.to_string(), format.encode(event)?)))
        .collect::<Result<Vec<_>, Failure>>()?;
    publish(brokers, topic, &payloads)
}

/// Publishes sealed protobuf transactions to the protobuf topic.
pub fn produce_protobuf(
    brokers: &str,
    events: &[proto::EncryptedTransaction],
) -> Result<usize, Failure> {
    let payloads: Vec<(String, Vec<u8>)> = events
        .iter()
        .map(|event| (event.id.to_string(), prost::Message::encode_to_vec(event)))
        .collect();
    publish(brokers, PROTOBUF_TOPIC, &payloads)
}

/// Publishes `(key, payload)` records and waits until the broker has
/// acknowledged every one.
fn publish(brokers: &str, topic: &str, events: &[(String, Vec<u8>)]) -> Result<usize, Failure> {
    let producer: BaseProducer<Deliveries> = config(brokers)
        .set("linger.ms", "5")
        .set("enable.idempotence", "false")
        .create_with_context(Deliveries::default())?;
    for (key, payload) in events {
        let mut record = BaseRecord::to(topic).key(key).payload(payload);
        // Retry while the local queue is full.
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((error, back)) => {
                    if error.rdkafka_error_code()
                        != Some(rdkafka::types::RDKafkaErrorCode::QueueFull)
                    {
                        return Err(error.into());
                    }
                    producer.poll(Duration::from_millis(50));
                    record = back;
                }
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(30))?;
    let context = producer.context();
    if let Some(error) = context
        .failed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        return Err(format!("{topic}: delivery failed: {error}").into());
    }
    let delivered = context.delivered.load(Ordering::Relaxed);
    if delivered != events.len() {
        return Err(format!(
            "{topic}: {delivered} of {} events acknowledged",
            events.len()
        )
        .into());
    }
    Ok(delivered)
}

/// How long a consumer waits for the messages it expects.
const DEADLINE: Duration = Duration::from_secs(60);

/// Exactly the expected messages: one more within `wait` (a duplicate
/// delivery) is the error `more` describes.
fn nothing_more<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    wait: Duration,
    more: impl FnOnce() -> String,
) -> Result<(), Failure> {
    match consumer.poll(wait) {
        None => Ok(()),
        Some(extra) => {
            extra?;
            Err(more().into())
        }
    }
}

/// Reads exactly `expected` messages of `topic` from the beginning as consumer
/// group `group` (partition assigned directly: group rebalancing would add
/// tens of seconds for nothing here).
pub fn consume(
    brokers: &str,
    group: &str,
    topic: &str,
    expected: usize,
) -> Result<Vec<Vec<u8>>, Failure> {
    let consumer: BaseConsumer = config(brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()?;
    let mut partitions = TopicPartitionList::new();
    partitions.add_partition_offset(topic, 0, Offset::Beginning)?;
    consumer.assign(&partitions)?;
    let deadline = Instant::now() + DEADLINE;
    let mut payloads = Vec::with_capacity(expected);
    while payloads.len() < expected {
        if Instant::now() > deadline {
            return Err(format!(
                "{group}: {} of {expected} messages on {topic} after {} s",
                payloads.len(),
                DEADLINE.as_secs()
            )
            .into());
        }
        if let Some(message) = consumer.poll(Duration::from_millis(200)) {
            let message = message?;
            payloads.push(message.payload().unwrap_or_default().to_vec());
        }
    }
    nothing_more(&consumer, Duration::from_millis(500), || {
        format!("{group}: more than {expected} messages on {topic}")
    })?;
    Ok(payloads)
}

/// The `ledger` group: checks the producer's signature on every event of
/// both topics and opens it.
pub fn ledger(
    brokers: &str,
    keyring: &dyn Keyring,
    per_topic: usize,
) -> Result<Vec<Event>, Failure> {
    let mut opened = Vec::new();
    for format in [Format::Json, Format::Postcard] {
        for payload in consume(brokers, "ledger", format.topic(), per_topic)? {
            opened.push(format.decode(&payload)?.decrypt(keyring)?);
        }
    }
    Ok(opened)
}

/// The `screening` group: checks each event's signature, reads the bank
/// accounts it holds the key for and forwards every event, JSON, to the
/// screened topic; returns how many. It holds no signing key, so what it
/// forwards is the event as the producer signed it, byte for byte.
pub fn screening(brokers: &str, keyring: &dyn Keyring, per_topic: usize) -> Result<usize, Failure> {
    let mut forwarded = Vec::new();
    for format in [Format::Json, Format::Postcard] {
        for payload in consume(brokers, "screening", format.topic(), per_topic)? {
            let partial = format.decode(&payload)?.decrypt_partial(keyring)?;
            if partial
                .value
                .transaction
                .sender
                .bank_account
                .open()
                .is_none()
            {
                return Err("screening cannot read the bank accounts".into());
            }
            // Unchanged, so re-sealing gives back the signed event itself.
            forwarded.push(partial.value.encrypt(keyring)?);
        }
    }
    produce(brokers, Format::Json, SCREENED_TOPIC, &forwarded)
}

/// The protobuf topic: `ledger` opens every event whole; `screening`
/// (banking only) opens what it can and seals each again, which leaves
/// the envelopes it cannot read as they came. Returns both views.
pub fn protobuf_groups(
    brokers: &str,
    ledger: &dyn Keyring,
    screening: &dyn Keyring,
    expected: usize,
) -> Result<(Vec<proto::Transaction>, Vec<proto::EncryptedTransaction>), Failure> {
    let decode = |payload: Vec<u8>| -> Result<proto::EncryptedTransaction, Failure> {
        Ok(prost::Message::decode(payload.as_slice())?)
    };
    let mut opened = Vec::new();
    for payload in consume(brokers, "ledger", PROTOBUF_TOPIC, expected)? {
        opened.push(decode(payload)?.decrypt(ledger)?);
    }
    let mut resealed = Vec::new();
    for payload in consume(brokers, "screening", PROTOBUF_TOPIC, expected)? {
        let partial = decode(payload)?.decrypt_partial(screening)?.value;
        resealed.push(partial.encrypt(screening)?);
    }
    Ok((opened, resealed))
}

/// What a scaled-out group read: each member's events, in the order it
/// opened them, and when each opened its first and its last, counted from
/// the group's first opened event (so the last `last` is how long the
/// group took, formation left out).
pub struct GroupRun {
    pub members: Vec<Vec<Event>>,
    pub spans: Vec<(Duration, Duration)>,
}

/// The `ledger` group scaled out: `members` consumers of group `group`
/// subscribe to the partitioned topic, the broker shares its partitions
/// among them, and each checks and opens the events of its own. They start
/// once the broker has assigned every partition (so a member that joined
/// first does not read the others' share and hand it over half way), and
/// stop once the group has opened `expected` events; one more, anywhere, is
/// an error. The first member to fail stops the others, and its error is
/// the group's.
pub fn ledger_group(
    brokers: &str,
    group: &str,
    keyring: &(dyn Keyring + Sync),
    members: usize,
    expected: usize,
) -> Result<GroupRun, Failure> {
    let shared = Arc::new(Group::default());
    let runs: Vec<Result<Member, Failure>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..members)
            .map(|_| {
                let context = MemberContext {
                    group: Arc::clone(&shared),
                    held: AtomicUsize::new(0),
                };
                let shared = &shared;
                scope.spawn(move || {
                    member(brokers, group, keyring, members, expected, context)
                        .inspect_err(|error| shared.fail(error.to_string()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("a group member panicked".into()))
            })
            .collect()
    });
    if let Some(failure) = shared
        .failure
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        return Err(failure.into());
    }
    let runs = runs.into_iter().collect::<Result<Vec<Member>, Failure>>()?;
    let opened = shared.opened.load(Ordering::SeqCst);
    if opened != expected {
        return Err(format!("{group}: {opened} events opened, {expected} sent").into());
    }
    let first = runs.iter().filter_map(|run| run.first).min();
    let since = |at: Option<Instant>| at.zip(first).map_or(Duration::ZERO, |(at, f)| at - f);
    Ok(GroupRun {
        spans: runs
            .iter()
            .map(|run| (since(run.first), since(run.last)))
            .collect(),
        members: runs.into_iter().map(|run| run.events).collect(),
    })
}

/// One member's events and when it opened its first and last.
struct Member {
    events: Vec<Event>,
    first: Option<Instant>,
    last: Option<Instant>,
}

/// What the members of one group share: how many partitions the broker
/// has assigned among them and how many members hold some, whether they
/// have started, how many events they have opened, and the first failure.
#[derive(Default)]
struct Group {
    assigned: AtomicUsize,
    holding: AtomicUsize,
    started: AtomicBool,
    opened: AtomicUsize,
    failed: AtomicBool,
    failure: Mutex<Option<String>>,
}

impl Group {
    /// Records the group's first failure; the members stop at it.
    fn fail(&self, failure: String) {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_or_insert(failure);
        self.failed.store(true, Ordering::SeqCst);
    }

    /// Checked once per event: an atomic, not the lock.
    fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Every partition assigned, and to as many members as can hold one.
    fn formed(&self, members: usize) -> bool {
        let partitions = PARTITIONS as usize;
        self.assigned.load(Ordering::SeqCst) >= partitions
            && self.holding.load(Ordering::SeqCst) >= members.min(partitions)
    }
}

/// A member's view of its group, the partitions it holds, and its
/// rebalance callbacks.
struct MemberContext {
    group: Arc<Group>,
    held: AtomicUsize,
}

impl ClientContext for MemberContext {}

impl ConsumerContext for MemberContext {
    /// Before the broker gives this member's partitions to another, it
    /// commits the offsets of the events it has opened, so that member
    /// starts after them. A failed commit, or a failed rebalance (which
    /// drops the partitions without a commit), would let one be opened
    /// again: the group stops instead.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Error(error) = rebalance {
            self.group.fail(format!("rebalance failed: {error}"));
        }
        if let Rebalance::Revoke(partitions) = rebalance {
            if let Err(error) = commit(consumer) {
                self.group
                    .fail(format!("commit before a rebalance: {error}"));
            }
            let held = self.held.fetch_sub(partitions.count(), Ordering::SeqCst);
            if held > 0 && held == partitions.count() {
                self.group.holding.fetch_sub(1, Ordering::SeqCst);
            }
            self.group
                .assigned
                .fetch_sub(partitions.count(), Ordering::SeqCst);
        }
    }

    /// Until the group has started, new partitions wait paused.
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(partitions) = rebalance {
            if !self.group.started.load(Ordering::SeqCst) {
                if let Err(error) = consumer.pause(partitions) {
                    self.group.fail(format!("pausing new partitions: {error}"));
                }
            }
            let held = self.held.fetch_add(partitions.count(), Ordering::SeqCst);
            if held == 0 && partitions.count() > 0 {
                self.group.holding.fetch_add(1, Ordering::SeqCst);
            }
            self.group
                .assigned
                .fetch_add(partitions.count(), Ordering::SeqCst);
        }
    }
}

/// librdkafka does not wake its fetcher for a resumed partition whose
/// start it already knows: the fetcher sleeps on until its next timeout,
/// up to a second (`rd_kafka_max_block_ms` in rdkafka_broker.c, librdkafka
/// 2.12), so a member whose partitions had waited paused could start up
/// to a second after the others. A request to the broker wakes it as it
/// is sent; asking for the partitions' watermarks changes nothing. The
/// answer is not needed, so each call waits at most [`WAKE_WAIT`]: a slow
/// broker costs the poll loop that much a partition, well inside
/// `max.poll.interval.ms`, and the fetcher still wakes within the second.
fn wake_fetcher<C: ConsumerContext>(consumer: &BaseConsumer<C>, partitions: &TopicPartitionList) {
    for partition in partitions.elements() {
        let _ = consumer.fetch_watermarks(partition.topic(), partition.partition(), WAKE_WAIT);
    }
}

/// How long [`wake_fetcher`] waits for each answer it does not need.
const WAKE_WAIT: Duration = Duration::from_millis(100);

/// Commits the stored offsets; having none to commit is no failure.
fn commit<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> Result<(), KafkaError> {
    match consumer.commit_consumer_state(CommitMode::Sync) {
        Err(error) if error.rdkafka_error_code() == Some(RDKafkaErrorCode::NoOffset) => Ok(()),
        other => other,
    }
}

fn member(
    brokers: &str,
    group: &str,
    keyring: &(dyn Keyring + Sync),
    members: usize,
    expected: usize,
    context: MemberContext,
) -> Result<Member, Failure> {
    let shared = Arc::clone(&context.group);
    let consumer: BaseConsumer<MemberContext> = config(brokers)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        // An offset is stored once its event is opened, not when polled.
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // The broker holds a rebalance until every member has rejoined or
        // this long has passed: short, so the group forms in seconds.
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .set("max.poll.interval.ms", "6000")
        .create_with_context(context)?;
    consumer.subscribe(&[PARTITIONED_TOPIC])?;
    let deadline = Instant::now() + DEADLINE;
    let too_late = || -> Failure {
        let opened = shared.opened.load(Ordering::SeqCst);
        let secs = DEADLINE.as_secs();
        format!("{group}: {opened} of {expected} events opened after {secs} s").into()
    };
    let mut run = Member {
        events: Vec::new(),
        first: None,
        last: None,
    };
    let mut resumed = false;
    while shared.opened.load(Ordering::SeqCst) < expected {
        if shared.failed() {
            return Err(format!("{group}: stopped, another member failed").into());
        }
        if Instant::now() > deadline {
            return Err(too_late());
        }
        // The group formed: it starts, every member at once.
        if shared.formed(members) {
            shared.started.store(true, Ordering::SeqCst);
        }
        if !resumed && shared.started.load(Ordering::SeqCst) {
            let assignment = consumer.assignment()?;
            consumer.resume(&assignment)?;
            wake_fetcher(&consumer, &assignment);
            resumed = true;
        }
        let message = match consumer.poll(Duration::from_millis(100)) {
            None => continue,
            Some(Ok(message)) => message,
            // The client reconnects on its own; the deadline bounds it.
            Some(Err(error @ KafkaError::MessageConsumption(_))) => {
                eprintln!("{group}: {error}");
                continue;
            }
            Some(Err(error)) => return Err(error.into()),
        };
        let event = Format::Json
            .decode(message.payload().unwrap_or_default())?
            .decrypt(keyring)?;
        consumer.store_offset_from_message(&message)?;
        let now = Instant::now();
        run.first.get_or_insert(now);
        run.last = Some(now);
        run.events.push(event);
        shared.opened.fetch_add(1, Ordering::SeqCst);
    }
    nothing_more(&consumer, Duration::from_millis(300), || {
        format!("{group}: more than {expected} events")
    })?;
    commit(&consumer)?;
    Ok(run)
}
