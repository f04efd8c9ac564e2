"""Reading the engine's state from a request without holding the engine up.

The engine's state (alerts, groups, silences) lives on one event loop, with the engine's cycle,
ingestion and deliveries, and is never shared across threads. A read of all of it — `GET
/api/v2/alerts` with 50,000 alerts is seconds of Python — must not run in one piece there:
three clients polling it held a notification with a 1 s group_wait back for 22 s.

So a long read takes a snapshot of what it walks (a C-level copy of a dict's values: the
objects themselves are never changed in place, a new version replaces them) and works through
it in slices of at most `SLICE_S`. Between two slices everything else waiting on the loop runs,
and if a cycle of the engine is under way, the read waits for it to end: a cycle is a dozen
steps or more (each database round trip is one), and behind a slice of a read each step would
wait. Long reads also take turns (`Reads.turn`): they share one core anyway, so running them
side by side finishes none of them sooner. Like Alertmanager's API, a read is not one atomic
view: an alert's state is the state when that alert was read.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable

SLICE_S = 0.005  # a slice of a read holds the loop this long at most (one item may overrun it)
CYCLE_WAIT_MAX_S = 1.0  # a read waits this long at most for a cycle (one that reloads the state takes longer)

RunningCycle = Callable[[], "asyncio.Future[None] | None"]


class Reads:
    """The turns of long reads of one engine's state: one at a time, in the order they came."""

    def __init__(self, running_cycle: RunningCycle | None = None) -> None:
        self._lock = asyncio.Lock()
        self._running_cycle = running_cycle

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[Slicer]:
        async with self._lock:
            yield Slicer(running_cycle=self._running_cycle)


class Slicer:
    """Call `await slicer.pause()` between items: it yields to the loop once the slice is spent."""

    __slots__ = ("slice_s", "_until", "_running_cycle", "slices")

    def __init__(self, slice_s: float = SLICE_S, running_cycle: RunningCycle | None = None) -> None:
        self.slice_s = slice_s
        self._running_cycle = running_cycle
        self._until = time.perf_counter() + slice_s
        self.slices = 1

    async def pause(self) -> None:
        if time.perf_counter() >= self._until:
            await asyncio.sleep(0)
            cycle = self._running_cycle() if self._running_cycle is not None else None
            if cycle is not None:
                await asyncio.wait((cycle,), timeout=CYCLE_WAIT_MAX_S)
            self.slices += 1
            self._until = time.perf_counter() + self.slice_s
