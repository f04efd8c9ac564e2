"""The time window an alert's investigation queries run over.

From a little before the alert started (a quarter of its duration, at least 15 minutes and
at most 6 hours: enough to see what led up to it) to now, or, for a resolved alert, a little
after it ended (15 minutes, to see the recovery; never later than now). Instant queries run
at `at`: now while firing, the end of the firing for a resolved alert.

Alertmanager gives a firing alert an `endsAt` in the future (its resolve timeout): an
`endsAt` after `now`, or none, means still firing.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from bot.prometheus.client import TimeLike, nice_step, to_unix

MIN_LEAD = 15 * 60.0
MAX_LEAD = 6 * 3600.0
TAIL = 15 * 60.0


@dataclass(frozen=True)
class TimeWindow:
    start: float
    end: float
    firing: tuple[float, float]
    """When the alert fired: (startsAt, endsAt or now) — the span a graph shades."""
    at: float
    """When instant queries run."""
    resolved: bool

    def step(self, points: int = 300) -> float:
        return nice_step(self.end - self.start, points)


def alert_window(starts_at: TimeLike | None, ends_at: TimeLike | None = None, *, now: TimeLike | None = None,
                 default_span: float = 3600.0) -> TimeWindow:
    """The window for an alert with these times (datetimes or Unix seconds).

    Without `starts_at` (an alert we know nothing about), the last `default_span` seconds.
    """
    now_s = to_unix(now) if now is not None else time.time()
    if starts_at is None or _is_zero(starts_at):
        return TimeWindow(now_s - default_span, now_s, (now_s, now_s), now_s, False)
    start = min(to_unix(starts_at), now_s)
    end_s = None if ends_at is None or _is_zero(ends_at) else to_unix(ends_at)
    resolved = end_s is not None and end_s <= now_s
    fired_until = end_s if resolved and end_s is not None else now_s
    fired_until = max(fired_until, start)
    lead = min(max((fired_until - start) / 4, MIN_LEAD), MAX_LEAD)
    end = min(fired_until + TAIL, now_s) if resolved else now_s
    return TimeWindow(start - lead, end, (start, fired_until), fired_until, resolved)


def _is_zero(t: TimeLike) -> bool:
    # Go's zero time (0001-01-01) marks "not set" in Alertmanager's payloads
    if isinstance(t, dt.datetime):
        return t.year <= 1
    return to_unix(t) <= 0
