"""A deterministic engine for tests: virtual clock, in-memory store, scripted deliveries."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.config import load_config_text
from bot.engine.alert import Alert
from bot.engine.clock import VirtualClock
from bot.engine.engine import Engine
from bot.engine.ingest import Postable, to_alert
from bot.engine.replay import recording_registry
from bot.engine.timestamp import ZERO, Timestamp
from bot.store.memory import MemoryStore
from bot.store.rows import OutboxRow

START = Timestamp.parse("2026-06-01T12:00:00Z")
S = 10**9


class ScriptedDeliverer:
    """Delivers at once; `fail` makes the next N deliveries fail (as a flush that timed out)."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.sent: list[tuple[int, dict]] = []  # (virtual ns, record)
        self.failures = 0
        self.held: list[OutboxRow] = []
        self.hold = False

    def submit(self, rows: Sequence[OutboxRow]) -> None:
        assert self.engine is not None
        for row in rows:
            if self.hold:
                self.held.append(row)
                continue
            if self.failures:
                self.failures -= 1
                self.engine.delivery_finished(row.id, False, 1, "scripted failure")
                continue
            self.sent.append((self.engine.clock.now().ns, json.loads(row.payload)))
            self.engine.delivery_finished(row.id, True, 1)


class Harness:
    """The engine on a virtual clock. Subclasses may bring their own deliverer and integrations."""

    def __init__(self, config_text: str, store: MemoryStore | None = None, start: Timestamp = START,
                 deliverer: object | None = None, registry: object | None = None) -> None:
        self.config = load_config_text(config_text)
        self.clock = VirtualClock(start)
        self.store = store or MemoryStore()
        self.deliverer = deliverer if deliverer is not None else ScriptedDeliverer()
        self.engine = Engine(self.config, self.store, self.clock,
                             registry if registry is not None else recording_registry(self.config), "http://bot",
                             self.deliverer)  # type: ignore[arg-type]
        if isinstance(self.deliverer, ScriptedDeliverer):
            self.deliverer.engine = self.engine

    async def start(self) -> None:
        await self.engine.start()
        await self.settle()

    async def settle(self) -> None:
        while await self.engine.cycle():
            pass

    async def at(self, seconds: float) -> None:
        """Advances the virtual clock to START+seconds, firing every timer on the way."""
        target = START.ns + int(seconds * S)
        while True:
            await self.settle()
            nxt = self.engine.next_due_ns()
            if nxt is None or nxt > target:
                break
            self.clock.set(max(nxt, self.clock.now().ns))
        self.clock.set(max(target, self.clock.now().ns))
        await self.settle()

    async def post(self, *alerts: dict) -> None:
        now = self.clock.now()
        items = [to_alert(_postable(a), now, self.config.resolve_timeout) for a in alerts]
        fut = self.engine.enqueue_alerts(items)
        await self.settle()
        await fut

    def notifications(self) -> list[tuple[float, str, list[tuple[str, str]]]]:
        """(seconds since start, reason, [(alertname/instance, status)])."""
        out = []
        for ns, rec in self.deliverer.sent:
            out.append(((ns - START.ns) / S, rec["reason"],
                        [(a["labels"].get("i", a["labels"].get("alertname", "")), a["status"]) for a in rec["alerts"]]))
        return out


def _postable(a: dict) -> Postable:
    def t(key: str) -> Timestamp:
        v = a.get(key)
        if v is None:
            return ZERO
        return START.add(v) if isinstance(v, (int, float)) else Timestamp.parse(v)
    return Postable(a["labels"], a.get("annotations", {}), t("startsAt"), t("endsAt"), a.get("generatorURL", ""))


def alert(i: str, name: str = "A", start: float | None = None, end: float | None = None, **labels: str) -> dict:
    d: dict = {"labels": {"alertname": name, "i": i, **labels}}
    if start is not None:
        d["startsAt"] = start
    if end is not None:
        d["endsAt"] = end
    return d


_ = Alert
