"""Go's `json.Marshal` over template values: today's Alertmanager's `toJson` function.

Structs write their exported fields in order under their `json` tag names, maps their keys
sorted, nil slices/maps/pointers/interfaces `null`, `[]byte` base64, time.Time through its
MarshalJSON; strings are escaped as Go escapes them (HTML characters included). Errors carry
Go's messages (`json: unsupported value: NaN`, `json: unsupported type: func()`).
"""

from __future__ import annotations

import base64
import math
from typing import Any

from bot.notify.gojson import quote
from bot.templates.gostrconv import format_float
from bot.templates.gotypes import (
    FLOAT_KINDS,
    INT_KINDS,
    T_UINT8,
    UINT_KINDS,
    GoCallError,
    GoType,
    Kind,
    Ptr,
    Struct,
    is_nil,
    type_of,
)


def marshal(value: Any) -> str:
    """json.Marshal(value) as text; raises GoCallError with Go's error."""
    if is_nil(value):  # nil interface, pointer, slice or map
        return "null"
    t = type_of(value)
    marshaler = t.method("MarshalJSON")
    if marshaler is not None:
        try:
            out = marshaler.impl(value)
        except GoCallError as exc:
            raise GoCallError(f"json: error calling MarshalJSON for type {t}: {exc}") from None
        return bytes(out).decode()
    k = t.kind
    if k == Kind.STRING:
        return quote(str(value))
    if k == Kind.BOOL:
        return "true" if value else "false"
    if k in INT_KINDS or k in UINT_KINDS:
        return str(int(value))
    if k in FLOAT_KINDS:  # always float64: no template value is a float32
        return _float(float(value))
    if k == Kind.SLICE:
        if t.elem is not None and t.elem.kind == Kind.UINT8 and t.elem.underlying is T_UINT8:
            return '"' + base64.b64encode(bytes(int(b) for b in value)).decode() + '"'
        return "[" + ",".join(marshal(v) for v in value) + "]"
    if k == Kind.MAP:
        # Template maps are map[string]string (KV): string keys, written sorted.
        return "{" + ",".join(quote(key) + ":" + marshal(value[key]) for key in sorted(value)) + "}"
    if k == Kind.STRUCT and isinstance(value, Struct):
        return _struct(t, value.field)
    if k == Kind.POINTER:
        if isinstance(value, Ptr):
            return marshal(value.elem)
        # An opaque pointer (a *time.Location): a struct with unexported fields only, so "{}".
        if t.elem is not None and t.elem.kind == Kind.STRUCT:
            return _struct(t.elem, lambda i: None)
    raise GoCallError(f"json: unsupported type: {t}")


def _struct(t: GoType, field: Any) -> str:
    parts = []
    for i, ((name, _), json_name) in enumerate(zip(t.fields, t.json_names, strict=True)):
        if name[:1].isupper():
            parts.append(quote(json_name) + ":" + marshal(field(i)))
    return "{" + ",".join(parts) + "}"


def _float(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        raise GoCallError(f"json: unsupported value: {format_float(v, 'g', -1)}")
    a = abs(v)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        return _short_exponent(format_float(v, "e", -1))
    return format_float(v, "f", -1)


def _short_exponent(text: str) -> str:
    """encoding/json writes e-7, not strconv's e-07."""
    if len(text) >= 4 and text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
        return text[:-2] + text[-1]
    return text
