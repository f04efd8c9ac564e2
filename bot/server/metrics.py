"""`/metrics`: the bot's own registry (prometheus-client), instruments and engine gauges.

Counters and histograms are updated where things happen (handlers, the delivery worker's
observer, the store wrapper); gauges of the engine's state (alerts, groups, outbox) are read
at scrape time, so they are never stale.
"""

from __future__ import annotations

import asyncio
import platform
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.aiohttp import make_aiohttp_handler
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample

from bot import __version__
from bot.notify.base import Outcome
from bot.store.base import Lease, Store
from bot.store.rows import Changes, InboxRow, OutboxRow, State

if TYPE_CHECKING:
    from bot.engine.engine import Engine

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


FRONT_SCRAPE_TIMEOUT_S = 2.0


def _alerts_received(r: CollectorRegistry) -> Counter:
    return Counter("alertbot_alerts_received", "Alerts received, by way in (api, webhook) and result "
                   "(accepted: stored; invalid: refused by validation; unavailable: not stored, answered 503).",
                   ["source", "result"], registry=r)


def _http_instruments(r: CollectorRegistry) -> tuple[Counter, Histogram]:
    return (Counter("alertbot_http_requests", "HTTP requests served, by handler and status code.",
                    ["handler", "method", "code"], registry=r),
            Histogram("alertbot_http_request_duration_seconds", "HTTP request latency, by handler.",
                      ["handler"], buckets=LATENCY_BUCKETS, registry=r))


class FrontMetrics:
    """A front process's instruments: the requests it answers itself (`POST /api/v2/alerts`,
    `POST /webhook`) and the alerts it refused (invalid, or not stored: the engine counts those it
    applies as accepted). The engine's process adds them into its own `/metrics` at each scrape
    (Metrics.handler)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.alerts_received = _alerts_received(self.registry)
        self.http_requests, self.http_duration = _http_instruments(self.registry)

    def exposition(self) -> bytes:
        return openmetrics_latest(self.registry)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # The Unix sockets where this server's front processes serve their FrontMetrics.
        self.front_sockets: list[str] = []
        self.alerts_received = _alerts_received(r)
        self.http_requests, self.http_duration = _http_instruments(r)
        self.notifications = Counter(
            "alertbot_notification_attempts", "Notification delivery attempts, by integration and outcome "
            "(success, retryable_error, permanent_error).", ["integration", "outcome"], registry=r)
        self.notification_latency = Histogram("alertbot_notification_latency_seconds",
                                              "Time of one notification delivery attempt, by integration.",
                                              ["integration"], buckets=LATENCY_BUCKETS, registry=r)
        self.db_commit = Histogram("alertbot_db_commit_seconds", "Time to commit one engine cycle to the database.",
                                   buckets=LATENCY_BUCKETS, registry=r)
        self.db_errors = Counter("alertbot_db_errors", "Database operations that failed, by operation.",
                                 ["operation"], registry=r)
        self.config_success = Gauge("alertbot_config_last_reload_successful",
                                    "Whether the last configuration (re)load succeeded.", registry=r)
        self.config_success_time = Gauge("alertbot_config_last_reload_success_timestamp_seconds",
                                         "When the configuration was last loaded successfully.", registry=r)
        self.engine_lease_held = Gauge("alertbot_engine_lease_held",
                                       "1 while this replica holds the engine lease (flushes and delivers).",
                                       registry=r)
        self.build_info = Gauge("alertbot_build_info", "Version of alertbot and of its Python.",
                                ["version", "python"], registry=r)
        self.build_info.labels(__version__, platform.python_version()).set(1)
        self._engine: Callable[[], Engine | None] = lambda: None
        r.register(_EngineCollector(lambda: self._engine()))

    def watch_engine(self, get: Callable[[], Engine | None]) -> None:
        self._engine = get

    def delivery_observer(self, row: OutboxRow, outcome: Outcome, seconds: float) -> None:
        kind = "success" if outcome.ok else ("retryable_error" if outcome.retryable else "permanent_error")
        self.notifications.labels(row.integration, kind).inc()
        self.notification_latency.labels(row.integration).observe(seconds)

    def handler(self) -> Callable[[web.Request], Awaitable[web.Response]]:
        own = make_aiohttp_handler(self.registry)

        async def metrics(request: web.Request) -> web.Response:
            if not self.front_sockets:
                return await own(request)
            texts = await asyncio.gather(*(_scrape_front(path) for path in self.front_sockets))
            fronts = [fam for text in texts if text for fam in _families(text)]
            merged = CollectorRegistry(auto_describe=False)
            merged.register(_Summed(self.registry, fronts))
            return await make_aiohttp_handler(merged)(request)

        return metrics


async def _scrape_front(path: str) -> str:
    """A front's metrics, or "" if it cannot answer now (restarting): its counts show again at
    the next scrape, as a restarted process's counters do."""
    try:
        async with aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=path),
                                         timeout=aiohttp.ClientTimeout(total=FRONT_SCRAPE_TIMEOUT_S)) as s:
            async with s.get("http://front/metrics") as resp:
                return await resp.text() if resp.status == 200 else ""
    except (aiohttp.ClientError, OSError, TimeoutError):
        return ""


def _families(text: str) -> list[Metric]:
    try:
        return list(openmetrics_families(text))
    except ValueError:  # a front cut short mid-answer: its counts show at the next scrape
        return []


class _Summed(Collector):
    """The engine's families with the fronts' samples added in: one series per name and labels,
    counts summed (a `_created` time is the earliest), as if one process had counted them all."""

    def __init__(self, own: CollectorRegistry, fronts: list[Metric]) -> None:
        self._own = own
        self._fronts = fronts

    def collect(self) -> Iterator[Metric]:
        families: dict[str, Metric] = {}
        series: dict[str, dict[tuple, Sample]] = {}
        for fam in [*self._own.collect(), *self._fronts]:
            if fam.name not in families:
                families[fam.name] = Metric(fam.name, fam.documentation, fam.type, fam.unit)
                series[fam.name] = {}
            samples = series[fam.name]
            for s in fam.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                old = samples.get(key)
                if old is None:
                    samples[key] = s
                elif s.name.endswith("_created"):
                    samples[key] = old._replace(value=min(old.value, s.value))
                else:
                    samples[key] = old._replace(value=old.value + s.value)
        for name, fam in families.items():
            fam.samples = list(series[name].values())
            yield fam


class _EngineCollector(Collector):
    def __init__(self, engine: Callable[[], Engine | None]) -> None:
        self._engine = engine

    def describe(self) -> list:
        return []

    def collect(self) -> Iterator:
        engine = self._engine()
        ready = GaugeMetricFamily("alertbot_ready", "1 once the database is open and the state is loaded.")
        ready.add_metric([], 1.0 if engine is not None and engine.ready else 0.0)
        yield ready
        if engine is None:
            return
        now_ns = time.time_ns()
        alerts = GaugeMetricFamily("alertbot_alerts", "Alerts the engine holds, by state (firing, resolved).",
                                   labels=["state"])
        firing = sum(1 for a in engine.alerts.values() if a.ends_at.is_zero or a.ends_at.ns > now_ns)
        alerts.add_metric(["firing"], firing)
        alerts.add_metric(["resolved"], len(engine.alerts) - firing)
        yield alerts
        groups = GaugeMetricFamily("alertbot_aggregation_groups", "Aggregation groups the dispatcher holds.")
        groups.add_metric([], len(engine.groups))
        yield groups
        silences = GaugeMetricFamily("alertbot_silences", "Silences, by state.", labels=["state"])
        counts = {"active": 0, "pending": 0, "expired": 0}
        for s in engine.silences.by_id.values():
            state = "pending" if now_ns < s.starts_at.ns else "active" if now_ns < s.ends_at.ns else "expired"
            counts[state] += 1
        for state, n in counts.items():
            silences.add_metric([state], n)
        yield silences
        depth = GaugeMetricFamily("alertbot_outbox_depth", "Notifications stored and not yet delivered or given up.")
        depth.add_metric([], len(engine.outbox))
        yield depth
        age = GaugeMetricFamily("alertbot_outbox_oldest_age_seconds",
                                "Age of the oldest undelivered notification (0 when none).")
        oldest = min((r.created_at_ns for r in engine.outbox.values()), default=now_ns)
        age.add_metric([], max(0.0, (now_ns - oldest) / 1e9))
        yield age
        cycles = CounterMetricFamily("alertbot_engine_cycles", "Engine cycles that did work and were committed.")
        cycles.add_metric([], engine.stats.cycles)
        yield cycles
        failures = CounterMetricFamily("alertbot_engine_commit_failures",
                                       "Engine cycles whose commit the database refused.")
        failures.add_metric([], engine.stats.commit_failures)
        yield failures
        unread = CounterMetricFamily("alertbot_engine_flushes_without_inbox",
                                     "Groups flushed after waiting 5 s for the inbox to be applied (it could "
                                     "not be read): alerts answered before such a flush may come in the next.")
        unread.add_metric([], engine.stats.flushes_without_intake)
        yield unread
        planned = CounterMetricFamily("alertbot_notifications_planned",
                                      "Notifications the engine put into the outbox, by receiver and integration.",
                                      labels=["receiver", "integration"])
        for key, n in sorted(engine.stats.notifications_planned.items()):
            receiver, _, integration = key.rpartition("/")
            planned.add_metric([receiver, integration], n)
        yield planned


class TimedStore:
    """Wraps the store to time its commits and count its failures (no change to the store)."""

    def __init__(self, store: Store, metrics: Metrics) -> None:
        self.inner = store
        self._metrics = metrics

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def load(self) -> State:
        try:
            return await self.inner.load()
        except Exception:
            self._metrics.db_errors.labels("load").inc()
            raise

    async def commit(self, changes: Changes) -> None:
        started = time.perf_counter()
        try:
            await self.inner.commit(changes)
        except Exception:
            self._metrics.db_errors.labels("commit").inc()
            raise
        finally:
            self._metrics.db_commit.observe(time.perf_counter() - started)

    async def ping(self) -> float:
        return await self.inner.ping()

    async def inbox_put(self, items: list[tuple[int, str, bytes]]) -> None:
        await self.inner.inbox_put(items)

    async def inbox_bounds(self) -> tuple[int, int] | None:
        return await self.inner.inbox_bounds()

    async def inbox_take(self, limit: int) -> list[InboxRow]:
        return await self.inner.inbox_take(limit)

    async def acquire_lease(self, holder: str, ttl_s: float) -> Lease:
        return await self.inner.acquire_lease(holder, ttl_s)

    async def renew_lease(self) -> None:
        await self.inner.renew_lease()

    async def release_lease(self) -> None:
        await self.inner.release_lease()
