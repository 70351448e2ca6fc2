"""Envelopes: one field sealed or opened (FORMAT.md sections 3 and 4)."""

from __future__ import annotations

import base64
import os
import re
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple

from cryptography.exceptions import InvalidTag

from ._format import (
    HEADER_LEN, MIN_LEN, NONCE_LEN, TAG_LEN, VERSION, VERSION_2, VERSION_3, VERSION_4,
)
from ._errors import (
    AuthenticationFailed, DeserializeError, MalformedEnvelope, SerializeError, UnknownKeyId,
    UnsupportedVersion,
)
from ._keys import KeyLike, _keys
from ._jsontext import _read_json_or_fail, _write_json

DEFAULT_MAX_ENVELOPE_LEN = 16 * 1024 * 1024
_max_envelope_len = DEFAULT_MAX_ENVELOPE_LEN
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")

def set_max_envelope_len(limit: int) -> None:
    """The largest envelope (bytes, before text encoding) sealed or accepted."""
    global _max_envelope_len
    _max_envelope_len = limit


def _max_text_len() -> int:
    limit = _max_envelope_len
    return limit // 3 * 4 + (0, 2, 3)[limit % 3]


def _too_large(length: int) -> str:
    return f"{length} bytes is over the {_max_envelope_len}-byte limit (see `set_max_envelope_len`)"


# The longest record binding or position (section 4.1): both go into the
# AAD of every envelope below them.
MAX_SCOPE_LEN = 4096


def _version(scoped: bool, byte_string: bool) -> int:
    """Section 9: 2 or 4 with a record or position, 3 or 4 for a byte string."""
    if byte_string:
        return VERSION_4 if scoped else VERSION_3
    return VERSION_2 if scoped else VERSION


def _aad(key_id: bytes, alias: str, context: str, field: str,
         record: bytes = b"", position: bytes = b"", byte_string: bool = False) -> bytes:
    """The AAD of section 4, or of section 4.1 (version 2) when there is a
    record or a position; versions 3 and 4 (``byte_string``) differ in the first byte."""
    scoped = bool(record or position)
    out = bytes([_version(scoped, byte_string)]) + key_id
    for name in (alias, context, field):
        raw = name.encode("utf-8")
        if len(raw) > 0xFFFF:
            raise SerializeError("alias, context or field name longer than 65535 bytes",
                                 alias, context, field)
        out += struct.pack(">H", len(raw)) + raw
    if scoped:
        for part in (position, record):
            if len(part) > MAX_SCOPE_LEN:
                raise SerializeError(f"record binding or position longer than {MAX_SCOPE_LEN} bytes",
                                     alias, context, field)
            out += struct.pack(">I", len(part)) + bytes(part)
    return out


def _u16(raw: bytes) -> Optional[bytes]:
    return struct.pack(">H", len(raw)) + raw if len(raw) <= 0xFFFF else None


class RecordBinding(bytes):
    """The values that identify a record (FORMAT.md section 4.1): one entry per
    type with bound fields, outermost first. Immutable; ``push_type`` returns
    a new one. ``RecordBinding()`` is the empty record."""

    def push_type(self, context: str, fields: Sequence[Tuple[str, str]]) -> "RecordBinding":
        """Adds one type's entry: its context and each bound field's serialized
        name and value as JSON text (``7``, ``"acme"``, ``null``)."""
        entry = _u16(context.encode("utf-8"))
        count = struct.pack(">H", len(fields)) if len(fields) <= 0xFFFF else None
        parts: List[Optional[bytes]] = [entry, count]
        for name, value in fields:
            raw = value.encode("utf-8")
            parts.append(_u16(name.encode("utf-8")))
            parts.append(struct.pack(">I", len(raw)) + raw if len(raw) <= 0xFFFFFFFF else None)
        if any(part is None for part in parts):
            raise SerializeError(f"cannot serialize value: a record binding name or value of "
                                 f"`{context}` is too long")
        return RecordBinding(self + b"".join(part for part in parts if part is not None))


class Position(bytes):
    """Where a value sits in the outermost value (FORMAT.md section 4.1), as
    steps from the outermost down. Immutable; each step returns a new one.
    ``Position()`` is the empty position."""

    @classmethod
    def root(cls, context: str) -> "Position":
        """The root of the outermost value, of type ``context``."""
        return cls().step(0x00, context)

    def member(self, name: str) -> "Position":
        """Down into the nested field serialized as ``name``."""
        return self.step(0x01, name)

    def key(self, key: str) -> "Position":
        """Down into the map entry whose key is written ``key`` as a JSON member name."""
        return self.step(0x02, key)

    def index(self, index: int) -> "Position":  # type: ignore[override]
        """Down into the list element at ``index``."""
        return Position(self + b"\x03" + struct.pack(">Q", index))

    def step(self, kind: int, text: str) -> "Position":
        raw = text.encode("utf-8")
        return Position(self + bytes([kind]) + struct.pack(">I", len(raw)) + raw)


def _to_text(envelope: bytes) -> str:
    return base64.urlsafe_b64encode(envelope).decode().rstrip("=")


def _from_text(text: str) -> Optional[bytes]:
    """Strict base64url without padding: one text per envelope."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return raw if _to_text(raw) == text else None


def _random_nonce() -> bytes:
    return os.urandom(NONCE_LEN)


def encrypt_field(key: KeyLike, alias: str, context: str, field: str, value: Any,
                  deterministic: bool = False, *, record: bytes = b"", position: bytes = b"") -> str:
    """Seals ``value`` (any JSON-serializable value) for the binding, returning the envelope text.

    A ``bytes``, ``bytearray`` or ``memoryview`` value is sealed as its bytes (version 3,
    or 4 with a record or position; FORMAT.md section 5.1), which readers older than
    that format version refuse. ``key`` is a ``Keyring`` (its primary key for ``alias`` seals), a ``Key`` or raw key bytes.
    With a ``record`` (``RecordBinding``) or a ``position`` (``Position``) the envelope is
    version 2 and opens only with the same ones; a ``deterministic`` envelope is never bound
    to them (FORMAT.md section 4.1), so it ignores both.
    """
    sealing_key = _keys(key, alias, context, field)[0]
    byte_string = isinstance(value, (bytes, bytearray, memoryview))
    plaintext = bytes(value) if byte_string else _write_json(value)
    # Raised here, outside any `except`: the failed value (which may quote
    # the plaintext) must not ride along as the error's __context__.
    if plaintext is None:
        raise SerializeError(f"cannot serialize value for alias `{alias}`", alias, context, field)
    if HEADER_LEN + len(plaintext) + TAG_LEN > _max_envelope_len:
        raise SerializeError(f"cannot serialize value for alias `{alias}`: "
                             + _too_large(HEADER_LEN + len(plaintext) + TAG_LEN), alias, context, field)
    if deterministic:
        record = position = b""
    aad = _aad(sealing_key.id, alias, context, field, record, position, byte_string)
    nonce = sealing_key._deterministic_nonce(aad, plaintext) if deterministic else _random_nonce()
    sealed = sealing_key._aead.encrypt(nonce, plaintext, aad)
    return _to_text(aad[:1] + sealing_key.id + nonce + sealed)


def inspect(envelope: str) -> Dict[str, Any]:
    """Version, key id (hex) and plaintext length, read without a key."""
    raw = _parse(envelope, None, None, None)
    return {"version": raw[0], "key_id": raw[1:5].hex(), "plaintext_len": len(raw) - MIN_LEN}


def _parse(envelope: str, alias: Optional[str], context: Optional[str], field: Optional[str]) -> bytes:
    if isinstance(envelope, str) and len(envelope) > _max_text_len():
        raise MalformedEnvelope(f"malformed envelope for alias `{alias or '?'}`: text of "
                                + _too_large(len(envelope)), alias, context, field)
    raw = _from_text(envelope)
    if raw is None:
        raise MalformedEnvelope(f"malformed envelope for alias `{alias or '?'}`: "
                                "not base64url text without padding", alias, context, field)
    if not raw:
        raise MalformedEnvelope(f"malformed envelope for alias `{alias or '?'}`: "
                                "0 bytes is shorter than any envelope", alias, context, field)
    if raw[0] not in (VERSION, VERSION_2, VERSION_3, VERSION_4):
        raise UnsupportedVersion(f"unsupported envelope version for alias `{alias or '?'}`: "
                                 f"version {raw[0]}; this implementation reads versions 1 to 4",
                                 alias, context, field)
    if len(raw) < MIN_LEN:
        raise MalformedEnvelope(f"malformed envelope for alias `{alias or '?'}`: "
                                f"{len(raw)} bytes is shorter than any envelope", alias, context, field)
    return raw


def decrypt_field(key: KeyLike, alias: str, context: str, field: str, envelope: str, *,
                  record: bytes = b"", position: bytes = b"", legacy_unbound: bool = False) -> Any:
    """Opens an envelope sealed for the binding and returns the JSON value, or the
    ``bytes`` of a byte string sealed as such (versions 3 and 4, FORMAT.md section 5.1).

    The binding fixes the version (FORMAT.md section 9): 2 or 4 with a ``record`` or a
    ``position``, else 1 or 3; with ``legacy_unbound`` a version-1 or 3 envelope also
    opens under a record or position (without them). Raises ``MalformedEnvelope``,
    ``UnsupportedVersion``, ``UnknownAlias``, ``UnknownKeyId``,
    ``AuthenticationFailed`` or ``DeserializeError``, in the order of FORMAT.md section 7.
    """
    raw = _parse(envelope, alias, context, field)
    scoped = bool(record or position)
    sealed_scoped = raw[0] in (VERSION_2, VERSION_4)
    byte_string = raw[0] in (VERSION_3, VERSION_4)
    if not sealed_scoped and scoped and legacy_unbound:
        record = position = b""
    elif sealed_scoped != scoped:
        detail = (f"sealed without the record or position binding this field has (format version {raw[0]}): "
                  "it may come from another record" if not sealed_scoped else
                  f"sealed with a record or position binding (format version {raw[0]}) this field does not have")
        raise UnsupportedVersion(f"unsupported envelope version for alias `{alias}`: {detail}",
                                 alias, context, field)
    keys = _keys(key, alias, context, field)
    key_id = raw[1:5]
    opening_key = next((k for k in keys if k.id == key_id), None)
    if opening_key is None:
        raise UnknownKeyId(f"keyring has no key with this id for alias `{alias}` (rotated out?): "
                           f"key id {key_id.hex()}", alias, context, field)
    aad = _aad(key_id, alias, context, field, record, position, byte_string)
    try:
        plaintext = opening_key._aead.decrypt(raw[5:HEADER_LEN], raw[HEADER_LEN:], aad)
    except InvalidTag:
        plaintext = None
    if plaintext is None:
        raise AuthenticationFailed(
            f"envelope for alias `{alias}` failed authentication "
            "(wrong key, tampered, or moved from another field, type or alias)",
            alias, context, field)
    if byte_string:
        return plaintext
    value, ok = _read_json_or_fail(plaintext)
    # Raised outside the `except`: the parser's exception quotes the
    # plaintext and would stay reachable as __context__.
    if not ok:
        raise DeserializeError(f"decrypted value for alias `{alias}` does not fit the field's type",
                               alias, context, field)
    return value
