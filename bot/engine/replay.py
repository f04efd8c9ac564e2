"""Replay: recorded alert payloads through the same engine, on a virtual clock.

Input is JSON lines, each `{"at": RFC3339, "alerts": [postable alerts]}` (what Prometheus
sent) or `{"at": RFC3339, "webhook": payload}` (what an Alertmanager sent). Output is one
record per notification that would be sent. Deliveries succeed at once, so a day of
recorded alerts replays in seconds, deterministically.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bot.config import Config
from bot.engine.alert import Alert
from bot.engine.clock import VirtualClock
from bot.engine.engine import Engine, IntegrationRegistry
from bot.engine.ingest import InvalidAlert, Postable, to_alert, webhook_alerts
from bot.engine.shards import ShardPlan, owner
from bot.engine.timestamp import ZERO, Timestamp
from bot.notify.base import Notification, Outcome
from bot.store.memory import MemoryStore
from bot.store.rows import OutboxRow

NS = 1_000_000_000


class ReplayError(ValueError):
    pass


@dataclass(slots=True)
class Event:
    at: Timestamp
    line: int
    alerts: list[dict] | None = None
    webhook: dict | None = None


def read_events(lines: Iterable[str], source: str = "<input>") -> list[Event]:
    events = []
    for n, raw in enumerate(lines, 1):
        raw = raw.strip()
        if not raw or raw.startswith("#"):
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ReplayError(f"{source}:{n}: not JSON: {exc.msg}") from None
        if not isinstance(obj, dict) or "at" not in obj or ("alerts" in obj) == ("webhook" in obj):
            raise ReplayError(f'{source}:{n}: each line needs "at" and one of "alerts" or "webhook"')
        try:
            at = Timestamp.parse(obj["at"])
        except (TypeError, ValueError) as exc:
            raise ReplayError(f"{source}:{n}: at: {exc}") from None
        if "alerts" in obj and not isinstance(obj["alerts"], list):
            raise ReplayError(f"{source}:{n}: alerts must be a list")
        if "webhook" in obj and not isinstance(obj["webhook"], dict):
            raise ReplayError(f"{source}:{n}: webhook must be an object")
        events.append(Event(at, n, obj.get("alerts"), obj.get("webhook")))
    events.sort(key=lambda e: e.at.ns)  # stable: same instant keeps input order
    return events


class RecordingIntegration:
    """Stands in for an integration in replay: renders a record of what it would receive,
    delivers at once. A webhook with `max_alerts` receives the first `max_alerts` alerts, the
    status of those, and how many were left out (`truncatedAlerts`), as bot.notify.webhook
    sends them (Alertmanager's `notify/webhook`)."""

    def __init__(self, receiver: str, name: str, index: int, send_resolved: bool, bounded: bool,
                 max_alerts: int = 0) -> None:
        self.receiver = receiver
        self.name = name
        self.index = index
        self.send_resolved = send_resolved
        self.bounded_by_flush = bounded
        self.max_alerts = max_alerts

    def render(self, n: Notification) -> str:
        alerts = n.alerts
        truncated = 0
        if self.max_alerts and len(alerts) > self.max_alerts:
            truncated = len(alerts) - self.max_alerts
            alerts = alerts[:self.max_alerts]
        listed = [{"labels": dict(sorted(a.labels.items())), "status": a.status_at(n.now),
                   "startsAt": a.starts_at.rfc3339nano(), "endsAt": a.ends_at.rfc3339nano()} for a in alerts]
        record = {
            "at": n.now.rfc3339nano(), "receiver": n.receiver, "integration": f"{self.name}[{self.index}]",
            "groupKey": n.group_key,
            "status": "firing" if any(a["status"] == "firing" for a in listed) else "resolved",
            "reason": n.reason, "groupLabels": dict(sorted(n.group_labels.items())), "alerts": listed,
        }
        if self.name == "webhook":
            record["truncatedAlerts"] = truncated
        return json.dumps(record, ensure_ascii=False)

    async def deliver(self, payload: str) -> Outcome:
        return Outcome.success()


def recording_registry(config: Config) -> IntegrationRegistry:
    by_receiver: dict[str, list] = {}
    for rcv in config.model.receivers:
        items: list = []
        for i, c in enumerate(rcv.webhook_configs):
            items.append(RecordingIntegration(rcv.name, "webhook", i, c.send_resolved, True, c.max_alerts or 0))
        for i, c in enumerate(rcv.slack_configs):
            items.append(RecordingIntegration(rcv.name, "slack", i, c.send_resolved, False))
        for i, c in enumerate(rcv.pagerduty_configs):
            items.append(RecordingIntegration(rcv.name, "pagerduty", i, c.send_resolved, False))
        by_receiver[rcv.name] = items
    return IntegrationRegistry(by_receiver)


class _InstantDeliverer:
    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.sent: list[OutboxRow] = []

    def submit(self, rows: Sequence[OutboxRow]) -> None:
        for row in rows:
            self.sent.append(row)
            assert self.engine is not None
            self.engine.delivery_finished(row.id, True, 1)


async def replay(config: Config, events: Sequence[Event], until: Timestamp | None = None,
                 external_url: str = "http://alertbot.invalid", shards: int = 1) -> Iterator[dict[str, Any]]:
    """Runs the events and returns the notifications, in the order they would be sent.

    `shards` > 1 splits the groups over that many engines on one clock (bot.engine.shards),
    each given only the alerts the split sends it: the notifications must be the same."""
    if not events:
        return iter(())
    clock = VirtualClock(events[0].at)
    plan = ShardPlan(config, shards)
    engines: list[Engine] = []
    deliverers: list[_InstantDeliverer] = []
    for i in range(shards):
        deliverer = _InstantDeliverer()
        engine = Engine(config, MemoryStore(), clock, recording_registry(config), external_url, deliverer,
                        owns=owner(i, shards) if shards > 1 else None)
        deliverer.engine = engine
        await engine.start()
        engines.append(engine)
        deliverers.append(deliverer)
    end = until if until is not None else events[-1].at
    # Alerts at T before timers at T: every event at T is applied, then the ticks due at T run
    # (one cycle: ingests before flushes). Alertmanager's tick runs a few milliseconds after
    # the arrival that started its group, so an alert posted at a tick's nominal time is most
    # often in it; recorded, it races (docs/replay.md). Round times in a replay file tie
    # constantly: they get the one rule.
    i = 0
    while i < len(events):
        at = events[i].at
        await _advance(engines, clock, at.ns)
        while i < len(events) and events[i].at.ns == at.ns:
            alerts = _event_alerts(events[i], clock.now(), config)
            for engine, part in zip(engines, plan.split(alerts), strict=True):
                if part:
                    engine.enqueue_alerts(part)
            i += 1
        await _settle(engines)
    await _advance(engines, clock, end.ns)
    await _settle(engines)
    if shards == 1:
        return iter(json.loads(row.payload) for row in deliverers[0].sent)
    # Each engine's records are in time order; merged by time, shard order within an instant.
    sent = sorted(((json.loads(row.payload), i, n) for i, d in enumerate(deliverers) for n, row in enumerate(d.sent)),
                  key=lambda t: (Timestamp.parse(t[0]["at"]).ns, t[1], t[2]))
    return iter(record for record, _, _ in sent)


async def _settle(engines: Sequence[Engine]) -> None:
    busy = True
    while busy:
        busy = False
        for engine in engines:
            while await engine.cycle():
                busy = True


async def _advance(engines: Sequence[Engine], clock: VirtualClock, target_ns: int) -> None:
    """Moves the clock to target, running every group timer due before it; those due at the
    target itself run with what arrives there (the caller settles)."""
    while True:
        await _settle(engines)
        due = [ns for ns in (e.next_due_ns() for e in engines) if ns is not None]
        if not due or min(due) >= target_ns:
            break
        clock.set(max(min(due), clock.now().ns))
    if target_ns > clock.now().ns:
        clock.set(target_ns)


def _event_alerts(event: Event, now: Timestamp, config: Config) -> list[Alert]:
    mode = config.matchers_mode
    timeout = config.resolve_timeout
    if event.webhook is not None:
        try:
            alerts, _ = webhook_alerts(event.webhook, now, timeout, mode)
        except InvalidAlert:
            return []
        return alerts
    out = []
    for item in event.alerts or []:
        try:
            out.append(to_alert(_postable(item), now, timeout, mode))
        except (InvalidAlert, ReplayError):
            continue
    return out


def _postable(item: Any) -> Postable:
    if not isinstance(item, dict) or not isinstance(item.get("labels"), dict):
        raise ReplayError("alert without labels")
    def t(key: str) -> Timestamp:
        v = item.get(key)
        return Timestamp.parse(v) if isinstance(v, str) and v else ZERO
    return Postable({str(k): str(v) for k, v in item["labels"].items()},
                    {str(k): str(v) for k, v in (item.get("annotations") or {}).items()},
                    t("startsAt"), t("endsAt"), str(item.get("generatorURL") or ""))
