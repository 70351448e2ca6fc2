"""encrypted-fields envelopes for Python: a twin of the Rust crate's format.

Written from ``docs/FORMAT.md`` alone. Reads and writes the same envelopes
(format version 1) with ``cryptography``'s AES-GCM-SIV, loads keys from the
same ``ENCRYPTED_FIELDS_KEY_<ALIAS>`` variables, and raises the same kinds of
error. Error messages name the alias and field, never plaintext, key bytes or
ciphertext.

    keyring = Keyring.from_env()
    envelope = encrypt_field(keyring, "pii", "Customer", "email", "ada@example.com")
    value = decrypt_field(keyring, "pii", "Customer", "email", envelope)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import re
import stat
import struct
from typing import Any, Iterable, Mapping, Optional, Sequence, Tuple, Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

__all__ = [
    "VERSION",
    "Key",
    "Keyring",
    "encrypt_field",
    "decrypt_field",
    "inspect",
    "var_name",
    "DEFAULT_MAX_ENVELOPE_LEN",
    "set_max_envelope_len",
    "EncryptedFieldsError",
    "UnknownAlias",
    "UnknownKeyId",
    "MalformedEnvelope",
    "UnsupportedVersion",
    "AuthenticationFailed",
    "InvalidKey",
    "MissingAliases",
    "SerializeError",
    "DeserializeError",
]

VERSION = 0x01
KEY_ID_LEN = 4
NONCE_LEN = 12
TAG_LEN = 16
HEADER_LEN = 1 + KEY_ID_LEN + NONCE_LEN
MIN_LEN = HEADER_LEN + TAG_LEN
KEY_ID_DOMAIN = b"encrypted-fields key id v1\x00"
NONCE_KEY_LABEL = b"encrypted-fields deterministic nonce key v1"
PREFIX = "ENCRYPTED_FIELDS_KEY_"
FILE_SUFFIX = "_FILE"
# Only these are stripped around keys (FORMAT.md section 2): str.strip()
# would also take Unicode spaces and U+001C-U+001F, which Rust does not.
_ASCII_WHITESPACE = " \t\n\x0c\r"
DEFAULT_MAX_ENVELOPE_LEN = 16 * 1024 * 1024
_max_envelope_len = DEFAULT_MAX_ENVELOPE_LEN
# Used with fullmatch: `$` would also accept a trailing newline.
_ALIAS = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_VAR_ALIAS = re.compile(r"[A-Z0-9][A-Z0-9_]*")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# The deepest nesting of arrays and objects a plaintext may have (FORMAT.md
# section 5): what the Rust reader accepts.
MAX_DEPTH = 127


# --- errors -----------------------------------------------------------------


class EncryptedFieldsError(Exception):
    """Base class; ``kind`` matches the Rust crate's ``ErrorKind`` in snake case."""

    kind = "error"

    def __init__(self, message: str, alias: Optional[str] = None,
                 context: Optional[str] = None, field: Optional[str] = None):
        self.alias, self.context, self.field = alias, context, field
        if context is not None and field is not None:
            message = f"{message} (field `{field}` of `{context}`)"
        super().__init__(message)


class UnknownAlias(EncryptedFieldsError):
    """The keyring has no key for the alias: this service has no access."""
    kind = "unknown_alias"


class UnknownKeyId(EncryptedFieldsError):
    """The alias is known but not the key that sealed the envelope (rotated out)."""
    kind = "unknown_key_id"


class MalformedEnvelope(EncryptedFieldsError):
    """Not an envelope: bad text encoding, or too short."""
    kind = "malformed_envelope"


class UnsupportedVersion(EncryptedFieldsError):
    """The version byte is not one this implementation reads."""
    kind = "unsupported_version"


class AuthenticationFailed(EncryptedFieldsError):
    """Wrong key, tampered, or moved from another field, type or alias."""
    kind = "authentication_failed"


class InvalidKey(EncryptedFieldsError):
    """A key or alias given to a keyring is invalid; names the variable."""
    kind = "invalid_key"


class MissingAliases(EncryptedFieldsError):
    """``Keyring.require`` found aliases missing; ``missing`` lists them all."""
    kind = "missing_aliases"

    def __init__(self, missing: Sequence[str]):
        self.missing = sorted(set(missing))
        plural = "" if len(self.missing) == 1 else "es"
        super().__init__(f"keyring has no key for alias{plural} `" + "`, `".join(self.missing) + "`")


class SerializeError(EncryptedFieldsError):
    """The value cannot be written as JSON."""
    kind = "serialize"


class DeserializeError(EncryptedFieldsError):
    """The decrypted plaintext is not JSON."""
    kind = "deserialize"


# --- keys -------------------------------------------------------------------


class Key:
    """One AES-GCM-SIV key (16 or 32 bytes) and its id. ``repr`` shows the id only."""

    __slots__ = ("_aead", "_nonce_key", "id", "bits")

    def __init__(self, key: bytes):
        if len(key) not in (16, 32):
            raise InvalidKey(f"invalid key configuration: key is {len(key)} bytes; "
                             "expected 16 (AES-128) or 32 (AES-256)")
        self.id = hashlib.sha256(KEY_ID_DOMAIN + key).digest()[:KEY_ID_LEN]
        self.bits = len(key) * 8
        self._aead = AESGCMSIV(key)
        self._nonce_key = hmac.new(key, NONCE_KEY_LABEL, hashlib.sha256).digest()

    @classmethod
    def from_base64(cls, text: str) -> "Key":
        """A key written as standard padded base64, as in the variables."""
        text = text.strip(_ASCII_WHITESPACE)
        # Errors are raised outside any `except`: a decoding exception kept
        # as __context__ would carry the key text along.
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raw = None
        if raw is None or base64.b64encode(raw).decode() != text:
            raise InvalidKey("invalid key configuration: key is not standard padded base64")
        return cls(raw)

    @staticmethod
    def generate(bits: int = 256) -> str:
        """A fresh random key as standard base64, for a variable's value."""
        if bits not in (128, 256):
            raise ValueError("bits must be 128 or 256")
        return base64.b64encode(os.urandom(bits // 8)).decode()

    def _deterministic_nonce(self, aad: bytes, plaintext: bytes) -> bytes:
        return hmac.new(self._nonce_key, aad + plaintext, hashlib.sha256).digest()[:NONCE_LEN]

    def __repr__(self) -> str:
        return f"Key({self.id.hex()}, AES-{self.bits}-GCM-SIV)"


def var_name(alias: str) -> str:
    """The variable that holds ``alias``'s keys: ``pii-v2`` -> ``ENCRYPTED_FIELDS_KEY_PII_V2``."""
    return PREFIX + alias.upper().replace("-", "_").replace(".", "_")


def _io_reason(error: OSError) -> str:
    """The same words as Rust's `io::ErrorKind`, so both twins say the same thing."""
    if isinstance(error, FileNotFoundError):
        return "entity not found"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    return "other error"


MAX_SECRET_FILE_LEN = 64 * 1024


def _read_named_file(path: str, invalid) -> str:
    """A regular file (symlinks followed) of at most 64 KiB, as UTF-8. Never
    echoes the path: a key pasted into a `_FILE` variable by mistake would
    end up in the logs. Checked before opening: opening a FIFO would block."""
    too_big = f"the file it names is over {MAX_SECRET_FILE_LEN} bytes; a keyset is one line"

    def check(info: os.stat_result) -> None:
        if not stat.S_ISREG(info.st_mode):
            raise invalid("the file it names is not a regular file")
        if info.st_size > MAX_SECRET_FILE_LEN:
            raise invalid(too_big)

    try:
        check(os.stat(path))
        with open(path, "rb") as f:
            check(os.fstat(f.fileno()))
            raw = f.read(MAX_SECRET_FILE_LEN + 1)
    except OSError as e:
        raise invalid(f"cannot read the file it names: {_io_reason(e)}") from None
    if len(raw) > MAX_SECRET_FILE_LEN:
        raise invalid(too_big)
    # Raised outside the `except`: UnicodeDecodeError.object is the file's
    # bytes (key material), and would stay reachable as __context__.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    raise invalid("cannot read the file it names: invalid data")


def _normalize(alias: str) -> str:
    return alias.lower().replace("-", "_").replace(".", "_")


class Keyring:
    """Keys by alias, the primary first, as the Rust ``EnvKeyring`` reads them."""

    def __init__(self, key_sets: Optional[Mapping[str, Sequence[Key]]] = None):
        self._sets = {}
        for alias, keys in (key_sets or {}).items():
            self.insert(alias, keys)

    def insert(self, alias: str, keys: Sequence[Key]) -> None:
        if not _ALIAS.fullmatch(alias) or alias.endswith(("_file", "-file", ".file")):
            raise InvalidKey("invalid key configuration: aliases are lowercase letters, digits, "
                             "`_`, `.` and `-`, starting with a letter or digit, not ending in `_file`",
                             alias=alias)
        keys = list(keys)
        if not keys:
            raise InvalidKey("invalid key configuration: no key given", alias=alias)
        for i, key in enumerate(keys):
            if any(k.id == key.id for k in keys[:i]):
                raise InvalidKey(f"invalid key configuration: key {i + 1} listed twice "
                                 f"(key id {key.id.hex()})", alias=alias)
        self._sets[_normalize(alias)] = keys

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "Keyring":
        """Reads every ``ENCRYPTED_FIELDS_KEY_*`` variable of ``environ`` (default: the process's)."""
        return cls.from_vars((environ if environ is not None else os.environ).items())

    @classmethod
    def from_vars(cls, pairs: Iterable[Tuple[str, str]]) -> "Keyring":
        """Reads keys from (name, value) pairs; names without the prefix are ignored."""
        keyring = cls()
        seen = {}
        for name, value in pairs:
            if not name.startswith(PREFIX):
                continue

            def invalid(detail: str) -> InvalidKey:
                return InvalidKey(f"invalid key configuration: {name}: {detail}")

            part = name[len(PREFIX):]
            from_file = part.endswith(FILE_SUFFIX)
            if from_file:
                part = part[:-len(FILE_SUFFIX)]
            if not _VAR_ALIAS.fullmatch(part):
                raise invalid("the part after the prefix must be upper-case letters, digits and `_`")
            alias = part.lower()
            if alias in seen:
                raise invalid(f"alias `{alias}` is also set by {seen[alias]}; set only one")
            if from_file:
                value = _read_named_file(value, invalid)
            # os.environ's surrogate escapes of non-UTF-8 bytes; raised outside
            # the `except`, whose UnicodeEncodeError.object is the value.
            try:
                value.encode("utf-8")
                utf8 = True
            except UnicodeEncodeError:
                utf8 = False
            if not utf8:
                raise invalid("value is not UTF-8")
            if not value.strip(_ASCII_WHITESPACE):
                raise invalid("value is empty")
            keys = []
            for i, text in enumerate(value.split(",")):
                if not text.strip(_ASCII_WHITESPACE):
                    raise invalid(f"key {i + 1} is empty")
                try:
                    keys.append(Key.from_base64(text))
                    detail = None
                except InvalidKey as e:
                    detail = str(e).removeprefix("invalid key configuration: ")
                if detail is not None:
                    raise invalid(f"key {i + 1}: {detail}")
            try:
                keyring.insert(alias, keys)
            except InvalidKey as e:
                raise invalid(str(e).removeprefix("invalid key configuration: ")) from None
            seen[alias] = name
        return keyring

    def key_set(self, alias: str) -> Optional[Sequence[Key]]:
        """Every key of ``alias``, primary first; ``None`` if this keyring has no such alias."""
        return self._sets.get(_normalize(alias))

    def require(self, aliases: Iterable[str]) -> None:
        """Raises ``MissingAliases`` naming every alias in ``aliases`` this keyring lacks."""
        missing = [a for a in aliases if self.key_set(a) is None]
        if missing:
            raise MissingAliases(missing)

    def __repr__(self) -> str:
        sets = ", ".join(f"{a!r}: {list(ks)!r}" for a, ks in sorted(self._sets.items()))
        return f"Keyring({{{sets}}})"


KeyLike = Union[Keyring, Key, bytes]


def _keys(key: KeyLike, alias: str, context: str, field: str) -> Sequence[Key]:
    if isinstance(key, Keyring):
        keys = key.key_set(alias)
        if keys is None:
            raise UnknownAlias(f"keyring has no key for alias `{alias}`", alias, context, field)
        return keys
    if isinstance(key, Key):
        return [key]
    return [Key(bytes(key))]


# --- envelopes --------------------------------------------------------------


def set_max_envelope_len(limit: int) -> None:
    """The largest envelope (bytes, before text encoding) sealed or accepted."""
    global _max_envelope_len
    _max_envelope_len = limit


def _max_text_len() -> int:
    limit = _max_envelope_len
    return limit // 3 * 4 + (0, 2, 3)[limit % 3]


def _too_large(length: int) -> str:
    return f"{length} bytes is over the {_max_envelope_len}-byte limit (see `set_max_envelope_len`)"


def _aad(key_id: bytes, alias: str, context: str, field: str) -> bytes:
    out = bytes([VERSION]) + key_id
    for name in (alias, context, field):
        raw = name.encode("utf-8")
        if len(raw) > 0xFFFF:
            raise SerializeError("alias, context or field name longer than 65535 bytes",
                                 alias, context, field)
        out += struct.pack(">H", len(raw)) + raw
    return out


def _to_text(envelope: bytes) -> str:
    return base64.urlsafe_b64encode(envelope).decode().rstrip("=")


def _from_text(text: str) -> Optional[bytes]:
    """Strict base64url without padding: one text per envelope."""
    if not isinstance(text, str) or not _BASE64URL.fullmatch(text) or len(text) % 4 == 1:
        return None
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return raw if _to_text(raw) == text else None


def encrypt_field(key: KeyLike, alias: str, context: str, field: str, value: Any,
                  deterministic: bool = False) -> str:
    """Seals ``value`` (any JSON-serializable value) for the binding, returning the envelope text.

    ``key`` is a ``Keyring`` (its primary key for ``alias`` seals), a ``Key`` or raw key bytes.
    """
    sealing_key = _keys(key, alias, context, field)[0]
    plaintext = _write_json(value)
    # Raised here, outside any `except`: the failed value (which may quote
    # the plaintext) must not ride along as the error's __context__.
    if plaintext is None:
        raise SerializeError(f"cannot serialize value for alias `{alias}`", alias, context, field)
    if HEADER_LEN + len(plaintext) + TAG_LEN > _max_envelope_len:
        raise SerializeError(f"cannot serialize value for alias `{alias}`: "
                             + _too_large(HEADER_LEN + len(plaintext) + TAG_LEN), alias, context, field)
    aad = _aad(sealing_key.id, alias, context, field)
    nonce = sealing_key._deterministic_nonce(aad, plaintext) if deterministic else os.urandom(NONCE_LEN)
    sealed = sealing_key._aead.encrypt(nonce, plaintext, aad)
    return _to_text(bytes([VERSION]) + sealing_key.id + nonce + sealed)


def inspect(envelope: str) -> dict:
    """Version, key id (hex) and plaintext length, read without a key."""
    raw = _parse(envelope, None, None, None)
    return {"version": raw[0], "key_id": raw[1:5].hex(), "plaintext_len": len(raw) - MIN_LEN}


def _parse(envelope: str, alias, context, field) -> bytes:
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
    if raw[0] != VERSION:
        raise UnsupportedVersion(f"unsupported envelope version for alias `{alias or '?'}`: "
                                 f"version {raw[0]}; this implementation reads version {VERSION}",
                                 alias, context, field)
    if len(raw) < MIN_LEN:
        raise MalformedEnvelope(f"malformed envelope for alias `{alias or '?'}`: "
                                f"{len(raw)} bytes is shorter than any envelope", alias, context, field)
    return raw


def decrypt_field(key: KeyLike, alias: str, context: str, field: str, envelope: str) -> Any:
    """Opens an envelope sealed for the binding and returns the JSON value.

    Raises ``MalformedEnvelope``, ``UnsupportedVersion``, ``UnknownAlias``, ``UnknownKeyId``,
    ``AuthenticationFailed`` or ``DeserializeError``, in the order of FORMAT.md section 7.
    """
    raw = _parse(envelope, alias, context, field)
    keys = _keys(key, alias, context, field)
    key_id = raw[1:5]
    opening_key = next((k for k in keys if k.id == key_id), None)
    if opening_key is None:
        raise UnknownKeyId(f"keyring has no key with this id for alias `{alias}` (rotated out?): "
                           f"key id {key_id.hex()}", alias, context, field)
    try:
        plaintext = opening_key._aead.decrypt(raw[5:HEADER_LEN], raw[HEADER_LEN:],
                                              _aad(key_id, alias, context, field))
    except InvalidTag:
        raise AuthenticationFailed(
            f"envelope for alias `{alias}` failed authentication "
            "(wrong key, tampered, or moved from another field, type or alias)",
            alias, context, field) from None
    value, ok = _read_json_or_fail(plaintext)
    # Raised outside the `except`: the parser's exception quotes the
    # plaintext and would stay reachable as __context__.
    if not ok:
        raise DeserializeError(f"decrypted value for alias `{alias}` does not fit the field's type",
                               alias, context, field)
    return value


def _write_json(value: Any) -> Optional[bytes]:
    """The plaintext of ``value`` as serde_json writes it, or None if it has
    none: not JSON-serializable, not UTF-8 (lone surrogates), or nested
    deeper than ``MAX_DEPTH``, which readers would refuse."""
    try:
        if _has_duplicate_keys(value):
            return None
        text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        plaintext = text.encode("utf-8")
    except (TypeError, ValueError, RecursionError):
        return None
    if _nesting(plaintext) > MAX_DEPTH:
        return None
    return plaintext


def _json_key(key: Any) -> str:
    """The member name ``json.dumps`` writes for a dict key."""
    if isinstance(key, str):
        return key
    if key is True or key is False or key is None:
        return json.dumps(key)
    if isinstance(key, (int, float)):
        return json.dumps(key)
    raise TypeError("keys must be str, int, float, bool or None")


def _has_duplicate_keys(value: Any) -> bool:
    """Whether ``json.dumps`` would write two members of one name (a dict
    holding both ``1`` and ``"1"``), which readers of records refuse."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            names = [_json_key(k) for k in item]
            if len(set(names)) != len(names):
                return True
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def _nesting(text: bytes) -> int:
    """How deeply arrays and objects nest in a JSON text (strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for b in text:
        if in_string:
            if escaped:
                escaped = False
            elif b == 0x5C:
                escaped = True
            elif b == 0x22:
                in_string = False
        elif b == 0x22:
            in_string = True
        elif b in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif b in (0x5D, 0x7D):
            depth = max(depth - 1, 0)
    return deepest


def _read_json_or_fail(plaintext: bytes) -> Tuple[Any, bool]:
    try:
        return _read_json(plaintext), True
    except (UnicodeError, ValueError, RecursionError):
        return None, False


def _read_json(plaintext: bytes) -> Any:
    """JSON as FORMAT.md section 5 lets readers take it: UTF-8 without a
    byte-order mark; no NaN or Infinity; numbers finite as binary64 floats;
    no lone surrogates; the last of duplicate member names counts."""
    def refuse(text):
        raise ValueError(f"not JSON: {text[:8]}")

    def finite(text):
        number = float(text)
        if not math.isfinite(number):
            raise ValueError("number beyond binary64")
        return number

    def big_integer(text):
        if not math.isfinite(float(text)):
            raise ValueError("number beyond binary64")
        return int(text)

    if _nesting(plaintext) > MAX_DEPTH:
        raise ValueError("nested deeper than MAX_DEPTH")
    value = json.loads(plaintext.decode("utf-8"), parse_constant=refuse, parse_float=finite,
                       parse_int=big_integer)
    _check_surrogates(value)
    return value


def _check_surrogates(value: Any) -> None:
    """Raises ``UnicodeError`` for a string (or member name) with a lone surrogate."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            item.encode("utf-8")
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
