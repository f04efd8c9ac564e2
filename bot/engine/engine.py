"""The alert engine: the provider (stored alerts), the dispatcher (aggregation groups and
their timers), the notification pipeline and the durable hand-off to integrations.

Every change happens in a *cycle*: queued work (ingested alerts, silence changes, finished
deliveries, due group timers) is applied to memory and collected as one `Changes`, which the
store commits in one transaction; only after the commit do callers get their answer and do
new outbox rows go to the delivery worker. If the commit fails, memory is rebuilt from the
database (the state on disk is the truth), and the callers get the error.

The same engine runs the server (on the system clock, cycles driven by `run()`) and replay
(on a virtual clock, cycles driven step by step).
"""

from __future__ import annotations

import asyncio
import gc
import heapq
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from bot.config import Config
from bot.engine.alert import Alert, merge_into_store, sorted_alerts
from bot.engine.clock import Clock
from bot.engine.codec import alert_from_row, alert_to_row
from bot.engine.groups import AggrGroup, group_id
from bot.engine.inhibit import Inhibitor
from bot.engine.nflog import Entry, encode_fingerprints, expiry_ns
from bot.engine.pipeline import fanout, mute_stages
from bot.engine.reads import Reads
from bot.engine.silences import Silence, Silences
from bot.engine.timestamp import Timestamp
from bot.notify.base import Integration
from bot.routing.route import Route
from bot.store.base import LeaseLost, Store, StoreUnavailable
from bot.store.rows import AuditRow, Changes, KvRow, OutboxRow, OutboxUpdate

log = logging.getLogger("alertbot.engine")

NS = 1_000_000_000
MIN_FLUSH_TIMEOUT_S = 10.0  # Alertmanager's notify.MinTimeout
ALERT_GC_INTERVAL_S = 1800.0  # --alerts.gc-interval
NFLOG_GC_INTERVAL_S = 900.0  # the notification log's maintenance interval
GROUP_CACHE_SIZE = 100_000
LATE_TICK_NS = 1_000_000_000  # a tick processed later than this re-arms from "now"
FLUSHES_PER_CYCLE = 500  # about 50 ms of flushing: a burst of due groups is committed and sent in slices
RECOVER_MIN_S = 0.5  # after a failed commit or reload, the wait before reloading again: doubles
RECOVER_MAX_S = 5.0  # ...up to this, so that a database back from a fault is used within seconds
# A due group waits for the intake (Engine.attach_intake) at most this long: if the inbox cannot
# be read (a bug, a database that reads nothing), groups are flushed without it, and it is logged.
INTAKE_WAIT_MAX_NS = 5 * 1_000_000_000


class Overloaded(Exception):
    """Too much work is queued; the caller should come back later (HTTP 503)."""


class IntegrationRegistry:
    """The integrations of each receiver (built from the configuration by bot.notify)."""

    def __init__(self, by_receiver: Mapping[str, Sequence[Integration]]) -> None:
        self.by_receiver = {k: list(v) for k, v in by_receiver.items()}

    def for_receiver(self, name: str) -> list[Integration]:
        return self.by_receiver.get(name, [])

    def find(self, receiver: str, integration: str, index: int) -> Integration | None:
        for i in self.by_receiver.get(receiver, []):
            if i.name == integration and i.index == index:
                return i
        return None


class Deliverer:
    """Takes committed outbox rows and reports, through `Engine.delivery_finished`, how each
    ended. The server's worker sends over HTTP; replay's records and succeeds at once."""

    def submit(self, rows: Sequence[OutboxRow]) -> None: ...


class Extension:
    """What a chatops module (Slack messages, PagerDuty incidents, acknowledgements) may hook
    into. Every hook runs inside a cycle, with a `Txn` whose changes land in its commit."""

    name = "extension"

    def attach(self, engine: Engine) -> None:
        """The engine adopted this extension (one an integration brought, see `_adopt_extensions`)."""

    def on_flush(self, group: AggrGroup, alerts: Sequence[Alert], txn: Txn) -> None:
        """The group flushed; `alerts` are what is left after inhibition, time intervals and
        silences (empty: nothing to notify). E.g. Slack-first escalation starts its clock here."""

    def on_group_closed(self, group: AggrGroup, txn: Txn) -> None:
        """The group's alerts have all resolved and it is gone (also when they were muted)."""

    def suppress_repeat(self, group: AggrGroup) -> bool:
        """True to hold back "repeat interval elapsed" notifications (an acknowledged group)."""
        return False

    def on_timer(self, key: str, txn: Txn) -> None:
        """A durable timer scheduled with `txn.schedule(self.name, key, due_ns)` is due."""

    def on_delivered(self, row: OutboxRow, ok: bool, effects: dict, txn: Txn) -> None:
        """A row this extension enqueued was delivered (or given up); `effects` come from the
        integration's Outcome (e.g. the Slack message ts to remember)."""


class Txn:
    """The work of one cycle: `now`, the `Changes` to commit, new outbox rows, helpers."""

    def __init__(self, engine: Engine, now: Timestamp) -> None:
        self.engine = engine
        self.now = now
        self.changes = Changes()
        self.new_rows: list[OutboxRow] = []

    # key-value state, JSON values
    def kv(self, namespace: str, key: str) -> object | None:
        return self.engine.kv.get((namespace, key))

    def put_kv(self, namespace: str, key: str, value: object) -> None:
        self.engine.kv[(namespace, key)] = value
        self.changes.kv_upsert.append(KvRow(namespace, key, json.dumps(value), self.now.ns))

    def delete_kv(self, namespace: str, key: str) -> None:
        if self.engine.kv.pop((namespace, key), None) is not None:
            self.changes.kv_delete.append((namespace, key))

    def audit(self, actor: str, action: str, group_id: str = "", **details: object) -> None:
        self.changes.audit_insert.append(AuditRow(self.now.ns, actor, action, group_id, json.dumps(details)))

    def schedule(self, extension: str, key: str, due_ns: int) -> None:
        """A durable timer: `extension.on_timer(key)` runs in the first cycle at or after due_ns."""
        self.put_kv("timer", f"{extension}|{key}", {"due_ns": due_ns})
        heapq.heappush(self.engine._timers, (due_ns, extension, key))

    def cancel(self, extension: str, key: str) -> None:
        self.delete_kv("timer", f"{extension}|{key}")

    def enqueue(self, receiver: str, integration: str, index: int, payload: str, *, group_id: str = "",
                ordering_key: str = "", delay_s: float = 0.0, origin: str = "") -> OutboxRow:
        """An outbox row outside a flush (chatops, escalation, PagerDuty acknowledge…); delivered
        until it succeeds, after the cycle commits."""
        eng = self.engine
        row = OutboxRow(id=eng._next_outbox_id, group_id=group_id, flush_id=0, receiver=receiver,
                        integration=integration, integration_index=index, nflog_key=origin, payload=payload,
                        nflog_firing="[]", nflog_resolved="[]", nflog_expires_ns=0, created_at_ns=self.now.ns,
                        not_before_ns=self.now.ns + round(delay_s * NS), deadline_ns=0,
                        ordering_key=ordering_key or f"{integration}:{group_id or eng._next_outbox_id}")
        eng._next_outbox_id += 1
        eng.outbox[row.id] = row
        self.changes.outbox_insert.append(row)
        self.new_rows.append(row)
        return row


@dataclass(slots=True)
class _Flush:
    group_id: str
    remaining: set[int]
    failed: bool
    resolved: dict[int, int]  # fingerprint -> updated_at ns of the resolved alerts it sent


@dataclass(slots=True)
class _Ingest:
    alerts: list[Alert]
    future: asyncio.Future | None
    inbox_ids: list[int] | None = None  # inbox rows these alerts came from: deleted in the same commit
    intake_ns: int = 0  # once these are applied, the intake holds nothing stored before this time


@dataclass(slots=True)
class _Delivery:
    row_id: int
    ok: bool
    attempts: int
    error: str
    effects: dict
    future: asyncio.Future | None


@dataclass(slots=True)
class _Call:
    fn: Callable[[Txn], object]
    future: asyncio.Future | None


class Intake(Protocol):
    """Where alerts answered by other processes wait before the engine applies them (the inbox,
    bot.server.inbox). A flush must carry every alert whose request was answered before it, as
    Alertmanager's does (its API puts an alert in the provider before answering): so a group due
    at T is flushed only once the intake has applied everything stored before T, and reports it
    with Engine.intake_caught_up(T)."""

    def request(self) -> None:
        """A group is due: read the inbox now (not at the next idle poll) and report."""


@dataclass
class EngineStats:
    alerts_received: int = 0
    cycles: int = 0
    commit_failures: int = 0
    flushes_without_intake: int = 0  # groups flushed after INTAKE_WAIT_MAX_NS without the intake
    notifications_planned: dict[str, int] = field(default_factory=dict)
    last_commit_seconds: float = 0.0


class Engine:
    def __init__(self, config: Config, store: Store, clock: Clock, integrations: IntegrationRegistry,
                 external_url: str, deliverer: Deliverer | None = None, max_queued_alerts: int = 200_000,
                 owns: Callable[[str], bool] | None = None) -> None:
        self.store = store
        # One engine of several (bot.engine.shards): it keeps the alerts it is given but groups
        # only those of the groups it owns. None: it owns every group.
        self.owns = owns
        self.clock = clock
        self.external_url = external_url
        self.deliverer = deliverer
        self.max_queued_alerts = max_queued_alerts
        self.stats = EngineStats()
        self.reads = Reads(self.running_cycle)  # long reads of this state by requests (bot.engine.reads)
        self.extensions: list[Extension] = []
        self._set_config(config, integrations)
        self.alerts: dict[int, Alert] = {}
        self.groups: dict[str, AggrGroup] = {}
        self.nflog: dict[str, Entry] = {}
        self.silences = Silences()
        self.outbox: dict[int, OutboxRow] = {}  # rows not yet delivered
        # A flush row's firing/resolved sets, kept so that its delivery need not decode them.
        self._row_sets: dict[int, tuple[frozenset[int], frozenset[int]]] = {}
        self.flushes: dict[int, _Flush] = {}
        self._next_outbox_id = 1
        self._next_flush_id = 1
        self._ingests: list[_Ingest] = []
        self._queued_alerts = 0
        self._deliveries: list[_Delivery] = []
        self._calls: list[_Call] = []
        self._wake: asyncio.Event | None = None
        self._last_gc_ns = 0
        self._last_nflog_gc_ns = 0
        self.kv: dict[tuple[str, str], object] = {}
        self._group_cache: dict[tuple, tuple[str, dict[str, str]]] = {}
        self._timers: list[tuple[int, str, str]] = []  # heap of (due ns, extension, key)
        # Heaps of (next flush ns, group id), of groups that have notified and of those yet to
        # (_due_first): entries go stale when a group flushes, starts a flush or goes away, and
        # are dropped when they reach the top (_top).
        self._due: list[tuple[int, str]] = []
        self._due_first: list[tuple[int, str]] = []
        self._ready = False
        self.unready_since: float | None = time.monotonic()  # while not ready: since when (monotonic)
        self.problem = ""  # while not ready: why (the database's error)
        self._failures = 0  # commits or reloads failed in a row (the backoff)
        self._cycle_started: float | None = None  # monotonic, while a cycle runs
        self._cycle_done: asyncio.Future[None] | None = None  # resolved when the cycle under way ends
        self._intake: Intake | None = None
        self._intake_ns = 0  # everything stored in the intake before this time is applied
        self._intake_waiting_since_ns = 0  # a due group has waited for the intake since then (0: none)
        self._intake_warned_ns = 0

    @property
    def ready(self) -> bool:
        """The state is loaded and the engine runs cycles (False while it reloads after a fault)."""
        return self._ready

    @ready.setter
    def ready(self, value: bool) -> None:
        if value != self._ready:
            self.unready_since = None if value else time.monotonic()
        self._ready = value
        if value:
            self.problem = ""

    def running_cycle(self) -> asyncio.Future[None] | None:
        """Resolves when the cycle under way ends (None between cycles): what a long read waits
        for before its next slice."""
        return self._cycle_done if self._cycle_started is not None else None

    def cycle_running_for(self) -> float:
        """Seconds the cycle under way has run (0 between cycles): a cycle stuck on a database
        that never answers shows here, and fails the liveness check."""
        started = self._cycle_started
        return 0.0 if started is None else time.monotonic() - started

    # ------------------------------------------------------------------ configuration
    def _set_config(self, config: Config, integrations: IntegrationRegistry) -> None:
        self._group_cache = {}
        self.config = config
        self.route: Route = config.route
        self.routes_by_id = {r.id: r for r in config.route.walk()}
        self.integrations = integrations
        self.inhibitor = Inhibitor(config.inhibit_rules)
        self.intervals = config.time_intervals
        self._adopt_extensions(integrations)

    def _adopt_extensions(self, integrations: IntegrationRegistry) -> None:
        """An integration may bring the extension that keeps its state (`integration.extension`,
        e.g. PagerDuty's incidents): it joins the engine's extensions, one per name, the
        newest on reload. So the server needs no per-integration wiring."""
        for integs in integrations.by_receiver.values():
            for integ in integs:
                ext = getattr(integ, "extension", None)
                if isinstance(ext, Extension) and self.extension(ext.name) is not ext:
                    self.extensions = [e for e in self.extensions if e.name != ext.name] + [ext]
                    ext.attach(self)

    # ------------------------------------------------------------------ start-up
    async def start(self) -> None:
        """Loads the state and resumes: groups keep their timers, queued deliveries resume."""
        state = await self.store.load()
        now = self.clock.now()
        changes = Changes()
        # Inbox rows applied in memory but not committed are in the inbox again: read anew.
        self._intake_ns = 0
        self.alerts = {}
        self.groups = {}
        for row in state.alerts:
            a = alert_from_row(row)
            self.alerts[a.fingerprint] = a
            self.inhibitor.observe(a)
        self.nflog = {n.key: Entry.from_row(n) for n in state.nflog}
        self.silences = Silences()
        self.silences.load(state.silences)
        self.kv = {(r.namespace, r.key): json.loads(r.value) for r in state.kv}
        # The maintenance clocks start now: the first GC runs one interval after start-up.
        self._last_gc_ns = self._last_nflog_gc_ns = now.ns
        self._timers = []
        for (ns, key), value in self.kv.items():
            if ns == "timer" and isinstance(value, dict):
                ext, _, k = key.partition("|")
                heapq.heappush(self._timers, (int(value["due_ns"]), ext, k))
        stored_groups = {g.id: g for g in state.groups}
        self._rebuild_groups(stored_groups, now, changes)
        self.outbox = {}
        self._row_sets = {}
        self.flushes = {}
        resume: list[OutboxRow] = []
        max_id = max(state.outbox_max_id, max((r.id for r in state.outbox_pending), default=0))
        self._next_outbox_id = max(self._next_outbox_id, max_id + 1)
        self._next_flush_id = max(self._next_flush_id, state.outbox_max_flush_id + 1)
        by_flush: dict[int, list[OutboxRow]] = {}
        for row in state.outbox_pending:
            by_flush.setdefault(row.flush_id, []).append(row)
        reported = {d.row_id for d in self._deliveries}  # delivered, not yet recorded (a failed commit)
        for flush_id, rows in sorted(by_flush.items()):
            self._next_flush_id = max(self._next_flush_id, flush_id + 1)
            g = self.groups.get(rows[0].group_id)
            bounded = [r for r in rows if r.deadline_ns]
            for r in rows:
                if r.id in reported:
                    self.outbox[r.id] = r  # its outcome is applied by the next cycle
                elif r.deadline_ns and (r.deadline_ns <= now.ns or g is None):
                    # Its flush is over: the group's next flush sends the current state instead.
                    changes.outbox_update.append(OutboxUpdate(r.id, "abandoned", r.attempts, r.not_before_ns,
                                                              "abandoned at restart: flush deadline passed"))
                else:
                    self.outbox[r.id] = r
                    resume.append(r)
            live = [r.id for r in bounded if r.id in self.outbox]
            if g is not None and live:
                g.flushing = flush_id
                self.flushes[flush_id] = _Flush(g.id, set(live), False, {})
        self._schedule_all()
        if changes:
            await self.store.commit(changes)
        if resume and self.deliverer is not None:
            self.deliverer.submit(resume)
        self.ready = True
        log.info("engine started: %d alerts, %d groups, %d silences, %d deliveries resumed",
                 len(self.alerts), len(self.groups), len(self.silences.by_id), len(resume))

    def _rebuild_groups(self, stored: Mapping[str, object], now: Timestamp, changes: Changes) -> None:
        """Routes every stored alert into its groups; groups that were stored keep their timers."""
        for fp in sorted(self.alerts):
            a = self.alerts[fp]
            for route in self.route.match(a.labels):
                labels = route.group_labels(a.labels)
                gid = group_id(route, labels)
                if self.owns is not None and not self.owns(gid):
                    continue
                g = self.groups.get(gid)
                if g is None:
                    row = stored.get(gid)
                    if row is not None:
                        g = AggrGroup(route, labels, row.created_at_ns, row.next_flush_ns, row.has_flushed, gid)  # type: ignore[attr-defined]
                    else:
                        g = self._new_group(route, labels, a, now)
                        changes.groups_upsert.append(g.to_row())
                    self.groups[gid] = g
                g.alerts[fp] = a
        for gid in stored:
            if gid not in self.groups:
                changes.groups_delete.append(gid)

    def _new_group(self, route: Route, labels: dict[str, str], first: Alert, now: Timestamp) -> AggrGroup:
        wait_ns = round(route.opts.group_wait * NS)
        next_ns = now.ns + wait_ns
        # An alert that started more than group_wait ago is flushed at once (decided only
        # when the group is created, as today's Alertmanager does).
        if first.starts_at.ns + wait_ns < now.ns:
            next_ns = now.ns
        return AggrGroup(route, labels, now.ns, next_ns)

    async def reload(self, config: Config, integrations: IntegrationRegistry) -> None:
        """Swaps the configuration; groups whose identity survives keep their timers."""
        await self.transact(lambda txn: self._apply_reload(config, integrations, txn.now, txn.changes))

    def _apply_reload(self, config: Config, integrations: IntegrationRegistry, now: Timestamp, changes: Changes) -> None:
        old_groups = self.groups
        self._set_config(config, integrations)
        for a in self.alerts.values():
            self.inhibitor.observe(a)
        stored = {g.id: g.to_row() for g in old_groups.values()}
        self.groups = {}
        self._rebuild_groups(stored, now, changes)
        for gid, g in self.groups.items():
            old = old_groups.get(gid)
            if old is not None:
                g.flushing = old.flushing
        self._schedule_all()

    # ------------------------------------------------------------------ the intake
    def attach_intake(self, intake: Intake) -> None:
        """From now on a due group waits for `intake` (see Intake) before it is flushed."""
        self._intake = intake
        self._intake_ns = 0

    def intake_caught_up(self, ns: int) -> None:
        """The intake holds nothing stored before `ns` (engine clock) that the engine has not
        applied (a pass found it empty, or the rows of one are applied)."""
        if ns > self._intake_ns:
            self._intake_ns = ns
            self._intake_waiting_since_ns = 0
            self._poke()

    def _flush_limit_ns(self, now_ns: int) -> int:
        """Groups due up to this time may be flushed now: those the intake has caught up with;
        all of them once the engine has waited INTAKE_WAIT_MAX_NS for the intake to move."""
        if self._intake is None or self._intake_ns >= now_ns:
            return now_ns
        since = self._intake_waiting_since_ns
        if since and now_ns - since >= INTAKE_WAIT_MAX_NS:
            return now_ns
        return self._intake_ns

    # ------------------------------------------------------------------ the public API
    def enqueue_alerts(self, alerts: list[Alert], inbox_ids: list[int] | None = None,
                       intake_ns: int = 0) -> asyncio.Future:
        """Queues alerts; the future resolves once they are stored (or fails: StoreUnavailable).
        `inbox_ids` are the inbox rows they were read from, deleted by the same commit; once
        they are applied, the intake holds nothing stored before `intake_ns` (see Intake): the
        same cycle may flush the groups due by then."""
        if self._queued_alerts + len(alerts) > self.max_queued_alerts:
            raise Overloaded(f"{self._queued_alerts} alerts are waiting to be stored")
        fut = asyncio.get_running_loop().create_future()
        self._ingests.append(_Ingest(alerts, fut, inbox_ids, intake_ns))
        self._queued_alerts += len(alerts)
        self._poke()
        return fut

    async def ingest(self, alerts: list[Alert]) -> None:
        await self.enqueue_alerts(alerts)

    def delivery_finished(self, row_id: int, ok: bool, attempts: int, error: str = "",
                          effects: dict | None = None) -> asyncio.Future:
        """Called by the delivery worker when a row is delivered or given up; the future
        resolves once that is committed (the worker waits for it before the next row of the
        same ordering key, so that e.g. a Slack edit sees the ts its post stored)."""
        fut = asyncio.get_running_loop().create_future()
        self._deliveries.append(_Delivery(row_id, ok, attempts, error, effects or {}, fut))
        self._poke()
        return fut

    def set_silence(self, silence: Silence) -> asyncio.Future:
        """Creates or updates a silence; the future gets its id once stored."""
        return self.transact(lambda txn: self._apply_silence(silence, txn))

    def expire_silence(self, sid: str) -> asyncio.Future:
        return self.transact(lambda txn: txn.changes.silences_upsert.extend(self.silences.expire(sid, txn.now)))

    def _apply_silence(self, silence: Silence, txn: Txn) -> str:
        sid, rows = self.silences.set(silence, txn.now)
        txn.changes.silences_upsert.extend(rows)
        return sid

    def transact(self, fn: Callable[[Txn], object]) -> asyncio.Future:
        """Runs fn(txn) inside the next cycle; the future gets its result once committed (or
        the exception it raised, or StoreUnavailable)."""
        fut = asyncio.get_running_loop().create_future()
        self._calls.append(_Call(fn, fut))
        self._poke()
        return fut

    def unrecorded_outcomes(self) -> list[_Delivery]:
        """Deliveries that ended and are not yet recorded (their commit failed): handed to the
        engine that replaces this one in the same process (a replica that stepped down and took
        the lease back), which records them instead of sending their rows again."""
        return [_Delivery(d.row_id, d.ok, d.attempts, d.error, d.effects, None) for d in self._deliveries]

    def adopt_outcomes(self, outcomes: Sequence[_Delivery]) -> None:
        """Before start(): the unrecorded outcomes of the engine this one replaces."""
        self._deliveries.extend(outcomes)

    def extension(self, name: str) -> Extension | None:
        return next((e for e in self.extensions if e.name == name), None)

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # ------------------------------------------------------------------ the cycle
    def next_due_ns(self) -> int | None:
        due = [d for d in (self._next_group_due_ns(), self._next_timer_ns()) if d is not None]
        return min(due) if due else None

    def _schedule(self, g: AggrGroup) -> None:
        heapq.heappush(self._due if g.has_flushed else self._due_first, (g.next_flush_ns, g.id))

    def _schedule_all(self) -> None:
        waiting = [g for g in self.groups.values() if g.flushing is None]
        self._due = [(g.next_flush_ns, g.id) for g in waiting if g.has_flushed]
        self._due_first = [(g.next_flush_ns, g.id) for g in waiting if not g.has_flushed]
        heapq.heapify(self._due)
        heapq.heapify(self._due_first)

    def _next_group_due_ns(self) -> int | None:
        due = [d for d in (self._top(self._due_first, False), self._top(self._due, True)) if d is not None]
        return min(due) if due else None

    def _top(self, heap: list[tuple[int, str]], flushed: bool) -> int | None:
        """The due time of the heap's first group still waiting there; stale entries are dropped."""
        while heap:
            ns, gid = heap[0]
            g = self.groups.get(gid)
            if g is not None and g.flushing is None and g.next_flush_ns == ns and g.has_flushed == flushed:
                return ns
            heapq.heappop(heap)
        return None

    def _next_timer_ns(self) -> int | None:
        while self._timers:
            due, ext, key = self._timers[0]
            value = self.kv.get(("timer", f"{ext}|{key}"))
            if isinstance(value, dict) and int(value["due_ns"]) == due:
                return due
            heapq.heappop(self._timers)  # cancelled or rescheduled
        return None

    def has_work(self, now_ns: int) -> bool:
        if self._ingests or self._deliveries or self._calls:
            return True
        timer = self._next_timer_ns()
        if timer is not None and timer <= now_ns:
            return True
        limit = self._flush_limit_ns(now_ns)
        first = self._top(self._due_first, False)
        if first is not None and first <= now_ns:
            return first <= limit  # a new group waits for the intake: later ticks wait with it
        later = self._top(self._due, True)
        return later is not None and later <= limit

    def _wake_at_ns(self, now_ns: int) -> int | None:
        """When the loop (run) must look again, having no work now. A group already due waits
        for the intake: it is asked to read now, and its report wakes the loop (or, at the
        latest, the group's INTAKE_WAIT_MAX_NS runs out)."""
        group = self._next_group_due_ns()
        if group is not None and group <= now_ns and self._intake is not None:
            self._intake.request()
            if not self._intake_waiting_since_ns:
                self._intake_waiting_since_ns = now_ns
            group = self._intake_waiting_since_ns + INTAKE_WAIT_MAX_NS
        due = [d for d in (group, self._next_timer_ns()) if d is not None]
        return min(due) if due else None

    async def cycle(self) -> bool:
        """Applies all queued work and due timers, commits, then answers. Returns whether
        anything was done."""
        taken = (self._ingests, self._calls, self._deliveries)
        try:
            return await self._cycle()
        except Exception as exc:
            # A bug in applying the work: its callers must not wait for ever; memory is
            # rebuilt from the database by the caller of cycle().
            for work in taken:
                for item in work:
                    fut = item.future
                    if fut is not None and not fut.done():
                        fut.set_exception(StoreUnavailable(f"engine error: {type(exc).__name__}: {exc}"))
            raise

    async def _cycle(self) -> bool:
        now = self.clock.now()
        ingests, self._ingests = self._ingests, []
        deliveries, self._deliveries = self._deliveries, []
        calls, self._calls = self._calls, []
        self._queued_alerts = 0
        txn = Txn(self, now)
        changes = txn.changes
        results: list[tuple[asyncio.Future | None, object, BaseException | None]] = []
        for call in calls:
            try:
                results.append((call.future, call.fn(txn), None))
            except Exception as exc:  # a refused silence, an unknown id: the caller's error
                results.append((call.future, None, exc))
        alert_rows: dict[int, object] = {}
        for ing in ingests:
            self._apply_ingest(ing.alerts, now, changes, alert_rows, received=ing.inbox_ids is not None)
            if ing.inbox_ids:
                changes.inbox_delete.extend(ing.inbox_ids)
            self.intake_caught_up(ing.intake_ns)
        changes.alerts_upsert.extend(alert_rows.values())  # type: ignore[arg-type]
        for d in deliveries:
            self._apply_delivery(d, txn)
        # At most FLUSHES_PER_CYCLE due groups per cycle: a cycle's rows are sent only once it
        # commits, and their flush deadline runs from the flush, so one cycle flushing a burst of
        # 100,000 groups would spend their deadline before the first was sent. The rest are still
        # due and run in the next cycles, at once. First notifications of new groups go before
        # later ticks of groups that have notified (each kind earliest first): in a backlog — the
        # ticks that fell due while the database was away, a burst of groups — a new alert is
        # what someone waits for, and most later ticks find nothing new to send.
        # A group is flushed only once the intake holds nothing stored before it fell due
        # (Intake): a flush carries every alert answered before it.
        flushed = 0
        limit = self._flush_limit_ns(now.ns)
        for heap, has_flushed in ((self._due_first, False), (self._due, True)):
            while flushed < FLUSHES_PER_CYCLE:
                due = self._top(heap, has_flushed)
                if due is None or due > limit:
                    break
                if due > self._intake_ns and self._intake is not None:
                    self.stats.flushes_without_intake += 1
                    if now.ns - self._intake_warned_ns >= 60 * NS:
                        self._intake_warned_ns = now.ns
                        log.error("flushing groups without the inbox: it was not read for %.1fs; "
                                  "alerts answered before the flush may come in the next one",
                                  INTAKE_WAIT_MAX_NS / NS)
                self._apply_flush(self.groups[heapq.heappop(heap)[1]], txn)
                flushed += 1
            if not has_flushed:
                first = self._top(heap, False)
                if first is not None and first <= now.ns:
                    break  # new groups still due (the slice is full, or they wait for the intake): they go first
        self._run_timers(txn)
        if now.ns - self._last_gc_ns >= ALERT_GC_INTERVAL_S * NS:
            self._gc(now, changes)
        if now.ns - self._last_nflog_gc_ns >= NFLOG_GC_INTERVAL_S * NS:
            self._gc_nflog(now, changes)
        if not (ingests or deliveries or calls or changes):
            return False
        self.stats.cycles += 1
        try:
            started = self.clock.monotonic()
            if changes:
                await self.store.commit(changes)
            self.stats.last_commit_seconds = self.clock.monotonic() - started
        except StoreUnavailable as exc:
            waiting = [ing.future for ing in ingests] + [f for f, _, _ in results]
            for fut in waiting:
                if fut is not None and not fut.done():
                    fut.set_exception(exc)
            if isinstance(exc, LeaseLost):
                for d in deliveries:
                    if d.future is not None and not d.future.done():
                        d.future.set_exception(exc)
                # Another replica runs the engine now: nothing here is ours to reload or decide.
                self.ready = False
                log.error("%s", exc)
                return True
            self.stats.commit_failures += 1
            log.error("commit failed; reloading the state from the database (%d failed in a row): %s",
                      self._failures + 1, exc)
            # What was delivered stays delivered: its outcome is recorded by the first cycle after
            # the reload (start() does not send those rows again), and the worker, waiting for
            # that, sends the next row of the same ordering key only then. Sending them again on
            # every failed commit sent one notification up to 11 times while a disk was full.
            self._deliveries = deliveries + self._deliveries
            await self._recover(str(exc))
            return True
        self._failures = 0
        for ing in ingests:
            self.stats.alerts_received += len(ing.alerts)
            if ing.future is not None and not ing.future.done():
                ing.future.set_result(None)
        for fut, value, error in results:
            if fut is not None and not fut.done():
                if error is not None:
                    fut.set_exception(error)
                else:
                    fut.set_result(value)
        for d in deliveries:
            if d.future is not None and not d.future.done():
                d.future.set_result(None)
        if txn.new_rows and self.deliverer is not None:
            self.deliverer.submit(txn.new_rows)
        return True

    def _run_timers(self, txn: Txn) -> None:
        while True:
            due = self._next_timer_ns()
            if due is None or due > txn.now.ns:
                return
            _, ext_name, key = heapq.heappop(self._timers)
            txn.delete_kv("timer", f"{ext_name}|{key}")
            ext = self.extension(ext_name)
            if ext is not None:
                try:
                    ext.on_timer(key, txn)
                except Exception:
                    log.exception("timer %s/%s failed", ext_name, key)

    def _fail_waiting(self, exc: BaseException) -> None:
        """Fails every queued caller (their work was not stored)."""
        for ing in self._ingests:
            if ing.future is not None and not ing.future.done():
                ing.future.set_exception(StoreUnavailable(f"engine error: {type(exc).__name__}"))
        for call in self._calls:
            if call.future is not None and not call.future.done():
                call.future.set_exception(StoreUnavailable(f"engine error: {type(exc).__name__}"))
        self._ingests, self._calls, self._queued_alerts = [], [], 0

    async def _recover(self, reason: str) -> None:
        """Memory is rebuilt from the database, the truth, after a failed commit or a bug: tried
        again, waiting RECOVER_MIN_S doubling to RECOVER_MAX_S, until it works, so a database
        that comes back (a restart, a read-only or full disk cleared) is used again without a
        restart of alertbot. Meanwhile the engine is not ready: requests are answered 503 and
        no cycle runs, so nothing is decided on a state the database did not take."""
        self.ready = False
        self.problem = reason
        while True:
            self._fail_waiting(StoreUnavailable(f"alertbot is recovering from a database error: {reason}"))
            await asyncio.sleep(_backoff(self._failures))
            self._failures += 1
            # The state dropped by the failed attempt (hundreds of thousands of objects, some
            # held in cycles by the exception's frames) is collected now, while the engine is
            # not ready, not by a collection that would stall the first cycles after it.
            gc.collect()
            try:
                await self.start()
                return
            except StoreUnavailable as exc:
                reason = self.problem = str(exc)
                log.error("database still unavailable; retrying in %.1fs: %s", _backoff(self._failures), exc)
            except Exception as exc:  # a bug in loading: keep trying, and say so
                reason = self.problem = f"loading the state failed: {type(exc).__name__}"
                log.exception("loading the state failed; retrying")

    # ------------------------------------------------------------------ ingest
    def _apply_ingest(self, alerts: Iterable[Alert], now: Timestamp, changes: Changes,
                      rows: dict[int, object], received: bool = False) -> None:
        """`received`: the alerts come from the inbox, each with its request's arrival as
        updated_at: a group they start starts then, as Alertmanager's dispatcher starts it when
        the request arrives (group_wait runs from the answer, not from when the engine got to
        the row)."""
        owns = self.owns
        for incoming in alerts:
            fp = incoming.fingerprint
            old = self.alerts.get(fp)
            stored = merge_into_store(old, incoming, now)
            self.alerts[fp] = stored
            rows[fp] = alert_to_row(stored)
            self.inhibitor.observe(stored, old)
            for route in self.route.match(stored.labels):
                gid, labels = self._group_of(route, stored)
                if owns is not None and not owns(gid):
                    continue
                g = self.groups.get(gid)
                if g is None:
                    at = incoming.updated_at if received and 0 < incoming.updated_at.ns < now.ns else now
                    g = self._new_group(route, dict(labels), stored, at)
                    self.groups[gid] = g
                    self._schedule(g)
                    changes.groups_upsert.append(g.to_row())
                g.alerts[fp] = stored

    def _group_of(self, route: Route, alert: Alert) -> tuple[str, dict[str, str]]:
        """The group id and labels of an alert on a route (cached: fingerprinting the group
        labels of every ingested alert again is a third of the ingest path). The labels may be
        the cache's own: a caller that keeps them copies them."""
        opts = route.opts
        if opts.group_by_all:
            return f"{route.id}|{alert.fingerprint:016x}", alert.labels
        key = (route.id, tuple(map(alert.labels.get, opts.group_by)))
        hit = self._group_cache.get(key)
        if hit is None:
            labels = route.group_labels(alert.labels)
            hit = (group_id(route, labels), labels)
            if len(self._group_cache) >= GROUP_CACHE_SIZE:
                self._group_cache.clear()
            self._group_cache[key] = hit
        return hit

    # ------------------------------------------------------------------ flush
    def _apply_flush(self, g: AggrGroup, txn: Txn) -> None:
        now, changes, new_rows = txn.now, txn.changes, txn.new_rows
        opts = g.route.opts
        interval_ns = round(opts.group_interval * NS)
        # Re-armed before the flush runs, as Alertmanager's timer, from the moment the timer
        # fired: ticks stay on their grid (group_wait + k * group_interval) instead of drifting
        # by each cycle's latency, which would make repeats land a tick early at random. A
        # group held back by a slow flush re-arms from when it runs, as Alertmanager's
        # goroutine does when it reads the expired timer late; the repeat test still uses the
        # time the timer fired.
        tick_ns = g.next_flush_ns
        base_ns = tick_ns
        if g.held_back or now.ns - tick_ns > min(interval_ns, LATE_TICK_NS):
            base_ns = now.ns
            if not g.held_back:
                tick_ns = now.ns
        g.held_back = False
        g.next_flush_ns = base_ns + interval_ns
        g.has_flushed = True
        if not g.alerts:
            changes.groups_upsert.append(g.to_row())
            self._schedule(g)
            return
        # Stored alerts are never changed in place (a new version replaces them), so a firing
        # one's notified form (zero endsAt) is made once and reused by later flushes.
        batch = sorted_alerts([a.as_notified(now) for a in g.alerts.values()])
        kept = mute_stages(batch, opts, now, self.inhibitor, self.silences, self.intervals)
        for ext in self.extensions:
            try:
                ext.on_flush(g, kept, txn)
            except Exception:
                log.exception("%s: on_flush failed for %s", ext.name, g.key)
        resolved = {a.fingerprint: a.updated_at.ns for a in batch if a.resolved_at(now)}
        flush_id = self._next_flush_id
        self._next_flush_id += 1
        pending: set[int] = set()
        failed = False
        if kept:
            integrations = self.integrations.for_receiver(opts.receiver)
            hold_repeat = any(e.suppress_repeat(g) for e in self.extensions)
            for d in fanout(kept, integrations, g.key, g.labels, opts, now, self.nflog, self.external_url, g.route.id,
                            group_id=g.id, suppress_repeat=hold_repeat, tick=Timestamp(tick_ns)):
                if d.refresh_only:
                    self._extend_entry(d.nflog_key, now, opts.repeat_interval, changes)
                    continue
                if d.notification is None:
                    self._log_notification(d.nflog_key, d.firing, d.resolved, now, opts.repeat_interval, changes)
                    continue
                integ = d.integration
                try:
                    payload = integ.render(d.notification)
                except Exception as exc:  # a template that fails at run time must not stop the others
                    log.error("rendering %s/%s[%d] for %s failed: %s", opts.receiver, integ.name, integ.index, g.key, exc)
                    failed = True
                    continue
                deadline = 0
                if integ.bounded_by_flush:
                    deadline = now.ns + round(max(opts.group_interval, MIN_FLUSH_TIMEOUT_S) * NS)
                row = OutboxRow(
                    id=self._next_outbox_id, group_id=g.id, flush_id=flush_id, receiver=opts.receiver,
                    integration=integ.name, integration_index=integ.index, nflog_key=d.nflog_key, payload=payload,
                    nflog_firing=encode_fingerprints(d.firing), nflog_resolved=encode_fingerprints(d.resolved),
                    nflog_expires_ns=expiry_ns(now.ns, opts.repeat_interval), created_at_ns=now.ns,
                    not_before_ns=now.ns, deadline_ns=deadline,
                    # Webhooks are independent (a slow one must not hold back its siblings);
                    # Slack/PagerDuty rows share the group's key with their edits and events.
                    ordering_key=(f"{integ.name}:{integ.index}:{g.id}" if integ.bounded_by_flush
                                  else f"{integ.name}:{g.id}"))
                self._next_outbox_id += 1
                changes.outbox_insert.append(row)
                self.outbox[row.id] = row
                if deadline:
                    self._row_sets[row.id] = (d.firing, d.resolved)
                new_rows.append(row)
                key = f"{opts.receiver}/{integ.name}"
                self.stats.notifications_planned[key] = self.stats.notifications_planned.get(key, 0) + 1
                if integ.bounded_by_flush:
                    pending.add(row.id)
                else:
                    # Delivered by the outbox whatever happens: logged as sent now.
                    self._log_notification(d.nflog_key, d.firing, d.resolved, now, opts.repeat_interval, changes)
        if pending:
            g.flushing = flush_id
            self.flushes[flush_id] = _Flush(g.id, pending, failed, resolved)
            changes.groups_upsert.append(g.to_row())
        else:
            self._finish_flush(g, failed, resolved, txn)

    def _finish_flush(self, g: AggrGroup, failed: bool, resolved: Mapping[int, int], txn: Txn) -> None:
        now, changes = txn.now, txn.changes
        g.flushing = None
        g.held_back = g.next_flush_ns <= now.ns
        if not failed:
            # Resolved alerts leave the group once notified, unless they changed meanwhile.
            for fp, updated_ns in resolved.items():
                a = g.alerts.get(fp)
                if a is not None and a.updated_at.ns == updated_ns and a.resolved_at(now):
                    del g.alerts[fp]
        if not g.alerts:
            # Today's Alertmanager destroys an emptied group at once; the next alert starts a
            # new one, with a fresh group_wait.
            del self.groups[g.id]
            changes.groups_delete.append(g.id)
            for ext in self.extensions:
                try:
                    ext.on_group_closed(g, txn)
                except Exception:
                    log.exception("%s: on_group_closed failed for %s", ext.name, g.key)
        else:
            changes.groups_upsert.append(g.to_row())
            self._schedule(g)

    def _extend_entry(self, key: str, now: Timestamp, repeat_interval: float, changes: Changes) -> None:
        """A repeat held back (acknowledged group): the entry stays, nothing is sent."""
        entry = self.nflog.get(key)
        if entry is not None:
            entry.expires_at_ns = max(entry.expires_at_ns, expiry_ns(now.ns, repeat_interval))
            changes.nflog_upsert.append(entry.to_row(key))

    def _log_notification(self, key: str, firing: frozenset[int], resolved: frozenset[int], now: Timestamp,
                          repeat_interval: float, changes: Changes) -> None:
        entry = Entry(firing, resolved, now.ns, expiry_ns(now.ns, repeat_interval))
        old = self.nflog.get(key)
        if old is not None:
            entry.state = old.state
        self.nflog[key] = entry
        changes.nflog_upsert.append(entry.to_row(key))

    def _apply_delivery(self, d: _Delivery, txn: Txn) -> None:
        now, changes = txn.now, txn.changes
        row = self.outbox.pop(d.row_id, None)
        if row is None:
            return
        changes.outbox_update.append(OutboxUpdate(row.id, "delivered" if d.ok else "failed", d.attempts,
                                                  row.not_before_ns, d.error[:1000]))
        owner = self.extension(row.nflog_key if row.flush_id == 0 else row.integration)
        if owner is not None:
            try:
                owner.on_delivered(row, d.ok, d.effects, txn)
            except Exception:
                log.exception("%s: on_delivered failed for row %d", owner.name, row.id)
        if not row.deadline_ns:
            return
        if d.ok:
            sets = self._row_sets.pop(row.id, None)
            if sets is None:  # a row from before a restart
                sets = (frozenset(int(x, 16) for x in _loads(row.nflog_firing)),
                        frozenset(int(x, 16) for x in _loads(row.nflog_resolved)))
            entry = Entry(sets[0], sets[1], now.ns, row.nflog_expires_ns - row.created_at_ns + now.ns)
            old = self.nflog.get(row.nflog_key)
            if old is not None:
                entry.state = old.state
            self.nflog[row.nflog_key] = entry
            # The row holds the sets already encoded as the log stores them.
            changes.nflog_upsert.append(entry.to_row(row.nflog_key, row.nflog_firing, row.nflog_resolved))
        else:
            self._row_sets.pop(row.id, None)
        fl = self.flushes.get(row.flush_id)
        if fl is None:
            return
        fl.remaining.discard(row.id)
        fl.failed = fl.failed or not d.ok
        if fl.remaining:
            return
        del self.flushes[row.flush_id]
        g = self.groups.get(fl.group_id)
        if g is not None and g.flushing == row.flush_id:
            self._finish_flush(g, fl.failed, fl.resolved, txn)

    # ------------------------------------------------------------------ garbage collection
    def _gc(self, now: Timestamp, changes: Changes) -> None:
        """Drops resolved alerts that no group holds any more (Alertmanager's alert GC)."""
        self._last_gc_ns = now.ns
        held = {fp for g in self.groups.values() for fp in g.alerts}
        for fp, a in list(self.alerts.items()):
            if fp not in held and a.resolved_at(now):
                del self.alerts[fp]
                self.inhibitor.forget(a)
                changes.alerts_delete.append(fp)

    def _gc_nflog(self, now: Timestamp, changes: Changes) -> None:
        """Expired log entries count until this GC removes them (Alertmanager's nflog GC, every
        15 minutes): a group quiet for 2 x repeat_interval still gets its "all resolved"."""
        self._last_nflog_gc_ns = now.ns
        for key, entry in list(self.nflog.items()):
            if entry.expires_at_ns <= now.ns:
                del self.nflog[key]
                changes.nflog_delete.append(key)

    # ------------------------------------------------------------------ the loop (server)
    async def run(self) -> None:
        """Runs cycles until cancelled: on new work, and when the next group timer is due."""
        self._wake = asyncio.Event()
        while True:
            now_ns = self.clock.now().ns
            if not self.has_work(now_ns):
                nxt = self._wake_at_ns(now_ns)
                timeout = None if nxt is None else max(0.0, (nxt - now_ns) / NS)
                gc_in = (self._last_gc_ns + ALERT_GC_INTERVAL_S * NS - now_ns) / NS
                timeout = gc_in if timeout is None else min(timeout, gc_in)
                self._wake.clear()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel
                # that races the wake-up, and the loop would outlive a shutdown.
                try:
                    async with asyncio.timeout(max(timeout, 0.0)):
                        await self._wake.wait()
                except TimeoutError:
                    pass
            self._cycle_started = time.monotonic()
            self._cycle_done = done = asyncio.get_running_loop().create_future()
            try:
                await self.cycle()
            except Exception as exc:  # a bug: never let the loop die, never leave a caller waiting
                log.exception("engine cycle failed; reloading the state from the database")
                self._fail_waiting(exc)
                await self._recover(f"engine cycle failed: {type(exc).__name__}")
            finally:
                self._cycle_started = None
                done.set_result(None)

    # ------------------------------------------------------------------ queries (API)
    def receivers_of(self, a: Alert) -> list[str]:
        return sorted({r.receiver for r in self.route.match(a.labels)})

    def status_of(self, a: Alert, now: Timestamp) -> tuple[str, list[str], list[str]]:
        """(state, silencedBy, inhibitedBy) as Alertmanager's API shows them."""
        if a.resolved_at(now):
            return "unprocessed", [], []
        silenced = self.silences.mutes(a.labels, now)
        inhibited = self.inhibitor.inhibited_by(a.labels, now)
        state = "suppressed" if silenced or inhibited else "active"
        return state, silenced, inhibited


def _backoff(failures: int) -> float:
    """The wait before reloading after `failures` failed commits or reloads in a row."""
    return min(RECOVER_MIN_S * 2 ** failures, RECOVER_MAX_S)


def _loads(text: str) -> list[str]:
    return orjson.loads(text)
