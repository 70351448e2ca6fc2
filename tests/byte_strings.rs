//! `#[encrypt(key = "...", bytes)]` and `Encoding::Bytes`: a byte string
//! sealed as its bytes (format versions 3 and 4), opened by any field, and
//! every envelope sealed before as JSON still opening.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::keyring;
use encrypted_fields::{
    Binding, Decrypt, Encoding, Encrypt, EnvKeyring, ErrorKind, MaybeSealed, Nonce, Sealed,
};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use serde_json::{Value, json};

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Document {
    id: u64,
    #[encrypt(key = "pii", bytes)]
    scan: ByteBuf,
    #[encrypt(key = "pii", bytes)]
    thumbnail: bytes::Bytes,
    #[encrypt(key = "pii", bytes)]
    raw: Vec<u8>,
    #[encrypt(key = "pii", bytes)]
    digest: [u8; 4],
    #[encrypt(key = "pii", bytes)]
    note: Option<ByteBuf>,
    #[encrypt(key = "banking")]
    owner: String,
}

fn document() -> Document {
    Document {
        id: 7,
        scan: ByteBuf::from((0..=255).collect::<Vec<u8>>()),
        thumbnail: bytes::Bytes::from_static(b"\x89PNG\r\n\x1a\n"),
        raw: vec![0, 1, 2, 253, 254, 255],
        digest: [0xde, 0xad, 0xbe, 0xef],
        note: None,
        owner: "ada".into(),
    }
}

/// The envelope bytes behind a JSON envelope string.
fn envelope(json: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(json.as_str().unwrap()).unwrap()
}

#[test]
fn byte_fields_round_trip_through_json_and_postcard() {
    let keyring = keyring();
    for note in [
        None,
        Some(ByteBuf::new()),
        Some(ByteBuf::from(vec![9; 3000])),
    ] {
        let doc = Document { note, ..document() };
        let sealed = doc.encrypt(&keyring).unwrap();
        let json = serde_json::to_string(&sealed).unwrap();
        let back: EncryptedDocument = serde_json::from_str(&json).unwrap();
        assert_eq!(back.decrypt(&keyring).unwrap(), doc);
        let binary = postcard::to_allocvec(&sealed).unwrap();
        let back: EncryptedDocument = postcard::from_bytes(&binary).unwrap();
        assert_eq!(back.decrypt(&keyring).unwrap(), doc);
    }
}

#[test]
fn the_plaintext_is_the_bytes_themselves_in_version_3() {
    let keyring = keyring();
    let json = serde_json::to_value(document().encrypt(&keyring).unwrap()).unwrap();
    for (field, len) in [("scan", 256), ("thumbnail", 8), ("raw", 6), ("digest", 4)] {
        let bytes = envelope(&json[field]);
        assert_eq!(bytes[0], 3, "{field}");
        // version, key id, nonce, tag: 33 bytes, and no JSON around the bytes.
        assert_eq!(bytes.len(), 33 + len, "{field}");
    }
    assert_eq!(
        envelope(&json["owner"])[0],
        1,
        "a JSON field stays version 1"
    );
    assert_eq!(json["note"], Value::Null, "None is not sealed");
}

#[test]
fn a_field_without_bytes_opens_version_3_and_bytes_fields_open_version_1() {
    // The same place (context and field), one type writing raw bytes and one
    // writing JSON: each reads what the other wrote, because the version byte
    // says how the plaintext is encoded.
    #[derive(Encrypt, Serialize, Deserialize, PartialEq, Debug)]
    #[encrypt(context = "Blob")]
    struct Raw {
        #[encrypt(key = "pii", bytes)]
        data: ByteBuf,
    }
    #[derive(Encrypt, Serialize, Deserialize, PartialEq, Debug)]
    #[encrypt(context = "Blob")]
    struct Json {
        #[encrypt(key = "pii")]
        data: ByteBuf,
    }
    let keyring = keyring();
    let data = ByteBuf::from(b"\x00\x01hello\xff".to_vec());
    let raw =
        serde_json::to_string(&Raw { data: data.clone() }.encrypt(&keyring).unwrap()).unwrap();
    let json =
        serde_json::to_string(&Json { data: data.clone() }.encrypt(&keyring).unwrap()).unwrap();
    assert_eq!(
        envelope(&serde_json::from_str::<Value>(&raw).unwrap()["data"])[0],
        3
    );
    assert_eq!(
        envelope(&serde_json::from_str::<Value>(&json).unwrap()["data"])[0],
        1
    );
    let from_raw: Json = serde_json::from_str::<EncryptedJson>(&raw)
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    let from_json: Raw = serde_json::from_str::<EncryptedRaw>(&json)
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    assert_eq!(from_raw.data, data);
    assert_eq!(from_json.data, data);
}

#[test]
fn raw_bytes_read_as_a_u8_sequence_in_types_that_read_no_bytes() {
    let keyring = keyring();
    let binding = Binding::new("pii", "Blob", "data");
    let sealed: Sealed<ByteBuf> = Sealed::seal_as(
        &keyring,
        &binding,
        &ByteBuf::from(vec![1, 2, 250]),
        Nonce::Random,
        Encoding::Bytes,
    )
    .unwrap();
    let as_value: Sealed<Value> = Sealed::from_envelope(sealed.as_bytes().to_vec());
    assert_eq!(
        as_value.open(&keyring, &binding).unwrap(),
        json!([1, 2, 250])
    );
    let as_array: Sealed<[u8; 3]> = Sealed::from_envelope(sealed.as_bytes().to_vec());
    assert_eq!(as_array.open(&keyring, &binding).unwrap(), [1, 2, 250]);
    for error in [
        Sealed::<String>::from_envelope(sealed.as_bytes().to_vec())
            .open(&keyring, &binding)
            .unwrap_err(),
        Sealed::<[u8; 2]>::from_envelope(sealed.as_bytes().to_vec())
            .open(&keyring, &binding)
            .unwrap_err(),
        Sealed::<u64>::from_envelope(sealed.as_bytes().to_vec())
            .open(&keyring, &binding)
            .unwrap_err(),
    ] {
        assert_eq!(error.kind(), ErrorKind::Deserialize, "{error}");
        assert!(!error.to_string().contains("250"), "{error}");
    }
}

#[test]
fn a_forged_envelope_fails_whatever_the_type_does_with_it() {
    /// Reads nothing from its deserializer.
    #[derive(Debug)]
    struct Anything;
    impl<'de> Deserialize<'de> for Anything {
        fn deserialize<D: serde::Deserializer<'de>>(_: D) -> Result<Self, D::Error> {
            Ok(Anything)
        }
    }
    let keyring = keyring();
    let binding = Binding::new("pii", "Blob", "data");
    let bytes = ByteBuf::from(vec![7; 10]);
    let sealed = Sealed::seal_as(&keyring, &binding, &bytes, Nonce::Random, Encoding::Bytes);
    let genuine = sealed.unwrap().as_bytes().to_vec();
    let mut forged = genuine.clone();
    *forged.last_mut().unwrap() ^= 1;
    /// Reads, and takes a default when reading fails.
    #[derive(Debug)]
    struct Lenient;
    impl<'de> Deserialize<'de> for Lenient {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            drop(ByteBuf::deserialize(d));
            Ok(Lenient)
        }
    }
    /// Reads, and puts its own error in place of the deserializer's.
    #[derive(Debug)]
    struct Rewrapping;
    impl<'de> Deserialize<'de> for Rewrapping {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let read = Vec::<u8>::deserialize(d);
            read.map(|_| Rewrapping)
                .map_err(|_| serde::de::Error::custom("not mine"))
        }
    }
    let open = |forged: &[u8]| {
        let errors = [
            Sealed::<Anything>::from_envelope(forged.to_vec())
                .open(&keyring, &binding)
                .err(),
            Sealed::<Option<Anything>>::from_envelope(forged.to_vec())
                .open(&keyring, &binding)
                .err(),
            Sealed::<Lenient>::from_envelope(forged.to_vec())
                .open(&keyring, &binding)
                .err(),
            Sealed::<Rewrapping>::from_envelope(forged.to_vec())
                .open(&keyring, &binding)
                .err(),
        ];
        errors.map(|error| error.map(|e| e.kind()))
    };
    assert_eq!(open(&forged), [Some(ErrorKind::AuthenticationFailed); 4]);
    assert_eq!(open(&genuine), [None; 4], "each type opens the genuine one");
}

#[test]
fn a_byte_sequence_stops_at_the_size_limit_as_it_grows() {
    /// Streams bytes one at a time, far past any limit, and counts them;
    /// says how many up front (`hinted`) or not.
    struct Endless {
        hinted: bool,
        taken: std::cell::Cell<usize>,
    }
    impl Serialize for Endless {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let counted = std::iter::repeat_n(0_u8, usize::MAX).inspect(|_| {
                self.taken.set(self.taken.get() + 1);
            });
            if self.hinted {
                serializer.collect_seq(counted)
            } else {
                // `filter` hides the length: the sequence grows to the limit.
                serializer.collect_seq(counted.filter(|_| true))
            }
        }
    }
    for hinted in [true, false] {
        let endless = Endless {
            hinted,
            taken: std::cell::Cell::new(0),
        };
        let binding = Binding::new("pii", "Blob", "data");
        let sealed = Sealed::seal_as(
            &keyring(),
            &binding,
            &endless,
            Nonce::Random,
            Encoding::Bytes,
        );
        let error = sealed.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Serialize, "{error}");
        let (taken, limit) = (endless.taken.get(), encrypted_fields::max_envelope_len());
        assert!(taken <= limit, "{taken} bytes taken");
    }
}

#[test]
fn a_value_that_is_not_a_byte_string_is_refused_without_quoting_it() {
    let keyring = keyring();
    let binding = Binding::new("pii", "Blob", "data");
    let refused = |value: &dyn erased::Value| value.seal_bytes(&keyring, &binding);
    for error in [
        refused(&"secret text".to_owned()),
        refused(&vec![300_u16]),
        refused(&json!({"secret": 1})),
        refused(&None::<ByteBuf>),
    ] {
        assert_eq!(error.kind(), ErrorKind::Serialize, "{error}");
        assert!(error.to_string().contains("byte string"), "{error}");
        assert!(!error.to_string().contains("secret"), "{error}");
    }
}

#[test]
fn the_version_byte_is_authenticated_and_scoping_still_decides() {
    let keyring = keyring();
    let binding = Binding::new("pii", "Blob", "data");
    let sealed = Sealed::seal_as(
        &keyring,
        &binding,
        &ByteBuf::from(b"[1]".to_vec()),
        Nonce::Random,
        Encoding::Bytes,
    )
    .unwrap();
    let relabelled = |version: u8| {
        let mut bytes = sealed.as_bytes().to_vec();
        bytes[0] = version;
        bytes
    };
    // Relabelled as version 1 (whose plaintext would be the JSON `[1]`):
    // the AAD differs, so it fails authentication, never opens as JSON.
    let as_json = Sealed::<Value>::from_envelope(relabelled(1));
    let error = as_json.open(&keyring, &binding).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
    // Version 4 is scoped: a field without a record binding refuses it
    // before trying a key, as it refuses version 2. Version 5 is unknown.
    for version in [4, 5] {
        let relabelled = Sealed::<ByteBuf>::from_envelope(relabelled(version));
        let error = relabelled.open(&keyring, &binding).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::UnsupportedVersion);
        let known = error.to_string().contains("versions 1 to 4");
        assert_eq!(known, version == 5, "{error}");
    }
    // A flipped ciphertext bit fails on the owned-buffer path too.
    let mut tampered = sealed.as_bytes().to_vec();
    tampered[20] ^= 1;
    let error = Sealed::<ByteBuf>::from_envelope(tampered)
        .open(&keyring, &binding)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
    assert_eq!(sealed.inspect().unwrap().encoding(), Encoding::Bytes);
}

#[derive(Encrypt, Serialize, Deserialize, Clone, PartialEq, Debug)]
struct Bound {
    #[encrypt(bind)]
    id: u64,
    #[encrypt(key = "pii", bytes)]
    data: ByteBuf,
    #[encrypt(key = "pii", bytes, deterministic)]
    fingerprint: ByteBuf,
}

#[test]
fn a_bound_record_seals_version_4_and_deterministic_fields_version_3() {
    let keyring = keyring();
    let value = Bound {
        id: 1,
        data: ByteBuf::from(vec![1; 40]),
        fingerprint: ByteBuf::from(vec![2; 8]),
    };
    let first = serde_json::to_value(value.encrypt(&keyring).unwrap()).unwrap();
    let second = serde_json::to_value(value.encrypt(&keyring).unwrap()).unwrap();
    assert_eq!(envelope(&first["data"])[0], 4);
    assert_eq!(envelope(&first["fingerprint"])[0], 3);
    assert_eq!(first["fingerprint"], second["fingerprint"], "deterministic");
    let lookup = EncryptedBound::lookup_fingerprint(&keyring, &value.fingerprint).unwrap();
    assert_eq!(
        serde_json::to_value(&lookup[0]).unwrap(),
        first["fingerprint"]
    );
    // The lookup also finds rows sealed before the field took `bytes`: the
    // JSON envelope of the same value, as the field without `bytes` sealed it.
    let binding = Binding::new("pii", "Bound", "fingerprint");
    let before = Sealed::seal_with(&keyring, &binding, &value.fingerprint, Nonce::Deterministic);
    assert_eq!(lookup.len(), 2);
    assert_eq!(lookup[1], before.unwrap());
    // Moved into another record: refused.
    let mut moved = first.clone();
    moved["id"] = json!(2);
    let error = serde_json::from_value::<EncryptedBound>(moved)
        .unwrap()
        .decrypt(&keyring)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AuthenticationFailed);
    let back = serde_json::from_value::<EncryptedBound>(first)
        .unwrap()
        .decrypt(&keyring)
        .unwrap();
    assert_eq!(back, value);
}

#[test]
fn a_lookup_leaves_out_a_json_form_over_the_size_limit() {
    // 0xFF is `255,` in JSON: four times the bytes, over the 16 MiB limit,
    // so no such envelope can have been stored; the byte string fits.
    let value = ByteBuf::from(vec![0xff; 4_194_400]);
    let binding = Binding::new("pii", "Blob", "fingerprint");
    let lookup = Sealed::seal_for_lookup_as(&keyring(), &binding, &value, Encoding::Bytes).unwrap();
    assert_eq!(lookup.len(), 1);
    assert_eq!(lookup[0].inspect().unwrap().encoding(), Encoding::Bytes);
}

#[test]
fn rotation_keeps_the_encoding() {
    let old = keyring();
    let new = EnvKeyring::from_vars([
        (
            "ENCRYPTED_FIELDS_KEY_PII",
            format!("{},{}", common::PII_256_NEW, common::PII_256),
        ),
        (
            "ENCRYPTED_FIELDS_KEY_BANKING",
            common::BANKING_128.to_owned(),
        ),
    ])
    .unwrap();
    let doc = document();
    let mut sealed = doc.encrypt(&old).unwrap();
    // The four pii byte fields (`note` is None); banking keeps its key.
    assert_eq!(sealed.reencrypt(&new).unwrap(), 4);
    let json = serde_json::to_value(&sealed).unwrap();
    assert_eq!(envelope(&json["scan"])[0], 3);
    assert_eq!(envelope(&json["owner"])[0], 1);
    assert_eq!(sealed.decrypt(&new).unwrap(), doc);
    assert_eq!(sealed.reencrypt(&new).unwrap(), 0);
}

#[test]
fn a_partial_value_reseals_its_byte_fields_as_bytes() {
    let pii_only = EnvKeyring::from_vars([("ENCRYPTED_FIELDS_KEY_PII", common::PII_256)]).unwrap();
    let doc = document();
    let sealed = doc.encrypt(&keyring()).unwrap();
    let partial = sealed.decrypt_ignoring(&pii_only, &["banking"]).unwrap();
    assert_eq!(partial.scan, MaybeSealed::Open(doc.scan.clone()));
    let again = serde_json::to_value(partial.encrypt(&pii_only).unwrap()).unwrap();
    assert_eq!(envelope(&again["scan"])[0], 3);
    assert_eq!(
        serde_json::from_value::<EncryptedDocument>(again)
            .unwrap()
            .decrypt(&keyring())
            .unwrap(),
        doc
    );
}

/// Seals values of different types through one closure.
mod erased {
    use encrypted_fields::{Binding, Encoding, EnvKeyring, Error, Nonce, Sealed};
    use serde::Serialize;

    pub trait Value {
        fn seal_bytes(&self, keyring: &EnvKeyring, binding: &Binding<'_>) -> Error;
    }

    impl<T: Serialize> Value for T {
        /// The error of sealing `self` as a byte string, which must fail.
        fn seal_bytes(&self, keyring: &EnvKeyring, binding: &Binding<'_>) -> Error {
            Sealed::seal_as(keyring, binding, self, Nonce::Random, Encoding::Bytes).unwrap_err()
        }
    }
}
