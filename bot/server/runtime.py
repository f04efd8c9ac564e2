"""The running bot: store → engine → delivery worker → HTTP client, started and stopped as one.

The HTTP listener comes up at once; the database is opened and the state loaded in the
background, so `/-/healthy` answers while `/-/ready` says 503 until the engine has its state
(and again if the database goes away). Reloading validates the new file completely before
anything changes; a bad file leaves the running configuration in place and says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Callable

from bot.config import Config, ConfigError, load_config
from bot.engine.clock import SystemClock
from bot.engine.engine import Engine, IntegrationRegistry
from bot.engine.timestamp import Timestamp
from bot.logging import get_logger
from bot.notify.delivery import DeliveryWorker
from bot.notify.dryrun import DryRunIntegration
from bot.notify.http import HttpClient, url_origin
from bot.notify.registry import build_integrations
from bot.notify.slack import service_for as slack_service_for
from bot.server.inbox import InboxApplier
from bot.server.metrics import Metrics, TimedStore
from bot.server.settings import Settings
from bot.store.base import LeaseLost, Store, StoreUnavailable

log = get_logger("alertbot.server")

BOOT_RETRY_MIN_S = 0.5
BOOT_RETRY_MAX_S = 5.0  # as the engine's reload: a database back from a fault is used within seconds
STANDBY_POLL_S = 1.0  # how often a standby replica asks whether the engine lease is free


class ReloadError(Exception):
    """The new configuration was refused; the running one stays."""


class Runtime:
    def __init__(self, settings: Settings, config: Config, store: Store | None = None) -> None:
        self.settings = settings
        self.config = config
        self.metrics = Metrics()
        self.metrics.watch_engine(lambda: self.engine)
        self.metrics.config_success.set(1)
        self.metrics.config_success_time.set(time.time())
        self._store_override = store
        self.store: TimedStore | None = None
        self.engine: Engine | None = None
        self.worker: DeliveryWorker | None = None
        self.http: HttpClient | None = None
        self.started_at = Timestamp.now()
        self.external_url = settings.resolved_external_url()
        self.boot_error: str = ""
        self._boot_task: asyncio.Task[None] | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._lease_task: asyncio.Task[None] | None = None
        self._inbox_task: asyncio.Task[None] | None = None
        self.inbox: InboxApplier | None = None
        self.instance_id = settings.resolved_instance_id()
        self.lease_held = False  # this replica runs the engine (Socket Mode connects only then)
        # Since when this replica has been unable to run its engine (monotonic), while it has no
        # engine: booting, or a database it cannot reach. None: it runs one, or stands by healthily.
        self._down_since: float | None = time.monotonic()
        self._outcomes: list = []  # deliveries an engine that stepped down could not record
        self._stepping_down = False
        self._reload_lock = asyncio.Lock()
        self.runbooks = _load_runbooks(config)
        # Called with each engine built, before it starts (bot.chatops adds its extension).
        self.engine_hooks: list[Callable[[Engine], None]] = []

    # ------------------------------------------------------------------ lifecycle
    @property
    def ready(self) -> bool:
        return (self.engine is not None and self.engine.ready and self._loop_task is not None
                and not self._loop_task.done())

    @property
    def not_ready_reason(self) -> str:
        engine = self.engine
        if engine is not None and engine.problem:
            return f"recovering from a database error: {engine.problem}"
        return self.boot_error or "loading state from the database"

    def down_for(self) -> float:
        """Seconds this replica has not been able to run its engine: not ready (booting, or
        reloading after a database fault), or a cycle stuck that long. 0 while it runs, and
        while it stands by for another replica holding the lease with the database reachable."""
        now = time.monotonic()
        engine = self.engine
        if self.ready:
            return engine.cycle_running_for()  # type: ignore[union-attr]
        if engine is not None and self._loop_task is not None and not self._loop_task.done():
            return now - (engine.unready_since or now)
        return 0.0 if self._down_since is None else now - self._down_since

    def liveness_problem(self) -> str | None:
        """Why /-/healthy fails (an orchestrator should restart this process), or None."""
        limit = self.settings.max_unready_seconds
        down = self.down_for()
        if down < limit:
            return None
        return (f"the engine has not been able to run for {down:.0f}s (limit {limit:g}s, "
                f"--max-unready-duration): {self.not_ready_reason}")

    async def start(self) -> None:
        self.http = await HttpClient.create()
        slack_service_for(self.http, registry=self.metrics.registry)  # Slack's metrics on /metrics
        describe_receivers(self.config, build_integrations(self.config, self.http))
        self._boot_task = asyncio.get_running_loop().create_task(self._boot(), name="alertbot-boot")

    async def _boot(self) -> None:
        delay = BOOT_RETRY_MIN_S
        while True:
            try:
                await self._boot_once()
                return
            except StoreUnavailable as exc:
                self.boot_error = str(exc)
                if self._down_since is None:
                    self._down_since = time.monotonic()
                log.error("database unavailable; retrying", error=str(exc), retry_in_seconds=round(delay, 1))
            except Exception as exc:  # a bug: keep trying, and say so, rather than sit unready in silence
                self.boot_error = f"start-up failed: {type(exc).__name__}"
                log.exception("start-up failed; retrying", retry_in_seconds=round(delay, 1))
            await asyncio.sleep(delay)
            delay = min(delay * 2, BOOT_RETRY_MAX_S)

    async def _boot_once(self) -> None:
        if self.store is None:
            inner = self._store_override if self._store_override is not None else _open_store(self.settings)
            self.store = TimedStore(inner, self.metrics)
        await self.store.open()
        inner = self.store.inner
        if hasattr(inner, "on_lease_lost"):
            inner.on_lease_lost = self._lease_lost
        await self._take_lease()
        started = time.perf_counter()
        integrations = build_integrations(self.config, self.http)
        self.worker = DeliveryWorker(lambda: self.engine.integrations,  # type: ignore[union-attr]
                                     lambda *a: self.engine.delivery_finished(*a),  # type: ignore[union-attr]
                                     observer=self.metrics.delivery_observer)
        engine = Engine(self.config, self.store, SystemClock(), integrations, self.external_url, self.worker,
                        max_queued_alerts=self.settings.max_queued_alerts)
        engine.adopt_outcomes(self._outcomes)
        self._outcomes = []
        for hook in self.engine_hooks:
            hook(engine)
        self.engine = engine
        # Attached before the first cycle: a group due at start waits for what fronts stored.
        self.inbox = InboxApplier(engine, self.store, self.metrics, fronts_here=self.settings.ingest_workers > 0)
        await engine.start()
        self._loop_task = asyncio.get_running_loop().create_task(self._run_engine(engine), name="alertbot-engine")
        self._down_since = None
        self._lease_task = asyncio.get_running_loop().create_task(self._keep_lease(), name="alertbot-lease")
        self._inbox_task = asyncio.get_running_loop().create_task(self.inbox.run(), name="alertbot-inbox")
        self.boot_error = ""
        log.info("ready", alerts=len(engine.alerts), groups=len(engine.groups), silences=len(engine.silences.by_id),
                 seconds=round(time.perf_counter() - started, 3))

    # ------------------------------------------------------------------ the engine lease
    async def _take_lease(self) -> None:
        """Returns once this replica holds the engine lease; until then it stands by (not
        ready: /-/ready and the API answer 503, so a load balancer sends to the holder)."""
        assert self.store is not None
        ttl = self.settings.lease_seconds
        told = ""
        while True:
            lease = await self.store.acquire_lease(self.instance_id, ttl)
            if lease.acquired:
                self._down_since = time.monotonic()  # loading the state from here on
                self.lease_held = True
                self.metrics.engine_lease_held.set(1)
                log.info("engine lease held", replica=self.instance_id, epoch=lease.epoch, lease_seconds=ttl)
                return
            self.metrics.engine_lease_held.set(0)
            self._down_since = None  # a standby that can reach the database is healthy
            self.boot_error = (f"standby: replica {lease.holder!r} holds the engine lease; this one takes over "
                               f"when it goes {ttl:g}s without renewing it")
            if lease.holder != told:
                log.warning("standing by", holder=lease.holder, replica=self.instance_id, lease_seconds=ttl)
                told = lease.holder
            await asyncio.sleep(STANDBY_POLL_S)

    async def _keep_lease(self) -> None:
        """Renews the lease a few times per term (every commit renews it too). A replica that
        cannot renew for two thirds of a term stops before a standby may take over."""
        assert self.store is not None
        ttl = self.settings.lease_seconds
        renewed = time.monotonic()
        while True:
            await asyncio.sleep(ttl / 3)
            try:
                await self.store.renew_lease()
                renewed = time.monotonic()
            except LeaseLost as exc:
                self._lease_lost(str(exc))
                return
            except StoreUnavailable as exc:
                if time.monotonic() - renewed >= ttl * 2 / 3:
                    self._lease_lost(f"could not renew the engine lease for {time.monotonic() - renewed:.1f}s "
                                     f"({exc}); a standby replica may take over")
                    return
                log.warning("engine lease not renewed; retrying", error=str(exc))

    def _lease_lost(self, reason: str) -> None:
        """Called the moment the lease is known lost (from inside a failed commit, or by the
        renewal): sending stops now, the rest of the engine is torn down just after."""
        if self.engine is None or self._stepping_down:
            return
        self._stepping_down = True
        log.error("engine lease lost; standing by", reason=reason, replica=self.instance_id)
        self.lease_held = False
        self.metrics.engine_lease_held.set(0)
        self.boot_error = f"standby: {reason}"
        self.engine.ready = False
        self._down_since = time.monotonic()
        if self.worker is not None:
            self.worker.stop()
        asyncio.get_running_loop().create_task(self._stand_by(), name="alertbot-stand-by")

    async def _stand_by(self) -> None:
        current = asyncio.current_task()
        # The boot task too: the lease can be lost while a boot is still loading the state.
        for task in (self._boot_task, self._loop_task, self._lease_task, self._inbox_task):
            if task is not None and task is not current and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.engine is not None:
            # What was delivered and not yet recorded stays delivered (the next engine records it).
            self._outcomes = self.engine.unrecorded_outcomes()
        self.engine = None
        self.inbox = None
        self._loop_task = self._lease_task = self._inbox_task = None
        self._stepping_down = False
        # The engine dropped here (its whole state, held in cycles) is collected now, while this
        # replica is not ready, not by a collection that would stall the next engine's first cycles.
        gc.collect()
        self._boot_task = asyncio.get_running_loop().create_task(self._boot(), name="alertbot-boot")

    async def _run_engine(self, engine: Engine) -> None:
        try:
            await engine.run()
        except asyncio.CancelledError:
            raise
        except Exception:  # run() never returns on its own; this would be a bug
            log.exception("engine loop stopped")
            self._down_since = time.monotonic()
            self.boot_error = "the engine loop stopped (a bug: see the log)"
            raise

    async def stop(self) -> None:
        """Called after the listener stopped and in-flight requests were answered. Queued work
        (finished deliveries) gets a moment to be committed; whatever is cut short is safe:
        only committed state was ever acknowledged, and undelivered rows resume at restart."""
        if self.engine is not None and self._loop_task is not None:
            deadline = time.monotonic() + 5
            now_ns = time.time_ns()
            while time.monotonic() < deadline and self.engine.has_work(now_ns):
                await asyncio.sleep(0.02)
        for task in (self._boot_task, self._inbox_task, self._lease_task, self._loop_task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.worker is not None:
            await self.worker.close()  # undelivered rows resume at the next start
        if self.http is not None:
            await self.http.close()
        if self.store is not None:
            if self.engine is not None:
                try:
                    await self.store.release_lease()
                except Exception as exc:  # it expires on its own; a standby then takes over
                    log.warning("engine lease not released", error=str(exc))
            with contextlib.suppress(Exception):
                await self.store.close()
        log.info("stopped")

    # ------------------------------------------------------------------ reload
    async def reload(self) -> Config:
        """Loads the configuration file again and swaps it in; ReloadError keeps the old one."""
        async with self._reload_lock:
            try:
                config = load_config(self.settings.config_path, self.config.matchers_mode)
            except ConfigError as exc:
                self.metrics.config_success.set(0)
                log.error("reload refused; the running configuration stays", error=str(exc))
                raise ReloadError(str(exc)) from None
            if self.engine is not None:
                integrations = build_integrations(config, self.http)
                await self.engine.reload(config, integrations)
            else:
                integrations = build_integrations(config, self.http)
            self.config = config
            self.runbooks = _load_runbooks(config)
            self.metrics.config_success.set(1)
            self.metrics.config_success_time.set(time.time())
            log.info("configuration reloaded", file=self.settings.config_path,
                     receivers=len(config.model.receivers))
            describe_receivers(config, integrations)
            return config


def _load_runbooks(config: Config):  # type: ignore[no-untyped-def]
    """The runbook catalog (ALERTBOT_RUNBOOKS or ./runbooks); a broken file is logged with its
    reason and the rest of the catalog still works (the catalog logs what it loaded)."""
    from bot.runbooks import Catalog

    return Catalog.load(templates=config.templates, matchers_mode=config.matchers_mode)


def _open_store(settings: Settings) -> Store:
    from bot.store.sql import SqlStore

    return SqlStore(settings.database_url)


def describe_receivers(config: Config, integrations: IntegrationRegistry) -> list[str]:
    """Logs, plainly, where each receiver's notifications go; returns the lines."""
    lines = []
    for rcv in config.model.receivers:
        targets = []
        for i, wh in enumerate(rcv.webhook_configs):
            if wh.url is not None:
                where = f"${{{wh.url.env_name}}}" if wh.url.env_name else url_origin(wh.url.reveal())
            else:
                where = f"the URL in {wh.url_file}"
            targets.append(f"webhook[{i}] → {where}")
        for integ in integrations.for_receiver(rcv.name):
            if isinstance(integ, DryRunIntegration):
                targets.append(f"{integ.name}[{integ.index}] → {integ.target}: NOT SENT, only logged ({integ.why})")
            elif integ.name != "webhook":
                targets.append(f"{integ.name}[{integ.index}] → {getattr(integ, 'target', integ.name)}")
        for key, count in rcv.unsupported():
            targets.append(f"{count} {key}: not supported by alertbot; never delivered")
        if not targets:
            targets.append("no integrations: its notifications go nowhere (as in Alertmanager)")
        for t in targets:
            line = f"receiver {rcv.name!r}: {t}"
            lines.append(line)
            log.info(line, receiver=rcv.name)
    return lines
