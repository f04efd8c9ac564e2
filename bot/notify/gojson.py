"""JSON exactly as Go's `encoding/json` writes it (what Alertmanager's notifiers send).

Go escapes `<`, `>` and `&` as \\u003c, \\u003e, \\u0026 and U+2028/U+2029, writes other
control characters as \\u00XX (except \\n, \\r, \\t), keeps other non-ASCII as UTF-8, sorts map
keys, and `json.Encoder` ends the document with a newline. Python dicts are written in their
own order (struct fields); use `gomap()` for Go maps, whose keys Go sorts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import orjson

_ESCAPE = re.compile(r'[\x00-\x1f"\\<>&\u2028\u2029]')
_NAMED = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    return _NAMED.get(ch) or f"\\u{ord(ch):04x}"


def quote(s: str) -> str:
    return '"' + _ESCAPE.sub(_escape, s) + '"'


def gomap(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in sorted(d)}


def dumps(value: Any) -> str:
    """Compact JSON, Go style, without the trailing newline."""
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(quote(str(k)) + ":" + dumps(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_HTML_RE = re.compile("[<>&\u2028\u2029]")


def fast_dumps(value: Any) -> str:
    """`dumps` through orjson: the same bytes as Go wherever orjson agrees with it. Go escapes
    <, >, & and U+2028/9 (they only occur inside strings, so they can be replaced in the
    output); orjson writes \\b and \\f where Go writes \\u0008 and \\u000c, so such documents,
    and anything orjson refuses, take the exact path."""
    try:
        out = orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return dumps(value)
    if "\\b" in out or "\\f" in out:
        return dumps(value)
    return _HTML_RE.sub(lambda m: _HTML[m.group(0)], out)


def encode(value: Any) -> str:
    """What `json.NewEncoder(w).Encode(value)` writes: the document and a newline."""
    return fast_dumps(value) + "\n"
