"""JSON as the Rust crate reads and writes it: a field's plaintext and a record's text
(FORMAT.md section 5)."""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ._errors import DeserializeError


# The deepest nesting of arrays and objects a plaintext may have (FORMAT.md
# section 5): what the Rust reader accepts.
MAX_DEPTH = 127

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


class _DuplicateMembers(Dict[str, Any]):
    """An object read from JSON text that had two members of one name: it
    holds the last, as a map's reader takes it; a record's reader refuses it,
    and it has no canonical encoding (FORMAT.md section 13.2)."""


def _members(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    members = dict(pairs)
    return members if len(members) == len(pairs) else _DuplicateMembers(members)


def _read_json(plaintext: bytes, record: bool = False) -> Any:
    """JSON as FORMAT.md section 5 lets readers take it: UTF-8 without a
    byte-order mark; no NaN or Infinity; numbers finite as binary64 floats;
    no lone surrogates; the last of duplicate member names counts. With
    ``record``, as section 13.2 reads a record: ``-0`` is the float -0.0, and
    objects with duplicate names are marked (``_DuplicateMembers``)."""
    def refuse(text: str) -> Any:
        raise ValueError(f"not JSON: {text[:8]}")

    def finite(text: str) -> float:
        number = float(text)
        if not math.isfinite(number):
            raise ValueError("number beyond binary64")
        return number

    def big_integer(text: str) -> Union[int, float]:
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


def _check_json(value: Any) -> None:
    """Refuses what JSON text cannot hold: values other than objects with
    string keys, arrays, strings, finite numbers, booleans and null, and
    nesting deeper than a reader takes (FORMAT.md section 5)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (Mapping, list, tuple)) and depth >= MAX_DEPTH:
            raise DeserializeError("the record nests deeper than a reader takes")
        if isinstance(item, Mapping):
            if not all(isinstance(key, str) for key in item):
                raise DeserializeError("an object's member names are strings")
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise DeserializeError("a number is not finite: JSON has no such value")
        elif not (item is None or isinstance(item, (str, int, bool))):
            raise DeserializeError(f"a value of type {type(item).__name__} has no JSON form")
