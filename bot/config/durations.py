"""Prometheus durations (`30s`, `5m`, `1h30m`, `1d`, `1w`, `1y`, `250ms`), as `model.Duration`."""

from __future__ import annotations

import re

_DURATION_RE = re.compile(r"^(?:([0-9]+)y)?(?:([0-9]+)w)?(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?(?:([0-9]+)ms)?$")
_UNITS_MS = (365 * 86400_000, 7 * 86400_000, 86400_000, 3600_000, 60_000, 1000, 1)
_MAX_MS = (1 << 63) // 1_000_000 - 1  # what fits a Go time.Duration


class DurationError(ValueError):
    pass


def parse_duration_ms(text: str) -> int:
    """Milliseconds, with Prometheus's error messages."""
    if text == "0":
        return 0
    if text == "":
        raise DurationError("empty duration string")
    m = _DURATION_RE.match(text)
    if m is None:
        raise DurationError(f'not a valid duration string: "{text}"')
    total = 0
    for group, mult in zip(m.groups(), _UNITS_MS, strict=True):
        if group:
            total += int(group) * mult
            if total > _MAX_MS:
                raise DurationError("duration out of range")
    return total


def parse_duration(text: str) -> float:
    """Seconds as a float."""
    return parse_duration_ms(text) / 1000.0


def format_duration(seconds: float) -> str:
    """`model.Duration.String()`: `4h`, `1h30m`, `90d`, `0s`; years and weeks only when exact."""
    ms = round(seconds * 1000)
    if ms == 0:
        return "0s"
    out = ""
    for unit, mult, exact in (("y", _UNITS_MS[0], True), ("w", _UNITS_MS[1], True), ("d", _UNITS_MS[2], False),
                              ("h", _UNITS_MS[3], False), ("m", _UNITS_MS[4], False), ("s", _UNITS_MS[5], False),
                              ("ms", 1, False)):
        if exact and ms % mult:
            continue
        v = ms // mult
        if v > 0:
            out += f"{v}{unit}"
            ms -= v * mult
    return out
