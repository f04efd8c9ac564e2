"""The engine's side of the inbox (docs/inbox.md): applying what front processes stored.

A front validates `POST /api/v2/alerts` and `POST /webhook` and commits the valid alerts to the
`inbox` table before it answers. Here the engine takes the oldest rows, applies `resolve_timeout`
with the time each request was received as `now`, and ingests them; the commit that stores the
alerts deletes the rows (Changes.inbox_delete), so a row is applied once, also across a kill -9.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from bot.engine.alert import Alert
from bot.engine.codec import validated_from_bytes
from bot.engine.engine import Engine, Overloaded
from bot.engine.timestamp import Timestamp
from bot.logging import get_logger
from bot.server.metrics import Metrics
from bot.server.openapi import ApiError, postable_alerts
from bot.server.webhook_payload import webhook_body_alerts
from bot.store.base import Store, StoreUnavailable
from bot.store.rows import InboxRow

log = get_logger("alertbot.inbox")

TAKE_ROWS = 200  # bodies per engine cycle: thousands of alerts, so a cycle's fixed cost is shared
IDLE_MAX_S = 0.05  # polling backs off to this while the inbox is empty and fronts run here
IDLE_MAX_NO_FRONTS_S = 0.5  # ...and to this without: only other replicas' fronts write to it
CATCH_UP_TIMEOUT_S = 10.0
VALIDATED = frozenset(("api:validated", "webhook:validated"))  # rows of `validated_to_bytes`


def alerts_of(row: InboxRow, resolve_timeout: float, mode: str) -> tuple[list[Alert], int]:
    """The valid alerts of a stored row, and how many were invalid (the front already answered
    400 for those). A front stores the alerts it validated (`api:validated`, `webhook:validated`);
    a request body as it came (`api`, `webhook`, as earlier versions stored it) is validated here
    as the handlers do."""
    if row.source in VALIDATED:
        return validated_from_bytes(row.body, Timestamp(row.received_ns), resolve_timeout)
    take = webhook_body_alerts if row.source == "webhook" else postable_alerts
    try:
        alerts, errors = take(row.body, Timestamp(row.received_ns), resolve_timeout, mode)
    except ApiError:
        return [], 1
    return alerts, len(errors)


def source_of(row: InboxRow) -> str:
    """The way in, as alerts_received counts it."""
    return "webhook" if row.source.startswith("webhook") else "api"


class InboxApplier:
    """Runs beside the engine on the replica that holds the lease. It reads the inbox also when
    this replica has no fronts: another replica's fronts, a previous run's, may have written to
    it (every replica's fronts take alerts; the lease holder applies them)."""

    def __init__(self, engine: Engine, store: Store, metrics: Metrics, fronts_here: bool) -> None:
        self.engine = engine
        self.store = store
        self.metrics = metrics
        self.idle_max_s = IDLE_MAX_S if fronts_here else IDLE_MAX_NO_FRONTS_S
        self._wake = asyncio.Event()
        self._pass_done = asyncio.Event()
        self._full = False  # the last pass took TAKE_ROWS rows: there may be more
        self._barrier: tuple[int, int] | None = None  # (engine ns, highest inbox id then) under a backlog
        engine.attach_intake(self)

    async def run(self) -> None:
        idle = 0.001
        while True:
            # Cleared before the pass, not after: a request made while a pass is under way (the
            # pass may have started before the group fell due) gets a pass of its own.
            self._wake.clear()
            try:
                applied = await self._apply_once()
            except StoreUnavailable as exc:
                log.warning("inbox not read: database unavailable", error=str(exc))
                applied = 0
                # Waits a second, or less when the engine (its database back) asks for a pass.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                self._wake.clear()
            self._pass_done.set()
            self._pass_done = asyncio.Event()
            if applied:
                idle = 0.001
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), idle)
            except TimeoutError:
                pass
            idle = min(idle * 2, self.idle_max_s)

    def request(self) -> None:
        """The engine has a group due (bot.engine.engine.Intake): a pass now."""
        self._wake.set()

    async def _apply_once(self) -> int:
        """One pass: the oldest rows, applied and committed; the engine learns up to when the
        inbox is applied (bot.engine.engine.Intake) when it applies them, or at once when there
        were none."""
        start_ns = self.engine.clock.now().ns
        if self._full and self._barrier is None:
            bounds = await self.store.inbox_bounds()
            self._barrier = None if bounds is None else (start_ns, bounds[1])
        rows = await self.store.inbox_take(TAKE_ROWS)
        self._full = len(rows) >= TAKE_ROWS
        if not rows:
            self._barrier = None
            self.engine.intake_caught_up(start_ns)
            return 0
        config = self.engine.config
        alerts: list[Alert] = []
        counts: dict[tuple[str, str], int] = {}
        for row in rows:
            got, bad = alerts_of(row, config.resolve_timeout, config.matchers_mode)
            alerts.extend(got)
            source = source_of(row)
            for result, n in (("accepted", len(got)), ("invalid", bad)):
                if n:
                    counts[source, result] = counts.get((source, result), 0) + n
        # Once these rows are applied, the inbox holds nothing older than this pass's start
        # (it took every row there was), or, under a backlog, than the start of the pass that
        # saw the rows up to the barrier's id.
        intake_ns = 0
        if not self._full:
            intake_ns, self._barrier = start_ns, None
        elif self._barrier is not None and rows[-1].id >= self._barrier[1]:
            intake_ns, self._barrier = self._barrier[0], None
        while True:
            try:
                future = self.engine.enqueue_alerts(alerts, [r.id for r in rows], intake_ns)
                break
            except Overloaded:
                await asyncio.sleep(0.05)  # the engine's queue is full: fronts see the backlog and answer 503
        await future
        for (source, result), n in counts.items():
            self.metrics.alerts_received.labels(source, result).inc(n)
        return len(rows)

    async def catch_up(self) -> None:
        """Returns once every body committed before the call has been applied (a client that
        was answered 200 and then asks for the alerts sees them)."""
        bounds = await self.store.inbox_bounds()
        if bounds is None:
            return
        target = bounds[1]
        deadline = time.monotonic() + CATCH_UP_TIMEOUT_S
        while time.monotonic() < deadline:
            done = self._pass_done
            self._wake.set()
            try:
                await asyncio.wait_for(done.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                break
            bounds = await self.store.inbox_bounds()
            if bounds is None or bounds[0] > target:
                return
        log.warning("answering before the inbox was applied", waited_seconds=CATCH_UP_TIMEOUT_S)
