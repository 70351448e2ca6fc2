"""Records as Python users declare them: a dataclass with ``@record``, its
members read from the type hints, as the Rust derive reads a struct.

The declaration becomes a ``Schema`` (built on first use, so a record may
name records defined after it in its module); ``encrypt``, ``decrypt`` and
``decrypt_partial`` convert between the dataclass and the JSON the Rust
companion type reads and writes. A hint this module cannot map to what the
derive would write is refused with ``TypeError``, never written as plain.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import inspect
import math
import types
import typing
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Type, TypeVar, Union, overload

from ._errors import DeserializeError, SerializeError
from ._jsontext import _DuplicateMembers
from ._keys import Keyring
from ._schema import Encrypted, Envelope, ListOf, MapOf, Member, Nested, OptionOf, Plain, Schema, Shape

T = TypeVar("T")

_OPTIONS = "__encrypted_fields__"
_PLAIN_KINDS = (int, float, str, bool)
_LISTS = (list, collections.abc.Sequence, collections.abc.MutableSequence)
_DICTS = (dict, collections.abc.Mapping, collections.abc.MutableMapping)


def _ascii_upper(text: str) -> str:
    return "".join(c.upper() if "a" <= c <= "z" else c for c in text)


def _pascal(name: str) -> str:
    out, capitalize = [], True
    for c in name:
        if c == "_":
            capitalize = True
        else:
            out.append(_ascii_upper(c) if capitalize else c)
            capitalize = False
    return "".join(out)


# serde's `rename_all` rules as serde_derive applies them to field names
# (which it takes to be snake_case): `lowercase` leaves them as they are, and
# only ASCII letters change case.
_RENAME_ALL: Dict[str, Callable[[str], str]] = {
    "lowercase": lambda name: name,
    "UPPERCASE": _ascii_upper,
    "PascalCase": _pascal,
    "camelCase": lambda name: (lambda pascal: pascal[:1].lower() + pascal[1:]
                               if pascal[:1].isascii() else pascal)(_pascal(name)),
    "snake_case": lambda name: name,
    "SCREAMING_SNAKE_CASE": _ascii_upper,
    "kebab-case": lambda name: name.replace("_", "-"),
    "SCREAMING-KEBAB-CASE": lambda name: _ascii_upper(name).replace("_", "-"),
}


@dataclasses.dataclass(frozen=True)
class _Options:
    context: str
    rename_all: Optional[str]
    bind: Tuple[str, ...]
    bind_positions: bool
    legacy_unbound: bool
    seal: Optional[str]
    sign: Optional[str]
    seal_member: str


@overload
def record(cls: Type[T]) -> Type[T]: ...


@overload
def record(*, context: Optional[str] = None, rename_all: Optional[str] = None, bind: Sequence[str] = (),
           bind_positions: bool = False, legacy_unbound: bool = False, seal: Optional[str] = None,
           sign: Optional[str] = None, seal_member: str = "_seal") -> Callable[[Type[T]], Type[T]]: ...


def record(cls: Optional[type] = None, *, context: Optional[str] = None, rename_all: Optional[str] = None,
           bind: Sequence[str] = (), bind_positions: bool = False, legacy_unbound: bool = False,
           seal: Optional[str] = None, sign: Optional[str] = None, seal_member: str = "_seal") -> Any:
    """Declares a dataclass a record, as ``#[derive(Encrypt)]`` declares a struct.

    ``context`` defaults to the class's name (the Rust type's name);
    ``rename_all`` is serde's (``"camelCase"`` and the others), and
    ``dataclasses.field(metadata={"rename": "..."})`` renames one field.
    ``bind`` names plain fields by their Python names; the other options are
    ``Schema``'s. Members come from the type hints: ``Annotated[T,
    Encrypted("alias")]`` is sealed, a field whose type is a record (or a
    list, string-keyed dict or ``Optional`` of records) is nested, with
    ``Annotated[..., Nested(key=..., bind_index=...)]`` for the nested
    options, and any other field is plain.
    """
    if isinstance(bind, str) or not all(isinstance(name, str) for name in bind):
        raise TypeError("bind is a sequence of field names")

    def declare(cls: type) -> type:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"@record decorates a dataclass; put @dataclass below it on `{cls.__name__}`")
        if rename_all is not None and rename_all not in _RENAME_ALL:
            raise ValueError(f"rename_all: one of {', '.join(_RENAME_ALL)}")
        names = {f.name for f in dataclasses.fields(cls)}
        for name in bind:
            if name not in names:
                raise ValueError(f"`{cls.__name__}`: bind names a field; `{name}` is not one")
        _check_constructible(cls)
        setattr(cls, _OPTIONS, _Options(context or cls.__name__, rename_all, tuple(bind), bind_positions,
                                        legacy_unbound, seal, sign, seal_member))
        try:
            schema_of(cls)
        except _Unresolved:
            pass  # a type hint names a class defined later: resolved on first use
        return cls

    return declare if cls is None else declare(cls)


def _is_record(cls: Any) -> bool:
    return isinstance(cls, type) and _OPTIONS in cls.__dict__


_SCHEMAS: Dict[type, Schema] = {}
_BUILDING: List[type] = []


class _Unresolved(TypeError):
    """A type hint names a class that does not exist (yet)."""


def _hints(cls: type) -> Dict[str, Any]:
    try:
        return typing.get_type_hints(cls, include_extras=True)
    except NameError as e:
        raise _Unresolved(f"`{cls.__name__}`: a type hint names an unknown class ({e}); hints are "
                          "looked up in the class's module") from None


def schema_of(cls: type) -> Schema:
    """The ``Schema`` a ``@record`` class declares (its ``key_aliases`` are
    what ``Keyring.require`` needs)."""
    if not _is_record(cls):
        raise TypeError(f"`{getattr(cls, '__name__', cls)}` is not a @record class")
    schema = _SCHEMAS.get(cls)
    if schema is not None:
        return schema
    if cls in _BUILDING:
        raise TypeError(f"`{cls.__name__}` contains itself: a record cannot nest its own type")
    _BUILDING.append(cls)
    try:
        options: _Options = getattr(cls, _OPTIONS)
        hints = _hints(cls)
        members: Dict[str, Member] = {}
        for f in dataclasses.fields(cls):
            name = _serialized_name(cls, f)
            if name in members:
                raise ValueError(f"`{cls.__name__}`: two fields are written as `{name}`")
            try:
                members[name] = _member(hints[f.name])
            except _Unresolved:
                raise
            except (TypeError, ValueError) as e:
                raise type(e)(f"`{cls.__name__}.{f.name}`: {e}") from None
        schema = Schema(options.context, members, bind=[_serialized_name(cls, _field(cls, n)) for n in options.bind],
                        bind_positions=options.bind_positions, legacy_unbound=options.legacy_unbound,
                        seal=options.seal, sign=options.sign, seal_member=options.seal_member)
    finally:
        _BUILDING.pop()
    _SCHEMAS[cls] = schema
    return schema


def encrypt(keyring: Keyring, value: Any) -> Dict[str, Any]:
    """The record as it travels (the Rust companion's JSON, ready for
    ``json.dumps``): every encrypted field sealed, nested ones included, the
    seal member added if the type declares one, and fields left sealed by
    ``decrypt_partial`` (``Envelope``) forwarded byte for byte."""
    schema = schema_of(type(value))
    try:
        plain = _to_json(value)
    except RecursionError:
        raise SerializeError("cannot serialize value: the record nests too deep or contains itself",
                             context=schema.context) from None
    return schema.encrypt(keyring, plain)


def decrypt(keyring: Keyring, cls: Type[T], wire: Union[Mapping[str, Any], str, bytes]) -> T:
    """A ``cls`` from the record as it travels (a dict or JSON text); a sealed
    type checks its seal before it opens any field."""
    value: T = _from_json(cls, schema_of(cls).decrypt(keyring, wire), False)
    return value


def decrypt_partial(keyring: Keyring, cls: Type[T], wire: Union[Mapping[str, Any], str, bytes]
                    ) -> Tuple[T, List[str]]:
    """As ``decrypt``, except that fields whose alias the keyring lacks stay
    sealed: such a field holds an ``Envelope`` in place of its value. Returns
    the record and those aliases, sorted."""
    plain, missing = schema_of(cls).decrypt_partial(keyring, wire)
    value: T = _from_json(cls, plain, True)
    return value, missing


# --- declarations -------------------------------------------------------------


def _field(cls: type, name: str) -> "dataclasses.Field[Any]":
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def _serialized_name(cls: type, f: "dataclasses.Field[Any]") -> str:
    rename = f.metadata.get("rename")
    if rename is not None:
        if not isinstance(rename, str):
            raise TypeError(f"`{cls.__name__}.{f.name}`: metadata rename is a string")
        return rename
    options: Optional[_Options] = cls.__dict__.get(_OPTIONS)
    if options is None or options.rename_all is None:
        return f.name
    return _RENAME_ALL[options.rename_all](f.name)


def _check_constructible(cls: type) -> None:
    """Reading a dataclass calls its ``__init__`` with one argument per field:
    refuse one whose ``__init__`` takes anything else."""
    fields = [f for f in dataclasses.fields(cls)]
    if any(not f.init for f in fields):
        raise TypeError(f"`{cls.__name__}`: a field with init=False cannot be read back from JSON")
    parameters = list(inspect.signature(cls).parameters)
    if sorted(parameters) != sorted(f.name for f in fields):
        raise TypeError(f"`{cls.__name__}`: its __init__ takes {parameters}, not one argument per field "
                        "(an InitVar, say)")


def _split(hint: Any) -> Tuple[Any, List[Any]]:
    """A hint without ``Annotated``, and its markers."""
    if typing.get_origin(hint) is typing.Annotated:
        base, *extras = typing.get_args(hint)
        return base, [e for e in extras if isinstance(e, (Encrypted, Nested))]
    return hint, []


def _optional(hint: Any) -> Tuple[Any, bool]:
    """``X`` and True for ``Optional[X]`` (or ``X | None``); the hint and False otherwise."""
    if typing.get_origin(hint) in (Union, types.UnionType):
        args = typing.get_args(hint)
        if len(args) == 2 and type(None) in args:
            return next(a for a in args if a is not type(None)), True
    return hint, False


def _member(hint: Any) -> Member:
    base, markers = _split(hint)
    inner, optional = _optional(base)
    inner, inner_markers = _split(inner)  # Optional[Annotated[X, marker]]
    markers += inner_markers
    inner, also_optional = _optional(inner)  # Annotated[Optional[X], marker]
    optional = optional or also_optional
    if len(markers) > 1:
        raise TypeError("one Encrypted or Nested marker per field")
    marker = markers[0] if markers else None
    if isinstance(marker, Encrypted):
        _check_plain(inner, sealed=True)
        return Encrypted(marker.alias, marker.deterministic, optional or marker.optional)
    shape = _shape(inner)
    if shape is not None and optional:
        shape = OptionOf(shape)
    if isinstance(marker, Nested):
        if shape is None:
            raise TypeError("Nested marks a field whose type is a record, or a list, dict or Optional of records")
        return Nested(shape, marker.key, marker.bind_index)
    if shape is not None:
        return Nested(shape)
    _check_plain(inner, sealed=False)
    return Plain(inner if inner in _PLAIN_KINDS else None, optional)


def _shape(hint: Any) -> Optional[Shape]:
    """The nested shape a hint holds, if it holds records; a record anywhere
    else in it is refused."""
    if _is_record(hint):
        return schema_of(hint)
    inner, optional = _optional(hint)
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    shape: Optional[Shape] = None
    if origin in _LISTS and len(args) == 1:
        child = _shape(args[0])
        shape = None if child is None else ListOf(child)
    elif origin in _DICTS and len(args) == 2:
        child = _shape(args[1])
        if child is not None and args[0] is not str:
            raise TypeError("a dict of records has str keys")
        shape = None if child is None else MapOf(child)
    elif _is_record(inner):
        shape = schema_of(inner)
    if shape is not None:
        return OptionOf(shape) if optional else shape
    if _holds_records_or_markers(hint):
        raise TypeError(f"records nest in a list, a str-keyed dict or an Optional, and a marker goes on the "
                        f"field itself; {hint} is neither")
    return None


def _holds_records_or_markers(hint: Any) -> bool:
    if _is_record(hint) or _split(hint)[1]:
        return True
    return any(_holds_records_or_markers(arg) for arg in typing.get_args(hint) if not isinstance(arg, list))


def _check_plain(hint: Any, sealed: bool, seen: Optional[List[type]] = None) -> None:
    """A plain value's hint (or a sealed one's, ``sealed``): JSON values,
    lists, str-keyed dicts, tuples and dataclasses of them. A plain value
    holds no record and no marker: nothing in it would be sealed."""
    seen = seen if seen is not None else []
    if _split(hint)[1]:
        raise TypeError("a marker goes on the field itself, not inside its type")
    if _is_record(hint):
        if not sealed:
            raise TypeError(f"`{hint.__name__}` is a record: a plain value cannot hold one")
        schema_of(hint)  # sealed whole, as its plain JSON; its declaration still has to hold
        return
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in _DICTS and args and args[0] is not str:
        raise TypeError("JSON object keys are strings: declare Dict[str, ...]")
    if isinstance(hint, type) and dataclasses.is_dataclass(hint) and hint not in seen:
        seen.append(hint)
        _check_constructible(hint)
        hints = _hints(hint)
        for f in dataclasses.fields(hint):
            if not sealed and _holds_records_or_markers(hints[f.name]):
                raise TypeError(f"`{hint.__name__}` has encrypted or nested fields: declare it with @record")
            _check_plain(hints[f.name], sealed, seen)
        return
    for arg in args:
        if not isinstance(arg, list) and arg is not Ellipsis:
            _check_plain(arg, sealed, seen)


# --- values -------------------------------------------------------------------


def _to_json(value: Any) -> Any:
    """A Python value as JSON holds it: dataclasses as objects under their
    serialized names; an ``Envelope`` stays for the schema to forward."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {_serialized_name(cls, f): _to_json(getattr(value, f.name)) for f in dataclasses.fields(cls)}
    if isinstance(value, (list, tuple)):
        return [_to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _to_json(item) for key, item in value.items()}
    return value


def _misfit(hint: Any) -> DeserializeError:
    name = getattr(hint, "__name__", None) or str(hint)
    return DeserializeError(f"a value does not fit its declared type {name}")


def _from_json(hint: Any, value: Any, partial: bool) -> Any:
    """``value`` as ``hint`` declares it, checked as serde checks it; under
    ``partial``, an ``Envelope`` (a field left sealed) stays as it is."""
    hint, _ = _split(hint)
    if isinstance(value, Envelope):
        if partial:
            return value
        raise _misfit(hint)
    inner, optional = _optional(hint)
    inner, _ = _split(inner)
    if value is None:
        if optional or inner is Any or inner is type(None):
            return None
        raise _misfit(inner)
    if inner is Any:
        return value
    if isinstance(inner, type) and dataclasses.is_dataclass(inner):
        return _dataclass(inner, value, partial)
    origin, args = typing.get_origin(inner), typing.get_args(inner)
    if inner in (list,) or origin in _LISTS:
        if not isinstance(value, list):
            raise _misfit(inner)
        return [_from_json(args[0], item, partial) for item in value] if args else list(value)
    if inner in (dict,) or origin in _DICTS:
        if not isinstance(value, Mapping):
            raise _misfit(inner)
        return {key: _from_json(args[1], item, partial) for key, item in value.items()} if args else dict(value)
    if inner is tuple or origin is tuple:
        if not isinstance(value, list):
            raise _misfit(inner)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_from_json(args[0], item, partial) for item in value)
        if args and len(args) != len(value):
            raise _misfit(inner)
        return tuple(_from_json(a, item, partial) for a, item in zip(args, value)) if args else tuple(value)
    if inner is bool:
        if not isinstance(value, bool):
            raise _misfit(inner)
        return value
    if inner is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise _misfit(inner)
        return value
    if inner is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise _misfit(inner)
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise _misfit(inner)
        return number
    if inner is str:
        if not isinstance(value, str):
            raise _misfit(inner)
        return value
    return value


def _dataclass(cls: type, value: Any, partial: bool) -> Any:
    if not isinstance(value, Mapping) or isinstance(value, _DuplicateMembers):
        raise DeserializeError(f"a `{cls.__name__}` is a JSON object, its members named once")
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        name = _serialized_name(cls, f)
        if name in value:
            kwargs[f.name] = _from_json(hints[f.name], value[name], partial)
        elif _optional(_split(hints[f.name])[0])[1]:
            kwargs[f.name] = None  # an absent Option reads as None, as serde reads it
        else:
            raise DeserializeError(f"a `{cls.__name__}` lacks its member `{name}`")
    return cls(**kwargs)
