"""go-openapi's `uri` format: `url.ParseRequestURI(s)` must succeed (Go 1.19 net/url)."""

from __future__ import annotations

import re
from functools import lru_cache

# What Prometheus sends (http(s)://host[:port]/path?query with no CTL and no '%' in the path):
# valid for Go, decided without the full port below.
_PLAIN = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/[^\x00-\x1f\x7f%?]*)?(?:\?[^\x00-\x1f\x7f]*)?")

_HOST_OK = set(b"!$&'()*+,;=:[]<>\"")
_USERINFO_OK = set("-._:~!$&'()*+,;=%@")
_HEX = set(b"0123456789abcdefABCDEF")


class _Invalid(Exception):
    pass


def _should_escape_host(c: int) -> bool:
    if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A or 0x30 <= c <= 0x39:
        return False
    if c in _HOST_OK:
        return False
    if c in b"-_.~":
        return False
    # reserved characters other than those above, and everything else, must be escaped
    return True


def _unescape(s: bytes, mode: str) -> None:
    """Go's unescape, for its errors only (mode: "host", "zone", "path", "user")."""
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == 0x25:  # %
            if i + 2 >= n or s[i + 1] not in _HEX or s[i + 2] not in _HEX:
                raise _Invalid
            v = int(s[i + 1:i + 3], 16)
            if mode == "host" and v < 0x80 and s[i:i + 3] != b"%25":
                raise _Invalid
            if mode == "zone" and s[i:i + 3] != b"%25" and v != 0x20 and _should_escape_host(v):
                raise _Invalid
            i += 3
            continue
        if mode in ("host", "zone") and c < 0x80 and _should_escape_host(c):
            raise _Invalid
        i += 1


def _valid_port(port: bytes) -> bool:
    if not port:
        return True
    if port[:1] != b":":
        return False
    return all(0x30 <= b <= 0x39 for b in port[1:])


def _parse_host(host: bytes) -> None:
    if host.startswith(b"["):
        i = host.rfind(b"]")
        if i < 0:
            raise _Invalid
        if not _valid_port(host[i + 1:]):
            raise _Invalid
        zone = host[:i].find(b"%25")
        if zone >= 0:
            _unescape(host[:zone], "host")
            _unescape(host[zone:i], "zone")
            _unescape(host[i:], "host")
            return
    else:
        i = host.rfind(b":")
        if i != -1 and not _valid_port(host[i:]):
            raise _Invalid
    _unescape(host, "host")


def _parse_authority(authority: bytes) -> None:
    i = authority.rfind(b"@")
    _parse_host(authority if i < 0 else authority[i + 1:])
    if i < 0:
        return
    userinfo = authority[:i].decode("utf-8", "surrogateescape")
    for r in userinfo:
        if not (r.isascii() and (r.isalnum() or r in _USERINFO_OK)):
            raise _Invalid
    for part in userinfo.encode("utf-8", "surrogateescape").split(b":", 1):
        _unescape(part, "user")


def _scheme(raw: bytes) -> tuple[bytes, bytes]:
    for i, c in enumerate(raw):
        if 0x61 <= c <= 0x7A or 0x41 <= c <= 0x5A:
            continue
        if 0x30 <= c <= 0x39 or c in b"+-.":
            if i == 0:
                return b"", raw
            continue
        if c == 0x3A:
            if i == 0:
                raise _Invalid  # missing protocol scheme
            return raw[:i], raw[i + 1:]
        return b"", raw
    return b"", raw


@lru_cache(maxsize=8192)
def is_request_uri(s: str) -> bool:
    """govalidator.IsRequestURI: url.ParseRequestURI(s) returns no error."""
    if _PLAIN.fullmatch(s):
        return True
    raw = s.encode("utf-8", "surrogatepass")
    try:
        if any(b < 0x20 or b == 0x7F for b in raw):
            return False
        if not raw:
            return False
        if raw == b"*":
            return True
        scheme, rest = _scheme(raw)
        if rest.endswith(b"?") and rest.count(b"?") == 1:
            rest = rest[:-1]
        else:
            rest = rest.split(b"?", 1)[0]
        if not rest.startswith(b"/"):
            return bool(scheme)  # opaque when there is a scheme; else "invalid URI for request"
        if scheme and rest.startswith(b"//"):
            authority, rest = rest[2:], b""
            i = authority.find(b"/")
            if i >= 0:
                authority, rest = authority[:i], authority[i:]
            _parse_authority(authority)
        _unescape(rest, "path")
        return True
    except _Invalid:
        return False
