"""The canonical encoding a record seal covers (FORMAT.md section 13.2)."""

from __future__ import annotations

import math
import struct
from typing import Any, Mapping, Optional, Tuple

from ._errors import SerializeError
from ._jsontext import _DuplicateMembers, _json_key


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
