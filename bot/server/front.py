"""A front process (docs/inbox.md): takes alerts (`POST /api/v2/alerts`, `POST /webhook`) into the
inbox, passes the rest on.

`alertbot serve --ingest-workers N` runs the engine in one process and N of these on the public
port (SO_REUSEPORT). A front validates alerts exactly as the engine's handler does (same
statuses and messages), commits the valid alerts to the inbox, many requests per transaction,
and answers; the engine applies the inbox in its own process (bot.server.inbox). Every other
request goes, unchanged, to the engine over a Unix socket.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sqlite3
import time

import aiohttp
import structlog
from aiohttp import web

from bot.config import Config
from bot.engine.codec import validated_to_bytes
from bot.engine.timestamp import Timestamp
from bot.logging import get_logger
from bot.server import apijson
from bot.server.api_alerts import ERROR_SEPARATOR
from bot.server.body import body_limit, read_body
from bot.server.common import UNAVAILABLE_HEADERS
from bot.server.ingestion import not_stored
from bot.server.metrics import FrontMetrics
from bot.server.middleware import make_middleware, traceparent
from bot.server.openapi import ApiError, check_content_type, postable_alerts, validated_postable_alerts
from bot.server.settings import Settings
from bot.server.webhook_payload import check_credentials, refuse_invalid, webhook_body_alerts
from bot.server.webhook_payload import check_content_type as check_webhook_content_type
from bot.store.base import StoreUnavailable
from bot.store.sql import SqlStore, sqlite_busy

log = get_logger("alertbot.front")

# Bodies waiting to be applied beyond which a front answers 503 (Alertmanager and Prometheus
# retry it): at 100-500 alerts a body, about as many alerts as the engine's own queue bound.
MAX_INBOX_BODIES = 2000
BUSY_TIMEOUT_S = 5.0  # as the store's own SQLite connections
BACKLOG_CHECK_S = 0.1
PASSED_ON = "alertbot_passed_on"  # set on a request the engine's process answered

# Not passed on either way: they describe one connection, not the request.
_HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                         "transfer-encoding", "upgrade", "content-length", "host", "server", "date"))


class _SqliteWriter:
    """The inbox insert on SQLite through a plain sqlite3 connection on a thread of its own.

    The one place that leaves SQLAlchemy, and for a measured reason: through SQLAlchemy's asyncio
    layer and aiosqlite a transaction of 8 bodies cost the front's event loop 1.65 ms of CPU, as
    a plain connection 0.41 ms (bench: a front at 34-36k against 59k alerts/s). Same file, same
    settings as the store's own connections (WAL, synchronous=NORMAL).

    The wait for the write lock is ours, not SQLite's busy handler: that one sleeps 1, 2, 5, 10,
    15, 20, 25 ms... between tries, so a front waiting for an engine commit of 10 ms woke up to
    25 ms after it (measured: 8-37 ms at BEGIN, a 20 ms first answer). Here it tries again every
    RETRY_PAUSE_S, for up to the same busy timeout."""

    RETRY_PAUSE_S = 0.0005

    def __init__(self, path: str, busy_timeout_s: float, insert_sql: str) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        self.insert_sql = insert_sql
        self.pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="alertbot-inbox")
        self.conn: sqlite3.Connection | None = None

    def _put(self, items: list[tuple[int, str, bytes]]) -> int:
        """Inserts the rows; returns the backlog after them (rows in the inbox, by id range)."""
        if self.conn is None:
            self.conn = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
            self.conn.execute("PRAGMA synchronous=NORMAL")
        c = self.conn
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                c.execute("BEGIN IMMEDIATE")
                break
            except sqlite3.OperationalError as exc:
                if not sqlite_busy(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(self.RETRY_PAUSE_S)
        try:
            c.executemany(self.insert_sql, items)
            first, last = c.execute("SELECT min(id), max(id) FROM inbox").fetchone()
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        return last - first + 1

    async def put(self, items: list[tuple[int, str, bytes]]) -> int:
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self._put, items)
        except sqlite3.Error as exc:
            # Opened afresh by the next insert: a connection SQLite opened while the file could not
            # be written stays read-only for good, also once the file can be written again.
            self.pool.submit(self._reconnect)
            raise StoreUnavailable(f"database {self.path}: {exc}") from exc

    def _reconnect(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        self.pool.submit(lambda: self.conn.close() if self.conn is not None else None)
        self.pool.shutdown(wait=True)


class Inbox:
    """Group commit of request bodies: every request waiting while one transaction runs goes
    into the next one."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.sqlite: _SqliteWriter | None = None
        if store.dialect == "sqlite" and store.url.database not in (None, "", ":memory:"):
            self.sqlite = _SqliteWriter(store.url.database, BUSY_TIMEOUT_S, store.inbox_insert_sql)
        self._pending: list[tuple[int, str, bytes, asyncio.Future]] = []
        self._writing = False
        self._backlog = 0
        self._backlog_at = 0.0
        self._backlog_reading = False

    async def put(self, received_ns: int, source: str, body: bytes) -> None:
        fut = asyncio.get_running_loop().create_future()
        self._pending.append((received_ns, source, body, fut))
        if not self._writing:
            self._writing = True
            asyncio.get_running_loop().create_task(self._write())
        await fut

    async def _write(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    items = [(ns, source, body) for ns, source, body, _ in batch]
                    if self.sqlite is not None:
                        self._backlog = await self.sqlite.put(items)
                        self._backlog_at = time.monotonic()
                    else:
                        await self.store.inbox_put(items)
                except Exception as exc:  # noqa: BLE001 - every waiting request gets the failure
                    for *_, fut in batch:
                        if not fut.done():
                            fut.set_exception(exc)
                else:
                    for *_, fut in batch:
                        if not fut.done():
                            fut.set_result(None)
        finally:
            self._writing = False

    async def backlog(self) -> int:
        """Bodies stored and not yet applied, from the id range: as this front's last insert saw
        it (SQLite), else read at most every BACKLOG_CHECK_S and by one request at a time, the
        others taking the last value meanwhile. (Read by every request whose value had expired,
        it cost 12-25 ms each as they queued for connections.)"""
        if time.monotonic() - self._backlog_at >= BACKLOG_CHECK_S and not self._backlog_reading:
            self._backlog_reading = True
            try:
                bounds = await self.store.inbox_bounds()
            finally:
                self._backlog_reading = False
            self._backlog = 0 if bounds is None else bounds[1] - bounds[0] + 1
            self._backlog_at = time.monotonic()
        return self._backlog


class Front:
    def __init__(self, settings: Settings, config: Config, engine_socket: str) -> None:
        self.settings = settings
        self.config = config
        self.engine_socket = engine_socket
        self.metrics = FrontMetrics()
        self._warm_up: asyncio.Task[None] | None = None
        self.store = SqlStore(settings.database_url)
        self.inbox = Inbox(self.store)
        self.session: aiohttp.ClientSession | None = None

    async def start(self, app: web.Application) -> None:
        # The database is opened beside the start, not before it: a front listens, and answers
        # 503 for alerts it cannot store, also while the database is down (as the engine does).
        # Opened at the first request instead, it cost the first requests 100 ms and more.
        self._warm_up = asyncio.get_running_loop().create_task(self._open_database())
        self.session = aiohttp.ClientSession(connector=aiohttp.UnixConnector(path=self.engine_socket),
                                             auto_decompress=False, timeout=aiohttp.ClientTimeout(total=None))

    async def _open_database(self) -> None:
        try:
            await self.store.open(migrate=False)
            await self.inbox.backlog()
        except StoreUnavailable:
            pass  # each request tries again, and says so if it cannot store its alerts

    async def stop(self, app: web.Application) -> None:
        if self._warm_up is not None and not self._warm_up.done():
            self._warm_up.cancel()
        if self.session is not None:
            await self.session.close()
        if self.inbox.sqlite is not None:
            self.inbox.sqlite.close()
        await self.store.close()

    async def post_alerts(self, request: web.Request) -> web.Response:
        """`post_alerts` of the engine, with the inbox as the place where valid alerts are stored."""
        body = await read_body(request, self.settings.max_body_bytes)
        if body:
            check_content_type(request.headers.get("Content-Type"))
        now = Timestamp.now()
        fast = validated_postable_alerts(body, now, self.config.resolve_timeout, self.config.matchers_mode)
        if fast is not None:
            await self._store(now, "api", fast[1], fast[0])
            return web.Response(status=200)
        alerts, errors = postable_alerts(body, now, self.config.resolve_timeout, self.config.matchers_mode)
        await self._store(now, "api", len(alerts), validated_to_bytes(alerts))
        if errors:
            self.metrics.alerts_received.labels("api", "invalid").inc(len(errors))
            raise ApiError.payload(400, ERROR_SEPARATOR.join(errors))
        return web.Response(status=200)

    async def post_webhook(self, request: web.Request) -> web.Response:
        """`post_webhook` of the engine (Alertmanager's webhook), into the inbox likewise."""
        check_credentials(self.settings.webhook_auth, request)
        check_webhook_content_type(request.headers.get("Content-Type"))
        body = await read_body(request, self.settings.max_body_bytes)
        now = Timestamp.now()
        alerts, errors = webhook_body_alerts(body, now, self.config.resolve_timeout, self.config.matchers_mode)
        await self._store(now, "webhook", len(alerts), validated_to_bytes(alerts))
        if errors:
            self.metrics.alerts_received.labels("webhook", "invalid").inc(len(errors))
            raise refuse_invalid(errors)
        return web.Response(status=200)

    async def _store(self, now: Timestamp, source: str, valid: int, validated: bytes) -> None:
        """Commits the `valid` alerts of a request, as validated (so that the engine does not
        parse and check them a second time), to the inbox, or raises the 503 that says why not.
        The engine counts them as accepted when it applies them."""
        if not valid:
            return
        try:
            await self.store.open(migrate=False)
            waiting = await self.inbox.backlog()
            if waiting > MAX_INBOX_BODIES:
                self.metrics.alerts_received.labels(source, "unavailable").inc(valid)
                log.warning("alerts refused: overloaded", source=source, alerts=valid, waiting_requests=waiting)
                raise ApiError.payload(
                    503, f"alertbot is overloaded ({waiting} requests are waiting to be applied); retry later"
                ).with_headers(UNAVAILABLE_HEADERS)
            await self.inbox.put(now.ns, f"{source}:validated", validated)
        except StoreUnavailable as exc:
            self.metrics.alerts_received.labels(source, "unavailable").inc(valid)
            raise not_stored(source, valid, exc) from None

    async def pass_on(self, request: web.Request) -> web.StreamResponse:
        """Any other request, to the engine process as it came (raw body: signatures still verify)."""
        assert self.session is not None
        body = await read_body(request, body_limit(request.path, self.settings.max_body_bytes))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["Host"] = request.host
        if request.remote:
            headers["X-Forwarded-For"] = request.remote
        if "traceparent" not in request.headers:  # the engine's logs of it carry this request's trace id
            trace_id = structlog.contextvars.get_contextvars().get("trace_id")
            if trace_id:
                headers["traceparent"] = traceparent(trace_id)
        try:
            async with self.session.request(request.method, f"http://alertbot{request.rel_url}", headers=headers,
                                            data=body if body else None, allow_redirects=False) as resp:
                payload = await resp.read()
                request[PASSED_ON] = True
                out = web.Response(status=resp.status, body=payload)
                for k, v in resp.headers.items():
                    if k.lower() not in _HOP_BY_HOP:
                        out.headers.add(k, v)
                return out
        except (aiohttp.ClientError, OSError) as exc:
            log.warning("engine process not reachable", error=str(exc))
            return web.Response(status=503, headers=UNAVAILABLE_HEADERS, content_type="application/json",
                                body=apijson.error_body(503, "alertbot is not ready: the engine process is not reachable"))

    async def serve_metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.exposition(), content_type="application/openmetrics-text")


def create_front_app(settings: Settings, config: Config, engine_socket: str,
                     ) -> tuple[web.Application, web.Application]:
    """The front's public app, and the one on its metrics socket that the engine's process scrapes.
    Requests passed on are counted and logged by the engine's process, which answers them."""
    front = Front(settings, config, engine_socket)
    app = web.Application(middlewares=[make_middleware(lambda r: front.metrics, lambda r: r.get(PASSED_ON, False))],
                          client_max_size=settings.max_body_bytes)
    app.router.add_route("POST", "/api/v2/alerts", front.post_alerts, name="alerts_post")
    app.router.add_route("POST", "/webhook", front.post_webhook, name="webhook")
    app.router.add_route("*", "/{tail:.*}", front.pass_on, name="pass_on")
    app.on_startup.append(front.start)
    app.on_cleanup.append(front.stop)
    metrics_app = web.Application()
    metrics_app.router.add_get("/metrics", front.serve_metrics)
    return app, metrics_app
