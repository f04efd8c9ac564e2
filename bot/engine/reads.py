"""Reading the engine's state from a request without holding the engine up.

The engine's state (alerts, groups, silences) lives on one event loop, with the engine's cycle,
ingestion and deliveries, and is never shared across threads. A read of all of it — `GET
/api/v2/alerts` with 50,000 alerts is seconds of Python — must not run in one piece there:
three clients polling it held a notification with a 1 s group_wait back for 22 s.

So a long read takes a snapshot of what it walks (a C-level copy of a dict's values: the
objects themselves are never changed in place, a new version replaces them) and works through
it in slices of at most `SLICE_S`; between two slices everything else waiting on the loop runs
first. Like Alertmanager's API, a read is not one atomic view: an alert's state is the state
when that alert was read.
"""

from __future__ import annotations

import asyncio
import time

SLICE_S = 0.005  # a slice of a read holds the loop this long at most (one item may overrun it)


class Slicer:
    """Call `await slicer.pause()` between items: it yields to the loop once the slice is spent."""

    __slots__ = ("slice_s", "_until", "slices")

    def __init__(self, slice_s: float = SLICE_S) -> None:
        self.slice_s = slice_s
        self._until = time.perf_counter() + slice_s
        self.slices = 1

    async def pause(self) -> None:
        if time.perf_counter() >= self._until:
            await asyncio.sleep(0)
            self.slices += 1
            self._until = time.perf_counter() + self.slice_s
