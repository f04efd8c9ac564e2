"""go-openapi's `strfmt.ParseDateTime`: Go's `time.Parse` tried with ten layouts in turn.

Accepts what Alertmanager 0.25 accepts (RFC 3339 with any fraction, `2006-01-02T15:04:05`
without a zone, `2006-01-02 15:04:05`, minutes-only forms, `+hhmm` offsets, one-digit hours)
and fails with the error of the last layout, word for word
(`parsing time "x" as "2006-01-02 15:04:05": cannot parse "x" as "2006"`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from bot.engine.timestamp import Timestamp

_NS = 1_000_000_000

# std chunk codes (only those the layouts below use)
_YEAR, _MONTH, _DAY, _HOUR, _MINUTE, _SECOND, _FRAC0, _FRAC9, _TZ_COLON, _TZ = range(1, 11)

_STD = {"2006": _YEAR, "01": _MONTH, "02": _DAY, "15": _HOUR, "04": _MINUTE, "05": _SECOND,
        "Z07:00": _TZ_COLON, "Z0700": _TZ}
_CHUNK = re.compile(r"2006|01|02|15|04|05|Z07:00|Z0700|\.0+(?![0-9])|\.9+(?![0-9])")

LAYOUTS = (
    "2006-01-02T15:04:05.000000Z07:00",  # RFC3339Micro
    "2006-01-02T15:04:05.000000Z0700",  # RFC3339MicroNoColon
    "2006-01-02T15:04:05.000Z07:00",  # RFC3339Millis
    "2006-01-02T15:04:05.000Z0700",  # RFC3339MillisNoColon
    "2006-01-02T15:04:05Z07:00",  # time.RFC3339
    "2006-01-02T15:04:05.999999999Z07:00",  # time.RFC3339Nano
    "2006-01-02T15:04:05",  # ISO8601LocalTime
    "2006-01-02T15:04Z",  # ISO8601TimeWithReducedPrecision
    "2006-01-02T15:04",  # ISO8601TimeWithReducedPrecisionLocaltime
    "2006-01-02 15:04:05",  # ISO8601TimeUniversalSortableDateTimePattern
)

_FAST = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$")


class GoTimeError(ValueError):
    """str() is Go's time.ParseError message."""


def _chunks(layout: str) -> list[tuple[str, int, str]]:
    """(literal prefix, std code, std text) per chunk; the last has code 0."""
    out = []
    pos = 0
    for m in _CHUNK.finditer(layout):
        text = m.group()
        code = _STD.get(text) or (_FRAC0 if text[1] == "0" else _FRAC9)
        out.append((layout[pos:m.start()], code, text))
        pos = m.end()
    out.append((layout[pos:], 0, ""))
    return out


_LAYOUT_CHUNKS = [(layout, _chunks(layout)) for layout in LAYOUTS]


def quote(s: str) -> str:
    """The time package's own quote(): non-ASCII and control bytes as \\x escapes."""
    out = ['"']
    for ch in s:
        o = ord(ch)
        if o >= 0x80 or o < 0x20:
            for b in ch.encode("utf-8", "surrogatepass"):
                out.append(f"\\x{b:02x}")
        else:
            if ch in '"\\':
                out.append("\\")
            out.append(ch)
    out.append('"')
    return "".join(out)


class _Bad(Exception):
    pass


def _is_digit(s: str, i: int) -> bool:
    return i < len(s) and "0" <= s[i] <= "9"


def _getnum(s: str, fixed: bool) -> tuple[int, str]:
    if not _is_digit(s, 0):
        raise _Bad
    if not _is_digit(s, 1):
        if fixed:
            raise _Bad
        return int(s[0]), s[1:]
    return int(s[:2]), s[2:]


def _atoi(s: str) -> int:
    neg = False
    if s and s[0] in "+-":
        neg = s[0] == "-"
        s = s[1:]
    if not s or not all("0" <= c <= "9" for c in s):
        raise _Bad
    x = int(s)
    return -x if neg else x


def _skip(value: str, prefix: str) -> str:
    while prefix:
        if prefix[0] == " ":
            if value and value[0] != " ":
                raise _Bad
            prefix = prefix.lstrip(" ")
            value = value.lstrip(" ")
            continue
        if not value or value[0] != prefix[0]:
            raise _Bad
        prefix, value = prefix[1:], value[1:]
    return value


def _parse_nanoseconds(value: str, nbytes: int) -> tuple[int, str]:
    """(nanoseconds, range error) of `value[:nbytes]` (a '.' or ',' and digits)."""
    if value[0] not in ".,":
        raise _Bad
    if nbytes > 10:
        value, nbytes = value[:10], 10
    ns = _atoi(value[1:nbytes])
    if ns < 0:
        return 0, "fractional second"
    return ns * 10 ** (10 - nbytes), ""


def _days_in(month: int, year: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _days_from_civil(y: int, m: int, d: int) -> int:
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


class _Error(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_layout(layout: str, chunks: list[tuple[str, int, str]], value: str) -> Timestamp:
    """Go's time.Parse(layout, value), for the chunks used by go-openapi's layouts."""
    avalue = value
    year, month, day, hour, minute, sec, nsec = 0, -1, -1, 0, 0, 0, 0
    zone: int | None = None
    for i, (prefix, std, stdstr) in enumerate(chunks):
        try:
            value = _skip(value, prefix)
        except _Bad:
            raise _Error(f"parsing time {quote(avalue)} as {quote(layout)}: cannot parse {quote(value)} as "
                         f"{quote(prefix)}") from None
        if std == 0:
            if value:
                raise _Error(f"parsing time {quote(avalue)}: extra text: {quote(value)}")
            break
        range_err = ""
        try:
            if std == _YEAR:
                if len(value) < 4 or not _is_digit(value, 0):
                    raise _Bad
                year, value = _atoi(value[:4]), value[4:]
            elif std == _MONTH:
                month, value = _getnum(value, True)
                if month <= 0 or month > 12:
                    range_err = "month"
            elif std == _DAY:
                day, value = _getnum(value, True)
            elif std == _HOUR:
                hour, value = _getnum(value, False)
                if hour < 0 or hour >= 24:
                    range_err = "hour"
            elif std == _MINUTE:
                minute, value = _getnum(value, True)
                if minute < 0 or minute >= 60:
                    range_err = "minute"
            elif std == _SECOND:
                bad = False
                try:
                    sec, value = _getnum(value, True)
                except _Bad:  # Go goes on to the fraction check with the error pending
                    bad, sec = True, 0
                if sec < 0 or sec >= 60:
                    range_err = "second"
                elif len(value) >= 2 and value[0] in ".," and _is_digit(value, 1):
                    nxt = chunks[i + 1][1] if i + 1 < len(chunks) else 0
                    if nxt not in (_FRAC0, _FRAC9):
                        # A fraction the layout does not ask for: Go takes every digit.
                        n = 2
                        while n < len(value) and _is_digit(value, n):
                            n += 1
                        nsec, range_err = _parse_nanoseconds(value, n)
                        value = value[n:]
                        bad = False
                if bad:
                    raise _Bad
            elif std in (_TZ_COLON, _TZ):
                if value[:1] == "Z":
                    value, zone = value[1:], 0
                else:
                    if std == _TZ_COLON:
                        if len(value) < 6 or value[3] != ":":
                            raise _Bad
                        sign, hh, mm, value = value[0], value[1:3], value[4:6], value[6:]
                    else:
                        if len(value) < 5:
                            raise _Bad
                        sign, hh, mm, value = value[0], value[1:3], value[3:5], value[5:]
                    off = (_atoi(hh) * 60 + _atoi(mm)) * 60
                    if sign == "-":
                        off = -off
                    elif sign != "+":
                        raise _Bad
                    zone = off
            elif std == _FRAC0:
                ndigit = len(stdstr)
                if len(value) < ndigit:
                    raise _Bad
                nsec, range_err = _parse_nanoseconds(value, ndigit)
                value = value[ndigit:]
            elif std == _FRAC9:
                if len(value) >= 2 and value[0] in ".," and "0" <= value[1] <= "9":
                    j = 0
                    while j < 9 and j + 1 < len(value) and "0" <= value[j + 1] <= "9":
                        j += 1
                    nsec, range_err = _parse_nanoseconds(value, 1 + j)
                    value = value[1 + j:]
        except _Bad:
            raise _Error(f"parsing time {quote(avalue)} as {quote(layout)}: cannot parse {quote(value)} as "
                         f"{quote(stdstr)}") from None
        if range_err:
            raise _Error(f"parsing time {quote(avalue)}: {range_err} out of range")
    if month < 0:
        month = 1
    if day < 0:
        day = 1
    if day < 1 or day > _days_in(month, year):
        raise _Error(f"parsing time {quote(avalue)}: day out of range")
    days = _days_from_civil(year, month, day)
    seconds = days * 86400 + hour * 3600 + minute * 60 + sec - (zone or 0)
    return Timestamp(seconds * _NS + nsec, zone or 0)


@lru_cache(maxsize=65536)
def parse_datetime(value: str) -> Timestamp | None:
    """strfmt.ParseDateTime: None for "" (the zero time), else a Timestamp or GoTimeError.
    Cached: a batch from Prometheus repeats its times (every alert's endsAt is the same)."""
    if value == "":
        return None
    m = _FAST.match(value)
    if m is not None:
        # The common RFC 3339 form: every layout that accepts it gives this instant and offset.
        try:
            return Timestamp.parse(value)
        except ValueError:
            pass
    last = ""
    for layout, chunks in _LAYOUT_CHUNKS:
        try:
            return parse_layout(layout, chunks, value)
        except _Error as exc:
            last = exc.message
    raise GoTimeError(last)
