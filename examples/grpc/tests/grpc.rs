//! The gRPC demo as real processes on loopback, and the proto-generated
//! types through protobuf encoding: the access matrix, the sealed parts
//! forwarded byte for byte through web and banking, a tampered field
//! refused with the documented status, and every proto3 shape (optional,
//! repeated, map, oneof, enum, deterministic, nested lists and maps).

#[path = "../src/demo.rs"]
#[allow(dead_code)]
mod demo;
#[path = "../../payments/launch.rs"]
#[allow(dead_code)]
mod launch;
#[path = "../src/model.rs"]
#[allow(dead_code)]
mod model;
#[path = "../src/services.rs"]
#[allow(dead_code)]
mod services;

use encrypted_fields::{Decrypt, Encrypt, EnvKeyring, ErrorKind, Keyring, MaybeSealed};
use model::payments::{EncryptedProfile, EncryptedTransaction, Profile, Tier, profile};
use prost::Message;
use services::rpc::banking_client::BankingClient;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn platform() -> demo::Platform {
    demo::Platform::start(std::path::Path::new(env!("CARGO_BIN_EXE_example-grpc"))).unwrap()
}

#[test]
fn three_services_read_what_their_keys_allow_and_forward_the_rest() {
    let platform = platform();
    let report = runtime()
        .block_on(demo::scenario(&platform.urls()))
        .unwrap();
    let matrix = demo::matrix(&report.views);
    let expected = "\
field                         accounts  banking   web
sender.email                  read      sealed    sealed
sender.mailing_address        read      sealed    sealed
sender.linked_bank_account    read      read      sealed
receiver.email                read      sealed    sealed
receiver.mailing_address      read      sealed    sealed
receiver.linked_bank_account  read      read      sealed
";
    assert_eq!(matrix, expected);
    let s = &report.settlement;
    assert_eq!(
        (s.debited.as_str(), s.credited.as_str(), s.amount_cents),
        ("****6789", "****4321", 4_200)
    );

    let [issued, settled, received] = &report.rows;
    // web forwarded the sealed message as accounts issued it, byte for byte.
    assert_eq!(received.encode_to_vec(), issued.encode_to_vec());
    // banking re-sealed the bank accounts it read and forwarded the
    // envelopes it cannot read exactly as they came.
    assert_eq!(
        demo::unreadable_by_banking(settled),
        demo::unreadable_by_banking(issued)
    );
    let account =
        |row: &EncryptedTransaction| row.sender.as_ref().unwrap().linked_bank_account.clone();
    assert_ne!(account(settled), account(issued));
    // Both open to the same transaction with every key.
    let keys = EnvKeyring::from_vars(platform.keys.clone()).unwrap();
    assert_eq!(
        settled.decrypt(&keys).unwrap(),
        issued.decrypt(&keys).unwrap()
    );
    // The wire holds no plaintext.
    let wire = String::from_utf8_lossy(&issued.encode_to_vec()).into_owned();
    for secret in ["ada@example.com", "1 Main St", "000123456789"] {
        assert!(!wire.contains(secret), "{secret} on the wire");
    }
}

#[test]
fn a_tampered_field_gets_the_documented_status() {
    let platform = platform();
    let rt = runtime();
    let report = rt.block_on(demo::scenario(&platform.urls())).unwrap();
    let mut tampered = report.rows[0].clone();
    let sender = tampered.sender.as_mut().unwrap();
    let envelope = sender.linked_bank_account.as_mut().unwrap();
    let last = envelope.len() - 1;
    envelope[last] ^= 1;
    let status = rt
        .block_on(async {
            BankingClient::connect(platform.urls()[1].clone())
                .await
                .unwrap()
                .settle(tampered)
                .await
        })
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    assert_eq!(status.message(), "Encryption Failed");
    assert_eq!(
        status.metadata().get("encrypted-fields-code").unwrap(),
        "40002"
    );
}

fn keyring() -> EnvKeyring {
    EnvKeyring::from_vars([
        (
            "ENCRYPTED_FIELDS_KEY_PII",
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        (
            "ENCRYPTED_FIELDS_KEY_US_ADDRESS",
            "AAECAwQFBgcICQoLDA0ODw==",
        ),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
        ),
    ])
    .unwrap()
}

fn profile() -> Profile {
    let users = model::directory();
    Profile {
        id: 7,
        nickname: Some("Countess".into()),
        phones: vec!["+44 20 7946 0000".into(), "+44 20 7946 0001".into()],
        attributes: [("language".to_owned(), "en".to_owned())].into(),
        ssn: "078-05-1120".into(),
        tier: Tier::Gold as i32,
        contacts: users.clone(),
        by_role: [("auditor".to_owned(), users[1].clone())].into(),
        channel: Some(profile::Channel::SmsChannel(44)),
        primary: Some(users[0].clone()),
    }
}

#[test]
fn every_proto3_shape_round_trips_through_protobuf() {
    let keys = keyring();
    let wire = profile().encrypt(&keys).unwrap();
    let bytes = wire.encode_to_vec();
    let back = EncryptedProfile::decode(bytes.as_slice()).unwrap();
    assert_eq!(back, wire);
    assert_eq!(back.decrypt(&keys).unwrap(), profile());
    // The plain oneof and id travel as they are; encrypted fields as bytes.
    assert_eq!(back.channel, Some(profile::Channel::SmsChannel(44)));
    let text = String::from_utf8_lossy(&bytes).into_owned();
    for secret in ["Countess", "+44 20", "078-05-1120", "ada@example.com"] {
        assert!(!text.contains(secret), "{secret} on the wire");
    }
    // An absent optional stays absent; a lookup matches the sealed value.
    let mut none = profile();
    none.nickname = None;
    assert_eq!(none.encrypt(&keys).unwrap().nickname, None);
    let lookups = EncryptedProfile::lookup_ssn(&keys, &"078-05-1120".to_owned()).unwrap();
    assert_eq!(lookups[0].as_bytes(), wire.ssn.as_slice());
    // Debug shows lengths, never envelope bytes.
    let debug = format!("{wire:?}");
    assert!(debug.contains("Sealed("), "{debug}");
    assert!(!debug.contains(&format!("{:?}", &wire.ssn[..4])), "{debug}");
}

#[test]
fn partial_decryption_rotation_and_bindings_work_on_proto_types() {
    let keys = keyring();
    let wire = profile().encrypt(&keys).unwrap();
    // A service with only `banking` reads the bank accounts and forwards the
    // rest byte for byte.
    let banking = EnvKeyring::from_vars([(
        "ENCRYPTED_FIELDS_KEY_BANKING",
        "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=",
    )])
    .unwrap();
    let partial = wire.decrypt_partial(&banking).unwrap();
    assert_eq!(partial.inaccessible, ["pii", "us_address"]);
    assert!(matches!(
        partial.value.primary.as_ref().unwrap().linked_bank_account,
        Some(MaybeSealed::Open(_))
    ));
    let forwarded = partial.value.encrypt(&banking).unwrap();
    assert_eq!(forwarded.ssn, wire.ssn);
    assert_eq!(forwarded.contacts[0].email, wire.contacts[0].email);
    assert_eq!(forwarded.decrypt(&keys).unwrap(), profile());

    // Bound to the id: an envelope moved to another profile fails.
    let mut other = profile();
    other.id = 8;
    let mut moved = other.encrypt(&keys).unwrap();
    moved.nickname = wire.nickname.clone();
    let error = moved.decrypt(&keys).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed, "{error}");
    assert_eq!(error.field(), Some("nickname"));
    // Contacts are bound to their index: reordering them fails.
    let mut reordered = wire.clone();
    reordered.contacts.swap(0, 1);
    assert!(reordered.decrypt(&keys).is_err());

    // Rotation: a new primary for `pii`, then every envelope under it.
    let rotating = EnvKeyring::from_vars([
        (
            "ENCRYPTED_FIELDS_KEY_PII",
            "ISEhISEhISEhISEhISEhISEhISEhISEhISEhISEhISE=,AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        ),
        ("ENCRYPTED_FIELDS_KEY_US_ADDRESS", "AAECAwQFBgcICQoLDA0ODw=="),
        ("ENCRYPTED_FIELDS_KEY_BANKING", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="),
    ])
    .unwrap();
    let mut rotated = wire.clone();
    let changed = rotated.reencrypt(&rotating).unwrap();
    assert!(changed >= 7, "{changed}");
    assert_eq!(rotated.reencrypt(&rotating).unwrap(), 0);
    let new_pii =
        encrypted_fields::Key::from_base64("ISEhISEhISEhISEhISEhISEhISEhISEhISEhISEhISE=").unwrap();
    let sealed: encrypted_fields::Sealed<String> =
        encrypted_fields::Sealed::from_envelope(rotated.ssn.clone());
    assert_eq!(sealed.key_id(), Some(new_pii.id()));
    assert_eq!(rotated.decrypt(&rotating).unwrap(), profile());
    rotating.require(Profile::KEY_ALIASES).unwrap();
}
