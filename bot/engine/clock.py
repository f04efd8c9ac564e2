"""Where "now" comes from: the system clock in the server, a virtual one in replay."""

from __future__ import annotations

import time
from typing import Protocol

from bot.engine.timestamp import Timestamp


class Clock(Protocol):
    def now(self) -> Timestamp: ...

    def monotonic(self) -> float: ...


class SystemClock:
    def now(self) -> Timestamp:
        return Timestamp(time.time_ns())

    def monotonic(self) -> float:
        return time.monotonic()


class VirtualClock:
    """A clock that only moves when told to (replay, and tests of timing rules)."""

    def __init__(self, start: Timestamp) -> None:
        self._ns = start.ns

    def now(self) -> Timestamp:
        return Timestamp(self._ns)

    def monotonic(self) -> float:
        return self._ns / 1e9

    def set(self, ns: int) -> None:
        if ns < self._ns:
            raise ValueError("a virtual clock never goes back")
        self._ns = ns
