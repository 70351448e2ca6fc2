"""Writes tests/vectors/bytes.json from docs/FORMAT.md alone.

Envelope format versions 3 and 4 (FORMAT.md section 5.1: a byte string's
bytes as the plaintext), written with Python `cryptography` (AESGCMSIV) and
the standard library, independently of the Rust crate. Nonces are fixed (or
derived, section 3), so the output is reproducible. Every expected result is
checked here by a reader written from sections 7 and 9. Never change an
existing vector; append new ones.

    python3 tests/vectors/generate_bytes.py > tests/vectors/bytes.json
"""

import base64
import hashlib
import hmac
import json
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

KEY = bytes(range(32))  # the key of section 8
KEY_128 = bytes(range(16))
NONCE_KEY_LABEL = b"encrypted-fields deterministic nonce key v1"
STEP_KINDS = {"root": 0x00, "member": 0x01, "key": 0x02, "index": 0x03}


def key_id(key: bytes) -> bytes:
    """Section 2."""
    return hashlib.sha256(b"encrypted-fields key id v1\x00" + key).digest()[:4]


def record_bytes(record) -> bytes:
    """Section 4.1: [{"context": ..., "fields": [[name, json_text], ...]}, ...]."""
    out = b""
    for entry in record:
        context = entry["context"].encode()
        out += struct.pack(">H", len(context)) + context + struct.pack(">H", len(entry["fields"]))
        for name, text in entry["fields"]:
            name, text = name.encode(), text.encode()
            out += struct.pack(">H", len(name)) + name + struct.pack(">I", len(text)) + text
    return out


def position_bytes(position) -> bytes:
    """Section 4.1: [["root", context], ["member", name], ["index", n], ...]."""
    out = b""
    for kind, arg in position:
        out += bytes([STEP_KINDS[kind]])
        if kind == "index":
            out += struct.pack(">Q", arg)
        else:
            raw = arg.encode()
            out += struct.pack(">I", len(raw)) + raw
    return out


def aad(version: int, kid: bytes, alias: str, context: str, field: str,
        position: bytes, record: bytes) -> bytes:
    """Sections 4 and 4.1; versions 3 and 4 as 1 and 2 with their own first byte."""
    out = bytes([version]) + kid
    for name in (alias, context, field):
        raw = name.encode()
        out += struct.pack(">H", len(raw)) + raw
    if version in (2, 4):
        out += struct.pack(">I", len(position)) + position + struct.pack(">I", len(record)) + record
    return out


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unb64u(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert b64u(raw) == text
    return raw


def seal(key: bytes, alias: str, context: str, field: str, plaintext: bytes, n=None,
         record=(), position=(), version=None) -> dict:
    """A byte string sealed as section 5.1 says: version 3, or 4 when bound.
    `n` fixes the nonce to `n` repeated; without it the nonce is deterministic
    (section 3). `version` forces another version (for the relabelled vectors)."""
    record, position = list(record), list(position)
    rec, pos = record_bytes(record), position_bytes(position)
    version = version or (4 if rec or pos else 3)
    kid = key_id(key)
    ad = aad(version, kid, alias, context, field, pos, rec)
    if n is None:
        nonce_key = hmac.new(key, NONCE_KEY_LABEL, "sha256").digest()
        nonce = hmac.new(nonce_key, ad + plaintext, "sha256").digest()[:12]
    else:
        nonce = bytes([n]) * 12
    envelope = bytes([version]) + kid + nonce + AESGCMSIV(key).encrypt(nonce, plaintext, ad)
    vector = {
        "version": version,
        "key": base64.b64encode(key).decode(),
        "key_id": kid.hex(),
        "alias": alias,
        "context": context,
        "field": field,
        "record": record,
        "record_hex": rec.hex(),
        "position": position,
        "position_hex": pos.hex(),
        "plaintext_hex": plaintext.hex(),
        "nonce_hex": nonce.hex(),
        "aad_hex": ad.hex(),
        "envelope": b64u(envelope),
    }
    if n is None:
        vector["deterministic"] = True
    return vector


def open_envelope(vector: dict):
    """Sections 7 and 9, as the reader of `open_with` (or of the vector's own
    binding) sees it: (result kind, plaintext hex or None)."""
    reader = {**vector, **vector.get("open_with", {})}
    key = base64.b64decode(reader["key"])
    raw = unb64u(reader["envelope"])
    if not raw or raw[0] not in (1, 2, 3, 4):
        return "unsupported_version", None
    rec, pos = bytes.fromhex(reader["record_hex"]), bytes.fromhex(reader["position_hex"])
    scoped = raw[0] in (2, 4)
    if scoped != bool(rec or pos) and not (not scoped and reader.get("legacy_unbound")):
        return "unsupported_version", None
    if not scoped:
        rec = pos = b""
    if raw[1:5] != key_id(key):
        return "unknown_key_id", None
    ad = aad(raw[0], raw[1:5], reader["alias"], reader["context"], reader["field"], pos, rec)
    try:
        plaintext = AESGCMSIV(key).decrypt(raw[5:17], raw[17:], ad)
    except InvalidTag:
        return "authentication_failed", None
    if raw[0] in (1, 2):
        return "ok", json.loads(plaintext)
    return "ok", plaintext.hex()


vectors = []


def add(description: str, result: str, vector: dict, **changes) -> dict:
    entry = {**vector, "description": description, "result": result, **changes}
    kind, opened = open_envelope(entry)
    assert kind == result, (description, kind)
    if result == "ok" and "open_with" not in entry:
        assert opened == entry["plaintext_hex"], description
    vectors.append(entry)
    return entry


def relabel(vector: dict, version: int) -> str:
    raw = unb64u(vector["envelope"])
    return b64u(bytes([version]) + raw[1:])


RECORD = [{"context": "Document", "fields": [["id", "7"]]}]
POSITION = [["root", "Folder"], ["member", "documents"], ["index", 2]]

example = add("the worked example of section 5.1", "ok",
              seal(KEY, "pii", "Customer", "email", bytes.fromhex("00ff10"), n=2))
add("an empty byte string", "ok", seal(KEY, "pii", "Customer", "email", b"", n=3))
add("every byte value, AES-128", "ok",
    seal(KEY_128, "blobs", "Document", "scan", bytes(range(256)), n=4))
add("bytes that read as JSON text stay bytes", "ok",
    seal(KEY, "pii", "Customer", "email", b'"ada@example.com"', n=5))
deterministic = add("deterministic: the nonce of section 3 over the version-3 AAD", "ok",
                    seal(KEY, "pii", "Customer", "fingerprint", bytes.fromhex("deadbeef")))
bound = add("version 4: a record and a position", "ok",
            seal(KEY, "blobs", "Document", "scan", b"\x89PNG\r\n\x1a\n", n=6,
                 record=RECORD, position=POSITION))
add("version 3 relabelled as version 1 (the JSON text [1] would not open either)",
    "authentication_failed", seal(KEY, "pii", "Customer", "email", b"[1]", n=7),
    envelope=relabel(seal(KEY, "pii", "Customer", "email", b"[1]", n=7), 1))
add("version 1 relabelled as version 3", "authentication_failed",
    seal(KEY, "pii", "Customer", "email", b"[1]", n=8, version=1),
    envelope=relabel(seal(KEY, "pii", "Customer", "email", b"[1]", n=8, version=1), 3))
add("version 4 relabelled as version 2", "authentication_failed", bound,
    envelope=relabel(bound, 2))
add("version 4 where the reader's binding has no record or position",
    "unsupported_version", bound,
    open_with={"record": [], "record_hex": "", "position": [], "position_hex": ""})
add("version 3 where the reader's binding has a record", "unsupported_version", example,
    open_with={"record": RECORD, "record_hex": record_bytes(RECORD).hex(),
               "position": [], "position_hex": ""})
add("version 3 opened under a record by a legacy_unbound type", "ok", example,
    open_with={"record": RECORD, "record_hex": record_bytes(RECORD).hex(),
               "position": [], "position_hex": "", "legacy_unbound": True})
add("version 4 moved to another record", "authentication_failed", bound,
    open_with={"record": [{"context": "Document", "fields": [["id", "8"]]}],
               "record_hex": record_bytes([{"context": "Document", "fields": [["id", "8"]]}]).hex(),
               "position": POSITION, "position_hex": position_bytes(POSITION).hex()})
add("moved to another field", "authentication_failed", deterministic,
    open_with={"field": "email"})
tag_flipped = unb64u(example["envelope"])
add("tag altered", "authentication_failed", example,
    envelope=b64u(tag_flipped[:-1] + bytes([tag_flipped[-1] ^ 1])))
add("version 5", "unsupported_version", example, envelope=relabel(example, 5))

print(json.dumps({
    "format": "encrypted-fields envelope versions 3 and 4 (byte strings), docs/FORMAT.md section 5.1",
    "note": "Generated by tests/vectors/generate_bytes.py; never edit or regenerate existing entries.",
    "vectors": vectors,
}, indent=2))
