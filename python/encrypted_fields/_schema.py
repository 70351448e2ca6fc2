"""Records declared as the Rust derive declares them: ``Schema`` and its members."""

from __future__ import annotations

import math
from typing import Any, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Tuple, Union, cast

from ._errors import DeserializeError, EncryptedFieldsError, MalformedEnvelope, SerializeError, UnknownMember
from ._keys import Keyring, _ALIAS
from ._jsontext import _check_json, _DuplicateMembers, _json_key, _write_json, loads
from ._envelope import (
    Position, RecordBinding, _from_text, _max_text_len, _parse, decrypt_field, encrypt_field,
)
from ._seals import MAC, SIGNATURE, _can_check, _error, _seal_bytes, seal_record, verify_record


class Envelope:
    """A field that ``decrypt_partial`` kept sealed; ``text`` is its envelope.
    Sealing the record again writes it back byte for byte, so a service
    forwards what it cannot read (the Rust crate's ``MaybeSealed::Sealed``).
    Not a ``str``, so it is never taken for a value: ``json.dumps`` refuses it
    rather than let a partial record pass for a plain one."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        if not isinstance(text, str):
            raise TypeError("an Envelope holds envelope text")
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Envelope) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"Envelope({len(self.text)} characters)"


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
    ``bind_index`` binds the elements of the list it holds to their indexes.
    In a ``@record`` annotation the shape comes from the field's type and is
    left out: ``Annotated[List[User], Nested(bind_index=True)]``."""

    __slots__ = ("shape", "key", "bind_index")
    shape: "Shape"

    def __init__(self, shape: Optional["Shape"] = None, key: Optional[str] = None, bind_index: bool = False):
        # None only until a @record takes the shape from the field's type.
        self.shape = cast("Shape", shape if shape is None else _check_shape(shape))
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

    def index(self, index: int) -> "_Scope":  # type: ignore[override]
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


def _forwarded(envelope: Envelope, alias: str, context: str, name: str) -> str:
    """A field left sealed, written back as it came: checked for an
    envelope's structure first, as a reader would."""
    _parse(envelope.text, alias, context, name)
    return envelope.text


def _member_name(name: Any) -> str:
    """A member name from the wire, fit for an error message: quoted, and
    cut short, so it cannot forge log lines."""
    text = repr(str(name))
    return text if len(text) <= 66 else text[:63] + "..."


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
            if isinstance(member, Nested) and member.shape is None:
                raise TypeError(f"`{context}`: `{name}` is Nested without a shape; only a @record "
                                "annotation takes the shape from the field's type")
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
        if isinstance(record, (str, bytes, bytearray)):
            return loads(bytes(record) if isinstance(record, bytearray) else record)
        # A dict is read as its JSON text would be: JSON values only, so
        # nothing it holds can differ from what a seal covers.
        _check_json(record)
        return record

    # Sealing: the plain record -> the record as it travels.

    def _encrypt(self, keyring: Keyring, record: Any, scope: _Scope) -> Dict[str, Any]:
        context = self.context
        if not isinstance(record, Mapping):
            raise SerializeError(f"cannot serialize value: a `{context}` record is a mapping")
        for name in record:
            if name not in self.fields:
                raise SerializeError("cannot serialize value: the member is not declared", context=context,
                                     field=_member_name(name))
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
                elif isinstance(value, Envelope):
                    out[name] = _forwarded(value, member.alias, context, name)
                else:
                    out[name] = encrypt_field(keyring, member.alias, context, name, value, member.deterministic,
                                              record=inner.record, position=inner.position)
            elif isinstance(member, Nested):
                out[name] = self._encrypt_nested(keyring, name, member, value, inner)
        out = {name: out[name] for name in self.fields}
        if self.seal_kind is not None and self.seal_alias is not None:
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
        if isinstance(value, Envelope):
            return _forwarded(value, member.key, self.context, name)
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
                                        context=context, field=_member_name(name))
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
            if alias is None:  # only a Nested member has no alias
                value = None if value is _MISSING else value
                out[name] = _read_shape(cast(Nested, member).shape, value, context, name)
            elif value is _MISSING or (value is None and optional):
                out[name] = None
            else:
                out[name] = _envelope_text(value, alias, context, name)
        if self.seal_kind is not None and self.seal_alias is not None:
            seal = record.get(self.seal_member)
            _seal_bytes(seal, self.seal_alias, context, self.seal_member)
            # Written only when there is one (serde's skip_serializing_if).
            if seal is not None:
                out[self.seal_member] = seal
        return out

    def _decrypt(self, keyring: Keyring, record: Dict[str, Any], scope: _Scope,
                 inaccessible: Optional[Set[str]]) -> Dict[str, Any]:
        context = self.context
        if self.seal_kind is not None and self.seal_alias is not None:
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
