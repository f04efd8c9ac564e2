"""The delivery worker: sends committed outbox rows, retrying as the one retry policy says.

Rows bounded by a flush stop at their deadline (Alertmanager's semantics: the next flush
sends the group's state again); other rows retry until delivered. Rows that share an
ordering key go out one at a time, in id order (an edit never overtakes the post it edits).

Attempts of flush-bounded rows are limited per destination (receiver, integration, index) to
FLUSH_SLOTS at a time, in the order the rows came: a burst of 100,000 groups flushing at once
otherwise starts 100,000 requests that wait together for 32 connections, and measured in one
process that delivers a tenth as many within the deadline as the same burst taken 64 at a
time. A row whose deadline passes while it waits for a slot ends there, without an attempt.
Slack and PagerDuty rows are not limited here: their pacers already hold each channel and
service to its rate, and a limit shared by a receiver's channels would let a busy channel hold
the others back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence

from bot.engine.engine import IntegrationRegistry
from bot.logging import get_logger
from bot.notify.base import DEFAULT_RETRY, Outcome, RetryPolicy
from bot.store.rows import OutboxRow

log = logging.getLogger("alertbot.delivery")
sent_log = get_logger("alertbot.delivery")

# row id, delivered, attempts, last error, effects -> awaitable that resolves once recorded
Finished = Callable[..., "asyncio.Future | None"]
Observer = Callable[[OutboxRow, Outcome, float], None]  # each attempt: row, outcome, seconds

FLUSH_SLOTS = 64  # above the HTTP client's 32 connections per host, so one is always ready
_UNLIMITED = contextlib.nullcontext()


class DeliveryWorker:
    def __init__(self, registry: Callable[[], IntegrationRegistry], finished: Finished,
                 policy: RetryPolicy = DEFAULT_RETRY, observer: Observer | None = None,
                 rng: random.Random | None = None) -> None:
        self._registry = registry
        self._finished = finished
        self.policy = policy
        self._observer = observer
        self._rng = rng or random.Random()
        self._queues: dict[str, list[OutboxRow]] = {}
        self._running: dict[str, asyncio.Task] = {}
        self._known: set[int] = set()
        self._slots: dict[tuple[str, str, int], asyncio.Semaphore] = {}
        self._stopped = False

    def stop(self) -> None:
        """Stops sending for good (this replica lost the engine lease): attempts in flight are
        cancelled and queued rows dropped; the replica holding the lease sends them from the
        database."""
        self._stopped = True
        self._queues.clear()
        self._known.clear()
        for task in list(self._running.values()):
            task.cancel()

    async def close(self) -> None:
        """stop(), and returns once every attempt in flight has ended: called before the HTTP
        client they use is closed, where each would fail with an error of its own instead."""
        running = list(self._running.values())
        self.stop()
        await asyncio.gather(*running, return_exceptions=True)

    def submit(self, rows: Sequence[OutboxRow]) -> None:
        if self._stopped:
            return
        for row in sorted(rows, key=lambda r: r.id):
            if row.id in self._known:
                continue  # already queued or in flight (a resubmit after recovery)
            self._known.add(row.id)
            key = row.ordering_key or f"row:{row.id}"
            self._queues.setdefault(key, []).append(row)
            if key not in self._running:
                self._running[key] = asyncio.get_running_loop().create_task(self._drain(key))

    @property
    def in_flight(self) -> int:
        return len(self._known)

    async def _drain(self, key: str) -> None:
        try:
            while self._queues.get(key):
                row = self._queues[key].pop(0)
                try:
                    ok, attempts, error, effects = await self._deliver(row)
                finally:
                    self._known.discard(row.id)
                recorded = self._finished(row.id, ok, attempts, error, effects)
                if recorded is not None:
                    # The next row of this key must see what this one changed (e.g. a message ts).
                    try:
                        await recorded
                    except Exception:  # the engine reloads from the database and resubmits
                        pass
        finally:
            self._running.pop(key, None)
            if not self._queues.get(key):
                self._queues.pop(key, None)

    async def _deliver(self, row: OutboxRow) -> tuple[bool, int, str, dict]:
        integ = self._registry().find(row.receiver, row.integration, row.integration_index)
        if integ is None:
            return False, row.attempts, f"{row.receiver}/{row.integration}[{row.integration_index}] no longer configured", {}
        attempts = row.attempts
        error = ""
        slots: asyncio.Semaphore | contextlib.nullcontext = _UNLIMITED
        if row.deadline_ns:
            dest = (row.receiver, row.integration, row.integration_index)
            slots = self._slots.get(dest) or self._slots.setdefault(dest, asyncio.Semaphore(FLUSH_SLOTS))
        while True:
            wait = (row.not_before_ns - time.time_ns()) / 1e9
            if wait > 0:
                if row.deadline_ns and time.time_ns() + wait * 1e9 >= row.deadline_ns:
                    return False, attempts, error or "flush deadline passed", {}
                await asyncio.sleep(wait)
            async with slots:
                if row.deadline_ns and time.time_ns() >= row.deadline_ns:
                    return False, attempts, error or "flush deadline passed before a connection was free", {}
                attempts += 1
                started = time.monotonic()
                outcome = await _bounded(integ.deliver(row.payload), row.deadline_ns)
            if self._observer is not None:
                self._observer(row, outcome, time.monotonic() - started)
            if outcome.ok and outcome.sent:
                # Every notification sent is a line (issue 17): who got what, and how hard it was.
                sent_log.info("notification sent", receiver=row.receiver,
                              integration=f"{row.integration}[{row.integration_index}]", group=row.group_id,
                              attempts=attempts, seconds=round(time.monotonic() - started, 3))
            if outcome.ok:
                return True, attempts, "", outcome.effects
            error = outcome.error
            if not outcome.retryable:
                log.error("delivery of %s/%s[%d] failed for good: %s", row.receiver, row.integration,
                          row.integration_index, error)
                return False, attempts, error, outcome.effects
            delay = self.policy.delay(attempts, outcome.retry_after, self._rng)
            row.not_before_ns = time.time_ns() + int(delay * 1e9)
            if row.deadline_ns and row.not_before_ns >= row.deadline_ns:
                log.warning("delivery of %s/%s[%d] gave up at the flush deadline after %d attempts: %s",
                            row.receiver, row.integration, row.integration_index, attempts, error)
                return False, attempts, error, {}


async def _bounded(coro, deadline_ns: int) -> Outcome:  # type: ignore[no-untyped-def]
    if not deadline_ns:
        return await coro
    remaining = (deadline_ns - time.time_ns()) / 1e9
    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that arrives
    # as the attempt finishes (a stopping worker would carry on), and it wraps each attempt in
    # a task of its own (7 µs more per attempt).
    try:
        async with asyncio.timeout(max(remaining, 0.001)):
            return await coro
    except TimeoutError:
        return Outcome.retry("flush deadline passed during the attempt")
