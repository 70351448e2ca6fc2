"""Record seals: HMAC-SHA256 MACs and Ed25519 signatures over a whole record
(FORMAT.md section 13)."""

from __future__ import annotations

import hmac
from typing import Any, Mapping, Optional, Sequence, Type, Union

from ._format import KEY_ID_LEN, MAC_DOMAIN, SIGNATURE_DOMAIN
from ._errors import (
    AuthenticationFailed, DeserializeError, EncryptedFieldsError, MalformedEnvelope,
    SerializeError, UnknownAlias, UnknownKeyId, UnsupportedVersion,
)
from ._keys import Key, Keyring, VerifyingKey
from ._envelope import _from_text, _to_text, _u16
from ._canonical import _canonical


MAC = "mac"
SIGNATURE = "signature"
_SEAL_VERSION = 0x01
_KIND_BYTE = {MAC: 0x01, SIGNATURE: 0x02}
_SEAL_TAG_LEN = {MAC: 32, SIGNATURE: 64}
_MAX_SEAL_TEXT = 140

_PREFIXES = {
    UnknownAlias: "keyring has no key for alias `{}`",
    UnknownKeyId: "keyring has no key with this id for alias `{}` (rotated out?)",
    MalformedEnvelope: "malformed envelope for alias `{}`",
    UnsupportedVersion: "unsupported envelope version for alias `{}`",
    AuthenticationFailed: ("envelope for alias `{}` failed authentication "
                           "(wrong key, tampered, or moved from another field, type or alias)"),
    SerializeError: "cannot serialize value for alias `{}`",
    DeserializeError: "decrypted value for alias `{}` does not fit the field's type",
}


def _error(cls: Type[EncryptedFieldsError], alias: Optional[str], context: Optional[str], field: Optional[str],
           detail: Optional[str] = None) -> EncryptedFieldsError:
    """An error worded as the Rust crate words it, at alias, context and field."""
    message = _PREFIXES.get(cls, "{}").format(alias or "?")
    return cls(message + (f": {detail}" if detail else ""), alias, context, field)


def _check_kind(kind: str) -> None:
    if kind not in _KIND_BYTE:
        raise ValueError(f"a record seal's kind is {MAC!r} or {SIGNATURE!r}")


def seal_message(kind: str, alias: str, context: str, record: Any, member: str = "_seal") -> bytes:
    """What a record seal's MAC or signature covers (FORMAT.md sections 13.3 and 13.4):
    the domain string, the alias, the context and the record's canonical encoding."""
    _check_kind(kind)
    alias_bytes, context_bytes = _u16(alias.encode("utf-8")), _u16(context.encode("utf-8"))
    if alias_bytes is None or context_bytes is None:
        raise _error(SerializeError, alias, context, member, "alias or context longer than 65535 bytes")
    encoded, reason = _canonical(record, member)
    if encoded is None:
        raise _error(SerializeError, alias, context, member, f"record seal: {reason}")
    return (MAC_DOMAIN if kind == MAC else SIGNATURE_DOMAIN) + alias_bytes + context_bytes + encoded


def seal_record(keyring: Keyring, kind: str, alias: str, context: str, record: Any,
                member: str = "_seal") -> str:
    """The seal of ``record`` (every envelope in place, ``member`` left out) as base64url
    text: a MAC under the primary key of ``alias`` (``kind`` ``MAC``), or an Ed25519
    signature by its signing key (``SIGNATURE``)."""
    message = seal_message(kind, alias, context, record, member)
    if kind == MAC:
        keys = keyring.key_set(alias)
        if keys is None:
            raise _error(UnknownAlias, alias, context, member)
        key_id, tag = keys[0].id, keys[0]._record_mac(message)
    else:
        signing = keyring.signing_key(alias)
        if signing is None:
            raise _error(UnknownAlias, alias, context, member, "no signing key (ENCRYPTED_FIELDS_SIGNING_KEY_...)")
        key_id, tag = signing.id, signing.sign(message)
    return _to_text(bytes([_SEAL_VERSION, _KIND_BYTE[kind]]) + key_id + tag)


def _seal_bytes(text: Any, alias: str, context: str, member: str) -> Optional[bytes]:
    """A seal member as a reader takes it (FORMAT.md 13.5, step 1): None for
    absent or null; refused unless base64url text of at most 140 characters."""
    if text is None:
        return None
    raw = _from_text(text) if isinstance(text, str) and len(text) <= _MAX_SEAL_TEXT else None
    if raw is None:
        raise DeserializeError("invalid record seal: not base64url text without padding of at most "
                               f"{_MAX_SEAL_TEXT} characters", alias, context, member)
    return raw


def _can_check(keyring: Keyring, kind: str, alias: str) -> bool:
    return (keyring.key_set(alias) if kind == MAC else keyring.verifying_keys(alias)) is not None


def verify_record(keyring: Keyring, kind: str, alias: str, context: str, record: Mapping[str, Any],
                  member: str = "_seal") -> None:
    """Checks ``record``'s seal, held in its ``member``, as FORMAT.md section 13.5 says:
    absent or null fails authentication; then the seal's version, kind and length;
    then the key (``UnknownAlias``, ``UnknownKeyId``) and the MAC or signature."""
    _check_kind(kind)
    raw = _seal_bytes(record.get(member), alias, context, member)

    def fail(cls: Type[EncryptedFieldsError], detail: Optional[str] = None) -> EncryptedFieldsError:
        return _error(cls, alias, context, member, detail)

    if raw is None:
        raise fail(AuthenticationFailed, "the record seal is missing")
    if raw in (b"", bytes([_SEAL_VERSION])):
        raise fail(MalformedEnvelope, "record seal too short")
    if raw[0] != _SEAL_VERSION:
        raise fail(UnsupportedVersion, f"record seal version {raw[0]}; this implementation reads version 1")
    if raw[1] != _KIND_BYTE[kind]:
        raise fail(AuthenticationFailed,
                   "the record seal is of another kind (MAC or signature) than the type declares")
    if len(raw) != 2 + KEY_ID_LEN + _SEAL_TAG_LEN[kind]:
        raise fail(MalformedEnvelope, "record seal of the wrong length")
    key_id, tag = raw[2:6], raw[6:]
    message = seal_message(kind, alias, context, record, member)
    keys: Optional[Sequence[Union[Key, VerifyingKey]]] = (
        keyring.key_set(alias) if kind == MAC else keyring.verifying_keys(alias))
    if keys is None:
        raise fail(UnknownAlias)
    key = next((k for k in keys if k.id == key_id), None)
    if key is None:
        raise fail(UnknownKeyId, f"record seal key id {key_id.hex()}")
    if isinstance(key, Key):
        valid = hmac.compare_digest(key._record_mac(message), tag)
    else:
        valid = key.verify(message, tag)
    if not valid:
        raise fail(AuthenticationFailed,
                   "the record does not match its seal: a member was changed, added, removed or swapped")
