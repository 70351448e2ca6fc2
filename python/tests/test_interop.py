"""The Python twin against the golden vectors and against the Rust crate, both ways."""

import base64
import os

import pytest
from Crypto.Cipher import AES
from Crypto.Util.Padding import pad

import encrypted_fields as ef
from encrypted_fields import _envelope

KEY_128 = base64.b64encode(bytes(range(16))).decode()
KEY_256 = base64.b64encode(bytes(range(32))).decode()
KEY_256_B = base64.b64encode(bytes(range(100, 132))).decode()

VALUES = [
    "ada@example.com",
    "",
    "Zoë \"Z\" Ünal\n✓ \u0000 \u2028",
    0,
    -9007199254740993,
    1.5,
    True,
    None,
    [1, "two", [3], {"four": 4}],
    {"iban": "DE89370400440532013000", "holder": "Ada Lovelace", "nested": {"a": [1, 2]}},
    "x" * 10_000,
]


def sort_keys(value):
    if isinstance(value, dict):
        return {k: sort_keys(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [sort_keys(v) for v in value]
    return value


def test_deterministic_envelopes_depend_on_object_key_order():
    key = ef.Key.from_base64(KEY_256)
    a = ef.encrypt_field(key, "pii", "C", "f", {"a": 1, "b": 2}, deterministic=True)
    b = ef.encrypt_field(key, "pii", "C", "f", {"b": 2, "a": 1}, deterministic=True)
    assert a != b
    assert ef.decrypt_field(key, "pii", "C", "f", a) == ef.decrypt_field(key, "pii", "C", "f", b)


def flip(envelope: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(envelope + "=" * (-len(envelope) % 4)))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")


def test_python_reads_every_golden_vector(vectors):
    for v in vectors:
        key = ef.Key.from_base64(v["key"])
        assert key.id.hex() == v["key_id"]
        if v["result"] == "ok":
            assert ef.decrypt_field(key, v["alias"], v["context"], v["field"], v["envelope"]) == v["value"]
        else:
            with pytest.raises(ef.EncryptedFieldsError) as raised:
                ef.decrypt_field(key, v["alias"], v["context"], v["field"], v["envelope"])
            assert raised.value.kind == v["result"], v["description"]


def test_python_reproduces_deterministic_vectors(vectors):
    deterministic = [v for v in vectors if v.get("deterministic")]
    assert len(deterministic) == 4
    for v in deterministic:
        key = ef.Key.from_base64(v["key"])
        assert ef.encrypt_field(key, v["alias"], v["context"], v["field"], v["value"],
                                deterministic=True) == v["envelope"]


@pytest.mark.parametrize("key", [KEY_128, KEY_256])
@pytest.mark.parametrize("value", VALUES)
def test_rust_sealed_envelopes_open_in_python(rust, key, value):
    answer = rust.call(op="seal", keys=[key], alias="pii", context="Customer", field="email", value=value)
    envelope = answer["ok"]
    assert ef.decrypt_field(ef.Key.from_base64(key), "pii", "Customer", "email", envelope) == value


@pytest.mark.parametrize("key", [KEY_128, KEY_256])
@pytest.mark.parametrize("value", VALUES)
def test_python_sealed_envelopes_open_in_rust(rust, key, value):
    envelope = ef.encrypt_field(ef.Key.from_base64(key), "pii", "Customer", "email", value)
    answer = rust.call(op="open", keys=[key], alias="pii", context="Customer", field="email", envelope=envelope)
    assert answer == {"ok": value}


@pytest.mark.parametrize("value", VALUES)
def test_deterministic_envelopes_are_identical_in_both(rust, value):
    # Equal envelopes need byte-equal plaintexts (FORMAT.md section 5): the
    # interop binary holds a JSON map, which writes keys sorted, so the
    # Python dict must list them in that order too.
    value = sort_keys(value)
    python = ef.encrypt_field(ef.Key.from_base64(KEY_256), "pii", "member", "email", value, deterministic=True)
    answer = rust.call(op="seal", keys=[KEY_256], alias="pii", context="member", field="email",
                       value=value, deterministic=True)
    assert answer["ok"] == python


def test_tampered_envelopes_fail_in_both(rust):
    key = ef.Key.from_base64(KEY_256)
    envelope = ef.encrypt_field(key, "pii", "Customer", "email", "ada@example.com")
    length = len(base64.urlsafe_b64decode(envelope + "=="))
    for index in range(length):
        tampered = flip(envelope, index)
        with pytest.raises(ef.EncryptedFieldsError):
            ef.decrypt_field(key, "pii", "Customer", "email", tampered)
        answer = rust.call(op="open", keys=[KEY_256], alias="pii", context="Customer", field="email",
                           envelope=tampered)
        assert "error" in answer, index
        expected = "unsupported_version" if index == 0 else ("unknown_key_id" if index < 5 else "authentication_failed")
        assert answer["error"]["kind"] == expected


def test_envelopes_moved_elsewhere_fail_in_both(rust):
    envelope = rust.call(op="seal", keys=[KEY_256], alias="pii", context="Customer", field="email",
                         value="ada@example.com")["ok"]
    key = ef.Key.from_base64(KEY_256)
    for alias, context, field in [("pii", "Customer", "phone"), ("pii", "Client", "email"), ("other", "Customer", "email")]:
        with pytest.raises(ef.AuthenticationFailed):
            ef.decrypt_field(key, alias, context, field, envelope)
        answer = rust.call(op="open", keys=[KEY_256], alias=alias, context=context, field=field, envelope=envelope)
        assert answer["error"]["kind"] == "authentication_failed"


def test_rotation_reads_old_keys_and_names_missing_ones(rust):
    old = rust.call(op="seal", keys=[KEY_256], alias="pii", context="C", field="f", value="v")["ok"]
    keyring = ef.Keyring.from_vars([("ENCRYPTED_FIELDS_KEY_PII", f"{KEY_256_B},{KEY_256}")])
    assert ef.decrypt_field(keyring, "pii", "C", "f", old) == "v"
    assert ef.inspect(ef.encrypt_field(keyring, "pii", "C", "f", "v"))["key_id"] == keyring.key_set("pii")[0].id.hex()
    dropped = ef.Keyring.from_vars([("ENCRYPTED_FIELDS_KEY_PII", KEY_256_B)])
    with pytest.raises(ef.UnknownKeyId):
        ef.decrypt_field(dropped, "pii", "C", "f", old)
    with pytest.raises(ef.UnknownAlias):
        ef.decrypt_field(dropped, "banking", "C", "f", old)


@pytest.mark.parametrize("vars", [
    {"ENCRYPTED_FIELDS_KEY_PII": ""},
    {"ENCRYPTED_FIELDS_KEY_PII": "not base64!"},
    {"ENCRYPTED_FIELDS_KEY_PII": KEY_128.rstrip("=")},
    {"ENCRYPTED_FIELDS_KEY_PII": base64.b64encode(bytes(24)).decode()},
    {"ENCRYPTED_FIELDS_KEY_PII": KEY_128 + ","},
    {"ENCRYPTED_FIELDS_KEY_PII": f"{KEY_128},{KEY_128}"},
    {"ENCRYPTED_FIELDS_KEY_pii": KEY_128},
    {"ENCRYPTED_FIELDS_KEY_PII": KEY_128, "ENCRYPTED_FIELDS_KEY_PII_FILE": "/nonexistent"},
    {"ENCRYPTED_FIELDS_KEY_PII_FILE": KEY_256},
    {"ENCRYPTED_FIELDS_KEY_PII": "\u00a0" + KEY_128},
    {"ENCRYPTED_FIELDS_KEY_PII": KEY_128 + "\u001c"},
])
def test_key_loading_fails_the_same_way_in_both(rust, vars):
    answer = rust.call(op="load_env", vars=vars)
    with pytest.raises(ef.InvalidKey) as raised:
        ef.Keyring.from_vars(sorted(vars.items()))
    assert answer["error"]["kind"] == "invalid_key"
    assert str(raised.value) == answer["error"]["message"]
    for name in vars:
        if name.startswith("ENCRYPTED_FIELDS_KEY_PII"):
            assert any(n in str(raised.value) for n in vars)
    for value in vars.values():
        if len(value) > 8:
            assert value.rstrip(",") not in str(raised.value)


def test_a_key_file_that_is_not_utf8_fails_the_same_way_in_both(rust, tmp_path):
    key_file = tmp_path / "pii.key"
    key_file.write_bytes(b"\xff" + KEY_128.encode())
    vars = {"ENCRYPTED_FIELDS_KEY_PII_FILE": str(key_file)}
    answer = rust.call(op="load_env", vars=vars)
    with pytest.raises(ef.InvalidKey) as raised:
        ef.Keyring.from_vars(sorted(vars.items()))
    assert str(raised.value) == answer["error"]["message"]
    # Before, the UnicodeDecodeError (holding the file's bytes) rode along.
    assert raised.value.__context__ is None


def test_key_errors_do_not_keep_the_key_text_as_their_context():
    for value in ["AAEC\udcff" + KEY_128, KEY_128[:-2] + "!!"]:
        with pytest.raises(ef.InvalidKey) as raised:
            ef.Keyring.from_vars([("ENCRYPTED_FIELDS_KEY_PII", value)])
        assert raised.value.__context__ is None, value


@pytest.mark.parametrize("kind", ["directory", "device", "fifo", "too big"])
def test_key_files_must_be_small_regular_files_in_both(rust, tmp_path, kind):
    path = tmp_path / "pii.key"
    if kind == "directory":
        path.mkdir()
    elif kind == "device":
        path = "/dev/zero"
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_text("A" * (64 * 1024 + 1))
    vars = {"ENCRYPTED_FIELDS_KEY_PII_FILE": str(path)}
    answer = rust.call(op="load_env", vars=vars)
    with pytest.raises(ef.InvalidKey) as raised:
        ef.Keyring.from_vars(sorted(vars.items()))
    assert str(raised.value) == answer["error"]["message"]
    assert str(path) not in str(raised.value)


def test_key_loading_accepts_what_rust_accepts(rust, tmp_path):
    key_file = tmp_path / "banking.key"
    key_file.write_text(KEY_128 + "\n")
    vars = {"ENCRYPTED_FIELDS_KEY_EU_PII_V2": f" \t{KEY_256}\r\n ,\x0c{KEY_256_B}",
            "ENCRYPTED_FIELDS_KEY_BANKING_FILE": str(key_file), "HOME": "/root"}
    assert rust.call(op="load_env", vars=vars) == {"ok": {"aliases": ["banking", "eu_pii_v2"]}}
    keyring = ef.Keyring.from_env(vars)
    assert [k.bits for k in keyring.key_set("eu.pii-v2")] == [256, 256]
    assert keyring.key_set("banking")[0].bits == 128
    assert "AAECAw" not in repr(keyring)
    with pytest.raises(ef.MissingAliases) as raised:
        keyring.require(["pii", "banking", "zeta"])
    assert raised.value.missing == ["pii", "zeta"]


def test_errors_never_contain_plaintext_or_keys():
    key = ef.Key.from_base64(KEY_256)
    envelope = ef.encrypt_field(key, "pii", "Customer", "email", "ada@example.com")
    for call in [
        lambda: ef.decrypt_field(key, "pii", "Customer", "phone", envelope),
        lambda: ef.decrypt_field(ef.Key.from_base64(KEY_256_B), "pii", "Customer", "email", envelope),
        lambda: ef.decrypt_field(key, "pii", "Customer", "email", "ada@example.com"),
    ]:
        with pytest.raises(ef.EncryptedFieldsError) as raised:
            call()
        message = str(raised.value) + repr(raised.value)
        for secret in ["ada@example.com", KEY_256, KEY_256_B, envelope]:
            assert secret not in message


def legacy_snippet_encrypt(key: bytes, plaintext: str) -> str:
    """The platform guide's snippet, as written: AES-CBC, PKCS7, base64(iv + ciphertext)."""
    iv = os.urandom(16)
    cipher = AES.new(key, AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(pad(plaintext.encode("utf-8"), AES.block_size))).decode()


def test_legacy_snippet_values_migrate_into_envelopes(rust):
    legacy_key = os.urandom(16)
    legacy_b64 = base64.b64encode(legacy_key).decode()
    for plaintext in ["ada@example.com", '{"iban": "DE89370400440532013000"}', "", "ü" * 100]:
        text = legacy_snippet_encrypt(legacy_key, plaintext)
        answer = rust.call(op="legacy_open", key=legacy_b64, text=text)
        assert answer == {"ok": plaintext}
        # Migrate: re-encrypt into an envelope, which Python reads back.
        envelope = rust.call(op="seal", keys=[KEY_256], alias="pii", context="C", field="f",
                             value=answer["ok"])["ok"]
        assert ef.decrypt_field(ef.Key.from_base64(KEY_256), "pii", "C", "f", envelope) == plaintext


def test_legacy_format_has_no_integrity(rust):
    """Why we migrate: flipping an IV bit flips the plaintext, and nothing notices."""
    legacy_key = os.urandom(16)
    text = legacy_snippet_encrypt(legacy_key, "pay 100 to ada")
    raw = bytearray(base64.b64decode(text))
    raw[4] ^= ord("1") ^ ord("9")
    forged = base64.b64encode(bytes(raw)).decode()
    answer = rust.call(op="legacy_open", key=base64.b64encode(legacy_key).decode(), text=forged)
    assert answer == {"ok": "pay 900 to ada"}
    wrong_key = rust.call(op="legacy_open", key=base64.b64encode(os.urandom(16)).decode(), text=text)
    if "error" in wrong_key:
        assert wrong_key["error"]["kind"] == "legacy_ciphertext"


def test_size_limit_counts_envelope_bytes_and_is_checked_before_decoding():
    assert ef.DEFAULT_MAX_ENVELOPE_LEN == 16 * 1024 * 1024
    key = ef.Key.from_base64(KEY_256)
    ef.set_max_envelope_len(64)
    try:
        fits = ef.encrypt_field(key, "pii", "C", "f", "x" * 29)  # 33 + 31 = 64 bytes
        assert ef.decrypt_field(key, "pii", "C", "f", fits) == "x" * 29
        with pytest.raises(ef.SerializeError):
            ef.encrypt_field(key, "pii", "C", "f", "x" * 30)
        with pytest.raises(ef.MalformedEnvelope) as raised:
            ef.decrypt_field(key, "pii", "C", "f", "!" * 86)  # longer than 64 bytes' text (86)
        assert "limit" not in str(raised.value)  # 86 characters fit: it failed as base64
        with pytest.raises(ef.MalformedEnvelope) as raised:
            ef.decrypt_field(key, "pii", "C", "f", "A" * 87)
        assert "over the 64-byte limit" in str(raised.value)
    finally:
        ef.set_max_envelope_len(ef.DEFAULT_MAX_ENVELOPE_LEN)


def test_python_refuses_to_write_what_readers_refuse():
    key = ef.Key.from_base64(KEY_256)
    deep = None
    for _ in range(ef.MAX_DEPTH + 1):
        deep = [deep]
    for value in [{1: "a", "1": "b"}, deep, "\ud800"]:
        with pytest.raises(ef.SerializeError) as raised:
            ef.encrypt_field(key, "pii", "C", "f", value)
        assert raised.value.__context__ is None
    shallow = deep[0]
    assert ef.decrypt_field(key, "pii", "C", "f", ef.encrypt_field(key, "pii", "C", "f", shallow)) == shallow


def test_errors_do_not_keep_the_plaintext_as_their_context():
    key = ef.Key.from_base64(KEY_256)
    raw = b'{"ssn":"078-05-1120", oops}'
    aad = _envelope._aad(key.id, "pii", "C", "f")
    nonce = bytes(12)
    envelope = _envelope._to_text(bytes([ef.VERSION]) + key.id + nonce + key._aead.encrypt(nonce, raw, aad))
    with pytest.raises(ef.DeserializeError) as raised:
        ef.decrypt_field(key, "pii", "C", "f", envelope)
    assert raised.value.__context__ is None
    assert raised.value.__cause__ is None
    assert "078-05" not in str(raised.value)


def test_variable_names_with_a_trailing_newline_are_refused():
    with pytest.raises(ef.InvalidKey):
        ef.Keyring.from_vars([("ENCRYPTED_FIELDS_KEY_PII\n", KEY_128)])


# --- byte strings: format versions 3 and 4 (FORMAT.md section 5.1) ---------

BYTE_VALUES = [b"", b"\x00\xff\x10", bytes(range(256)), b'"ada@example.com"', b"\x89PNG" * 5000]


def _scope(v):
    record = ef.RecordBinding(bytes.fromhex(v["record_hex"]))
    position = ef.Position(bytes.fromhex(v["position_hex"]))
    return record, position


def test_python_reads_every_byte_string_vector(bytes_vectors):
    assert len(bytes_vectors) >= 16
    for v in bytes_vectors:
        reader = {**v, **v.get("open_with", {})}
        record, position = _scope(reader)
        key = ef.Key.from_base64(v["key"])
        assert key.id.hex() == v["key_id"]
        open_it = lambda: ef.decrypt_field(key, reader["alias"], reader["context"], reader["field"],
                                           reader["envelope"], record=record, position=position,
                                           legacy_unbound=reader.get("legacy_unbound", False))
        if v["result"] == "ok":
            assert open_it() == bytes.fromhex(v["plaintext_hex"]), v["description"]
        else:
            with pytest.raises(ef.EncryptedFieldsError) as raised:
                open_it()
            assert raised.value.kind == v["result"], v["description"]


def test_python_reproduces_the_byte_string_vectors_it_can(bytes_vectors):
    deterministic = [v for v in bytes_vectors if v.get("deterministic") and v["result"] == "ok"]
    assert deterministic
    for v in deterministic:
        record, position = _scope(v)
        assert ef.encrypt_field(ef.Key.from_base64(v["key"]), v["alias"], v["context"], v["field"],
                                bytes.fromhex(v["plaintext_hex"]), deterministic=True,
                                record=record, position=position) == v["envelope"]


@pytest.mark.parametrize("value", BYTE_VALUES)
def test_byte_strings_cross_both_ways_and_match_when_deterministic(rust, value):
    key = ef.Key.from_base64(KEY_256)
    envelope = ef.encrypt_field(key, "blobs", "Document", "scan", value)
    assert ef.inspect(envelope)["version"] == ef.VERSION_3
    # Rust reads version 3 into a JSON value as the bytes' numbers.
    answer = rust.call(op="open", keys=[KEY_256], alias="blobs", context="Document", field="scan",
                       envelope=envelope)
    assert answer == {"ok": list(value)}
    sealed = rust.call(op="seal_bytes", keys=[KEY_256], alias="blobs", context="Document",
                       field="scan", bytes=list(value))["ok"]
    assert ef.decrypt_field(key, "blobs", "Document", "scan", sealed) == value
    python = ef.encrypt_field(key, "blobs", "Document", "scan", bytearray(value), deterministic=True)
    assert rust.call(op="seal_bytes", keys=[KEY_256], alias="blobs", context="Document", field="scan",
                     bytes=list(value), deterministic=True)["ok"] == python


def test_a_bound_byte_string_is_version_4_and_stays_in_its_record():
    key = ef.Key.from_base64(KEY_256)
    record = ef.RecordBinding().push_type("Document", [("id", "7")])
    envelope = ef.encrypt_field(key, "blobs", "Document", "scan", b"\x01\x02", record=record)
    assert ef.inspect(envelope)["version"] == ef.VERSION_4
    assert ef.decrypt_field(key, "blobs", "Document", "scan", envelope, record=record) == b"\x01\x02"
    other = ef.RecordBinding().push_type("Document", [("id", "8")])
    with pytest.raises(ef.AuthenticationFailed):
        ef.decrypt_field(key, "blobs", "Document", "scan", envelope, record=other)
    with pytest.raises(ef.UnsupportedVersion):
        ef.decrypt_field(key, "blobs", "Document", "scan", envelope)


def test_a_bytes_member_of_a_record_class_is_sealed_as_its_bytes(monkeypatch):
    from dataclasses import dataclass
    from typing import Annotated

    monkeypatch.setenv("ENCRYPTED_FIELDS_KEY_BLOBS", KEY_256)

    @ef.record
    @dataclass
    class Scan:
        id: int
        image: Annotated[bytes, ef.Encrypted("blobs")]

    keyring = ef.Keyring.from_env()
    wire = ef.encrypt(keyring, Scan(id=1, image=b"\x00\x89PNG"))
    assert ef.inspect(wire["image"])["version"] == ef.VERSION_3
    assert ef.decrypt(keyring, Scan, wire) == Scan(id=1, image=b"\x00\x89PNG")
