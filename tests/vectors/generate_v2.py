"""Writes tests/vectors/v2.json from docs/FORMAT.md alone.

An implementation independent of the Rust crate, with Python `cryptography`
(AESGCMSIV, Ed25519) and the standard library (hmac, hashlib): envelope
format version 2 (FORMAT.md section 4.1, record and position binding), the
canonical encoding (section 13.2) and record seals and signatures (section
13). Nonces are fixed and Ed25519 is deterministic, so the output is
reproducible. Every expected result is also checked here by a reader written
from sections 7, 9 and 13.5. Never change an existing vector; append new ones.

    python3 tests/vectors/generate_v2.py > tests/vectors/v2.json
"""

import base64
import hashlib
import hmac
import json
import struct

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# --- section 2: key ids -----------------------------------------------------

KEY_ID_DOMAIN = b"encrypted-fields key id v1\x00"


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(KEY_ID_DOMAIN + key).digest()[:4]


# --- sections 4 and 4.1: associated data ------------------------------------


def u16(n: int) -> bytes:
    return struct.pack(">H", n)


def u32(n: int) -> bytes:
    return struct.pack(">I", n)


def u64(n: int) -> bytes:
    return struct.pack(">Q", n)


def record_bytes(record) -> bytes:
    """record: [{"context": ..., "fields": [[name, json_text], ...]}, ...],
    outermost type first."""
    out = b""
    for entry in record:
        context = entry["context"].encode("utf-8")
        out += u16(len(context)) + context + u16(len(entry["fields"]))
        for name, json_text in entry["fields"]:
            name, json_text = name.encode("utf-8"), json_text.encode("utf-8")
            out += u16(len(name)) + name + u32(len(json_text)) + json_text
    return out


STEP_KINDS = {"root": 0x00, "member": 0x01, "key": 0x02, "index": 0x03}


def position_bytes(position) -> bytes:
    """position: [["root", context], ["member", name], ["key", key], ["index", n], ...]."""
    out = b""
    for kind, arg in position:
        out += bytes([STEP_KINDS[kind]])
        if kind == "index":
            out += u64(arg)
        else:
            raw = arg.encode("utf-8")
            out += u32(len(raw)) + raw
    return out


def aad(version: int, kid: bytes, alias: str, context: str, field: str,
        position: bytes = b"", record: bytes = b"") -> bytes:
    out = bytes([version]) + kid
    for name in (alias, context, field):
        raw = name.encode("utf-8")
        out += u16(len(raw)) + raw
    if version == 2:
        out += u32(len(position)) + position + u32(len(record)) + record
    return out


# --- sections 5 and 6 ------------------------------------------------------


def plaintext(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64u(text: str) -> bytes:
    """Strict base64url without padding (section 6)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(text) % 4 == 1 or any(c not in alphabet for c in text):
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64u(raw) != text:
        raise ValueError("unused trailing bits")
    return raw


def std_b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


# --- keys and fixed inputs -------------------------------------------------

KEY_128 = bytes(range(16))
KEY_256 = bytes(range(32))
RECORDS_KEY = hashlib.sha256(b"encrypted-fields v2 vectors: records key").digest()
RECORDS_KEY_OLD = hashlib.sha256(b"encrypted-fields v2 vectors: old records key").digest()
SEED_A = hashlib.sha256(b"encrypted-fields v2 vectors: signing seed A").digest()
SEED_B = hashlib.sha256(b"encrypted-fields v2 vectors: signing seed B").digest()


def nonce(n: int) -> bytes:
    return bytes([n]) * 12


# --- envelopes (sections 3, 4, 4.1) ----------------------------------------


def binding_doc(record, position) -> dict:
    return {
        "record": record,
        "record_hex": record_bytes(record).hex(),
        "position": position,
        "position_hex": position_bytes(position).hex(),
    }


def seal_envelope(key: bytes, n: int, alias: str, context: str, field: str, value,
                  record=(), position=()) -> dict:
    record, position = list(record), list(position)
    rec, pos = record_bytes(record), position_bytes(position)
    version = 2 if rec or pos else 1
    kid = key_id(key)
    ad = aad(version, kid, alias, context, field, pos, rec)
    pt = plaintext(value)
    envelope = bytes([version]) + kid + nonce(n) + AESGCMSIV(key).encrypt(nonce(n), pt, ad)
    return {
        "version": version,
        "key": std_b64(key),
        "key_id": kid.hex(),
        "alias": alias,
        "context": context,
        "field": field,
        **binding_doc(record, position),
        "value": value,
        "plaintext_hex": pt.hex(),
        "nonce_hex": nonce(n).hex(),
        "aad_hex": ad.hex(),
        "envelope": b64u(envelope),
    }


def open_envelope(text: str, key: bytes, alias: str, context: str, field: str,
                  record: bytes, position: bytes, legacy_unbound: bool):
    """Section 7 with the version rules of section 9: (result kind, value)."""
    try:
        raw = unb64u(text)
    except ValueError:
        return "malformed_envelope", None
    if not raw:
        return "malformed_envelope", None
    if raw[0] not in (1, 2):
        return "unsupported_version", None
    if len(raw) < 33:
        return "malformed_envelope", None
    expected = 2 if record or position else 1
    if raw[0] != expected and not (raw[0] == 1 and legacy_unbound):
        return "unsupported_version", None
    if raw[1:5] != key_id(key):
        return "unknown_key_id", None
    ad = aad(raw[0], raw[1:5], alias, context, field, position, record)
    try:
        pt = AESGCMSIV(key).decrypt(raw[5:17], raw[17:], ad)
    except InvalidTag:
        return "authentication_failed", None
    return "ok", json.loads(pt.decode("utf-8"))


envelopes = []


def ok(description: str, vector: dict) -> dict:
    entry = {"description": description, "result": "ok", **vector}
    kind, value = open_envelope(
        entry["envelope"], base64.b64decode(entry["key"]), entry["alias"], entry["context"],
        entry["field"], bytes.fromhex(entry["record_hex"]), bytes.fromhex(entry["position_hex"]),
        False)
    assert (kind, value) == ("ok", entry["value"]), description
    envelopes.append(entry)
    return entry


def opened_with(description: str, base: dict, result: str, record=None, position=None,
                legacy_unbound=False, envelope=None) -> None:
    """`base` (its envelope, or `envelope`) opened under the same alias,
    context and field but the reader's own record and position."""
    record = base["record"] if record is None else record
    position = base["position"] if position is None else position
    entry = {
        "description": description,
        "result": result,
        **{k: v for k, v in base.items() if k not in ("description", "result")},
        "open_with": {**binding_doc(record, position), "legacy_unbound": legacy_unbound},
    }
    if envelope is not None:
        entry["envelope"] = envelope
    key = base64.b64decode(base["key"])
    kind, _ = open_envelope(entry["envelope"], key, base["alias"], base["context"],
                            base["field"], record_bytes(record), position_bytes(position),
                            legacy_unbound)
    assert kind == result, (description, kind)
    envelopes.append(entry)


CUSTOMER_7 = [{"context": "Customer", "fields": [["id", "7"]]}]
TX = [["root", "transaction"]]
TX_7 = [{"context": "transaction", "fields": [["id", "7"]]}]

record_only = ok("record only", seal_envelope(
    KEY_256, 0x21, "pii", "Customer", "email", "ada@example.com", record=CUSTOMER_7))
ok("record only: two bound fields, a string and a null", seal_envelope(
    KEY_256, 0x22, "pii", "Account", "iban", "DE89370400440532013000",
    record=[{"context": "Account", "fields": [["tenant", "\"acme\""], ["externalId", "null"]]}]))
root_only = ok("position only: a field of the type that starts position binding", seal_envelope(
    KEY_256, 0x23, "pii", "transaction", "memo", "rent", position=TX))
member = ok("position only: a nested field (member step)", seal_envelope(
    KEY_128, 0x24, "banking", "CashUser", "bankAccount", "acct-$ada",
    position=TX + [["member", "sender"]]))
member_2 = ok("position only: another field of the same nested value", seal_envelope(
    KEY_256, 0x2f, "us_address", "CashUser", "mailingAddress", "1 $ada Street",
    position=TX + [["member", "sender"]]))
map_key = ok("position only: a map value (key step)", seal_envelope(
    KEY_256, 0x25, "pii", "CashUser", "mailingAddress", "1 $aud Street",
    position=TX + [["member", "byRole"], ["key", "auditor"]]))
index = ok("position only: a list element (index step, bind_index)", seal_envelope(
    KEY_128, 0x26, "banking", "CashUser", "bankAccount", "acct-$w2",
    position=TX + [["member", "witnesses"], ["index", 1]]))
ok("position only: a number map key and an index above 255", seal_envelope(
    KEY_256, 0x27, "pii", "Line", "text", "coffee",
    position=[["root", "Ledger"], ["member", "entries"], ["key", "42"], ["member", "lines"],
              ["index", 258]]))
ok("position only: a nested field of an enum variant", seal_envelope(
    KEY_256, 0x28, "pii", "Holder", "name", "Ada Lovelace",
    position=[["root", "Payment"], ["member", "Card.holder"]]))
both = ok("record and position", seal_envelope(
    KEY_128, 0x29, "banking", "CashUser", "bankAccount", "acct-$w1",
    record=TX_7, position=TX + [["member", "witnesses"], ["index", 0]]))
two_types = ok("records of two nested types, outermost first", seal_envelope(
    KEY_256, 0x2a, "pii", "Customer", "email", "ada@example.com",
    record=[{"context": "Tenant", "fields": [["tenantId", "\"acme\""]]}] + CUSTOMER_7))
ok("records of two nested types and a position", seal_envelope(
    KEY_256, 0x2b, "pii", "Customer", "email", "grace@example.com",
    record=[{"context": "Tenant", "fields": [["tenantId", "\"acme\""]]}] + CUSTOMER_7,
    position=[["root", "Tenant"], ["member", "customers"], ["index", 2]]))
ok("non-ASCII names and values", seal_envelope(
    KEY_256, 0x2c, "pii", "Adresse", "straße", "Bahnhofstraße 1",
    record=[{"context": "Kunde", "fields": [["kundenNr", "\"K-ü-1\""]]}],
    position=[["root", "Kunde"], ["member", "adressen"], ["key", "zürich"]]))
ok("nested and sealed whole: the outer envelope at the parent's position", seal_envelope(
    KEY_256, 0x2d, "pii", "transaction", "sender",
    {"cashTag": "$ada", "mailingAddress": member_2["envelope"], "bankAccount": member["envelope"]},
    position=TX))
legacy = ok("version 1: the same field sealed before binding was declared", seal_envelope(
    KEY_256, 0x2e, "pii", "Customer", "email", "ada@example.com"))
ssn = ok("position only: another field at the root", seal_envelope(
    KEY_256, 0x30, "pii", "transaction", "ssn", "078-05-1120", position=TX))

raw = unb64u(record_only["envelope"])
opened_with("another record (id 8)", record_only, "authentication_failed",
            record=[{"context": "Customer", "fields": [["id", "8"]]}])
opened_with("another JSON text of the bound value (\"7\", a string)", record_only,
            "authentication_failed",
            record=[{"context": "Customer", "fields": [["id", "\"7\""]]}])
opened_with("another position (member receiver)", member, "authentication_failed",
            position=TX + [["member", "receiver"]])
opened_with("another map key", map_key, "authentication_failed",
            position=TX + [["member", "byRole"], ["key", "notary"]])
opened_with("another index (list reordered)", index, "authentication_failed",
            position=TX + [["member", "witnesses"], ["index", 0]])
opened_with("another root context", root_only, "authentication_failed",
            position=[["root", "Transaction"]])
opened_with("record without the position", both, "authentication_failed", position=[])
opened_with("records in the other order", two_types, "authentication_failed",
            record=CUSTOMER_7 + [{"context": "Tenant", "fields": [["tenantId", "\"acme\""]]}])
opened_with("version 2 under a binding without record or position", record_only,
            "unsupported_version", record=[], position=[])
opened_with("version 2 with legacy_unbound: still opens", record_only, "ok",
            legacy_unbound=True)
opened_with("version byte changed to 01, scoped binding", record_only, "unsupported_version",
            envelope=b64u(b"\x01" + raw[1:]))
opened_with("version byte changed to 01, scoped binding with legacy_unbound", record_only,
            "authentication_failed", legacy_unbound=True, envelope=b64u(b"\x01" + raw[1:]))
opened_with("version byte changed to 03", record_only, "unsupported_version",
            envelope=b64u(b"\x03" + raw[1:]))
opened_with("version 1 under a scoped binding", legacy, "unsupported_version",
            record=CUSTOMER_7)
opened_with("version 1 under a scoped binding with legacy_unbound", legacy, "ok",
            record=CUSTOMER_7, legacy_unbound=True)
opened_with("version 1 under a position binding with legacy_unbound", legacy, "ok",
            position=[["root", "Customer"]], legacy_unbound=True)

# --- section 13.2: the canonical encoding ----------------------------------


def canonical(value) -> bytes:
    if value is None:
        return b"\x00"
    if value is False:
        return b"\x01"
    if value is True:
        return b"\x02"
    if isinstance(value, int):
        digits = str(value).encode("ascii")
        return b"\x03" + u32(len(digits)) + digits
    if isinstance(value, float):
        assert value == value and value not in (float("inf"), float("-inf"))
        return b"\x04" + struct.pack(">d", value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return b"\x05" + u32(len(raw)) + raw
    if isinstance(value, list):
        return b"\x06" + u32(len(value)) + b"".join(canonical(v) for v in value)
    if isinstance(value, dict):
        members = sorted((name.encode("utf-8"), v) for name, v in value.items())
        out = b"\x07" + u32(len(members))
        for name, v in members:
            out += u32(len(name)) + name + canonical(v)
        return out
    raise TypeError(type(value))


def no_duplicates(pairs):
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError("duplicate member name")
    return dict(pairs)


def parse(text: str):
    """JSON text as section 13.2 reads it: a number with a fraction or an
    exponent is a float, any other number an integer."""
    return json.loads(text, object_pairs_hook=no_duplicates)


def record_canonical(record, member: str) -> bytes:
    if isinstance(record, dict):
        record = {name: v for name, v in record.items() if name != member}
    return canonical(record)


canonicals = []


def canon(description: str, text: str, member: str = "_seal", note: str = None) -> None:
    value = parse(text)
    entry = {
        "description": description,
        "json": text,
        "value": value,
        "member": member,
        "canonical_hex": record_canonical(value, member).hex(),
    }
    if note:
        entry["note"] = note
    canonicals.append(entry)


canon("null", "null")
canon("false", "false")
canon("true", "true")
canon("integer zero", "0")
canon("negative integer", "-42")
canon("integer beyond 64 bits", "12345678901234567890123",
      note="as a field of an integer type that holds it (u128, i128); a generic JSON "
           "value (serde_json::Value) holds it as a float and is written as one")
canon("largest u128", "340282366920938463463374607431768211455",
      note="as a u128 field")
canon("float 1.5", "1.5")
canon("float -0.0 keeps its sign", "-0.0")
canon("float 1e300", "1e300")
canon("float 0.1 (nearest binary64)", "0.1")
canon("float written with a whole value", "2.0")
canon("string with escapes", "\"a\\\"b\\\\c\\n\\u0001\\u00e9\"")
canon("string, non-ASCII and a surrogate pair escape", "\"Grüße \\ud83d\\ude00 €\"")
canon("empty string", "\"\"")
canon("array of mixed values", "[1,\"x\",[true],{},null,-0.5]")
canon("empty array", "[]")
canon("empty object", "{}")
canon("members sorted by UTF-8 bytes, at every level",
      "{\"b\":1,\"a\":{\"z\":null,\"y\":[]},\"B\":2,\"\u00e9\":3,\"aa\":4,\"\":5}")
canon("byte order, not UTF-16 order: U+FF61 before U+1F600",
      "{\"\U0001F600\":1,\"\uff61\":2}")
canon("the top-level seal member is left out", "{\"_seal\":\"AQE\",\"b\":1,\"a\":2}")
canon("a seal member in a nested object is kept",
      "{\"child\":{\"_seal\":\"AQE\",\"x\":1},\"_seal\":\"AQE\"}")
canon("another seal member name", "{\"sig\":\"AQI\",\"_seal\":true}", member="sig")
canon("a top-level array: nothing is left out", "[{\"_seal\":1}]")
canon("the worked example of section 13.2",
      "{\"b\":[true,null],\"a\":\"é\",\"_seal\":\"AQE\",\"n\":-5,\"x\":1.5}")

# --- sections 13.1, 13.3, 13.4: record seals --------------------------------

SEAL_KEY_LABEL = b"encrypted-fields record seal key v1"
MAC_DOMAIN = b"encrypted-fields record seal v1"
SIGNATURE_DOMAIN = b"encrypted-fields record signature v1"
VERIFYING_KEY_ID_DOMAIN = b"encrypted-fields verifying key id v1\x00"
KINDS = {"mac": 0x01, "signature": 0x02}


def public_key(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw)


def verifying_key_id(public: bytes) -> bytes:
    return hashlib.sha256(VERIFYING_KEY_ID_DOMAIN + public).digest()[:4]


def message(kind: str, alias: str, context: str, canonical_bytes: bytes) -> bytes:
    out = MAC_DOMAIN if kind == "mac" else SIGNATURE_DOMAIN
    for name in (alias, context):
        raw = name.encode("utf-8")
        out += u16(len(raw)) + raw
    return out + canonical_bytes


def make_seal(kind: str, secret: bytes, alias: str, context: str, member: str, record: dict):
    """secret: the alias's AES key (mac) or the signing seed (signature)."""
    msg = message(kind, alias, context, record_canonical(record, member))
    if kind == "mac":
        seal_key = hmac.new(secret, SEAL_KEY_LABEL, hashlib.sha256).digest()
        kid = key_id(secret)
        tag = hmac.new(seal_key, msg, hashlib.sha256).digest()
    else:
        kid = verifying_key_id(public_key(secret))
        tag = Ed25519PrivateKey.from_private_bytes(secret).sign(msg)
    return bytes([0x01, KINDS[kind]]) + kid + tag, msg


def verify_seal(record: dict, declared, kind: str, alias: str, context: str, member: str,
                key: bytes = None, verifying_key: bytes = None) -> str:
    """Section 13.5: the result a reader of the type gets."""
    if any(name not in declared and name != member for name in record):
        return "unknown_member"
    text = record.get(member)
    if text is None:
        return "authentication_failed"
    seal = unb64u(text)
    if not seal:
        return "malformed_envelope"
    if seal[0] != 0x01 or len(seal) == 1:
        return "unsupported_version"
    if seal[1] != KINDS[kind]:
        return "authentication_failed"
    if len(seal) != 2 + 4 + (32 if kind == "mac" else 64):
        return "malformed_envelope"
    kid, tag = seal[2:6], seal[6:]
    msg = message(kind, alias, context, record_canonical(record, member))
    if kind == "mac":
        if kid != key_id(key):
            return "unknown_key_id"
        seal_key = hmac.new(key, SEAL_KEY_LABEL, hashlib.sha256).digest()
        good = hmac.compare_digest(hmac.new(seal_key, msg, hashlib.sha256).digest(), tag)
        return "ok" if good else "authentication_failed"
    if kid != verifying_key_id(verifying_key):
        return "unknown_key_id"
    try:
        Ed25519PublicKey.from_public_bytes(verifying_key).verify(tag, msg)
    except InvalidSignature:
        return "authentication_failed"
    return "ok"


seals = []


def sealed_record(description: str, kind: str, secret: bytes, alias: str, context: str,
                  record: dict, member: str = "_seal") -> dict:
    seal, msg = make_seal(kind, secret, alias, context, member, record)
    sent = {**record, member: b64u(seal)}
    if kind == "mac":
        keys = {"key": std_b64(secret), "key_id": key_id(secret).hex()}
    else:
        keys = {
            "signing_seed": std_b64(secret),
            "verifying_key": std_b64(public_key(secret)),
            "key_id": verifying_key_id(public_key(secret)).hex(),
        }
    entry = {
        "description": description,
        "result": "ok",
        "kind": kind,
        "alias": alias,
        "context": context,
        "member": member,
        **keys,
        "record": sent,
        "canonical_hex": record_canonical(record, member).hex(),
        "message_hex": msg.hex(),
        "seal": b64u(seal),
    }
    check(entry)
    seals.append(entry)
    return entry


def check(entry: dict) -> None:
    reader = {**entry, **entry.get("open_with", {})}
    declared = set(entry.get("sealed_record", entry["record"]))
    result = verify_seal(
        entry["record"], declared, reader["kind"], reader["alias"], reader["context"],
        entry["member"],
        key=base64.b64decode(reader["key"]) if "key" in reader else None,
        verifying_key=(base64.b64decode(reader["verifying_key"])
                       if "verifying_key" in reader else None))
    assert result == entry["result"], (entry["description"], result)


def tampered(description: str, base: dict, result: str, record: dict = None,
             **open_with) -> None:
    entry = {**base, "description": description, "result": result}
    if record is not None:
        entry["record"] = record
        entry["sealed_record"] = base["record"]
    if open_with:
        entry["open_with"] = open_with
    check(entry)
    seals.append(entry)


transaction = {
    "id": 7,
    "sender": {
        "cashTag": "$ada",
        "mailingAddress": member_2["envelope"],
        "bankAccount": member["envelope"],
    },
    "amountCents": 125000,
    "witnesses": [],
    "byRole": {},
    "memo": root_only["envelope"],
    "ssn": ssn["envelope"],
}
mac = sealed_record("MAC over a record with envelopes in place", "mac", RECORDS_KEY,
                    "records", "transaction", transaction)
sealed_record("MAC, AES-128 key, another member name", "mac", KEY_128, "banking", "Account",
              {"accountNo": "000123", "iban": record_only["envelope"], "balanceCents": -250},
              member="sig")
order = {"id": "o-1", "total": 12.5, "rate": -0.0, "huge": 1e300, "note": "Grüße 😀",
         "items": [{"sku": "ä-1", "qty": 2, "extra": None}, {"sku": "b", "qty": 1}],
         "flags": {"paid": True, "shipped": False}, "email": two_types["envelope"]}
signed = sealed_record("signature over a record with floats, nested objects, non-ASCII",
                       "signature", SEED_A, "orders", "Order", order)
sealed_record("signature, another signing key", "signature", SEED_B, "orders", "Order",
              {"id": "o-2", "total": 3.0, "items": [], "note": "", "email": None})

reordered = {name: mac["record"][name] for name in sorted(mac["record"], reverse=True)}
tampered("members in another order: the same seal", mac, "ok", record=reordered)
tampered("a member changed", mac, "authentication_failed",
         record={**mac["record"], "amountCents": 125001})
tampered("a member nulled", mac, "authentication_failed", record={**mac["record"], "memo": None})
tampered("a member removed", mac, "authentication_failed",
         record={k: v for k, v in mac["record"].items() if k != "memo"})
tampered("a member added", mac, "unknown_member", record={**mac["record"], "admin": True})
swapped_sender = dict(transaction["sender"])
swapped_sender["mailingAddress"], swapped_sender["bankAccount"] = (
    swapped_sender["bankAccount"], swapped_sender["mailingAddress"])
tampered("two envelopes swapped", mac, "authentication_failed",
         record={**mac["record"], "sender": swapped_sender})
tampered("the seal member missing", mac, "authentication_failed",
         record={k: v for k, v in mac["record"].items() if k != "_seal"})
tampered("the seal member null", mac, "authentication_failed",
         record={**mac["record"], "_seal": None})
old_seal, _ = make_seal("mac", RECORDS_KEY_OLD, "records", "transaction", "_seal", transaction)
tampered("sealed under a key the reader does not hold", mac, "unknown_key_id",
         record={**mac["record"], "_seal": b64u(old_seal)})
seal_raw = unb64u(mac["seal"])
tampered("seal version 02", mac, "unsupported_version",
         record={**mac["record"], "_seal": b64u(b"\x02" + seal_raw[1:])})
tampered("seal truncated by one byte", mac, "malformed_envelope",
         record={**mac["record"], "_seal": b64u(seal_raw[:-1])})
tampered("MAC read by a type that declares a signature", mac, "authentication_failed",
         kind="signature", verifying_key=signed["verifying_key"])
tampered("another context", mac, "authentication_failed", context="Transaction")
tampered("another alias, same key", mac, "authentication_failed", alias="ledger")
tampered("signature: a member changed", signed, "authentication_failed",
         record={**signed["record"], "total": 12.25})
tampered("signature: a nested member changed", signed, "authentication_failed",
         record={**signed["record"],
                 "items": [signed["record"]["items"][0], {"sku": "b", "qty": 3}]})
tampered("signature: an array element removed", signed, "authentication_failed",
         record={**signed["record"], "items": signed["record"]["items"][:1]})
tampered("signature: the reader holds another verifying key", signed, "unknown_key_id",
         verifying_key=std_b64(public_key(SEED_B)))
tampered("signature read by a type that declares a MAC", signed, "authentication_failed",
         kind="mac", key=std_b64(RECORDS_KEY))

print(json.dumps({
    "format": "encrypted-fields envelope v2, canonical encoding and record seals, docs/FORMAT.md",
    "note": "Generated by tests/vectors/generate_v2.py; never edit or regenerate existing entries.",
    "envelopes": envelopes,
    "canonical": canonicals,
    "seals": seals,
}, indent=2, ensure_ascii=False))
