"""Time intervals (`time_intervals`, `mute_time_intervals`): parsing and membership.

Semantics and messages are those of Alertmanager's `timeinterval` package: all given
conditions must hold (times, weekdays, days of month incl. negative days, months, years),
each condition holds when any of its ranges contains the moment, evaluated in `location`.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BeforeValidator, Field
from typing_extensions import Annotated

from bot.config.types import Strict, Text

_WEEKDAYS = {"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"])}
_MONTHS_INV = {v: k for k, v in _MONTHS.items()}
_VALID_TIME = re.compile(r"^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)")


@dataclass(frozen=True, slots=True)
class Range:
    begin: int
    end: int


def _atoi(s: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]+", s):
        raise ValueError(f'strconv.Atoi: parsing "{s}": invalid syntax')
    return int(s)


def _range(text: Any, member) -> Range:  # type: ignore[no-untyped-def]
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    s = text.lower()
    if ":" in s:
        parts = s.split(":")
        if len(parts) != 2:
            raise ValueError(f"couldn't parse range {s}, invalid format")
        return Range(member(parts[0]), member(parts[1]))
    v = member(s)
    return Range(v, v)


def _weekday_member(s: str) -> int:
    if s not in _WEEKDAYS:
        raise ValueError(f"{s} is not a valid weekday")
    return _WEEKDAYS[s]


def _month_member(s: str) -> int:
    if s in _MONTHS:
        return _MONTHS[s]
    try:
        return _atoi(s)
    except ValueError:
        raise ValueError(f"{s} is not a valid month") from None


def _weekday_range(value: Any) -> Range:
    r = _range(value, _weekday_member)
    if r.begin > r.end:
        raise ValueError("start day cannot be before end day")
    if not (0 <= r.begin <= 6) or not (0 <= r.end <= 6):
        raise ValueError(f"{value} is not a valid day of the week: out of range")
    return r


def _day_of_month_range(value: Any) -> Range:
    r = _range(value, _atoi)
    if r.begin == 0 or r.begin < -31 or r.begin > 31:
        raise ValueError(f"{r.begin} is not a valid day of the month: out of range")
    if r.end == 0 or r.end < -31 or r.end > 31:
        raise ValueError(f"{r.end} is not a valid day of the month: out of range")
    if r.begin < 0 and r.end > 0:
        raise ValueError("end day must be negative if start day is negative")
    check_begin = 28 + r.begin if r.begin < 0 else r.begin
    check_end = 28 + r.end if r.end < 0 else r.end
    if check_begin > check_end:
        raise ValueError(f"end day {r.end} is always before start day {r.begin}")
    return r


def _month_range(value: Any) -> Range:
    r = _range(value, _month_member)
    if r.begin > r.end:
        raise ValueError(f"end month {_MONTHS_INV.get(r.end, '')} is before start month {_MONTHS_INV.get(r.begin, '')}")
    return r


def _year_range(value: Any) -> Range:
    r = _range(value, _atoi)
    if r.begin > r.end:
        raise ValueError(f"end year {r.end} is before start year {r.begin}")
    return r


def _parse_time(s: str) -> int:
    if not _VALID_TIME.search(s):
        raise ValueError(f"couldn't parse timestamp {s}, invalid format")
    hours, minutes = s.split(":")
    return int(hours) * 60 + int(minutes)


def _time_range(value: Any) -> Range:
    if not isinstance(value, dict):
        raise ValueError("times entries need start_time and end_time")
    unknown = set(value) - {"start_time", "end_time"}
    if unknown:
        raise ValueError(f"field {sorted(unknown)[0]} not found in type timeinterval.yamlTimeRange")
    start, end = value.get("start_time") or "", value.get("end_time") or ""
    if not start or not end:
        raise ValueError("both start and end times must be provided")
    a, b = _parse_time(str(start)), _parse_time(str(end))
    if a >= b:
        raise ValueError("start time cannot be equal or greater than end time")
    return Range(a, b)


def _location(value: Any) -> zoneinfo.ZoneInfo | None:
    if value is None:
        return None
    name = str(value)
    if name in ("", "UTC"):
        return zoneinfo.ZoneInfo("UTC")
    if name == "Local":
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name}") from None


TimeRangeT = Annotated[Range, BeforeValidator(_time_range)]
WeekdayRangeT = Annotated[Range, BeforeValidator(_weekday_range)]
DayOfMonthRangeT = Annotated[Range, BeforeValidator(_day_of_month_range)]
MonthRangeT = Annotated[Range, BeforeValidator(_month_range)]
YearRangeT = Annotated[Range, BeforeValidator(_year_range)]
LocationT = Annotated[zoneinfo.ZoneInfo | None, BeforeValidator(_location)]


def _days_in_month(d: date) -> int:
    first = d.replace(day=1)
    nxt = (first + timedelta(days=32)).replace(day=1)
    return (nxt - first).days


class TimeIntervalSpec(Strict):
    times: list[TimeRangeT] | None = None
    weekdays: list[WeekdayRangeT] | None = None
    days_of_month: list[DayOfMonthRangeT] | None = None
    months: list[MonthRangeT] | None = None
    years: list[YearRangeT] | None = None
    location: LocationT = None

    def contains(self, moment: datetime) -> bool:
        t = moment.astimezone(self.location) if self.location is not None else moment.astimezone(UTC)
        if self.times is not None:
            minute = t.hour * 60 + t.minute
            if not any(r.begin <= minute < r.end for r in self.times):
                return False
        if self.days_of_month is not None:
            dim = _days_in_month(t.date())
            found = False
            for r in self.days_of_month:
                begin = dim + r.begin + 1 if r.begin < 0 else r.begin
                end = dim + r.end + 1 if r.end < 0 else r.end
                if begin > dim:
                    continue
                begin = max(-dim, min(begin, dim))
                end = max(-dim, min(end, dim))
                if begin <= t.day <= end:
                    found = True
                    break
            if not found:
                return False
        if self.months is not None and not any(r.begin <= t.month <= r.end for r in self.months):
            return False
        if self.weekdays is not None:
            weekday = (t.weekday() + 1) % 7  # Go: Sunday is 0
            if not any(r.begin <= weekday <= r.end for r in self.weekdays):
                return False
        if self.years is not None and not any(r.begin <= t.year <= r.end for r in self.years):
            return False
        return True


class NamedTimeInterval(Strict):
    name: Text = ""
    time_intervals: list[TimeIntervalSpec] = Field(default_factory=list)

    def contains(self, moment: datetime) -> bool:
        """True when any of the interval's specs contains the moment."""
        return any(spec.contains(moment) for spec in self.time_intervals)
