"""Keys and keyrings: AES keys, Ed25519 signing and verifying keys, and the
``ENCRYPTED_FIELDS_*`` variables that hold them (FORMAT.md sections 2 and 13)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import stat
from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCMSIV

from ._format import (
    KEY_ID_DOMAIN, KEY_ID_LEN, NONCE_KEY_LABEL, NONCE_LEN, SEAL_KEY_LABEL, VERIFYING_KEY_ID_DOMAIN,
)
from ._errors import InvalidKey, MissingAliases, UnknownAlias

PREFIX = "ENCRYPTED_FIELDS_KEY_"
SIGNING_PREFIX = "ENCRYPTED_FIELDS_SIGNING_KEY_"
VERIFYING_PREFIX = "ENCRYPTED_FIELDS_VERIFYING_KEY_"
FILE_SUFFIX = "_FILE"
# Only these are stripped around keys (FORMAT.md section 2): str.strip()
# would also take Unicode spaces and U+001C-U+001F, which Rust does not.
_ASCII_WHITESPACE = " \t\n\x0c\r"
# Used with fullmatch: `$` would also accept a trailing newline.
_ALIAS = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_VAR_ALIAS = re.compile(r"[A-Z0-9][A-Z0-9_]*")
_K = TypeVar("_K")

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


def _read_named_file(path: str, invalid: Callable[[str], InvalidKey]) -> str:
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


def _refuse_repeated_ids(ids: List[bytes], what: Callable[[int, str], str]) -> None:
    """Two keys with the same key id in one variable fail (FORMAT.md 13.4)."""
    for i, key_id in enumerate(ids):
        if key_id in ids[:i]:
            raise InvalidKey(f"invalid key configuration: {what(i, key_id.hex())} listed twice")


def _parse_key_list(value: str, parse: Callable[[str], _K]) -> List[_K]:
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
        seen: Dict[Tuple[str, str], str] = {}
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
        if prefix == VERIFYING_PREFIX:
            verifying = _parse_key_list(value, VerifyingKey.from_base64)
            _refuse_repeated_ids([k.id for k in verifying], lambda i, id: f"verifying key {id}")
            self.insert_verifying_keys(alias, verifying)
            return
        signing = _parse_key_list(value, SigningKey.from_base64)
        _refuse_repeated_ids([k.id for k in signing], lambda i, id: f"key {i + 1}: signing key {id}")
        # The first signs; the older ones only verify, so records signed
        # before a rotation keep verifying.
        self.insert_signing_key(alias, signing[0])
        self.insert_verifying_keys(alias, [k.public for k in signing[1:]])

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
