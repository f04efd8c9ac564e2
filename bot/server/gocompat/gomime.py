"""Go's `mime.ParseMediaType`, for go-openapi's Content-Type check (Go 1.19)."""

from __future__ import annotations

_TSPECIALS = set('()<>@,;:\\"/[]?=')


class MimeError(ValueError):
    """str() is Go's message, e.g. `mime: no media type`."""


def _is_token_char(ch: str) -> bool:
    return 0x20 < ord(ch) < 0x7F and ch not in _TSPECIALS


def _consume_token(v: str) -> tuple[str, str]:
    for i, ch in enumerate(v):
        if not _is_token_char(ch):
            return (v[:i], v[i:]) if i else ("", v)
    return v, ""


def _consume_value(v: str) -> tuple[str, str]:
    if not v:
        return "", ""
    if v[0] != '"':
        return _consume_token(v)
    buf = []
    i = 1
    while i < len(v):
        r = v[i]
        if r == '"':
            return "".join(buf), v[i + 1:]
        if r == "\\" and i + 1 < len(v) and v[i + 1] in _TSPECIALS:
            buf.append(v[i + 1])
            i += 2
            continue
        if r in "\r\n":
            return "", v
        buf.append(r)
        i += 1
    return "", v


def _lstrip_space(v: str) -> str:
    return v.lstrip(" \t\n\v\f\r\x85\xa0")


def _consume_param(v: str) -> tuple[str, str, str]:
    rest = _lstrip_space(v)
    if not rest.startswith(";"):
        return "", "", v
    rest = _lstrip_space(rest[1:])
    param, rest = _consume_token(rest)
    param = param.lower()
    if not param:
        return "", "", v
    rest = _lstrip_space(rest)
    if not rest.startswith("="):
        return "", "", v
    rest = _lstrip_space(rest[1:])
    value, rest2 = _consume_value(rest)
    if value == "" and rest2 == rest:
        return "", "", v
    return param, value, rest2


def _check_type(s: str) -> None:
    typ, rest = _consume_token(s)
    if not typ:
        raise MimeError("mime: no media type")
    if not rest:
        return
    if not rest.startswith("/"):
        raise MimeError("mime: expected slash after first token")
    sub, rest = _consume_token(rest[1:])
    if not sub:
        raise MimeError("mime: expected token after slash")
    if rest:
        raise MimeError("mime: unexpected content after media subtype")


def parse_media_type(v: str) -> tuple[str, dict[str, str]]:
    base = v.split(";", 1)[0]
    mediatype = base.lower().strip(" \t\n\v\f\r\x85\xa0")
    _check_type(mediatype)
    params: dict[str, str] = {}
    continuation: dict[str, dict[str, str]] = {}
    v = v[len(base):]
    while v:
        v = _lstrip_space(v)
        if not v:
            break
        key, value, rest = _consume_param(v)
        if not key:
            if rest.strip() == ";":
                break
            raise MimeError("mime: invalid media parameter")
        pmap = params
        if "*" in key:
            pmap = continuation.setdefault(key.split("*", 1)[0], {})
        if key in pmap:
            raise MimeError("mime: duplicate parameter name")
        pmap[key] = value
        v = rest
    return mediatype, params
