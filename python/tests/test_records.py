"""Format version 2, the canonical encoding and record seals: every golden vector of
tests/vectors/v2.json, and whole records sealed and opened both ways with the Rust
crate (examples/interop.rs), attacks included."""

import base64
import copy
import json
import pathlib

import pytest

import encrypted_fields as ef
from encrypted_fields import _envelope, _jsontext, _keys

ROOT = pathlib.Path(__file__).resolve().parents[2]
V2 = json.loads((ROOT / "tests" / "vectors" / "v2.json").read_text(encoding="utf-8"))


def b64(raw) -> str:
    return base64.b64encode(bytes(raw)).decode()


def record_of(entries) -> ef.RecordBinding:
    record = ef.RecordBinding()
    for entry in entries:
        record = record.push_type(entry["context"], [tuple(field) for field in entry["fields"]])
    return record


def position_of(steps) -> ef.Position:
    position = ef.Position()
    for kind, arg in steps:
        position = {"root": lambda: position.step(0x00, arg), "member": lambda: position.member(arg),
                    "key": lambda: position.key(arg), "index": lambda: position.index(arg)}[kind]()
    return position


def describe(entries):
    return [e["description"] for e in entries]


# --- golden vectors ---------------------------------------------------------


def test_the_vectors_are_all_there():
    assert (len(V2["envelopes"]), len(V2["canonical"]), len(V2["seals"])) == (32, 25, 23)


@pytest.mark.parametrize("v", V2["envelopes"], ids=describe(V2["envelopes"]))
def test_envelope_vectors(v, monkeypatch):
    key = ef.Key.from_base64(v["key"])
    assert key.id.hex() == v["key_id"]
    record, position = record_of(v["record"]), position_of(v["position"])
    assert (record.hex(), position.hex()) == (v["record_hex"], v["position_hex"])
    reader = v.get("open_with", {**v, "legacy_unbound": False})
    reader_record, reader_position = record_of(reader["record"]), position_of(reader["position"])
    assert (reader_record.hex(), reader_position.hex()) == (reader["record_hex"], reader["position_hex"])

    def open_it():
        return ef.decrypt_field(key, v["alias"], v["context"], v["field"], v["envelope"], record=reader_record,
                                position=reader_position, legacy_unbound=reader["legacy_unbound"])

    if v["result"] == "ok":
        assert open_it() == v["value"]
    else:
        with pytest.raises(ef.EncryptedFieldsError) as raised:
            open_it()
        assert raised.value.kind == v["result"]
        assert raised.value.__context__ is None
    # How it was sealed: a version-1 vector is sealed without record or position.
    sealed_with = (record, position) if v["version"] == 2 else (b"", b"")
    assert _envelope._aad(key.id, v["alias"], v["context"], v["field"], *sealed_with).hex() == v["aad_hex"]
    assert _jsontext._write_json(v["value"]).hex() == v["plaintext_hex"]
    if v["result"] == "ok":
        monkeypatch.setattr(_envelope, "_random_nonce", lambda: bytes.fromhex(v["nonce_hex"]))
        envelope = ef.encrypt_field(key, v["alias"], v["context"], v["field"], v["value"],
                                    record=sealed_with[0], position=sealed_with[1])
        assert envelope == v["envelope"]
        assert ef.inspect(envelope)["version"] == v["version"]


@pytest.mark.parametrize("v", V2["canonical"], ids=describe(V2["canonical"]))
def test_canonical_vectors(v):
    # From the JSON text (ef.loads keeps integers and floats apart as the text
    # does), and from the value as Python's json module reads the vector file.
    assert ef.canonical(ef.loads(v["json"]), v["member"]).hex() == v["canonical_hex"]
    assert ef.canonical(v["value"], v["member"]).hex() == v["canonical_hex"]


def seal_keyrings(v):
    """The writer's keyring (the vector's keys) and the reader's (with `open_with`)."""
    writer = ef.Keyring()
    if v["kind"] == ef.MAC:
        key = ef.Key.from_base64(v["key"])
        assert key.id.hex() == v["key_id"]
        writer.insert(v["alias"], [key])
    else:
        signing = ef.SigningKey.from_base64(v["signing_seed"])
        assert (signing.id.hex(), signing.verifying_key) == (v["key_id"], v["verifying_key"])
        assert ef.VerifyingKey.from_base64(v["verifying_key"]).id.hex() == v["key_id"]
        writer.insert_signing_key(v["alias"], signing)
    how = {"kind": v["kind"], "alias": v["alias"], "context": v["context"], "key": v.get("key"),
           "verifying_key": v.get("verifying_key"), **v.get("open_with", {})}
    reader = ef.Keyring()
    if how["kind"] == ef.MAC:
        reader.insert(how["alias"], [ef.Key.from_base64(how["key"])])
    else:
        reader.insert_verifying_keys(how["alias"], [ef.VerifyingKey.from_base64(how["verifying_key"])])
    return writer, reader, how


@pytest.mark.parametrize("v", V2["seals"], ids=describe(V2["seals"]))
def test_seal_vectors(v):
    sealed = v.get("sealed_record", v["record"])
    member = v["member"]
    writer, reader, how = seal_keyrings(v)
    assert ef.canonical(sealed, member).hex() == v["canonical_hex"]
    assert ef.seal_message(v["kind"], v["alias"], v["context"], sealed, member).hex() == v["message_hex"]
    assert ef.seal_record(writer, v["kind"], v["alias"], v["context"], sealed, member) == v["seal"]
    # The reader's type declares the members of the record as sealed.
    schema = ef.Schema(how["context"], {name: ef.Plain(optional=True) for name in sealed if name != member},
                       seal=how["alias"] if how["kind"] == ef.MAC else None,
                       sign=how["alias"] if how["kind"] == ef.SIGNATURE else None, seal_member=member)
    for received in [v["record"], json.dumps(v["record"], ensure_ascii=False)]:
        if v["result"] == "ok":
            assert schema.decrypt(reader, received) == {k: x for k, x in v["record"].items() if k != member}
            continue
        with pytest.raises(ef.EncryptedFieldsError) as raised:
            schema.decrypt(reader, received)
        if v["result"] == "unknown_member":
            assert isinstance(raised.value, ef.UnknownMember)
        else:
            assert raised.value.kind == v["result"]
        assert raised.value.__context__ is None
        assert v["seal"] not in str(raised.value)


def test_the_worked_example_of_section_13_2():
    text = '{"b":[true,null],"a":"\u00e9","_seal":"AQE","n":-5,"x":1.5}'
    assert ef.canonical(ef.loads(text), "_seal").hex() == (
        "07" "00000004" "0000000161" "0500000002c3a9" "0000000162" "0600000002" "02" "00"
        "000000016e" "03000000022d35" "0000000178" "043ff8000000000000")


def test_canonical_numbers_follow_the_json_text():
    assert ef.loads("-0") == 0.0 and str(ef.loads("-0")) == "-0.0"
    assert ef.canonical(ef.loads("-0")).hex() == "048000000000000000"
    assert ef.canonical(ef.loads("340282366920938463463374607431768211456")).startswith(b"\x03")
    assert ef.canonical(ef.loads("1E2")) == ef.canonical(100.0)
    assert ef.canonical(float("nan")) == ef.canonical(float("inf")) == b"\x00"  # as serde_json writes them
    for text in ["NaN", "Infinity", "1e400", "\ufeff1", '"\\ud800"', "[" * 128 + "]" * 128, "1 2"]:
        with pytest.raises(ef.DeserializeError) as raised:
            ef.loads(text)
        assert raised.value.__context__ is None


def test_canonical_refuses_what_has_no_encoding():
    for value in [{1: "a", "1": "b"}, ef.loads('{"a":1,"a":2}'), {"x": ef.loads('[{"a":1,"a":2}]')},
                  "\ud800", {"\ud800": 1}, {(1, 2): 3}, {"x": object()}]:
        with pytest.raises(ef.SerializeError) as raised:
            ef.canonical(value)
        assert raised.value.__context__ is None
    # A map reader takes the last of duplicate names (FORMAT.md section 5).
    assert ef.loads('{"a":1,"a":2}') == {"a": 2}


# --- records, both ways with the Rust crate -----------------------------------

SEED = "03UjjvWsS76C8pWaNI1l2qOdxI4h50Z+ubFEA+WroEg="
VERIFYING = "J/6rZ6wPDk5RT9m0YGy+DGOIS9aqR5mLBXB14XkSncA="
OTHER_SEED = "1Q4KT0HfQE8d3ZKiZrOwDc9i02Ojm2a96L3kXErR4S8="
AES = {"PII": b64(range(32)), "BANKING": b64(range(16)), "VAULT": b64(range(100, 132)),
       "RECORDS": b64(range(50, 82))}
PRODUCER = {**{f"ENCRYPTED_FIELDS_KEY_{a}": k for a, k in AES.items()},
            "ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS": SEED}
# Checks signatures, cannot make them.
CONSUMER = {**{f"ENCRYPTED_FIELDS_KEY_{a}": k for a, k in AES.items()},
            "ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS": VERIFYING}

# The four record types of examples/interop.rs, declared with the Python API.
CASH_USER = ef.Schema("CashUser", {"cashTag": ef.Plain(str), "mailingAddress": ef.Encrypted("pii"),
                                   "bankAccount": ef.Encrypted("banking")})
SCHEMAS = {
    "bound": ef.Schema("account", {
        "id": ef.Plain(int), "region": ef.Plain(str), "email": ef.Encrypted("pii"),
        "ssn": ef.Encrypted("pii", deterministic=True), "balance": ef.Plain(int),
    }, bind=["id", "region"]),
    "positions": ef.Schema("transaction", {
        "id": ef.Plain(int), "sender": ef.Nested(CASH_USER), "receiver": ef.Nested(CASH_USER),
        "witnesses": ef.Nested(ef.ListOf(CASH_USER), bind_index=True), "byRole": ef.Nested(ef.MapOf(CASH_USER)),
        "escrow": ef.Nested(CASH_USER, key="vault"), "memo": ef.Plain(str, optional=True),
    }, bind=["id"], bind_positions=True),
    "sealed": ef.Schema("account", {
        "id": ef.Plain(int), "email": ef.Encrypted("pii"), "holder": ef.Nested(CASH_USER),
        "balance": ef.Plain(float), "tags": ef.Plain(), "note": ef.Plain(str, optional=True),
    }, bind=["id"], seal="records"),
    "signed": ef.Schema("account", {
        "id": ef.Plain(int), "email": ef.Encrypted("pii"), "balance": ef.Plain(int), "big": ef.Plain(int),
    }, bind=["id"], sign="records", seal_member="signature"),
}


def user(tag):
    return {"cashTag": tag, "mailingAddress": f"1 {tag} Street", "bankAccount": f"acct-{tag}"}


def value_of(kind, id=7):
    return {
        "bound": {"id": id, "region": "eu-west", "email": "ada@example.com", "ssn": "078-05-1120",
                  "balance": -250},
        "positions": {"id": id, "sender": user("$ada"), "receiver": user("$bob"),
                      "witnesses": [user("$w1"), user("$w2"), user("$w3")],
                      "byRole": {"auditor": user("$aud"), "notary": user("$not")}, "escrow": user("$esc"),
                      "memo": "rent \u00e9 \u2028"},
        "sealed": {"id": id, "email": "ada@example.com", "holder": user("$ada"), "balance": 12.5,
                   "tags": ["vip", "eu", "\u00e9"], "note": "Gr\u00fc\u00dfe"},
        "signed": {"id": id, "email": "ada@example.com", "balance": -3, "big": 2 ** 64 - 1},
    }[kind]


@pytest.fixture(scope="module")
def producer():
    return ef.Keyring.from_vars(sorted(PRODUCER.items()))


@pytest.fixture(scope="module")
def consumer():
    return ef.Keyring.from_vars(sorted(CONSUMER.items()))


def seal_in(rust, side, producer, kind, value):
    if side == "python":
        return SCHEMAS[kind].encrypt(producer, value)
    answer = rust.call(op="seal_record", type=kind, vars=PRODUCER, value=value)
    assert set(answer["ok"]) != {"serde_error"}, answer
    return answer["ok"]


@pytest.mark.parametrize("kind", SCHEMAS)
def test_python_sealed_records_open_in_rust(rust, producer, kind):
    wire = SCHEMAS[kind].encrypt(producer, value_of(kind))
    assert rust.call(op="open_record", type=kind, vars=CONSUMER, record=wire) == {"ok": value_of(kind)}


@pytest.mark.parametrize("kind", SCHEMAS)
def test_rust_sealed_records_open_in_python(rust, consumer, kind):
    wire = seal_in(rust, "rust", None, kind, value_of(kind))
    assert SCHEMAS[kind].decrypt(consumer, wire) == value_of(kind)
    # As a service gets it: JSON text.
    assert SCHEMAS[kind].decrypt(consumer, json.dumps(wire)) == value_of(kind)


def test_both_write_the_same_members_and_deterministic_envelopes(rust, producer):
    for kind in SCHEMAS:
        python = SCHEMAS[kind].encrypt(producer, value_of(kind))
        rust_wire = seal_in(rust, "rust", producer, kind, value_of(kind))
        assert sorted(python) == sorted(rust_wire)
    python = SCHEMAS["bound"].encrypt(producer, value_of("bound"))
    assert python["ssn"] == seal_in(rust, "rust", producer, "bound", value_of("bound"))["ssn"]
    assert ef.inspect(python["ssn"])["version"] == 1 and ef.inspect(python["email"])["version"] == 2


def test_a_float_member_is_written_as_the_rust_type_writes_it(rust, producer):
    """FORMAT.md 13.2: a writer must write each member as the type does. Rust
    reads `12` into an f64 and encodes 12.0; Plain(float) writes 12.0 too."""
    value = {**value_of("sealed"), "balance": 12}
    wire = SCHEMAS["sealed"].encrypt(producer, value)
    assert isinstance(wire["balance"], float)
    assert rust.call(op="open_record", type="sealed", vars=CONSUMER, record=wire)["ok"]["balance"] == 12.0
    untyped = ef.Schema("account", {**SCHEMAS["sealed"].fields, "balance": ef.Plain()}, bind=["id"],
                        seal="records")
    wire = untyped.encrypt(producer, value)
    answer = rust.call(op="open_record", type="sealed", vars=CONSUMER, record=wire)
    assert answer["error"]["kind"] == "authentication_failed"


# Attacks: each changes a record sealed by Python or by Rust, and both refuse it.


def refused_by_both(rust, consumer, kind, wire, expected):
    with pytest.raises(ef.EncryptedFieldsError) as raised:
        SCHEMAS[kind].decrypt(consumer, wire)
    answer = rust.call(op="open_record", type=kind, vars=CONSUMER, record=wire)
    if expected == "unknown_member":
        assert isinstance(raised.value, ef.UnknownMember)
        assert "unknown field" in answer["ok"]["serde_error"]
    elif expected == "deserialize":  # refused as it is read, before the seal is checked
        assert raised.value.kind == expected
        assert "serde_error" in answer["ok"], answer
    else:
        assert raised.value.kind == expected
        assert answer["error"]["kind"] == expected, answer
    assert raised.value.__context__ is None
    text = str(raised.value) + repr(raised.value)
    for secret in ["ada@example.com", "078-05", "acct-", "Street", *AES.values(), SEED]:
        assert secret not in text


def swap(record, a, b):
    record[a], record[b] = record[b], record[a]
    return record


def seal_of(wire, member):
    return bytearray(base64.urlsafe_b64decode(wire[member] + "=" * (-len(wire[member]) % 4)))


ATTACKS = {
    "bound": [
        ("envelope moved to another record", "authentication_failed",
         lambda w, other: {**w, "id": 8, "email": w["email"], "ssn": other["ssn"]}),
        ("bound member edited", "authentication_failed", lambda w, other: {**w, "region": "us-east"}),
        ("envelopes swapped between records", "authentication_failed",
         lambda w, other: {**other, "email": w["email"]}),
    ],
    "positions": [
        ("sender and receiver swapped", "authentication_failed", lambda w, other: swap(w, "sender", "receiver")),
        ("map entries swapped", "authentication_failed",
         lambda w, other: {**w, "byRole": {"auditor": w["byRole"]["notary"], "notary": w["byRole"]["auditor"]}}),
        ("witnesses reordered (bind_index)", "authentication_failed",
         lambda w, other: {**w, "witnesses": w["witnesses"][::-1]}),
        ("a witness dropped from the front", "authentication_failed",
         lambda w, other: {**w, "witnesses": w["witnesses"][1:]}),
        ("nested envelope moved to another record", "authentication_failed",
         lambda w, other: {**other, "sender": w["sender"]}),
        ("child sealed whole moved to another record", "authentication_failed",
         lambda w, other: {**other, "escrow": w["escrow"]}),
        ("nested envelope moved from receiver to sender", "authentication_failed",
         lambda w, other: {**w, "sender": {**w["sender"], "bankAccount": w["receiver"]["bankAccount"]}}),
        ("map entry renamed", "authentication_failed",
         lambda w, other: {**w, "byRole": {"notary": w["byRole"]["auditor"]}}),
    ],
    "sealed": [
        ("plain member edited", "authentication_failed", lambda w, other: {**w, "tags": ["vip"]}),
        ("float member edited", "authentication_failed", lambda w, other: {**w, "balance": 1e6}),
        ("seal removed", "authentication_failed",
         lambda w, other: {k: x for k, x in w.items() if k != "_seal"}),
        ("seal nulled", "authentication_failed", lambda w, other: {**w, "_seal": None}),
        ("optional member removed", "authentication_failed",
         lambda w, other: {k: x for k, x in w.items() if k != "note"}),
        ("member added", "unknown_member", lambda w, other: {**w, "admin": True}),
        ("envelopes of a nested member swapped", "authentication_failed",
         lambda w, other: {**w, "holder": swap(dict(w["holder"]), "mailingAddress", "bankAccount")}),
        ("seal of another record", "authentication_failed", lambda w, other: {**w, "_seal": other["_seal"]}),
        ("seal truncated by a byte", "malformed_envelope",
         lambda w, other: {**w, "_seal": _envelope._to_text(bytes(seal_of(w, "_seal")[:-1]))}),
        # 49 characters: no base64url text has that length.
        ("seal text cut short", "deserialize", lambda w, other: {**w, "_seal": w["_seal"][:-2]}),
    ],
    "signed": [
        ("signature removed", "authentication_failed",
         lambda w, other: {k: x for k, x in w.items() if k != "signature"}),
        ("plain member edited", "authentication_failed", lambda w, other: {**w, "big": 2 ** 64 - 2}),
        ("forged signature: one bit flipped", "authentication_failed",
         lambda w, other: {**w, "signature": _envelope._to_text(bytes(flip_bit(seal_of(w, "signature"), 40)))}),
        ("signature of another record", "authentication_failed",
         lambda w, other: {**w, "signature": other["signature"]}),
        ("MAC seal where a signature belongs", "authentication_failed",
         lambda w, other: {**w, "signature": mac_seal(w)}),
    ],
}


def flip_bit(raw, index):
    raw[index] ^= 0x01
    return raw


def mac_seal(wire):
    keyring = ef.Keyring.from_vars(sorted(PRODUCER.items()))
    return ef.seal_record(keyring, ef.MAC, "records", "account", wire, "signature")


@pytest.mark.parametrize("side", ["python", "rust"])
@pytest.mark.parametrize("kind,name,expected,attack",
                         [(k, n, e, a) for k, attacks in ATTACKS.items() for n, e, a in attacks],
                         ids=[f"{k}: {n}" for k, attacks in ATTACKS.items() for n, _, _ in attacks])
def test_attacks_are_refused_by_both(rust, producer, consumer, side, kind, name, expected, attack):
    wire = seal_in(rust, side, producer, kind, value_of(kind))
    other = seal_in(rust, side, producer, kind, value_of(kind, id=8))
    # Untouched, both open it.
    assert SCHEMAS[kind].decrypt(consumer, wire) == value_of(kind)
    refused_by_both(rust, consumer, kind, attack(copy.deepcopy(wire), copy.deepcopy(other)), expected)


def test_an_unbound_envelope_in_a_bound_record_is_refused_by_both(rust, producer, consumer):
    wire = SCHEMAS["bound"].encrypt(producer, value_of("bound"))
    # Sealed for the same alias, context and field, but as version 1.
    unbound = rust.call(op="seal", keys=[AES["PII"]], alias="pii", context="account", field="email",
                        value="mallory@example.com")["ok"]
    refused_by_both(rust, consumer, "bound", {**wire, "email": unbound}, "unsupported_version")
    # A deterministic field is version 1 everywhere: it can move (FORMAT.md 4.1).
    other = SCHEMAS["bound"].encrypt(producer, {**value_of("bound", id=8), "ssn": "999-99-9999"})
    moved = {**wire, "ssn": other["ssn"]}
    assert SCHEMAS["bound"].decrypt(consumer, moved)["ssn"] == "999-99-9999"
    assert rust.call(op="open_record", type="bound", vars=CONSUMER, record=moved)["ok"]["ssn"] == "999-99-9999"


def test_signatures_are_checked_strictly_by_both(rust, producer, consumer):
    """FORMAT.md 13.4: S below the group order; R and the key not of small order."""
    wire = SCHEMAS["signed"].encrypt(producer, value_of("signed"))
    raw = seal_of(wire, "signature")
    s = int.from_bytes(raw[38:], "little") + _keys._L
    assert s < 2 ** 256
    malleable = {**wire, "signature": _envelope._to_text(bytes(raw[:38]) + s.to_bytes(32, "little"))}
    refused_by_both(rust, consumer, "signed", malleable, "authentication_failed")
    # A consumer configured with the identity point as its verifying key: the
    # signature (R = identity, S = 0) passes the plain equation [S]B = R + [k]A.
    identity = b64(b"\x01" + bytes(31))
    key = ef.VerifyingKey.from_base64(identity)
    forged = {**wire, "signature": _envelope._to_text(b"\x01\x02" + key.id + b"\x01" + bytes(63))}
    keyring = ef.Keyring.from_vars([("ENCRYPTED_FIELDS_KEY_PII", AES["PII"]),
                                    ("ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS", identity)])
    with pytest.raises(ef.AuthenticationFailed):
        SCHEMAS["signed"].decrypt(keyring, forged)
    vars = {"ENCRYPTED_FIELDS_KEY_PII": AES["PII"], "ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS": identity}
    answer = rust.call(op="open_record", type="signed", record=forged, vars=vars)
    assert answer["error"]["kind"] == "authentication_failed"


def test_a_signature_by_another_key_is_refused_by_both(rust, producer, consumer):
    forger = ef.Keyring.from_vars([("ENCRYPTED_FIELDS_KEY_PII", AES["PII"]),
                                   ("ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS", OTHER_SEED)])
    forged = SCHEMAS["signed"].encrypt(forger, {**value_of("signed"), "balance": 10 ** 6})
    refused_by_both(rust, consumer, "signed", forged, "unknown_key_id")
    # ... even under the genuine key's id.
    raw = seal_of(forged, "signature")
    raw[2:6] = ef.VerifyingKey.from_base64(VERIFYING).id
    refused_by_both(rust, consumer, "signed", {**forged, "signature": _envelope._to_text(bytes(raw))},
                    "authentication_failed")


def test_a_rotated_signing_key_still_verifies_in_both(rust):
    old = ef.Keyring.from_vars([("ENCRYPTED_FIELDS_KEY_PII", AES["PII"]),
                                ("ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS", SEED)])
    wire = SCHEMAS["signed"].encrypt(old, value_of("signed"))
    rotated = {"ENCRYPTED_FIELDS_KEY_PII": AES["PII"], "ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS": f"{OTHER_SEED},{SEED}"}
    keyring = ef.Keyring.from_vars(sorted(rotated.items()))
    assert SCHEMAS["signed"].decrypt(keyring, wire) == value_of("signed")
    assert rust.call(op="open_record", type="signed", vars=rotated, record=wire) == {"ok": value_of("signed")}
    # New records are signed by the first key.
    resigned = SCHEMAS["signed"].encrypt(keyring, value_of("signed"))
    assert seal_of(resigned, "signature")[2:6] == ef.SigningKey.from_base64(OTHER_SEED).id
    assert rust.call(op="open_record", type="signed", vars=rotated, record=resigned) == {"ok": value_of("signed")}


def test_members_a_nested_type_does_not_declare_are_dropped_by_both(rust, producer, consumer):
    """Only the sealed type refuses unknown members; its nested types skip
    them, and the seal covers the record as the type writes it again."""
    wire = SCHEMAS["sealed"].encrypt(producer, value_of("sealed"))
    wire["holder"]["extra"] = "ignored"
    assert SCHEMAS["sealed"].decrypt(consumer, wire) == value_of("sealed")
    assert rust.call(op="open_record", type="sealed", vars=CONSUMER, record=wire) == {"ok": value_of("sealed")}


# --- signing and verifying keys in the environment -----------------------------


@pytest.mark.parametrize("vars", [
    {"ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS": ""},
    {"ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS": f"{SEED},"},
    {"ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS": SEED.rstrip("=")},
    {"ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS": b64(range(16))},
    {"ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS": f"{SEED},{OTHER_SEED},{OTHER_SEED}"},
    {"ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS": "\u00a0" + SEED},
    {"ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS": SEED, "ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS_FILE": "/nonexistent"},
    {"ENCRYPTED_FIELDS_SIGNING_KEY_AUDIT_FILE_FILE": "/nonexistent"},
    {"ENCRYPTED_FIELDS_SIGNING_KEY_records": SEED},
    {"ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS": f"{VERIFYING},{VERIFYING}"},
    {"ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS": b64(range(33))},
    {"ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS": b64(b"\x02" + bytes(31))},  # no point has y = 2
    {"ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS": ","},
])
def test_signature_key_loading_fails_the_same_way_in_both(rust, vars):
    answer = rust.call(op="load_env", vars=vars)
    with pytest.raises(ef.InvalidKey) as raised:
        ef.Keyring.from_vars(sorted(vars.items()))
    assert answer["error"]["kind"] == "invalid_key"
    assert str(raised.value) == answer["error"]["message"]
    assert raised.value.__context__ is None
    for value in vars.values():
        for key in value.split(","):
            if len(key) > 8:
                assert key.strip("\u00a0") not in str(raised.value)


def test_the_same_key_twice_in_one_variable_fails():
    """FORMAT.md 13.4: two keys with the same key id in one variable fail
    loading, the signing key itself included."""
    for value, n in [(f"{SEED},{OTHER_SEED},{SEED}", 3), (f"{SEED},{SEED}", 2)]:
        with pytest.raises(ef.InvalidKey) as raised:
            ef.Keyring.from_vars([("ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS", value)])
        assert str(raised.value) == ("invalid key configuration: ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS: "
                                     f"key {n}: signing key b66f4263 listed twice")


def test_a_key_in_two_variables_loads_in_either_order():
    vars = [("ENCRYPTED_FIELDS_SIGNING_KEY_RECORDS", SEED), ("ENCRYPTED_FIELDS_VERIFYING_KEY_RECORDS", VERIFYING)]
    for pairs in [vars, vars[::-1]]:
        keyring = ef.Keyring.from_vars(pairs)
        assert [k.id.hex() for k in keyring.verifying_keys("records")] == ["b66f4263"]
        keyring.require(["records"])


@pytest.mark.parametrize("seal,error", [("", ef.MalformedEnvelope), ("AQ", ef.MalformedEnvelope),
                                        ("Ag", ef.UnsupportedVersion), ("AgE", ef.UnsupportedVersion),
                                        ("AQI", ef.AuthenticationFailed), ("AQE", ef.MalformedEnvelope)])
def test_short_seals_fail_as_section_13_5_says(producer, seal, error):
    wire = SCHEMAS["sealed"].encrypt(producer, value_of("sealed"))
    with pytest.raises(error):
        SCHEMAS["sealed"].decrypt(producer, {**wire, "_seal": seal})


def test_signature_keys_load_as_rust_loads_them(rust, tmp_path):
    key_file = tmp_path / "records.key"
    key_file.write_text(f" {OTHER_SEED}\r\n,\t{SEED}\n")
    # Prefixes without a key type are not ours; non-canonical y (p + 3) is a point.
    odd_point = b64((2 ** 255 - 19 + 3).to_bytes(32, "little"))
    vars = {"ENCRYPTED_FIELDS_SIGNING_KEY_ORDERS_FILE": str(key_file),
            "ENCRYPTED_FIELDS_VERIFYING_KEY_EU_LEDGER": f"{VERIFYING}, {odd_point}",
            "ENCRYPTED_FIELDS_OTHER": "x"}
    assert "ok" in rust.call(op="load_env", vars=vars)
    keyring = ef.Keyring.from_env(vars)
    assert keyring.signing_key("orders").id == ef.SigningKey.from_base64(OTHER_SEED).id
    assert [k.id for k in keyring.verifying_keys("orders")] == [
        ef.SigningKey.from_base64(OTHER_SEED).id, ef.SigningKey.from_base64(SEED).id]
    assert len(keyring.verifying_keys("eu.ledger")) == 2 and keyring.signing_key("eu.ledger") is None
    assert keyring.key_set("orders") is None
    keyring.require(["orders", "eu-ledger"])
    with pytest.raises(ef.MissingAliases):
        keyring.require(["orders", "pii"])
    assert SEED not in repr(keyring) and "SigningKey(" in repr(keyring)


# --- record and position binding, in Python ------------------------------------


def test_legacy_unbound_opens_version_1_while_migrating(producer):
    unbound = ef.Schema("account", {"id": ef.Plain(int), "email": ef.Encrypted("pii")})
    bound = ef.Schema("account", unbound.fields, bind=["id"])
    migrating = ef.Schema("account", unbound.fields, bind=["id"], legacy_unbound=True)
    old = unbound.encrypt(producer, {"id": 7, "email": "ada@example.com"})
    with pytest.raises(ef.UnsupportedVersion):
        bound.decrypt(producer, old)
    assert migrating.decrypt(producer, old) == {"id": 7, "email": "ada@example.com"}
    # While it is so, a version-1 envelope can move between records.
    assert migrating.decrypt(producer, {**old, "id": 8})["email"] == "ada@example.com"
    new = migrating.encrypt(producer, {"id": 7, "email": "ada@example.com"})
    assert ef.inspect(new["email"])["version"] == 2
    assert bound.decrypt(producer, new) == migrating.decrypt(producer, new)
    with pytest.raises(ef.AuthenticationFailed):
        migrating.decrypt(producer, {**new, "id": 8})
    # legacy_unbound on an outer type reaches the envelopes of nested ones.
    outer = ef.Schema("tenant", {"tenantId": ef.Plain(str), "account": ef.Nested(unbound)}, bind=["tenantId"],
                      legacy_unbound=True)
    legacy = {"tenantId": "acme", "account": old}
    assert outer.decrypt(producer, legacy)["account"]["email"] == "ada@example.com"
    with pytest.raises(ef.UnsupportedVersion):
        ef.Schema("tenant", outer.fields, bind=["tenantId"]).decrypt(producer, legacy)


def test_the_record_holds_every_bound_type_outermost_first(producer):
    customer = ef.Schema("Customer", {"id": ef.Plain(int), "email": ef.Encrypted("pii")}, bind=["id"])
    tenant = ef.Schema("Tenant", {"customers": ef.Nested(ef.ListOf(customer)), "tenantId": ef.Plain(str)},
                       bind=["tenantId"])
    wire = tenant.encrypt(producer, {"customers": [{"id": 7, "email": "ada@example.com"}], "tenantId": "acme"})
    vector = V2["envelopes"][10]
    assert vector["description"] == "records of two nested types, outermost first"
    record = bytes.fromhex(vector["record_hex"])
    assert ef.decrypt_field(producer, "pii", "Customer", "email", wire["customers"][0]["email"],
                            record=record) == "ada@example.com"


def test_positions_follow_section_4_1(producer):
    """Map keys only under position binding; index steps only under bind_index,
    even without bind_positions; the first list reached is the indexed one."""
    leaf = ef.Schema("Leaf", {"secret": ef.Encrypted("pii")})
    item = ef.Schema("Item", {"tags": ef.Nested(ef.MapOf(leaf)), "rows": ef.Nested(ef.ListOf(leaf))})
    unpositioned = ef.Schema("Box", {"items": ef.Nested(ef.OptionOf(ef.ListOf(item)), bind_index=True),
                                     "byKey": ef.Nested(ef.MapOf(ef.ListOf(leaf)), bind_index=True),
                                     "plainList": ef.Nested(ef.ListOf(leaf))})
    positioned = ef.Schema("Box", unpositioned.fields, bind_positions=True)
    leaves = {"k": {"secret": "s1"}}
    value = {"items": [{"tags": {}, "rows": []}, {"tags": leaves, "rows": [{"secret": "s2"}]}],
             "byKey": {"m": [{"secret": "s3"}, {"secret": "s4"}]}, "plainList": [{"secret": "s5"}]}
    root = ef.Position.root("Box")
    expected = [
        (unpositioned, [(("items", 1, "tags", "k"), "s1", ef.Position().index(1).member("tags").key("k")),
                        (("items", 1, "rows", 0), "s2", ef.Position().index(1).member("rows")),
                        (("byKey", "m", 1), "s4", ef.Position().index(1)),
                        (("plainList", 0), "s5", ef.Position())]),
        (positioned, [(("items", 1, "tags", "k"), "s1", root.member("items").index(1).member("tags").key("k")),
                      (("items", 1, "rows", 0), "s2", root.member("items").index(1).member("rows")),
                      (("byKey", "m", 1), "s4", root.member("byKey").key("m")),
                      (("plainList", 0), "s5", root.member("plainList"))]),
    ]
    for schema, cases in expected:
        wire = schema.encrypt(producer, value)
        assert schema.decrypt(producer, json.dumps(wire)) == value
        for path, secret, position in cases:
            envelope = wire
            for step in path:
                envelope = envelope[step]
            envelope = envelope["secret"]
            assert ef.inspect(envelope)["version"] == (2 if position else 1)
            assert ef.decrypt_field(producer, "pii", "Leaf", "secret", envelope, position=position) == secret


def test_nested_sealed_records_are_covered_by_the_outer_seal(producer):
    child = ef.Schema("Child", {"id": ef.Plain(int), "note": ef.Encrypted("pii")}, seal="records")
    parent = ef.Schema("Parent", {"child": ef.Nested(child), "kids": ef.Nested(ef.MapOf(child)),
                                  "vault": ef.Nested(ef.OptionOf(child), key="vault")}, sign="records")
    value = {"child": {"id": 1, "note": "a"}, "kids": {"x": {"id": 2, "note": "b"}}, "vault": None}
    wire = parent.encrypt(producer, value)
    assert "_seal" in wire["child"] and wire["vault"] is None
    assert parent.decrypt(producer, wire) == value
    # The child's own seal is a member of the parent like any other.
    tampered = copy.deepcopy(wire)
    tampered["child"]["_seal"] = tampered["kids"]["x"]["_seal"]
    with pytest.raises(ef.AuthenticationFailed) as raised:
        parent.decrypt(producer, tampered)
    assert raised.value.context == "Parent"
    value["vault"] = {"id": 3, "note": "c"}
    assert parent.decrypt(producer, parent.encrypt(producer, value)) == value


def test_partial_decryption_keeps_what_the_keyring_cannot_open(rust, producer):
    wire = seal_in(rust, "rust", producer, "positions", value_of("positions"))
    no_banking = ef.Keyring.from_vars([(f"ENCRYPTED_FIELDS_KEY_{a}", AES[a]) for a in ["PII", "VAULT"]])
    partial, inaccessible = SCHEMAS["positions"].decrypt_partial(no_banking, wire)
    assert inaccessible == ["banking"]
    assert partial["sender"]["mailingAddress"] == "1 $ada Street"
    assert isinstance(partial["sender"]["bankAccount"], ef.Envelope)
    assert partial["witnesses"][2]["bankAccount"].text == wire["witnesses"][2]["bankAccount"]
    assert isinstance(partial["escrow"]["bankAccount"], ef.Envelope)
    no_vault = ef.Keyring.from_vars([(f"ENCRYPTED_FIELDS_KEY_{a}", AES[a]) for a in ["PII", "BANKING"]])
    partial, inaccessible = SCHEMAS["positions"].decrypt_partial(no_vault, wire)
    assert inaccessible == ["vault"] and partial["escrow"].text == wire["escrow"]
    with pytest.raises(ef.UnknownAlias):
        SCHEMAS["positions"].decrypt(no_vault, wire)
    # A seal it cannot check is taken unchecked and listed; one it can, is checked.
    sealed = seal_in(rust, "rust", producer, "sealed", value_of("sealed"))
    keyring = ef.Keyring.from_vars([(f"ENCRYPTED_FIELDS_KEY_{a}", AES[a]) for a in ["PII", "BANKING"]])
    assert SCHEMAS["sealed"].decrypt_partial(keyring, sealed) == (value_of("sealed"), ["records"])
    with pytest.raises(ef.AuthenticationFailed):
        SCHEMAS["sealed"].decrypt_partial(producer, {**sealed, "id": 8})


def test_schemas_refuse_what_the_derive_refuses():
    for declare in [
        lambda: ef.Schema("", {}),
        lambda: ef.Schema("T", {"a": ef.Encrypted("pii")}, bind=["a"]),
        lambda: ef.Schema("T", {"a": ef.Plain()}, bind=["b"]),
        lambda: ef.Schema("T", {"a": ef.Plain()}, legacy_unbound=True),
        lambda: ef.Schema("T", {"a": ef.Plain()}, seal="x", sign="y"),
        lambda: ef.Schema("T", {"a": ef.Plain()}, seal="x", seal_member="a"),
        lambda: ef.Schema("T", {"a": ef.Plain()}, seal="x", seal_member=""),
        lambda: ef.Schema("T", {"a": ef.Plain()}, seal="audit_file"),
        lambda: ef.Encrypted("PII"),
        lambda: ef.Plain(list),
    ]:
        with pytest.raises(ValueError):
            declare()
    with pytest.raises(TypeError):
        ef.Nested({"a": ef.Plain()})


def test_records_that_do_not_fit_are_refused_without_quoting_them(producer):
    schema = SCHEMAS["sealed"]
    for value in [{**value_of("sealed"), "extra": 1}, {k: v for k, v in value_of("sealed").items() if k != "id"},
                  {**value_of("sealed"), "id": "7"}, {**value_of("sealed"), "balance": "12"},
                  {**value_of("sealed"), "tags": {1: "a", "1": "b"}}, ["not", "a", "record"]]:
        with pytest.raises(ef.SerializeError) as raised:
            schema.encrypt(producer, value)
        assert "ada@example.com" not in str(raised.value)
    wire = schema.encrypt(producer, value_of("sealed"))
    for received, error in [({**wire, "email": 7}, ef.DeserializeError),
                            ({**wire, "email": None}, ef.DeserializeError),
                            ({**wire, "email": "not base64!"}, ef.MalformedEnvelope),
                            ({**wire, "_seal": 5}, ef.DeserializeError),
                            ({**wire, "_seal": "A" * 141}, ef.DeserializeError),
                            ('{"id": 7, "id": 7}', ef.DeserializeError), ("[1, 2", ef.DeserializeError)]:
        with pytest.raises(error) as raised:
            schema.decrypt(producer, received)
        assert raised.value.__context__ is None
    with pytest.raises(ef.DeserializeError):
        SCHEMAS["bound"].decrypt(producer, {**SCHEMAS["bound"].encrypt(producer, value_of("bound")), "id": -0.0})


def test_key_aliases_name_every_alias_a_type_needs():
    assert SCHEMAS["positions"].key_aliases == ["banking", "pii", "vault"]
    assert SCHEMAS["sealed"].key_aliases == ["banking", "pii", "records"]
    assert SCHEMAS["signed"].key_aliases == ["pii", "records"]
