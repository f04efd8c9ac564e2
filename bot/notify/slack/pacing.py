"""Pacing of Slack calls: a token bucket per channel, and the blocks Slack asks for.

Slack allows about one message per second per channel, with short bursts, and answers
HTTP 429 with `Retry-After` when a method is called too often. Every message-writing call
(a post, a thread reply, an edit) takes a token from its channel's bucket — `rate` tokens a
second, at most `burst` saved up — and waits its turn in arrival order. A 429 blocks that
method in that channel (or the method everywhere, for calls without a channel) until the
time Slack named; other methods and channels go on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    last: float
    lock: asyncio.Lock


class Pacer:
    def __init__(self, rate: float = 1.0, burst: int = 3, clock: Callable[[], float] = time.monotonic,
                 canonical: Callable[[str], str] | None = None) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1, burst)
        self._clock = clock
        self._canonical = canonical or (lambda c: c)
        self._buckets: dict[str, _Bucket] = {}
        self._blocked: dict[tuple[str, str], float] = {}  # (method, channel or "") -> until

    def key(self, channel: str) -> str:
        return self._canonical(channel)

    def blocked_for(self, method: str, channel: str = "") -> float:
        now = self._clock()
        until = max(self._blocked.get((method, self.key(channel) if channel else ""), 0.0),
                    self._blocked.get((method, ""), 0.0))
        return max(0.0, until - now)

    def block(self, method: str, channel: str, seconds: float) -> None:
        """Slack said 429 for `method` (in `channel`): nothing of that kind before `seconds`."""
        k = (method, self.key(channel) if channel else "")
        until = self._clock() + max(seconds, 0.0)
        if until > self._blocked.get(k, 0.0):
            self._blocked[k] = until

    async def acquire(self, method: str, channel: str, paced: bool = True) -> float:
        """Waits until a call of `method` may go to `channel`; returns the seconds waited."""
        started = self._clock()
        while True:
            blocked = self.blocked_for(method, channel)
            if blocked > 0:
                await asyncio.sleep(blocked)
                continue
            if not paced or not channel:
                return self._clock() - started
            b = self._bucket(self.key(channel))
            async with b.lock:
                self._refill(b)
                while b.tokens < 1 - 1e-9:
                    await asyncio.sleep((1 - b.tokens) / self.rate)
                    self._refill(b)
                if self.blocked_for(method, channel) > 0:
                    continue
                b.tokens -= 1
                return self._clock() - started

    def _bucket(self, key: str) -> _Bucket:
        b = self._buckets.get(key)
        if b is None:
            b = self._buckets[key] = _Bucket(float(self.burst), self._clock(), asyncio.Lock())
        return b

    def _refill(self, b: _Bucket) -> None:
        now = self._clock()
        b.tokens = min(float(self.burst), b.tokens + (now - b.last) * self.rate)
        b.last = now
