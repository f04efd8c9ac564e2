"""Instants with Go's `time.Time` behaviour where it shows: nanoseconds, the input's UTC
offset kept for output, the zero time `0001-01-01T00:00:00Z`, and RFC 3339 text with
trailing zeros trimmed from the fraction (Go's JSON encoding of a time)."""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime, timedelta, timezone
from functools import total_ordering

_NS = 1_000_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ZERO_NS = -62135596800 * _NS  # 0001-01-01T00:00:00Z

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$")


@total_ordering
class Timestamp:
    """An instant (`ns` since the Unix epoch) and the UTC offset it was written with."""

    __slots__ = ("ns", "offset", "_text")

    def __init__(self, ns: int, offset: int = 0) -> None:
        self.ns = ns
        self.offset = offset  # seconds east of UTC, for output only
        self._text: str | None = None

    # -- construction
    @classmethod
    def from_seconds(cls, seconds: float, offset: int = 0) -> Timestamp:
        return cls(round(seconds * _NS), offset)

    @classmethod
    def now(cls) -> Timestamp:
        return cls(time.time_ns())

    @classmethod
    def parse(cls, text: str) -> Timestamp:
        """RFC 3339 with optional fraction (any number of digits) and `Z` or `±hh:mm`."""
        m = _RFC3339.match(text)
        if m is None:
            raise ValueError(f"invalid RFC 3339 time {text!r}")
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        frac = m.group(7) or ""
        if m.group(8):
            offset = 0
        else:
            sign = -1 if m.group(9) == "-" else 1
            oh, om = int(m.group(10)), int(m.group(11))
            if oh > 23 or om > 59:
                raise ValueError(f"invalid time zone offset in {text!r}")
            offset = sign * (oh * 3600 + om * 60)
        if second == 60:
            raise ValueError(f"second out of range in {text!r}")
        try:
            datetime(year, month, day, hour, minute, second)
        except ValueError as exc:
            raise ValueError(f"invalid time {text!r}: {exc}") from None
        seconds = calendar.timegm((year, month, day, hour, minute, second)) - offset
        ns = int((frac + "000000000")[:9]) if frac else 0
        return cls(seconds * _NS + ns, offset)

    # -- queries
    @property
    def is_zero(self) -> bool:
        return self.ns == ZERO_NS

    @property
    def seconds(self) -> float:
        return self.ns / _NS

    def add(self, seconds: float) -> Timestamp:
        return Timestamp(self.ns + round(seconds * _NS), self.offset)

    def in_utc(self) -> Timestamp:
        return Timestamp(self.ns, 0)

    def to_datetime(self) -> datetime:
        tz = timezone(timedelta(seconds=self.offset))
        return (_EPOCH + timedelta(microseconds=self.ns // 1000)).astimezone(tz)

    # -- output
    def rfc3339nano(self) -> str:
        """Go's `time.RFC3339Nano` (the JSON form of a time.Time)."""
        if self._text is None:
            self._text = self._rfc3339nano()
        return self._text

    def _rfc3339nano(self) -> str:
        secs, frac = divmod(self.ns + self.offset * _NS, _NS)
        out = _seconds_text(secs)
        if frac:
            out += "." + f"{frac:09d}".rstrip("0")
        return out + _zone(self.offset)

    def rfc3339milli(self) -> str:
        """The API's strfmt.DateTime form: always three fractional digits."""
        secs, frac = divmod(self.ns + self.offset * _NS, _NS)
        return f"{_seconds_text(secs)}.{frac // 1_000_000:03d}{_zone(self.offset)}"

    # -- comparison by instant only, as Go's Before/After/Equal
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Timestamp) and self.ns == other.ns

    def __lt__(self, other: Timestamp) -> bool:
        return self.ns < other.ns

    def __hash__(self) -> int:
        return hash(self.ns)

    def __repr__(self) -> str:
        return f"Timestamp({self.rfc3339nano()})"


_SECONDS_TEXT: dict[int, str] = {}
_SECONDS_TEXT_MAX = 4096


def _seconds_text(secs: int) -> str:
    """`YYYY-MM-DDTHH:MM:SS` of a local second, cached: the alerts an API answer lists share a
    few seconds (a batch's startsAt and updatedAt), and the date arithmetic was a third of it."""
    text = _SECONDS_TEXT.get(secs)
    if text is None:
        days, rem = divmod(secs, 86400)
        d = datetime(1970, 1, 1) + timedelta(days=days, seconds=rem)
        text = f"{d.year:04d}-{d.month:02d}-{d.day:02d}T{d.hour:02d}:{d.minute:02d}:{d.second:02d}"
        if len(_SECONDS_TEXT) >= _SECONDS_TEXT_MAX:
            _SECONDS_TEXT.clear()
        _SECONDS_TEXT[secs] = text
    return text


def _zone(offset: int) -> str:
    if offset == 0:
        return "Z"
    sign = "+" if offset > 0 else "-"
    h, m = divmod(abs(offset) // 60, 60)
    return f"{sign}{h:02d}:{m:02d}"


ZERO = Timestamp(ZERO_NS)
