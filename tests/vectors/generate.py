"""Writes tests/vectors/v1.json from docs/FORMAT.md alone.

An implementation independent of the Rust crate (Python `cryptography`'s
AESGCMSIV), with fixed nonces so the output is reproducible. The vectors
freeze format version 1: never change an existing vector; append new ones.

    python3 tests/vectors/generate.py > tests/vectors/v1.json
"""

import base64
import hashlib
import hmac
import json
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

VERSION = 0x01
KEY_ID_DOMAIN = b"encrypted-fields key id v1\x00"
NONCE_KEY_LABEL = b"encrypted-fields deterministic nonce key v1"


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(KEY_ID_DOMAIN + key).digest()[:4]


def aad(kid: bytes, alias: str, context: str, field: str) -> bytes:
    out = bytes([VERSION]) + kid
    for name in (alias, context, field):
        raw = name.encode("utf-8")
        out += struct.pack(">H", len(raw)) + raw
    return out


def plaintext(value) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def deterministic_nonce(key: bytes, ad: bytes, pt: bytes) -> bytes:
    nonce_key = hmac.new(key, NONCE_KEY_LABEL, hashlib.sha256).digest()
    return hmac.new(nonce_key, ad + pt, hashlib.sha256).digest()[:12]


def seal(key: bytes, nonce, alias: str, context: str, field: str, value) -> dict:
    """Seals `value`; `nonce` None means deterministic (section 3)."""
    kid = key_id(key)
    ad = aad(kid, alias, context, field)
    pt = plaintext(value)
    deterministic = nonce is None
    if deterministic:
        nonce = deterministic_nonce(key, ad, pt)
    ct_and_tag = AESGCMSIV(key).encrypt(nonce, pt, ad)
    envelope = bytes([VERSION]) + kid + nonce + ct_and_tag
    return {
        "key": base64.b64encode(key).decode(),
        "key_id": kid.hex(),
        "alias": alias,
        "context": context,
        "field": field,
        "value": value,
        "plaintext_hex": pt.hex(),
        "nonce_hex": nonce.hex(),
        "aad_hex": ad.hex(),
        "envelope": base64.urlsafe_b64encode(envelope).decode().rstrip("="),
        **({"deterministic": True} if deterministic else {}),
    }


KEY_128 = bytes(range(16))
KEY_256 = bytes(range(32))
KEY_256_B = hashlib.sha256(b"second key").digest()


def nonce(n: int) -> bytes:
    return bytes([n]) * 12


valid = [
    ("AES-256, string", seal(KEY_256, nonce(1), "pii", "Customer", "email", "ada@example.com")),
    ("AES-128, string", seal(KEY_128, nonce(2), "pii", "Customer", "email", "ada@example.com")),
    ("empty string", seal(KEY_256, nonce(3), "pii", "Customer", "nickname", "")),
    ("unicode and escapes", seal(KEY_256, nonce(4), "pii", "Customer", "name", "Zoë \"Z\" Ünal\n✓")),
    ("integer", seal(KEY_128, nonce(5), "banking", "Account", "balance_cents", -1234567890123)),
    ("object, sorted keys", seal(KEY_256_B, nonce(6), "banking", "Customer", "account",
                                {"holder": "Ada Lovelace", "iban": "DE89370400440532013000"})),
    ("array", seal(KEY_256, nonce(7), "eu.pii-v2", "customer.v1", "tags", ["a", "b", 3, True, None])),
    ("renamed field, context override", seal(KEY_256, nonce(8), "pii", "customer.v1", "homeAddress",
                                             {"city": "London", "line1": "12 St James's Sq", "zip": "SW1Y 4LB"})),
    ("enum variant field", seal(KEY_128, nonce(9), "banking", "Payment", "Card.number", "4111111111111111")),
    ("deterministic, AES-256", seal(KEY_256, None, "pii", "member", "email", "ada@example.com")),
    ("deterministic, AES-128", seal(KEY_128, None, "pii", "member", "email", "ada@example.com")),
    ("deterministic, other field", seal(KEY_256, None, "pii", "member", "backup_email", "ada@example.com")),
]

vectors = []
for description, v in valid:
    vectors.append({"description": description, "result": "ok", **v})


def broken(description, base, error, **changes):
    v = dict(base, **changes)
    vectors.append({"description": description, "result": error, **v})


base = valid[0][1]
raw = base64.urlsafe_b64decode(base["envelope"] + "==")


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


broken("wrong field in AAD", base, "authentication_failed", field="mail")
broken("wrong context in AAD", base, "authentication_failed", context="Client")
broken("wrong alias in AAD (same key)", base, "authentication_failed", alias="other")
broken("flipped ciphertext bit", base, "authentication_failed",
       envelope=b64u(raw[:20] + bytes([raw[20] ^ 1]) + raw[21:]))
broken("flipped tag bit", base, "authentication_failed", envelope=b64u(raw[:-1] + bytes([raw[-1] ^ 0x80])))
broken("unknown version", base, "unsupported_version", envelope=b64u(bytes([2]) + raw[1:]))
broken("shorter than header and tag", base, "malformed_envelope", envelope=b64u(raw[:32]))
broken("key id of a key not in the keyring", base, "unknown_key_id",
       envelope=b64u(raw[:1] + bytes.fromhex("00000000") + raw[5:]))

# --- appended later (FORMAT.md section 11); the entries above are unchanged ---

valid_later = [
    ("empty field name", seal(KEY_256, nonce(10), "pii", "Customer", "", "x")),
    ("control characters: U+0000-U+001F escaped, DEL and C1 raw",
     seal(KEY_256, None, "pii", "member", "note", "\u0000\u0008\u000b\u001f \u007f\u0085\u2028")),
]
for description, v in valid_later:
    vectors.append({"description": description, "result": "ok", **v})


def raw_plaintext(description, result, pt: bytes, value=None, n=11):
    """A plaintext no writer produces, sealed as it is: what readers do with it."""
    kid = key_id(KEY_256)
    ad = aad(kid, "pii", "Customer", "note")
    envelope = bytes([VERSION]) + kid + nonce(n) + AESGCMSIV(KEY_256).encrypt(nonce(n), pt, ad)
    vectors.append({
        "description": description,
        "result": result,
        "key": base64.b64encode(KEY_256).decode(),
        "key_id": kid.hex(),
        "alias": "pii",
        "context": "Customer",
        "field": "note",
        "value": value,
        "plaintext_hex": pt.hex(),
        "nonce_hex": nonce(n).hex(),
        "aad_hex": ad.hex(),
        "envelope": b64u(envelope),
        "raw_plaintext": True,
    })


raw_plaintext("whitespace around the JSON text", "ok", b' \t"ada"\r\n', "ada", 11)
raw_plaintext("duplicate member names: the last one counts", "ok", b'{"a":1,"a":2}', {"a": 2}, 12)
raw_plaintext("byte-order mark", "deserialize", b'\xef\xbb\xbf"ada"', None, 13)
raw_plaintext("lone surrogate escape", "deserialize", b'"\\ud800"', None, 14)
raw_plaintext("invalid UTF-8", "deserialize", b'"\xff"', None, 15)
raw_plaintext("number beyond binary64", "deserialize", b"1e400", None, 16)
raw_plaintext("NaN literal", "deserialize", b"NaN", None, 17)
raw_plaintext("data after the JSON text", "deserialize", b'"a" "b"', None, 18)

text = base["envelope"]
assert len(text) % 4 == 3  # 50 bytes: the last character carries 2 unused bits
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
last = alphabet.index(text[-1])
assert last | 1 != last
broken("unused trailing bits set in the text", base, "malformed_envelope",
       envelope=text[:-1] + alphabet[last | 1])
broken("text with padding", base, "malformed_envelope", envelope=text + "=")
broken("standard base64 alphabet in the text", base, "malformed_envelope",
       envelope=base64.b64encode(raw).decode().rstrip("=").replace("-", "+").replace("_", "/")
       if ("-" in text or "_" in text) else text + "+")
broken("empty text", base, "malformed_envelope", envelope="")

print(json.dumps({
    "format": "encrypted-fields envelope v1, docs/FORMAT.md",
    "note": "Generated by tests/vectors/generate.py; never edit or regenerate existing entries.",
    "vectors": vectors,
}, indent=2, ensure_ascii=False))
