"""Go's time.Time, time.Duration and time.Location as templates see them.

Times keep nanoseconds (Python's datetime stops at microseconds): a `GoTime` is Unix
seconds + nanoseconds + a `Location`. Go's `time.Local` is modelled as UTC named
"Local" — the server zone Alertmanager runs in for our conformance data (TZ=UTC).
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import zoneinfo
from typing import Any

from bot.templates.gotypes import (
    T_BOOL,
    T_INT,
    T_INT64,
    T_STRING,
    T_FLOAT64,
    GoCallError,
    GoFunc,
    GoInt,
    GoType,
    Int64,
    Kind,
    Nil,
    Struct,
    T_BYTE_SLICE,
    Slice,
    Uint8,
    named,
    pointer_to,
    register_scalar_class,
    register_zero,
)

_NANOS = 1_000_000_000
# Seconds from 0001-01-01T00:00:00Z (Go's zero Time) to the Unix epoch.
_ZERO_UNIX = -62135596800
_MIN_DURATION = -(1 << 63)
_MAX_DURATION = (1 << 63) - 1
_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()

T_LOCATION = GoType(Kind.STRUCT, "time.Location", fields=(("name", T_STRING),))
T_LOCATION.underlying = T_LOCATION
T_LOCATION_PTR = pointer_to(T_LOCATION)
T_TIME = GoType(Kind.STRUCT, "time.Time", fields=(("wall", T_INT64), ("ext", T_INT64), ("loc", T_LOCATION_PTR)))
T_TIME.underlying = T_TIME
T_DURATION = named("time.Duration", T_INT64)
T_MONTH = named("time.Month", T_INT)
T_WEEKDAY = named("time.Weekday", T_INT)


class Location:
    """A *time.Location: UTC, a fixed offset, or an IANA zone."""

    __slots__ = ("name", "_fixed", "_zone")
    gotype = T_LOCATION_PTR

    def __init__(self, name: str, *, fixed: tuple[str, int] | None = None, zone: zoneinfo.ZoneInfo | None = None):
        self.name = name
        self._fixed = fixed
        self._zone = zone

    def lookup(self, unix: int) -> tuple[str, int]:
        """Zone abbreviation and offset in seconds in effect at Unix time `unix`."""
        if self._fixed is not None:
            return self._fixed
        assert self._zone is not None
        try:
            moment = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(seconds=unix)
            local = moment.astimezone(self._zone)
        except (OverflowError, ValueError):
            # Out of datetime's range once shifted: the zone's first or last rule applies.
            edge = _dt.datetime(1, 1, 2) if unix < 0 else _dt.datetime(9999, 12, 30)
            local = edge.replace(tzinfo=self._zone)
        offset = local.utcoffset()
        return local.tzname() or "", int(offset.total_seconds()) if offset is not None else 0

    def offset_for_civil(self, civil: int) -> int:
        """The offset to use for a wall-clock time given as seconds since the epoch in this zone."""
        if self._fixed is not None:
            return self._fixed[1]
        assert self._zone is not None
        try:
            naive = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=civil)
            offset = naive.replace(tzinfo=self._zone).utcoffset()
        except (OverflowError, ValueError):
            return 0
        return int(offset.total_seconds()) if offset is not None else 0

    def __repr__(self) -> str:
        return f"Location({self.name!r})"


UTC = Location("UTC", fixed=("UTC", 0))
LOCAL = Location("Local", fixed=("UTC", 0))


@functools.lru_cache(maxsize=256)
def load_location(name: str) -> Location:
    """time.LoadLocation: "" and "UTC" are UTC, "Local" is the local zone, otherwise an IANA name."""
    if name == "" or name == "UTC":
        return UTC
    if name == "Local":
        return LOCAL
    if name.startswith("/") or "\\" in name or ".." in name.split("/") or "\x00" in name:
        raise GoCallError("time: invalid location name")
    try:
        zone = zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise GoCallError(f"unknown time zone {name}") from None
    return Location(name, zone=zone)


def fixed_zone(name: str, offset: int) -> Location:
    return Location(name, fixed=(name, offset))


class Duration(GoInt):
    gotype = T_DURATION
    __slots__ = ()


class Month(GoInt):
    gotype = T_MONTH
    __slots__ = ()


class Weekday(GoInt):
    gotype = T_WEEKDAY
    __slots__ = ()


for _cls in (Duration, Month, Weekday):
    register_scalar_class(_cls)

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


def month_string(m: int) -> str:
    if 1 <= m <= 12:
        return _MONTHS[m - 1]
    return f"%!Month({m})"


def weekday_string(d: int) -> str:
    if 0 <= d <= 6:
        return _DAYS[d]
    return f"%!Weekday({d})"


def _wrap_int64(v: int) -> int:
    """Go's int64 arithmetic overflow (UnixNano outside 1678..2262 is 'undefined': it wraps)."""
    return (v + (1 << 63)) % (1 << 64) - (1 << 63)


def _clamp_duration(ns: int) -> Duration:
    return Duration(min(max(ns, _MIN_DURATION), _MAX_DURATION))


class GoTime(Struct):
    """A time.Time value."""

    __slots__ = ("sec", "nsec", "loc")
    gotype = T_TIME

    def __init__(self, sec: int, nsec: int = 0, loc: Location | None = None) -> None:
        extra, nsec = divmod(nsec, _NANOS)
        self.sec = sec + extra
        self.nsec = nsec
        self.loc = loc if loc is not None else UTC

    def __eq__(self, other: object) -> bool:
        # Go compares Time structs field by field, location pointer included.
        return (
            isinstance(other, GoTime) and self.sec == other.sec and self.nsec == other.nsec and self.loc is other.loc
        )

    def __hash__(self) -> int:
        return hash((self.sec, self.nsec))

    def __repr__(self) -> str:
        return f"GoTime({self.string()})"

    # -- civil fields --------------------------------------------------------
    def zone(self) -> tuple[str, int]:
        return self.loc.lookup(self.sec)

    def civil(self) -> tuple[int, int, int, int, int, int, int, int, str, int]:
        """(year, month, day, yday, weekday, hour, minute, second, zone name, offset)."""
        name, offset = self.zone()
        local = self.sec + offset
        days, rem = divmod(local, 86400)
        year, month, day = civil_from_days(days)
        hour, rem = divmod(rem, 3600)
        minute, second = divmod(rem, 60)
        yday = days - days_from_civil(year, 1, 1) + 1
        weekday = (days + 4) % 7  # 1970-01-01 was a Thursday
        return year, month, day, yday, weekday, hour, minute, second, name, offset

    def is_zero(self) -> bool:
        return self.sec == _ZERO_UNIX and self.nsec == 0

    def unix_nanos(self) -> int:
        return self.sec * _NANOS + self.nsec

    def in_location(self, loc: Location) -> GoTime:
        return GoTime(self.sec, self.nsec, loc)

    def add(self, ns: int) -> GoTime:
        return GoTime(self.sec, self.nsec + ns, self.loc)

    def sub(self, other: GoTime) -> Duration:
        return _clamp_duration(self.unix_nanos() - other.unix_nanos())

    def format(self, layout: str) -> str:
        return format_time(self, layout)

    def string(self) -> str:
        return format_time(self, "2006-01-02 15:04:05.999999999 -0700 MST")

    def go_fields(self) -> list[tuple[str, Any]]:
        """The unexported fields fmt prints for a Time without a monotonic reading."""
        from bot.templates.gotypes import Uint64

        loc: Any = Nil(T_LOCATION_PTR) if self.loc is UTC else self.loc
        return [("wall", Uint64(self.nsec)), ("ext", Int64(self.sec - _ZERO_UNIX)), ("loc", loc)]

    def go_string(self) -> str:
        """Time.GoString (what %#v prints)."""
        year, month, day, _, _, hour, minute, second, _, _ = self.civil()
        if self.loc is UTC:
            where = "time.UTC"
        elif self.loc is LOCAL:
            where = "time.Local"
        else:
            from bot.templates.gostrconv import quote

            where = f"time.Location({quote(self.loc.name)})"
        month_text = "time." + _MONTHS[month - 1] if 1 <= month <= 12 else str(month)
        return f"time.Date({year}, {month_text}, {day}, {hour}, {minute}, {second}, {self.nsec}, {where})"

    def rfc3339nano(self) -> str:
        return format_time(self, "2006-01-02T15:04:05.999999999Z07:00")


ZERO_TIME = GoTime(_ZERO_UNIX, 0, UTC)
register_zero(T_TIME, lambda: ZERO_TIME)


def civil_from_days(days: int) -> tuple[int, int, int]:
    """Proleptic Gregorian (year, month, day) of a day count from 1970-01-01, for any year."""
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    year = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return (year + 1 if month <= 2 else year), month, day


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (month 1..12)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    mp = month - 3 if month > 2 else month + 9
    doy = (153 * mp + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def time_from_civil(year: int, month: int, day: int, hour: int, minute: int, second: int, nsec: int,
                    loc: Location) -> GoTime:
    """time.Date: normalizes out-of-range fields the way Go does."""
    extra_years, month0 = divmod(month - 1, 12)
    year += extra_years
    extra_sec, nsec = divmod(nsec, _NANOS)
    second += extra_sec
    total = ((hour * 60) + minute) * 60 + second
    extra_days, total = divmod(total, 86400)
    days = days_from_civil(year, month0 + 1, 1) + (day - 1) + extra_days
    civil = days * 86400 + total
    offset = loc.offset_for_civil(civil)
    return GoTime(civil - offset, nsec, loc)


# -- formatting -------------------------------------------------------------

_STD_CHUNK = re.compile(
    r"January|Jan(?![a-z])|Monday|Mon(?![a-z])|MST|01|02|03|04|05|06|002|15|1|2006|2|_2006|__2|_2|3|4|5|PM|pm"
    r"|-070000|-07:00:00|-0700|-07:00|-07|Z070000|Z07:00:00|Z0700|Z07:00|Z07|[.,](?:0+|9+)(?![0-9])"
)


def _next_std_chunk(layout: str, start: int) -> tuple[int, int, str]:
    """Find the next layout element at or after `start`, mirroring Go's left-to-right nextStdChunk."""
    i = start
    n = len(layout)
    while i < n:
        c = layout[i]
        if c == "J" and layout.startswith("Jan", i):
            if layout.startswith("January", i):
                return i, i + 7, "January"
            if not (i + 3 < n and "a" <= layout[i + 3] <= "z"):
                return i, i + 3, "Jan"
        elif c == "M" and i + 3 <= n:
            if layout.startswith("Mon", i):
                if layout.startswith("Monday", i):
                    return i, i + 6, "Monday"
                if not (i + 3 < n and "a" <= layout[i + 3] <= "z"):
                    return i, i + 3, "Mon"
            if layout.startswith("MST", i):
                return i, i + 3, "MST"
        elif c == "0":
            if i + 1 < n and "1" <= layout[i + 1] <= "6":
                return i, i + 2, layout[i : i + 2]
            if layout.startswith("002", i):
                return i, i + 3, "002"
        elif c == "1":
            if layout.startswith("15", i):
                return i, i + 2, "15"
            return i, i + 1, "1"
        elif c == "2":
            if layout.startswith("2006", i):
                return i, i + 4, "2006"
            return i, i + 1, "2"
        elif c == "_":
            if i + 1 < n and layout[i + 1] == "2":
                if layout.startswith("2006", i + 1):
                    # "_2006" is "_" followed by the long year.
                    return i + 1, i + 5, "2006"
                return i, i + 2, "_2"
            if layout.startswith("__2", i):
                return i, i + 3, "__2"
        elif c in "345":
            return i, i + 1, c
        elif c == "P" and layout.startswith("PM", i):
            return i, i + 2, "PM"
        elif c == "p" and layout.startswith("pm", i):
            return i, i + 2, "pm"
        elif c == "-":
            for std in ("-070000", "-07:00:00", "-0700", "-07:00", "-07"):
                if layout.startswith(std, i):
                    return i, i + len(std), std
        elif c == "Z":
            for std in ("Z070000", "Z07:00:00", "Z0700", "Z07:00", "Z07"):
                if layout.startswith(std, i):
                    return i, i + len(std), std
        elif c in ".,":
            if i + 1 < n and layout[i + 1] in "09":
                ch = layout[i + 1]
                j = i + 1
                while j < n and layout[j] == ch:
                    j += 1
                if not (j < n and "0" <= layout[j] <= "9"):
                    return i, j, layout[i:j]
        i += 1
    return n, n, ""


def _zero_pad(x: int, width: int) -> str:
    if x < 0:
        return "-" + str(-x).rjust(width, "0")
    return str(x).rjust(width, "0")


def format_time(t: GoTime, layout: str) -> str:
    out: list[str] = []
    fields: tuple[int, int, int, int, int, int, int, int, str, int] | None = None
    pos = 0
    while pos < len(layout):
        begin, end, std = _next_std_chunk(layout, pos)
        if begin > pos:
            out.append(layout[pos:begin])
        if not std:
            break
        pos = end
        if fields is None:
            fields = t.civil()
        year, month, day, yday, weekday, hour, minute, second, name, offset = fields
        if std == "06":
            out.append(_zero_pad(abs(year) % 100, 2))
        elif std == "2006":
            out.append(_zero_pad(year, 4))
        elif std == "Jan":
            out.append(month_string(month)[:3])
        elif std == "January":
            out.append(month_string(month))
        elif std == "1":
            out.append(str(month))
        elif std == "01":
            out.append(_zero_pad(month, 2))
        elif std == "Mon":
            out.append(weekday_string(weekday)[:3])
        elif std == "Monday":
            out.append(weekday_string(weekday))
        elif std == "2":
            out.append(str(day))
        elif std == "_2":
            out.append(str(day).rjust(2))
        elif std == "02":
            out.append(_zero_pad(day, 2))
        elif std == "__2":
            out.append(str(yday).rjust(3))
        elif std == "002":
            out.append(_zero_pad(yday, 3))
        elif std == "15":
            out.append(_zero_pad(hour, 2))
        elif std == "3":
            out.append(str(hour % 12 or 12))
        elif std == "03":
            out.append(_zero_pad(hour % 12 or 12, 2))
        elif std == "4":
            out.append(str(minute))
        elif std == "04":
            out.append(_zero_pad(minute, 2))
        elif std == "5":
            out.append(str(second))
        elif std == "05":
            out.append(_zero_pad(second, 2))
        elif std == "PM":
            out.append("PM" if hour >= 12 else "AM")
        elif std == "pm":
            out.append("pm" if hour >= 12 else "am")
        elif std[0] in "-Z":
            if offset == 0 and std[0] == "Z":
                out.append("Z")
                continue
            zone = offset // 60 if offset >= 0 else -((-offset) // 60)
            absoffset = offset
            if zone < 0:
                out.append("-")
                zone = -zone
                absoffset = -absoffset
            else:
                out.append("+")
            out.append(_zero_pad(zone // 60, 2))
            if ":" in std:
                out.append(":")
            if std not in ("-07", "Z07"):
                out.append(_zero_pad(zone % 60, 2))
            if std in ("Z070000", "-070000", "-07:00:00", "Z07:00:00"):
                if ":" in std:
                    out.append(":")
                out.append(_zero_pad(absoffset % 60, 2))
        elif std == "MST":
            if name:
                out.append(name)
            else:
                zone = offset // 60 if offset >= 0 else -((-offset) // 60)
                if zone < 0:
                    out.append("-")
                    zone = -zone
                else:
                    out.append("+")
                out.append(_zero_pad(zone // 60, 2))
                out.append(_zero_pad(zone % 60, 2))
        else:  # fractional seconds
            sep, digits = std[0], std[1:]
            n = min(len(digits), 9)
            frac = f"{t.nsec:09d}"[:n]
            if digits[0] == "9":
                frac = frac.rstrip("0")
                if not frac:
                    continue
            out.append(sep + frac)
    return "".join(out)


def duration_string(d: int) -> str:
    """time.Duration.String."""
    neg = d < 0
    u = -d if neg else d
    if u < _NANOS:
        if u == 0:
            return "0s"
        if u < 1_000:
            text = f"{u}ns"
        elif u < 1_000_000:
            text = _frac(u, 3) + "µs"
        else:
            text = _frac(u, 6) + "ms"
    else:
        text = _frac_seconds(u)
    return "-" + text if neg else text


def _frac(value: int, prec: int) -> str:
    whole, frac = divmod(value, 10**prec)
    frac_text = f"{frac:0{prec}d}".rstrip("0")
    return f"{whole}.{frac_text}" if frac_text else str(whole)


def _frac_seconds(u: int) -> str:
    secs_text = _frac(u, 9)
    total_seconds = u // _NANOS
    frac_part = secs_text[len(str(total_seconds)) :]  # ".123" or ""
    seconds = total_seconds % 60
    minutes_total = total_seconds // 60
    text = f"{seconds}{frac_part}s"
    if minutes_total > 0:
        minutes = minutes_total % 60
        hours = minutes_total // 60
        text = f"{minutes}m{text}"
        if hours > 0:
            text = f"{hours}h{text}"
    return text


# -- parsing (RFC 3339, as encoding/json decodes time.Time) -----------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


def parse_rfc3339(text: str) -> GoTime:
    """Parse an RFC 3339 timestamp the way Go's time.Time.UnmarshalJSON does (zone kept)."""
    m = _RFC3339.fullmatch(text)
    if not m:
        raise ValueError(f"invalid RFC 3339 time {text!r}")
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    nsec = int((m.group(7) or "").ljust(9, "0")) if m.group(7) else 0
    if m.group(8):
        loc = UTC
        offset = 0
    else:
        offset = (int(m.group(10)) * 60 + int(m.group(11))) * 60
        if m.group(9) == "-":
            offset = -offset
        # Go reuses the local zone when its offset matches; ours is UTC.
        loc = LOCAL if offset == 0 else fixed_zone("", offset)
    civil = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second
    return GoTime(civil - offset, nsec, loc)


# -- methods templates can call ---------------------------------------------


def _m(t: GoType, name: str, params: tuple[GoType, ...], result: GoType | None, impl: Any, **kw: Any) -> None:
    t.methods[name] = GoFunc(name, params, result, impl, **kw)


def _time_in(t: GoTime, loc: Any) -> GoTime:
    if isinstance(loc, Nil) or loc is None:
        raise GoCallError("time: missing Location in call to Time.In")
    return t.in_location(loc)


def _time_truncate(t: GoTime, d: int) -> GoTime:
    if d <= 0:
        return t
    r = ((t.sec - _ZERO_UNIX) * _NANOS + t.nsec) % d
    return t.add(-r)


def _time_round(t: GoTime, d: int) -> GoTime:
    if d <= 0:
        return t
    r = ((t.sec - _ZERO_UNIX) * _NANOS + t.nsec) % d
    if r + r < d:
        return t.add(-r)
    return t.add(d - r)


def _add_date(t: GoTime, years: int, months: int, days: int) -> GoTime:
    year, month, day, _, _, hour, minute, second, _, _ = t.civil()
    return time_from_civil(year + years, month + months, day + days, hour, minute, second, t.nsec, t.loc)


def _marshal_json(t: GoTime) -> Slice:
    year = t.civil()[0]
    if not 0 <= year <= 9999:
        raise GoCallError("Time.MarshalJSON: year outside of range [0,9999]")
    data = ('"' + t.rfc3339nano() + '"').encode()
    return Slice((Uint8(b) for b in data), T_BYTE_SLICE)


def _civil_field(index: int) -> Any:
    return lambda t: t.civil()[index]


def _unsupported_results(count: int) -> Any:
    return lambda *args: None


_m(T_TIME, "Add", (T_DURATION,), T_TIME, lambda t, d: t.add(d))
_m(T_TIME, "AddDate", (T_INT, T_INT, T_INT), T_TIME, _add_date)
_m(T_TIME, "After", (T_TIME,), T_BOOL, lambda t, u: t.unix_nanos() > u.unix_nanos())
_m(T_TIME, "Before", (T_TIME,), T_BOOL, lambda t, u: t.unix_nanos() < u.unix_nanos())
_m(T_TIME, "Equal", (T_TIME,), T_BOOL, lambda t, u: t.unix_nanos() == u.unix_nanos())
_m(T_TIME, "Clock", (), None, _unsupported_results(3), results=3)
_m(T_TIME, "Date", (), None, _unsupported_results(3), results=3)
_m(T_TIME, "ISOWeek", (), None, _unsupported_results(2), results=2)
_m(T_TIME, "Zone", (), None, _unsupported_results(2), results=2)
_m(T_TIME, "Day", (), T_INT, _civil_field(2))
_m(T_TIME, "Format", (T_STRING,), T_STRING, lambda t, layout: t.format(layout))
_m(T_TIME, "GoString", (), T_STRING, lambda t: t.go_string())
_m(T_TIME, "Hour", (), T_INT, _civil_field(5))
_m(T_TIME, "In", (T_LOCATION_PTR,), T_TIME, _time_in)
_m(T_TIME, "IsZero", (), T_BOOL, lambda t: t.is_zero())
_m(T_TIME, "Local", (), T_TIME, lambda t: t.in_location(LOCAL))
_m(T_TIME, "Location", (), T_LOCATION_PTR, lambda t: t.loc)
_m(T_TIME, "MarshalJSON", (), T_BYTE_SLICE, _marshal_json, returns_error=True)
_m(T_TIME, "Minute", (), T_INT, _civil_field(6))
_m(T_TIME, "Month", (), T_MONTH, lambda t: Month(t.civil()[1]))
_m(T_TIME, "Nanosecond", (), T_INT, lambda t: t.nsec)
_m(T_TIME, "Round", (T_DURATION,), T_TIME, _time_round)
_m(T_TIME, "Second", (), T_INT, _civil_field(7))
_m(T_TIME, "String", (), T_STRING, lambda t: t.string())
_m(T_TIME, "Sub", (T_TIME,), T_DURATION, lambda t, u: t.sub(u))
_m(T_TIME, "Truncate", (T_DURATION,), T_TIME, _time_truncate)
_m(T_TIME, "UTC", (), T_TIME, lambda t: t.in_location(UTC))
_m(T_TIME, "Unix", (), T_INT64, lambda t: Int64(t.sec))
_m(T_TIME, "UnixMicro", (), T_INT64, lambda t: Int64(t.unix_nanos() // 1000))
_m(T_TIME, "UnixMilli", (), T_INT64, lambda t: Int64(t.unix_nanos() // 1_000_000))
_m(T_TIME, "UnixNano", (), T_INT64, lambda t: Int64(_wrap_int64(t.unix_nanos())))
_m(T_TIME, "Weekday", (), T_WEEKDAY, lambda t: Weekday(t.civil()[4]))
_m(T_TIME, "Year", (), T_INT, _civil_field(0))
_m(T_TIME, "YearDay", (), T_INT, _civil_field(3))


def _quo(d: int, n: int) -> int:
    """Go's integer division, truncating toward zero."""
    q = abs(d) // n
    return -q if d < 0 else q


def _dur_round(d: int, m: int) -> Duration:
    if m <= 0:
        return Duration(d)
    r = abs(d) % m
    if d < 0:
        if r + r < m:
            return Duration(d + r)
        d1 = d - m + r
        return Duration(d1 if d1 >= _MIN_DURATION else _MIN_DURATION)
    if r + r < m:
        return Duration(d - r)
    d1 = d + m - r
    return Duration(d1 if d1 <= _MAX_DURATION else _MAX_DURATION)


def _dur_truncate(d: int, m: int) -> Duration:
    if m <= 0:
        return Duration(d)
    r = abs(d) % m
    return Duration(d - r if d >= 0 else d + r)


_m(T_DURATION, "Abs", (), T_DURATION, lambda d: Duration(abs(d)) if d != _MIN_DURATION else Duration(_MAX_DURATION))
_m(T_DURATION, "Hours", (), T_FLOAT64, lambda d: _float_units(d, 3600 * _NANOS))
_m(T_DURATION, "Microseconds", (), T_INT64, lambda d: Int64(_quo(d, 1000)))
_m(T_DURATION, "Milliseconds", (), T_INT64, lambda d: Int64(_quo(d, 1_000_000)))
_m(T_DURATION, "Minutes", (), T_FLOAT64, lambda d: _float_units(d, 60 * _NANOS))
_m(T_DURATION, "Nanoseconds", (), T_INT64, lambda d: Int64(d))
_m(T_DURATION, "Round", (T_DURATION,), T_DURATION, _dur_round)
_m(T_DURATION, "Seconds", (), T_FLOAT64, lambda d: _float_units(d, _NANOS))
_m(T_DURATION, "String", (), T_STRING, lambda d: duration_string(d))
_m(T_DURATION, "Truncate", (T_DURATION,), T_DURATION, _dur_truncate)
_m(T_MONTH, "String", (), T_STRING, lambda m: month_string(m))
_m(T_WEEKDAY, "String", (), T_STRING, lambda d: weekday_string(d))
_m(T_LOCATION_PTR, "String", (), T_STRING, lambda loc: "UTC" if isinstance(loc, Nil) else loc.name)


def _float_units(d: int, unit: int) -> float:
    """Go computes whole units and the remainder separately so the float rounds like integer division."""
    whole = _quo(d, unit)
    rem = d - whole * unit
    return float(whole) + rem / unit


def current_time() -> GoTime:
    """time.Now() (without Go's monotonic reading, which templates only see when printing it)."""
    import time as _time

    ns = _time.time_ns()
    return GoTime(ns // _NANOS, ns % _NANOS, LOCAL)
