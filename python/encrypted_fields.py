"""encrypted-fields envelopes and record seals for Python: a twin of the Rust crate's format.

Written from ``docs/FORMAT.md`` alone. Reads and writes the same envelopes
(format versions 1 and 2) with ``cryptography``'s AES-GCM-SIV, the same record
seals (HMAC-SHA256 and Ed25519), loads keys from the same
``ENCRYPTED_FIELDS_KEY_<ALIAS>``, ``ENCRYPTED_FIELDS_SIGNING_KEY_<ALIAS>`` and
``ENCRYPTED_FIELDS_VERIFYING_KEY_<ALIAS>`` variables, and raises the same kinds
of error. Error messages name the alias and field, never plaintext, key bytes
or ciphertext.

One field at a time (the binding is alias, context and field; ``record`` and
``position`` make it version 2, FORMAT.md section 4.1)::

    keyring = Keyring.from_env()
    envelope = encrypt_field(keyring, "pii", "Customer", "email", "ada@example.com")
    value = decrypt_field(keyring, "pii", "Customer", "email", envelope)

Whole records, declared as the Rust derive declares them: a ``Schema`` names
the type's context and each member by its serialized name, in declaration
order: ``Plain()`` (kept as it is; ``Plain(float)`` for a Rust ``f64``,
``optional=True`` for an ``Option``), ``Encrypted(alias, deterministic=False,
optional=False)``, or ``Nested(shape, key=None, bind_index=False)``, where
``shape`` is a child ``Schema`` or ``ListOf``, ``MapOf`` (string keys) or
``OptionOf`` of one, and ``key`` also seals the child whole under that alias.
Type-level options mirror ``#[encrypt(...)]``: ``bind`` (plain members),
``bind_positions``, ``legacy_unbound``, ``seal`` or ``sign`` (an alias) and
``seal_member`` (default ``_seal``)::

    user = Schema("CashUser", {"cashTag": Plain(str), "bankAccount": Encrypted("banking")})
    tx = Schema("transaction", {"id": Plain(int), "sender": Nested(user),
                                "witnesses": Nested(ListOf(user), bind_index=True)},
                bind=["id"], bind_positions=True, seal="records")
    wire = tx.encrypt(keyring, {"id": 7, "sender": {"cashTag": "$ada", "bankAccount": "acct-1"},
                                "witnesses": []})
    plain = tx.decrypt(keyring, wire)       # or JSON text, read by ``loads``
    partial, inaccessible = tx.decrypt_partial(keyring, wire)

``decrypt_partial`` leaves the fields of aliases the keyring lacks sealed (as
``Envelope`` strings), takes a seal it cannot check unchecked, and lists those
aliases. ``canonical``, ``seal_record`` and ``verify_record`` are the record
seals of FORMAT.md section 13 on their own; ``loads`` reads JSON text as a
record reader does (integers of any size stay integers, ``-0`` is a float).
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
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple, Union

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

__all__ = [
    "VERSION",
    "VERSION_2",
    "Key",
    "SigningKey",
    "VerifyingKey",
    "Keyring",
    "RecordBinding",
    "Position",
    "encrypt_field",
    "decrypt_field",
    "inspect",
    "var_name",
    "loads",
    "canonical",
    "MAC",
    "SIGNATURE",
    "seal_message",
    "seal_record",
    "verify_record",
    "Schema",
    "Plain",
    "Encrypted",
    "Nested",
    "ListOf",
    "MapOf",
    "OptionOf",
    "Envelope",
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
    "UnknownMember",
]

VERSION = 0x01
VERSION_2 = 0x02
KEY_ID_LEN = 4
NONCE_LEN = 12
TAG_LEN = 16
HEADER_LEN = 1 + KEY_ID_LEN + NONCE_LEN
MIN_LEN = HEADER_LEN + TAG_LEN
KEY_ID_DOMAIN = b"encrypted-fields key id v1\x00"
VERIFYING_KEY_ID_DOMAIN = b"encrypted-fields verifying key id v1\x00"
NONCE_KEY_LABEL = b"encrypted-fields deterministic nonce key v1"
SEAL_KEY_LABEL = b"encrypted-fields record seal key v1"
MAC_DOMAIN = b"encrypted-fields record seal v1"
SIGNATURE_DOMAIN = b"encrypted-fields record signature v1"
PREFIX = "ENCRYPTED_FIELDS_KEY_"
SIGNING_PREFIX = "ENCRYPTED_FIELDS_SIGNING_KEY_"
VERIFYING_PREFIX = "ENCRYPTED_FIELDS_VERIFYING_KEY_"
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
    """The decrypted plaintext is not JSON, or a record does not fit its ``Schema``."""
    kind = "deserialize"


class UnknownMember(DeserializeError):
    """A sealed record has a member its type does not declare (FORMAT.md 13.5, step 1)."""


# --- keys -------------------------------------------------------------------


def _decode_key_text(text: str) -> Optional[bytes]:
    """Standard padded base64 with zero unused bits, ASCII whitespace around
    it ignored (FORMAT.md section 2); None if it is not that."""
    text = text.strip(_ASCII_WHITESPACE)
    # Errors are raised by the callers, outside any `except`: a decoding
    # exception kept as __context__ would carry the key text along.
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode() == text else None


class Key:
    """One AES-GCM-SIV key (16 or 32 bytes) and its id. ``repr`` shows the id only."""

    __slots__ = ("_aead", "_nonce_key", "_seal_key", "id", "bits")

    def __init__(self, key: bytes):
        if len(key) not in (16, 32):
            raise InvalidKey(f"invalid key configuration: key is {len(key)} bytes; "
                             "expected 16 (AES-128) or 32 (AES-256)")
        self.id = hashlib.sha256(KEY_ID_DOMAIN + key).digest()[:KEY_ID_LEN]
        self.bits = len(key) * 8
        self._aead = AESGCMSIV(key)
        self._nonce_key = hmac.new(key, NONCE_KEY_LABEL, hashlib.sha256).digest()
        self._seal_key = hmac.new(key, SEAL_KEY_LABEL, hashlib.sha256).digest()

    @classmethod
    def from_base64(cls, text: str) -> "Key":
        """A key written as standard padded base64, as in the variables."""
        raw = _decode_key_text(text)
        if raw is None:
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

    def _record_mac(self, message: bytes) -> bytes:
        return hmac.new(self._seal_key, message, hashlib.sha256).digest()

    def __repr__(self) -> str:
        return f"Key({self.id.hex()}, AES-{self.bits}-GCM-SIV)"


# Ed25519 (RFC 8032): the field prime, the curve constant d, the group order.
_P = 2 ** 255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P
_L = 2 ** 252 + 27742317777372353535851937790883648493
# The y coordinates of the eight points of small order: the identity (1),
# order 2 (-1), order 4 (0), order 8 (two values that add up to p).
_Y8 = int.from_bytes(bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), "little")
_SMALL_ORDER_Y = frozenset({0, 1, _P - 1, _Y8, _P - _Y8})


def _point_y(raw: bytes) -> Optional[int]:
    """y of the point a 32-byte encoding names (high bit: the sign of x, y
    reduced mod p as Ed25519 decoders do), or None if no point has it."""
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    yy = y * y % _P
    x2 = (yy - 1) * pow(_D * yy + 1, _P - 2, _P) % _P
    return y % _P if x2 == 0 or pow(x2, (_P - 1) // 2, _P) == 1 else None


def _verifying_key_id(public: bytes) -> bytes:
    return hashlib.sha256(VERIFYING_KEY_ID_DOMAIN + public).digest()[:KEY_ID_LEN]


class VerifyingKey:
    """An Ed25519 public key (32 bytes) that checks record signatures, and its id."""

    __slots__ = ("_key", "raw", "id")

    def __init__(self, public: bytes):
        if len(public) != 32:
            raise InvalidKey(f"invalid key configuration: verifying key is {len(public)} bytes; expected 32")
        if _point_y(public) is None:
            raise InvalidKey("invalid key configuration: verifying key is not a point on Ed25519")
        self.raw = bytes(public)
        self.id = _verifying_key_id(self.raw)
        self._key = Ed25519PublicKey.from_public_bytes(self.raw)

    @classmethod
    def from_base64(cls, text: str) -> "VerifyingKey":
        """A verifying key written as standard padded base64 of its 32 bytes."""
        raw = _decode_key_text(text)
        if raw is None:
            raise InvalidKey("invalid key configuration: verifying key is not standard padded base64")
        return cls(raw)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Strict RFC 8032 verification (FORMAT.md 13.4): ``S`` below the group
        order, ``R`` a point, and neither ``R`` nor this key of small order."""
        if len(signature) != 64 or int.from_bytes(signature[32:], "little") >= _L:
            return False
        r = _point_y(signature[:32])
        if r is None or r in _SMALL_ORDER_Y or _point_y(self.raw) in _SMALL_ORDER_Y:
            return False
        try:
            self._key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def to_base64(self) -> str:
        return base64.b64encode(self.raw).decode()

    def __repr__(self) -> str:
        return f"VerifyingKey({self.id.hex()})"


class SigningKey:
    """An Ed25519 private key (its 32-byte seed) that signs records; its id
    is its verifying key's. ``repr`` shows the id only."""

    __slots__ = ("_key", "public", "id")

    def __init__(self, seed: bytes):
        if len(seed) != 32:
            raise InvalidKey(f"invalid key configuration: signing key is {len(seed)} bytes; expected 32")
        self._key = Ed25519PrivateKey.from_private_bytes(bytes(seed))
        self.public = VerifyingKey(self._key.public_key().public_bytes_raw())
        self.id = self.public.id

    @classmethod
    def from_base64(cls, text: str) -> "SigningKey":
        """A signing key written as standard padded base64 of its 32-byte seed."""
        raw = _decode_key_text(text)
        if raw is None:
            raise InvalidKey("invalid key configuration: signing key is not standard padded base64")
        return cls(raw)

    @staticmethod
    def generate() -> str:
        """A fresh seed as standard base64, for ``ENCRYPTED_FIELDS_SIGNING_KEY_<ALIAS>``."""
        return base64.b64encode(os.urandom(32)).decode()

    @property
    def verifying_key(self) -> str:
        """The text consumers put in ``ENCRYPTED_FIELDS_VERIFYING_KEY_<ALIAS>``."""
        return self.public.to_base64()

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey({self.id.hex()})"


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

    # Raised outside the `except`: the OSError names the path, which may be a
    # key pasted into the variable by mistake.
    try:
        check(os.stat(path))
        with open(path, "rb") as f:
            check(os.fstat(f.fileno()))
            raw = f.read(MAX_SECRET_FILE_LEN + 1)
        reason = None
    except OSError as e:
        reason = _io_reason(e)
    if reason is not None:
        raise invalid(f"cannot read the file it names: {reason}")
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


_ALIAS_RULE = ("invalid key configuration: invalid alias: lowercase letters, digits, `_`, `.` and `-`, "
               "starting with a letter or digit, not ending in `_file`, `-file` or `.file`")


def _check_alias(alias: str) -> None:
    if not _ALIAS.fullmatch(alias) or alias.endswith(("_file", "-file", ".file")):
        raise InvalidKey(_ALIAS_RULE, alias=alias)


def _parse_key_list(value: str, parse) -> list:
    """The comma-separated keys of a variable's value, each read by ``parse``;
    raises InvalidKey with the detail Rust gives (without the variable)."""
    if not value.strip(_ASCII_WHITESPACE):
        raise InvalidKey("invalid key configuration: value is empty")
    keys = []
    for i, text in enumerate(value.split(",")):
        if not text.strip(_ASCII_WHITESPACE):
            raise InvalidKey(f"invalid key configuration: key {i + 1} is empty")
        try:
            keys.append(parse(text))
            detail = None
        except InvalidKey as e:
            detail = str(e).removeprefix("invalid key configuration: ")
        if detail is not None:
            raise InvalidKey(f"invalid key configuration: key {i + 1}: {detail}")
    return keys


class Keyring:
    """Keys by alias, as the Rust ``EnvKeyring`` reads them: AES keys (the primary
    first), and for record signatures a signing key and verifying keys."""

    def __init__(self, key_sets: Optional[Mapping[str, Sequence[Key]]] = None):
        self._sets: Dict[str, List[Key]] = {}
        self._signing: Dict[str, SigningKey] = {}
        self._verifying: Dict[str, List[VerifyingKey]] = {}
        for alias, keys in (key_sets or {}).items():
            self.insert(alias, keys)

    def insert(self, alias: str, keys: Sequence[Key]) -> None:
        _check_alias(alias)
        keys = list(keys)
        if not keys:
            raise InvalidKey("invalid key configuration: no key given", alias=alias)
        for i, key in enumerate(keys):
            if any(k.id == key.id for k in keys[:i]):
                raise InvalidKey(f"invalid key configuration: key {i + 1} listed twice "
                                 f"(key id {key.id.hex()})", alias=alias)
        self._sets[_normalize(alias)] = keys

    def insert_signing_key(self, alias: str, key: SigningKey) -> None:
        """Makes ``key`` the one that signs records under ``alias``; its
        verifying key joins the alias's verifying keys."""
        _check_alias(alias)
        verifying = self._verifying.setdefault(_normalize(alias), [])
        if all(k.id != key.id for k in verifying):
            verifying.append(key.public)
        self._signing[_normalize(alias)] = key

    def insert_verifying_keys(self, alias: str, keys: Sequence[VerifyingKey]) -> None:
        """Adds keys that check records signed under ``alias``. A key the alias
        has already (its signing key's, say) is kept once, so the order keys
        are added in does not matter."""
        _check_alias(alias)
        verifying = self._verifying.setdefault(_normalize(alias), [])
        for key in keys:
            if all(k.id != key.id for k in verifying):
                verifying.append(key)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None) -> "Keyring":
        """Reads every ``ENCRYPTED_FIELDS_KEY_*``, ``..._SIGNING_KEY_*`` and
        ``..._VERIFYING_KEY_*`` variable of ``environ`` (default: the process's)."""
        return cls.from_vars((environ if environ is not None else os.environ).items())

    @classmethod
    def from_vars(cls, pairs: Iterable[Tuple[str, str]]) -> "Keyring":
        """Reads keys from (name, value) pairs; names without a prefix are ignored."""
        keyring = cls()
        seen = {}
        for name, value in pairs:
            prefix = next((p for p in (PREFIX, SIGNING_PREFIX, VERIFYING_PREFIX) if name.startswith(p)), None)
            if prefix is None:
                continue

            def invalid(detail: str) -> InvalidKey:
                return InvalidKey(f"invalid key configuration: {name}: {detail}")

            part = name[len(prefix):]
            from_file = part.endswith(FILE_SUFFIX)
            if from_file:
                part = part[:-len(FILE_SUFFIX)]
            if not _VAR_ALIAS.fullmatch(part):
                raise invalid("the part after the prefix must be upper-case letters, digits and `_`")
            alias = part.lower()
            if (prefix, alias) in seen:
                raise invalid(f"alias `{alias}` is also set by {seen[prefix, alias]}; set only one")
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
            try:
                keyring._load(prefix, alias, value)
                detail = None
            except InvalidKey as e:
                detail = str(e).removeprefix("invalid key configuration: ")
            if detail is not None:
                raise invalid(detail)
            seen[prefix, alias] = name
        return keyring

    def _load(self, prefix: str, alias: str, value: str) -> None:
        """One variable's keys (FORMAT.md sections 2 and 13.4)."""
        if prefix == PREFIX:
            self.insert(alias, _parse_key_list(value, Key.from_base64))
            return
        # Two keys with the same key id in one variable fail (FORMAT.md 13.4).
        keys = _parse_key_list(value, VerifyingKey.from_base64 if prefix == VERIFYING_PREFIX
                               else SigningKey.from_base64)
        for i, key in enumerate(keys):
            if any(k.id == key.id for k in keys[:i]):
                what = f"verifying key {key.id.hex()}" if prefix == VERIFYING_PREFIX \
                    else f"key {i + 1}: signing key {key.id.hex()}"
                raise InvalidKey(f"invalid key configuration: {what} listed twice")
        if prefix == VERIFYING_PREFIX:
            self.insert_verifying_keys(alias, keys)
        else:
            # The first signs; the older ones only verify, so records signed
            # before a rotation keep verifying.
            self.insert_signing_key(alias, keys[0])
            self.insert_verifying_keys(alias, [k.public for k in keys[1:]])

    def key_set(self, alias: str) -> Optional[Sequence[Key]]:
        """Every key of ``alias``, primary first; ``None`` if this keyring has no such alias."""
        return self._sets.get(_normalize(alias))

    def signing_key(self, alias: str) -> Optional[SigningKey]:
        """The key that signs records under ``alias``, if this keyring may sign them."""
        return self._signing.get(_normalize(alias))

    def verifying_keys(self, alias: str) -> Optional[Sequence[VerifyingKey]]:
        """The keys that check records signed under ``alias``; ``None`` if none."""
        return self._verifying.get(_normalize(alias))

    def require(self, aliases: Iterable[str]) -> None:
        """Raises ``MissingAliases`` naming every alias in ``aliases`` this keyring lacks
        (an alias with only signing or verifying keys is present)."""
        missing = [a for a in aliases if self.key_set(a) is None and self.verifying_keys(a) is None]
        if missing:
            raise MissingAliases(missing)

    def __repr__(self) -> str:
        sets = ", ".join(f"{a!r}: {list(ks)!r}" for a, ks in sorted(self._sets.items()))
        if self._signing:
            sets += ", 'signing': " + repr(dict(sorted(self._signing.items())))
        if self._verifying:
            sets += ", 'verifying': " + repr(dict(sorted(self._verifying.items())))
        return f"Keyring({{{sets.removeprefix(', ')}}})"


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


# The longest record binding or position (section 4.1): both go into the
# AAD of every envelope below them.
MAX_SCOPE_LEN = 4096


def _aad(key_id: bytes, alias: str, context: str, field: str,
         record: bytes = b"", position: bytes = b"") -> bytes:
    """The AAD of section 4, or of section 4.1 (version 2) when there is a
    record or a position."""
    scoped = bool(record or position)
    out = bytes([VERSION_2 if scoped else VERSION]) + key_id
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
        parts = [entry, struct.pack(">H", len(fields)) if len(fields) <= 0xFFFF else None]
        for name, value in fields:
            raw = value.encode("utf-8")
            parts.append(_u16(name.encode("utf-8")))
            parts.append(struct.pack(">I", len(raw)) + raw if len(raw) <= 0xFFFFFFFF else None)
        if any(part is None for part in parts):
            raise SerializeError(f"cannot serialize value: a record binding name or value of "
                                 f"`{context}` is too long")
        return RecordBinding(self + b"".join(parts))


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

    def index(self, index: int) -> "Position":
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

    ``key`` is a ``Keyring`` (its primary key for ``alias`` seals), a ``Key`` or raw key bytes.
    With a ``record`` (``RecordBinding``) or a ``position`` (``Position``) the envelope is
    version 2 and opens only with the same ones; a ``deterministic`` envelope is never bound
    to them (FORMAT.md section 4.1), so it ignores both.
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
    if deterministic:
        record = position = b""
    aad = _aad(sealing_key.id, alias, context, field, record, position)
    nonce = sealing_key._deterministic_nonce(aad, plaintext) if deterministic else _random_nonce()
    sealed = sealing_key._aead.encrypt(nonce, plaintext, aad)
    return _to_text(aad[:1] + sealing_key.id + nonce + sealed)


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
    if raw[0] not in (VERSION, VERSION_2):
        raise UnsupportedVersion(f"unsupported envelope version for alias `{alias or '?'}`: "
                                 f"version {raw[0]}; this implementation reads versions 1 and 2",
                                 alias, context, field)
    if len(raw) < MIN_LEN:
        raise MalformedEnvelope(f"malformed envelope for alias `{alias or '?'}`: "
                                f"{len(raw)} bytes is shorter than any envelope", alias, context, field)
    return raw


def decrypt_field(key: KeyLike, alias: str, context: str, field: str, envelope: str, *,
                  record: bytes = b"", position: bytes = b"", legacy_unbound: bool = False) -> Any:
    """Opens an envelope sealed for the binding and returns the JSON value.

    The binding fixes the version (FORMAT.md section 9): 2 with a ``record`` or a
    ``position``, else 1; with ``legacy_unbound`` a version-1 envelope also opens
    under a record or position (without them). Raises ``MalformedEnvelope``,
    ``UnsupportedVersion``, ``UnknownAlias``, ``UnknownKeyId``,
    ``AuthenticationFailed`` or ``DeserializeError``, in the order of FORMAT.md section 7.
    """
    raw = _parse(envelope, alias, context, field)
    scoped = bool(record or position)
    if raw[0] == VERSION and scoped and legacy_unbound:
        record = position = b""
    elif raw[0] != (VERSION_2 if scoped else VERSION):
        detail = ("sealed without the record or position binding this field has (format version 1): "
                  "it may come from another record" if raw[0] == VERSION else
                  "sealed with a record or position binding (format version 2) this field does not have")
        raise UnsupportedVersion(f"unsupported envelope version for alias `{alias}`: {detail}",
                                 alias, context, field)
    keys = _keys(key, alias, context, field)
    key_id = raw[1:5]
    opening_key = next((k for k in keys if k.id == key_id), None)
    if opening_key is None:
        raise UnknownKeyId(f"keyring has no key with this id for alias `{alias}` (rotated out?): "
                           f"key id {key_id.hex()}", alias, context, field)
    aad = _aad(key_id, alias, context, field, record, position)
    try:
        plaintext = opening_key._aead.decrypt(raw[5:HEADER_LEN], raw[HEADER_LEN:], aad)
    except InvalidTag:
        plaintext = None
    if plaintext is None:
        raise AuthenticationFailed(
            f"envelope for alias `{alias}` failed authentication "
            "(wrong key, tampered, or moved from another field, type or alias)",
            alias, context, field)
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


def _read_json_or_fail(plaintext: bytes, record: bool = False) -> Tuple[Any, bool]:
    try:
        return _read_json(plaintext, record), True
    except (UnicodeError, ValueError, RecursionError):
        return None, False


class _DuplicateMembers(dict):
    """An object read from JSON text that had two members of one name: it
    holds the last, as a map's reader takes it; a record's reader refuses it,
    and it has no canonical encoding (FORMAT.md section 13.2)."""


def _members(pairs: List[Tuple[str, Any]]) -> dict:
    members = dict(pairs)
    return members if len(members) == len(pairs) else _DuplicateMembers(members)


def _read_json(plaintext: bytes, record: bool = False) -> Any:
    """JSON as FORMAT.md section 5 lets readers take it: UTF-8 without a
    byte-order mark; no NaN or Infinity; numbers finite as binary64 floats;
    no lone surrogates; the last of duplicate member names counts. With
    ``record``, as section 13.2 reads a record: ``-0`` is the float -0.0, and
    objects with duplicate names are marked (``_DuplicateMembers``)."""
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
        return -0.0 if record and text == "-0" else int(text)

    if _nesting(plaintext) > MAX_DEPTH:
        raise ValueError("nested deeper than MAX_DEPTH")
    value = json.loads(plaintext.decode("utf-8"), parse_constant=refuse, parse_float=finite,
                       parse_int=big_integer, object_pairs_hook=_members if record else None)
    _check_surrogates(value)
    return value


def loads(text: Union[str, bytes]) -> Any:
    """JSON text read as a record reader reads it (FORMAT.md sections 5 and 13.2):
    integers of any size stay ``int``; a number with a fraction or exponent, and
    ``-0``, is a ``float``; NaN, Infinity, numbers beyond binary64, lone
    surrogates, a byte-order mark and nesting deeper than 127 are refused
    (``DeserializeError``). An object with two members of one name keeps the
    last, but ``Schema`` readers refuse it as a record and ``canonical`` refuses
    to encode it."""
    raw: Optional[bytes]
    if isinstance(text, str):
        try:
            raw = text.encode("utf-8")
        except UnicodeEncodeError:
            raw = None
    else:
        raw = bytes(text)
    value, ok = _read_json_or_fail(raw, record=True) if raw is not None else (None, False)
    if not ok:
        raise DeserializeError("the record is not JSON that readers take (FORMAT.md section 5)")
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


# --- canonical encoding (FORMAT.md section 13.2) ----------------------------


class _Unencodable(Exception):
    """Why a value has no canonical encoding; never quotes the value."""


def _encode(value: Any, out: bytearray, skip: Optional[str] = None) -> None:
    if value is None:
        out += b"\x00"
    elif value is False or value is True:
        out += b"\x02" if value else b"\x01"
    elif isinstance(value, int):
        try:
            digits = str(value).encode()
        except ValueError:
            raise _Unencodable("an integer has too many digits") from None
        out += b"\x03" + struct.pack(">I", len(digits)) + digits
    elif isinstance(value, float):
        # serde_json writes a non-finite float as null.
        out += (b"\x04" + struct.pack(">d", value)) if math.isfinite(value) else b"\x00"
    elif isinstance(value, str):
        try:
            raw = value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Unencodable("a string is not UTF-8 (a lone surrogate)") from None
        out += b"\x05" + struct.pack(">I", len(raw)) + raw
    elif isinstance(value, (list, tuple)):
        out += b"\x06" + struct.pack(">I", len(value))
        for item in value:
            _encode(item, out)
    elif isinstance(value, Mapping):
        if isinstance(value, _DuplicateMembers):
            raise _Unencodable("two members of one object share a name")
        try:
            names = [_json_key(k).encode("utf-8") for k in value]
        except TypeError:
            raise _Unencodable("an object has a member name that is not a string") from None
        except UnicodeEncodeError:
            raise _Unencodable("a member name is not UTF-8 (a lone surrogate)") from None
        skipped = skip.encode("utf-8") if skip is not None else None
        order = sorted((name, i) for i, name in enumerate(names) if name != skipped)
        if any(a[0] == b[0] for a, b in zip(order, order[1:])):
            raise _Unencodable("two members of one object share a name")
        items = list(value.values())
        out += b"\x07" + struct.pack(">I", len(order))
        for name, i in order:
            out += struct.pack(">I", len(name)) + name
            _encode(items[i], out)
    else:
        raise _Unencodable(f"a {type(value).__name__} is not a JSON value")


def _canonical(value: Any, member: Optional[str]) -> Tuple[Optional[bytes], Optional[str]]:
    out = bytearray()
    try:
        _encode(value, out, member)
        return bytes(out), None
    except _Unencodable as e:
        return None, str(e)
    except RecursionError:
        return None, "nested too deeply"


def canonical(value: Any, member: Optional[str] = None) -> bytes:
    """The canonical encoding of a JSON value (FORMAT.md section 13.2), leaving out
    the top-level ``member`` of an object (the seal's). ``int`` is an integer (of
    any size), ``float`` a binary64 (a non-finite one ``null``, as serde_json
    writes it), members sorted by the bytes of their UTF-8 names. Read JSON text
    with ``loads``, which keeps integers and floats apart as the text does."""
    encoded, reason = _canonical(value, member)
    # Raised outside the `except`: the exception may hold a string of the record.
    if encoded is None:
        raise SerializeError(f"cannot serialize value: record seal: {reason}")
    return encoded


# --- record seals (FORMAT.md section 13) -------------------------------------

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


def _error(cls, alias: Optional[str], context: Optional[str], field: Optional[str],
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
    names = [_u16(alias.encode("utf-8")), _u16(context.encode("utf-8"))]
    if None in names:
        raise _error(SerializeError, alias, context, member, "alias or context longer than 65535 bytes")
    encoded, reason = _canonical(record, member)
    if encoded is None:
        raise _error(SerializeError, alias, context, member, f"record seal: {reason}")
    return (MAC_DOMAIN if kind == MAC else SIGNATURE_DOMAIN) + b"".join(names) + encoded


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


def verify_record(keyring: Keyring, kind: str, alias: str, context: str, record: Mapping,
                  member: str = "_seal") -> None:
    """Checks ``record``'s seal, held in its ``member``, as FORMAT.md section 13.5 says:
    absent or null fails authentication; then the seal's version, kind and length;
    then the key (``UnknownAlias``, ``UnknownKeyId``) and the MAC or signature."""
    _check_kind(kind)
    raw = _seal_bytes(record.get(member), alias, context, member)

    def fail(cls, detail: Optional[str] = None) -> EncryptedFieldsError:
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
    keys = keyring.key_set(alias) if kind == MAC else keyring.verifying_keys(alias)
    if keys is None:
        raise fail(UnknownAlias)
    key = next((k for k in keys if k.id == key_id), None)
    if key is None:
        raise fail(UnknownKeyId, f"record seal key id {key_id.hex()}")
    valid = hmac.compare_digest(key._record_mac(message), tag) if kind == MAC else key.verify(message, tag)
    if not valid:
        raise fail(AuthenticationFailed,
                   "the record does not match its seal: a member was changed, added, removed or swapped")


# --- records: the derive's declarations, in Python ---------------------------


class Envelope(str):
    """A field that ``Schema.decrypt_partial`` kept sealed: its envelope text."""


_MISSING = object()
_PLAIN_TYPES = (None, int, float, str, bool)


class Plain:
    """A member kept as it is. ``kind`` (``int``, ``float``, ``str`` or ``bool``)
    reads and writes it as that Rust type does (``float`` turns integers into
    floats, as ``f64`` does); without it, any JSON value. ``optional``: an
    ``Option``, absent or ``null`` reads as ``None``."""

    __slots__ = ("kind", "optional")

    def __init__(self, kind: Optional[type] = None, optional: bool = False):
        if kind not in _PLAIN_TYPES:
            raise ValueError("Plain(kind): kind is int, float, str, bool or None (any JSON value)")
        self.kind, self.optional = kind, optional

    def _convert(self, value: Any) -> Tuple[Any, bool]:
        """The value as the type holds it, and whether it fits."""
        if value is None:
            return None, self.optional or self.kind is None
        if self.kind is None:
            return value, True
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            try:
                return float(value), True
            except OverflowError:
                return None, False
        if self.kind is int and isinstance(value, bool):
            return None, False
        return value, isinstance(value, self.kind)


class Encrypted:
    """A member sealed under ``alias`` (``#[encrypt(key = "...")]``); ``deterministic``
    envelopes are equal for equal values and never bound to a record or position;
    ``optional``: an ``Option``, whose ``None`` stays ``null``."""

    __slots__ = ("alias", "deterministic", "optional")

    def __init__(self, alias: str, deterministic: bool = False, optional: bool = False):
        _check_declared_alias(alias)
        self.alias, self.deterministic, self.optional = alias, deterministic, optional


class ListOf:
    """A list (``Vec``) of ``shape``."""

    __slots__ = ("shape",)

    def __init__(self, shape: "Shape"):
        self.shape = _check_shape(shape)


class MapOf:
    """A map with string keys (``BTreeMap<String, _>``, ``HashMap``) of ``shape``."""

    __slots__ = ("shape",)

    def __init__(self, shape: "Shape"):
        self.shape = _check_shape(shape)


class OptionOf:
    """``shape`` or ``null`` (an ``Option``; an absent member reads as ``None``)."""

    __slots__ = ("shape",)

    def __init__(self, shape: "Shape"):
        self.shape = _check_shape(shape)


class Nested:
    """A member holding records of another ``Schema`` (``#[encrypt(nested)]``):
    ``shape`` is the schema, or ``ListOf``/``MapOf``/``OptionOf`` of one. ``key``
    also seals the child whole under that alias (``nested, key = "..."``);
    ``bind_index`` binds the elements of the list it holds to their indexes."""

    __slots__ = ("shape", "key", "bind_index")

    def __init__(self, shape: "Shape", key: Optional[str] = None, bind_index: bool = False):
        self.shape = _check_shape(shape)
        if key is not None:
            _check_declared_alias(key)
        self.key, self.bind_index = key, bind_index


Member = Union[Plain, Encrypted, Nested]
Shape = Union["Schema", ListOf, MapOf, OptionOf]


def _check_declared_alias(alias: str) -> None:
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias) or alias.endswith(("_file", "-file", ".file")):
        raise ValueError(f"alias {alias!r}: aliases are lowercase letters, digits, `_`, `.` and `-`, "
                         "starting with a letter or digit, not ending in `_file`")


def _check_shape(shape: Any) -> Any:
    if not isinstance(shape, (Schema, ListOf, MapOf, OptionOf)):
        raise TypeError("a nested shape is a Schema, or ListOf, MapOf or OptionOf one")
    return shape


class _Scope(NamedTuple):
    """What the values being sealed or opened are inside (FORMAT.md section
    4.1): the record and position so far, whether the next list down is
    indexed, and whether a type on the way down declares ``legacy_unbound``."""

    record: bytes = b""
    position: bytes = b""
    index_next: bool = False
    legacy: bool = False

    def enter(self, schema: "Schema", bound: Sequence[Tuple[str, str]]) -> "_Scope":
        record = RecordBinding(self.record).push_type(schema.context, bound) if bound else self.record
        position = self.position or (Position.root(schema.context) if schema.bind_positions else b"")
        return _Scope(record, position, False, self.legacy or schema.legacy_unbound)

    def member(self, name: str, indexed: bool) -> "_Scope":
        position = Position(self.position).member(name) if self.position else self.position
        return self._replace(position=position, index_next=indexed)

    def index(self, index: int) -> "_Scope":
        return self._replace(position=Position(self.position).index(index), index_next=False)

    def key(self, key: str) -> "_Scope":
        return self._replace(position=Position(self.position).key(key), index_next=False)


def _as_written(value: Any) -> Tuple[Any, bool]:
    """A plain value as JSON holds it (lists for tuples, string member names,
    ``None`` for a non-finite float, as serde_json writes one), and whether it
    has a JSON form at all."""
    if value is None or isinstance(value, (bool, int, str)):
        return value, True
    if isinstance(value, float):
        return (value if math.isfinite(value) else None), True
    if isinstance(value, (list, tuple)):
        items = [_as_written(item) for item in value]
        return [v for v, _ in items], all(ok for _, ok in items)
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            try:
                name = _json_key(k)
            except TypeError:
                return None, False
            out[name], ok = _as_written(v)
            if not ok:
                return None, False
        return out, len(out) == len(value)
    return None, False


def _bound_text(value: Any, context: str, name: str) -> str:
    text = _write_json(value)
    if text is None:
        raise SerializeError("cannot serialize value: a bound field's value cannot be written as JSON",
                             context=context, field=name)
    return text.decode("utf-8")


def _envelope_text(value: Any, alias: str, context: str, name: str) -> str:
    """An envelope member as a reader takes it: base64url text within the size limit."""
    if not isinstance(value, str):
        found = "an array" if isinstance(value, list) else "an object" if isinstance(value, Mapping) \
            else "a boolean" if isinstance(value, bool) else "null" if value is None else "a number"
        raise DeserializeError(f"invalid envelope: found {found}, expected a base64url string",
                               alias, context, name)
    if len(value) > _max_text_len() or _from_text(value) is None:
        raise MalformedEnvelope(f"malformed envelope for alias `{alias}`: not base64url text without "
                                "padding within the size limit", alias, context, name)
    return value


class Schema:
    """A record type, declared as the Rust derive declares it (see the module's
    docstring). ``fields`` maps each member's serialized name to ``Plain``,
    ``Encrypted`` or ``Nested``, in declaration order; ``context`` is the
    type's context (its Rust name or ``#[encrypt(context = "...")]``)."""

    def __init__(self, context: str, fields: Mapping[str, Member], *, bind: Iterable[str] = (),
                 bind_positions: bool = False, legacy_unbound: bool = False, seal: Optional[str] = None,
                 sign: Optional[str] = None, seal_member: str = "_seal"):
        if not isinstance(context, str) or not context:
            raise ValueError("a schema's context is a non-empty string")
        self.context = context
        self.fields: Dict[str, Member] = dict(fields)
        for name, member in self.fields.items():
            if not isinstance(name, str) or not isinstance(member, (Plain, Encrypted, Nested)):
                raise TypeError(f"`{context}`: a member is a str name and Plain, Encrypted or Nested")
        bind = set(bind)
        for name in bind:
            if not isinstance(self.fields.get(name), Plain):
                raise ValueError(f"`{context}`: `bind` names plain members; `{name}` is not one")
        # Bound fields enter the record in declaration order (FORMAT.md 4.1).
        self.bind = tuple(name for name in self.fields if name in bind)
        self.bind_positions = bind_positions
        if legacy_unbound and not (self.bind or bind_positions):
            raise ValueError(f"`{context}`: legacy_unbound needs bind or bind_positions")
        self.legacy_unbound = legacy_unbound
        if seal is not None and sign is not None:
            raise ValueError(f"`{context}`: seal or sign, not both")
        self.seal_kind = MAC if seal is not None else SIGNATURE if sign is not None else None
        self.seal_alias = seal if seal is not None else sign
        if self.seal_alias is not None:
            _check_declared_alias(self.seal_alias)
            if not seal_member or seal_member in self.fields:
                raise ValueError(f"`{context}`: the seal member is non-empty and not a member's name")
        self.seal_member = seal_member

    @property
    def key_aliases(self) -> List[str]:
        """Every alias a record of this type needs, nested ones and the seal's
        included: for ``Keyring.require``."""
        aliases: Set[str] = set()
        stack: List[Any] = [self]
        while stack:
            shape = stack.pop()
            if not isinstance(shape, Schema):
                stack.append(shape.shape)
                continue
            if shape.seal_alias is not None:
                aliases.add(shape.seal_alias)
            for member in shape.fields.values():
                if isinstance(member, Encrypted):
                    aliases.add(member.alias)
                elif isinstance(member, Nested):
                    aliases.update([member.key] if member.key else [])
                    stack.append(member.shape)
        return sorted(aliases)

    def encrypt(self, keyring: Keyring, record: Mapping[str, Any]) -> Dict[str, Any]:
        """The record as it travels: every encrypted field sealed, nested ones
        included, and the seal member added if the type declares one."""
        return self._encrypt(keyring, record, _Scope())

    def decrypt(self, keyring: Keyring, record: Union[Mapping[str, Any], str, bytes]) -> Dict[str, Any]:
        """The plain record (without its seal member) from the record as it
        travels, given as a dict or as JSON text (read by ``loads``). A sealed
        type checks its seal first (FORMAT.md section 13.5)."""
        return self._decrypt(keyring, self._read(self._parsed(record)), _Scope(), None)

    def decrypt_partial(self, keyring: Keyring, record: Union[Mapping[str, Any], str, bytes]
                        ) -> Tuple[Dict[str, Any], List[str]]:
        """As ``decrypt``, except that the fields whose alias the keyring lacks
        stay sealed (as ``Envelope``), and a seal it cannot check is taken
        unchecked; returns the record and those aliases, sorted."""
        inaccessible: Set[str] = set()
        plain = self._decrypt(keyring, self._read(self._parsed(record)), _Scope(), inaccessible)
        return plain, sorted(inaccessible)

    @staticmethod
    def _parsed(record: Any) -> Any:
        return loads(record) if isinstance(record, (str, bytes, bytearray)) else record

    # Sealing: the plain record -> the record as it travels.

    def _encrypt(self, keyring: Keyring, record: Any, scope: _Scope) -> Dict[str, Any]:
        context = self.context
        if not isinstance(record, Mapping):
            raise SerializeError(f"cannot serialize value: a `{context}` record is a mapping")
        for name in record:
            if name not in self.fields:
                raise SerializeError("cannot serialize value: the member is not declared", context=context,
                                     field=str(name))
        out: Dict[str, Any] = {}
        for name, member in self.fields.items():
            if isinstance(member, Plain):
                value = record.get(name, None if member.optional else _MISSING)
                value, ok = member._convert(value) if value is not _MISSING else (None, False)
                value, written = _as_written(value)
                if not ok or not written:
                    raise SerializeError("cannot serialize value: the member is missing or does not fit "
                                         "its declaration", context=context, field=name)
                out[name] = value
        inner = scope.enter(self, [(name, _bound_text(out[name], context, name)) for name in self.bind])
        for name, member in self.fields.items():
            value = record.get(name, _MISSING)
            if isinstance(member, Encrypted):
                if value is _MISSING or (value is None and member.optional):
                    if not member.optional:
                        raise SerializeError("cannot serialize value: the member is missing",
                                             member.alias, context, name)
                    out[name] = None
                else:
                    out[name] = encrypt_field(keyring, member.alias, context, name, value, member.deterministic,
                                              record=inner.record, position=inner.position)
            elif isinstance(member, Nested):
                out[name] = self._encrypt_nested(keyring, name, member, value, inner)
        out = {name: out[name] for name in self.fields}
        if self.seal_kind is not None:
            out[self.seal_member] = seal_record(keyring, self.seal_kind, self.seal_alias, context, out,
                                                self.seal_member)
        return out

    def _encrypt_nested(self, keyring: Keyring, name: str, member: Nested, value: Any, scope: _Scope) -> Any:
        shape = member.shape
        if member.key is None:
            if value is _MISSING and not isinstance(shape, OptionOf):
                raise SerializeError("cannot serialize value: the member is missing", context=self.context,
                                     field=name)
            value = None if value is _MISSING else value
            return _encrypt_shape(shape, keyring, value, scope.member(name, member.bind_index), self.context, name)
        # Sealed whole: an Option stays null; the child's own envelopes sit
        # below the member, the outer one at this value's position.
        if isinstance(shape, OptionOf):
            if value is _MISSING or value is None:
                return None
            shape = shape.shape
        if value is _MISSING:
            raise SerializeError("cannot serialize value: the member is missing", member.key, self.context, name)
        child = _encrypt_shape(shape, keyring, value, scope.member(name, member.bind_index), self.context, name)
        return encrypt_field(keyring, member.key, self.context, name, child,
                             record=scope.record, position=scope.position)

    # Opening: the record as it travels -> the plain record.

    def _read(self, record: Any) -> Dict[str, Any]:
        """The record as this type reads it and writes it again (FORMAT.md
        section 13.2): declared members only (a sealed type refuses others),
        absent options as ``None``, plain members converted to their kind,
        envelopes checked for their text form. What a seal covers."""
        context = self.context
        if not isinstance(record, Mapping):
            raise DeserializeError(f"a `{context}` record is a JSON object")
        if isinstance(record, _DuplicateMembers):
            raise DeserializeError(f"two members of a `{context}` record share a name")
        if self.seal_kind is not None:
            for name in record:
                if name not in self.fields and name != self.seal_member:
                    raise UnknownMember("the record has a member its type does not declare",
                                        context=context, field=str(name))
        out: Dict[str, Any] = {}
        for name, member in self.fields.items():
            value = record.get(name, _MISSING)
            if isinstance(member, Plain):
                if value is _MISSING:
                    value = None if member.optional else _MISSING
                value, ok = member._convert(value) if value is not _MISSING else (None, False)
                if not ok:
                    raise DeserializeError("the member is missing or does not fit its declaration",
                                           context=context, field=name)
                out[name] = value
                continue
            alias = member.alias if isinstance(member, Encrypted) else member.key
            optional = member.optional if isinstance(member, Encrypted) else isinstance(member.shape, OptionOf)
            if value is _MISSING and not optional:
                raise DeserializeError("the member is missing", alias, context, name)
            if alias is None:
                out[name] = _read_shape(member.shape, None if value is _MISSING else value, context, name)
            elif value is _MISSING or (value is None and optional):
                out[name] = None
            else:
                out[name] = _envelope_text(value, alias, context, name)
        if self.seal_kind is not None:
            seal = record.get(self.seal_member)
            _seal_bytes(seal, self.seal_alias, context, self.seal_member)
            # Written only when there is one (serde's skip_serializing_if).
            if seal is not None:
                out[self.seal_member] = seal
        return out

    def _decrypt(self, keyring: Keyring, record: Dict[str, Any], scope: _Scope,
                 inaccessible: Optional[Set[str]]) -> Dict[str, Any]:
        context = self.context
        if self.seal_kind is not None:
            if inaccessible is not None and not _can_check(keyring, self.seal_kind, self.seal_alias):
                inaccessible.add(self.seal_alias)
            else:
                verify_record(keyring, self.seal_kind, self.seal_alias, context, record, self.seal_member)
        inner = scope.enter(self, [(name, _bound_text(record[name], context, name)) for name in self.bind])
        out: Dict[str, Any] = {}
        for name, member in self.fields.items():
            value = record[name]
            if isinstance(member, Plain) or (value is None and isinstance(member, Encrypted)):
                out[name] = value
            elif isinstance(member, Encrypted):
                where = _Scope() if member.deterministic else inner
                out[name] = _open(keyring, member.alias, context, name, value, where, inaccessible)
            elif member.key is None:
                out[name] = _decrypt_shape(member.shape, keyring, value, inner.member(name, member.bind_index),
                                           inaccessible)
            elif value is None:
                out[name] = None
            else:
                child = _open(keyring, member.key, context, name, value, inner, inaccessible)
                if isinstance(child, Envelope):
                    out[name] = child
                    continue
                shape = member.shape.shape if isinstance(member.shape, OptionOf) else member.shape
                try:
                    child = _read_shape(shape, child, context, name)
                    fits = True
                except EncryptedFieldsError:
                    fits = False
                if not fits:
                    raise _error(DeserializeError, member.key, context, name)
                out[name] = _decrypt_shape(shape, keyring, child, inner.member(name, member.bind_index),
                                           inaccessible)
        return out

    def __repr__(self) -> str:
        return f"Schema({self.context!r}, {list(self.fields)})"


def _encrypt_shape(shape: Shape, keyring: Keyring, value: Any, scope: _Scope, context: str, name: str) -> Any:
    if isinstance(shape, Schema):
        return shape._encrypt(keyring, value, scope)
    if isinstance(shape, OptionOf):
        return None if value is None else _encrypt_shape(shape.shape, keyring, value, scope, context, name)
    if isinstance(shape, ListOf) and isinstance(value, (list, tuple)):
        indexed = scope.index_next
        return [_encrypt_shape(shape.shape, keyring, item, scope.index(i) if indexed else scope, context, name)
                for i, item in enumerate(value)]
    if isinstance(shape, MapOf) and isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            text = key if isinstance(key, str) else None
            if text is None or text in out:
                break
            out[text] = _encrypt_shape(shape.shape, keyring, item, scope.key(text) if scope.position else scope,
                                       context, name)
        else:
            return out
    raise SerializeError("cannot serialize value: the member does not fit its declaration (a list, a map "
                         "with string keys, or null)", context=context, field=name)


def _read_shape(shape: Shape, value: Any, context: str, name: str) -> Any:
    if isinstance(shape, Schema):
        return shape._read(value)
    if isinstance(shape, OptionOf):
        return None if value is None else _read_shape(shape.shape, value, context, name)
    if isinstance(shape, ListOf) and isinstance(value, list):
        return [_read_shape(shape.shape, item, context, name) for item in value]
    if isinstance(shape, MapOf) and isinstance(value, Mapping):
        # A map takes the last of duplicate keys (FORMAT.md section 5).
        return {key: _read_shape(shape.shape, item, context, name) for key, item in value.items()}
    raise DeserializeError("the member does not fit its declaration", context=context, field=name)


def _decrypt_shape(shape: Shape, keyring: Keyring, value: Any, scope: _Scope,
                   inaccessible: Optional[Set[str]]) -> Any:
    if isinstance(shape, Schema):
        return shape._decrypt(keyring, value, scope, inaccessible)
    if isinstance(shape, OptionOf):
        return None if value is None else _decrypt_shape(shape.shape, keyring, value, scope, inaccessible)
    if isinstance(shape, ListOf):
        indexed = scope.index_next
        return [_decrypt_shape(shape.shape, keyring, item, scope.index(i) if indexed else scope, inaccessible)
                for i, item in enumerate(value)]
    return {key: _decrypt_shape(shape.shape, keyring, item, scope.key(key) if scope.position else scope,
                                inaccessible) for key, item in value.items()}


def _open(keyring: Keyring, alias: str, context: str, name: str, envelope: str, scope: _Scope,
          inaccessible: Optional[Set[str]]) -> Any:
    """Opens one envelope in ``scope``; under partial decryption, one whose
    alias the keyring lacks is checked for structure and kept sealed."""
    if inaccessible is not None and keyring.key_set(alias) is None:
        _parse(envelope, alias, context, name)
        inaccessible.add(alias)
        return Envelope(envelope)
    return decrypt_field(keyring, alias, context, name, envelope, record=scope.record,
                         position=scope.position, legacy_unbound=scope.legacy)
