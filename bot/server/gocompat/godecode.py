"""`encoding/json` unmarshalling into typed Go values, reproduced for its errors.

Go decodes a JSON value into a typed target and reports the *first* problem in a fixed way:
type mismatches are remembered and decoding goes on (`json: cannot unmarshal number into Go
struct field Alert.labels of type string`), errors returned by a type's own `UnmarshalJSON`
stop decoding at once; struct fields match JSON keys exactly or else case-insensitively;
`null` leaves strings and custom types alone but clears pointers, maps and slices.

A target is described with the small type objects below; `unmarshal(value, t)` returns the
decoded Python value or raises `GoDecodeError` with Go's message. Decoded structs are dicts of
the fields that were set; `None` is Go's nil.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

KEEP = object()  # "leave the target as it was" (Go ignores null for strings and custom types)


class GoDecodeError(ValueError):
    """str() is Go's error message."""


class _TypeError:
    """An UnmarshalTypeError before the decoder adds its struct/field context."""

    __slots__ = ("value", "type_name")

    def __init__(self, value: str, type_name: str) -> None:
        self.value = value
        self.type_name = type_name

    def render(self, struct: str | None, fields: Sequence[str]) -> str:
        if struct is not None or fields:
            return (f"json: cannot unmarshal {self.value} into Go struct field {struct or ''}."
                    f"{'.'.join(fields)} of type {self.type_name}")
        return f"json: cannot unmarshal {self.value} into Go value of type {self.type_name}"


class Hard(Exception):
    """An error returned by an UnmarshalJSON method: decoding stops."""

    def __init__(self, error: _TypeError | str) -> None:
        super().__init__(error)
        self.error = error


def json_kind(v: Any) -> str:
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, list):
        return "array"
    if isinstance(v, dict):
        return "object"
    return "null"


class Decoder:
    __slots__ = ("saved", "struct", "fields")

    def __init__(self) -> None:
        self.saved: str | None = None
        self.struct: str | None = None
        self.fields: list[str] = []

    def type_error(self, value: Any, type_name: str) -> None:
        if self.saved is None:
            self.saved = _TypeError(json_kind(value), type_name).render(self.struct, self.fields)


class GoType:
    name = ""

    def decode(self, v: Any, d: Decoder) -> Any:
        raise NotImplementedError


class String(GoType):
    name = "string"

    def decode(self, v: Any, d: Decoder) -> Any:
        if v is None:
            return KEEP
        if isinstance(v, str):
            return v
        d.type_error(v, self.name)
        return KEEP


class Bool(GoType):
    name = "bool"

    def decode(self, v: Any, d: Decoder) -> Any:
        if v is None:
            return KEEP
        if isinstance(v, bool):
            return v
        d.type_error(v, self.name)
        return KEEP


class Ptr(GoType):
    """`*T`: null sets nil (None); anything else decodes into a new T."""

    def __init__(self, elem: GoType) -> None:
        self.elem = elem
        self.name = elem.name

    def decode(self, v: Any, d: Decoder) -> Any:
        if v is None:
            return None
        out = self.elem.decode(v, d)
        return _zero(self.elem) if out is KEEP else out


class Map(GoType):
    """`map[string]T` (a named type such as models.LabelSet)."""

    def __init__(self, name: str, elem: GoType) -> None:
        self.name = name
        self.elem = elem

    def decode(self, v: Any, d: Decoder) -> Any:
        if v is None:
            return None
        if not isinstance(v, dict):
            d.type_error(v, self.name)
            return KEEP
        out = {}
        for k, item in v.items():
            val = self.elem.decode(item, d)
            out[k] = _zero(self.elem) if val is KEEP else val
        return out


class Slice(GoType):
    def __init__(self, name: str, elem: GoType) -> None:
        self.name = name
        self.elem = elem

    def decode(self, v: Any, d: Decoder) -> Any:
        if v is None:
            return None
        if not isinstance(v, list):
            d.type_error(v, self.name)
            return KEEP
        out = []
        for item in v:
            val = self.elem.decode(item, d)
            out.append(_zero(self.elem) if val is KEEP else val)
        return out


def _fold(s: str) -> str:
    # Go's case folding for field names: ASCII case, plus the Kelvin sign and the long s.
    return s.replace("\u212a", "k").replace("\u017f", "s").lower()


class Struct(GoType):
    def __init__(self, name: str, fields: Sequence[tuple[str, GoType]], short_name: str | None = None) -> None:
        self.name = name  # reflect's Type.String(), e.g. "models.Alert"
        self.short_name = short_name if short_name is not None else name.rsplit(".", 1)[-1]  # Type.Name()
        self.fields = dict(fields)
        self.folded = {_fold(k): k for k in self.fields}

    def field_for(self, key: str) -> str | None:
        if key in self.fields:
            return key
        if key.isascii() or "\u212a" in key or "\u017f" in key:
            return self.folded.get(_fold(key))
        return None

    def decode(self, v: Any, d: Decoder) -> Any:
        if v is None:
            return KEEP
        if not isinstance(v, dict):
            d.type_error(v, self.name)
            return KEEP
        out: dict[str, Any] = {}
        saved_struct, depth = d.struct, len(d.fields)
        for key, item in v.items():
            fname = self.field_for(key)
            if fname is None:
                continue
            d.fields.append(fname)
            d.struct = self.short_name
            val = self.fields[fname].decode(item, d)  # a Hard error leaves the context in place
            if val is not KEEP:
                out[fname] = val
            del d.fields[depth:]
            d.struct = saved_struct
        return out


class Custom(GoType):
    """A type with its own UnmarshalJSON: `fn(value)` returns the value or raises Hard."""

    def __init__(self, name: str, fn: Callable[[Any], Any]) -> None:
        self.name = name
        self.fn = fn

    def decode(self, v: Any, d: Decoder) -> Any:
        return self.fn(v)


def _zero(t: GoType) -> Any:
    if isinstance(t, String):
        return ""
    if isinstance(t, Bool):
        return False
    if isinstance(t, Struct):
        return {}
    return None


def unmarshal(value: Any, t: GoType) -> Any:
    """`json.Unmarshal` of an already-parsed JSON value into `t`."""
    d = Decoder()
    try:
        out = t.decode(value, d)
    except Hard as h:
        err = h.error
        if isinstance(err, _TypeError):
            # Go's addErrorContext: the context at the point of failure.
            raise GoDecodeError(err.render(d.struct, d.fields)) from None
        raise GoDecodeError(err) from None
    if d.saved is not None:
        raise GoDecodeError(d.saved)
    return _zero(t) if out is KEEP else out


def inner_string(v: Any) -> str:
    """`json.Unmarshal(data, &s)` inside an UnmarshalJSON method (null leaves s empty)."""
    if v is None:
        return ""
    if not isinstance(v, str):
        raise Hard(_TypeError(json_kind(v), "string"))
    return v
