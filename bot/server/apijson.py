"""Alertmanager's API v2 JSON, byte for byte: field order, time format, escaping.

go-openapi writes responses with `json.Encoder` and HTML escaping off: a trailing newline,
control characters as \\u00XX except \\n \\r \\t (Go 1.19), U+2028/U+2029 escaped. The
models built from several parts (`allOf`: gettable alerts and silences) marshal themselves with
`json.Marshal`, which escapes `<`, `>` and `&` as well; plain models (alert groups' labels,
receivers, status) and string payloads keep them. go-openapi's own error bodies use
`json.Marshal` (HTML-escaped, no newline). Times are strfmt.DateTime: milliseconds, with the
offset they were given in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from bot.engine.alert import Alert
from bot.engine.silences import Silence
from bot.engine.timestamp import Timestamp
from bot.notify import gojson

_API_ESCAPE = re.compile(r'[\x00-\x1f"\\\u2028\u2029]')
_HTML_ESCAPE = re.compile(r'[\x00-\x1f"\\<>&\u2028\u2029]')
_NAMED = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_SLOW_MARKERS = (b"\\b", b"\\f", "\u2028".encode(), "\u2029".encode())


def _escape(m: re.Match[str]) -> str:
    ch = m.group(0)
    return _NAMED.get(ch) or f"\\u{ord(ch):04x}"


def _go_dumps(value: Any, pattern: re.Pattern[str]) -> str:
    if isinstance(value, str):
        return '"' + pattern.sub(_escape, value) + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "{" + ",".join(_go_dumps(str(k), pattern) + ":" + _go_dumps(v, pattern) for k, v in value.items()) + "}"
    return "[" + ",".join(_go_dumps(v, pattern) for v in value) + "]"


def _scrub(value: Any) -> Any:
    # Lone surrogates cannot be written as UTF-8; Go writes U+FFFD for invalid text.
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(value) else value
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def _has_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def dumps(value: Any, html: bool = False) -> bytes:
    """Compact JSON as Go writes it; `html`: as json.Marshal (escaping <, > and &)."""
    try:
        out = orjson.dumps(value)
    except TypeError:
        value = _scrub(value)
        out = orjson.dumps(value)
    if any(m in out for m in _SLOW_MARKERS):
        # orjson writes \b and \f, and U+2028/9 raw; Go 1.19 writes \u0008, \u000c, \u2028, \u2029.
        return _go_dumps(value, _HTML_ESCAPE if html else _API_ESCAPE).encode()
    if html:
        # In JSON text these three can only occur inside strings.
        out = out.replace(b"&", b"\\u0026").replace(b"<", b"\\u003c").replace(b">", b"\\u003e")
    return out


def body(value: Any, html: bool = False) -> bytes:
    """A payload as go-openapi's JSON producer writes it (with the newline)."""
    return dumps(value, html) + b"\n"


def error_body(code: int, message: str) -> bytes:
    """go-openapi's errorAsJSON: `{"code":N,"message":"..."}`, HTML-escaped, no newline."""
    return gojson.dumps({"code": code, "message": _scrub(message)}).encode()


def millis(ts: Timestamp) -> str:
    return ts.rfc3339milli()


def label_set(labels: dict[str, str]) -> dict[str, str]:
    return {k: labels[k] for k in sorted(labels)}


def gettable_alert(a: Alert, state: str, silenced_by: Sequence[str], inhibited_by: Sequence[str],
                   receivers: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "annotations": label_set(a.annotations),
        "endsAt": a.ends_at.rfc3339milli(),
        "fingerprint": f"{a.fingerprint:016x}",
        "receivers": [{"name": r} for r in receivers],
        "startsAt": a.starts_at.rfc3339milli(),
        "status": {"inhibitedBy": list(inhibited_by), "silencedBy": list(silenced_by), "state": state},
        "updatedAt": a.updated_at.rfc3339milli(),
    }
    if a.generator_url:
        out["generatorURL"] = a.generator_url
    out["labels"] = label_set(a.labels)
    return out


def gettable_silence(s: Silence, now: Timestamp) -> dict[str, Any]:
    return {
        "id": s.id,
        "status": {"state": silence_state(s, now)},
        "updatedAt": s.updated_at.rfc3339milli(),
        "comment": s.comment,
        "createdBy": s.created_by,
        "endsAt": s.ends_at.rfc3339milli(),
        "matchers": [{"isEqual": m.is_equal, "isRegex": m.is_regex, "name": m.name, "value": m.value}
                     for m in s.matchers],
        "startsAt": s.starts_at.rfc3339milli(),
    }


def silence_state(s: Silence, now: Timestamp) -> str:
    """The API's CalcSilenceState: active until, not at, endsAt."""
    if now.ns < s.starts_at.ns:
        return "pending"
    if now.ns < s.ends_at.ns:
        return "active"
    return "expired"
