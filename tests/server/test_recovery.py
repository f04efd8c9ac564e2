"""A database fault is recovered from without a restart, with backoff, and is visible.

In-process with the real app and a Store double whose database can be taken down (every call
fails, as a PostgreSQL restart does) or made read-only (reads work, commits fail, as a SQLite
file that cannot be written). The real-database versions of these faults run against `alertbot
serve` in tests/faults.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import load_config_text
from bot.server.app import create_app
from bot.server.common import RUNTIME
from bot.server.settings import Settings
from bot.store.base import StoreUnavailable
from bot.store.memory import MemoryStore
from bot.store.rows import Changes, State


class FaultyStore(MemoryStore):
    """`down`: every read and commit fails; `read_only`: commits fail, reads work."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.read_only = False
        self.loads = 0

    async def load(self) -> State:
        self.loads += 1
        if self.down:
            raise StoreUnavailable("database test: connection refused")
        return await super().load()

    async def commit(self, changes: Changes) -> None:
        if self.down:
            raise StoreUnavailable("database test: connection refused")
        if self.read_only:
            raise StoreUnavailable("database test: attempt to write a readonly database")
        await super().commit(changes)

    async def inbox_bounds(self) -> tuple[int, int] | None:
        if self.down:
            raise StoreUnavailable("database test: connection refused")
        return await super().inbox_bounds()

    async def inbox_take(self, limit: int) -> list:
        if self.down:
            raise StoreUnavailable("database test: connection refused")
        return await super().inbox_take(limit)

    async def renew_lease(self) -> None:
        if self.down or self.read_only:
            raise StoreUnavailable("database test: cannot renew the lease")


class Receiver:
    def __init__(self) -> None:
        self.payloads: list[dict] = []
        self.server: TestServer | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.payloads.append(await request.json())
        return web.Response()

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/", self.handle)
        self.server = TestServer(app)
        await self.server.start_server()
        return str(self.server.make_url("/"))

    def alertnames(self) -> set[str]:
        return {a["labels"]["alertname"] for p in self.payloads for a in p["alerts"]}


def _config(url: str) -> str:
    return f"""\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
"""


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    yield r
    assert r.server is not None
    await r.server.close()


async def _client(store: MemoryStore, url: str, **settings: object) -> TestClient:
    app = create_app(Settings(ingest_workers=0, **settings), config=load_config_text(_config(url)),  # type: ignore[arg-type]
                     store=store)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


async def _until(check, what: str, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


async def _status(client: TestClient, path: str) -> int:
    return (await client.get(path)).status


async def _post(client: TestClient, name: str) -> int:
    return (await client.post("/api/v2/alerts", json=[{"labels": {"alertname": name}}])).status


async def test_a_database_outage_is_recovered_from_and_every_group_flushes(receiver: Receiver) -> None:
    store = FaultyStore()
    url = str(receiver.server.make_url("/"))  # type: ignore[union-attr]
    client = await _client(store, url, max_unready_seconds=1.0)
    try:
        await _until(lambda: _ok(client, "/-/ready"), "ready")
        assert await _post(client, "Before") == 200
        store.down = True
        assert await _post(client, "During") == 503
        ready = await client.get("/-/ready")
        assert ready.status == 503 and "recovering from a database error" in await ready.text()
        # Not able to run its engine for longer than max_unready_seconds: /-/healthy says so.
        await _until(lambda: _is(client, "/-/healthy", 503), "unhealthy after max_unready_seconds")
        assert "connection refused" in await (await client.get("/-/healthy")).text()
        loads_while_down = store.loads
        await asyncio.sleep(2.5)
        assert store.loads > loads_while_down, "the reload is tried again while the database is down"
        store.down = False
        await _until(lambda: _ok(client, "/-/ready"), "ready again without a restart")
        assert await _status(client, "/-/healthy") == 200
        assert await _post(client, "After") == 200
        # Before: the reload was tried once; the engine stayed unready and nothing was sent.
        await _until(lambda: _true(receiver.alertnames() >= {"Before", "After"}), "both groups notified")
        assert "During" not in receiver.alertnames()  # it was answered 503: Prometheus sends it again
    finally:
        await client.close()


async def test_commits_failing_for_good_back_off(receiver: Receiver) -> None:
    store = FaultyStore()
    url = str(receiver.server.make_url("/"))  # type: ignore[union-attr]
    client = await _client(store, url)
    try:
        await _until(lambda: _ok(client, "/-/ready"), "ready")
        assert await _post(client, "Stuck") == 200
        store.read_only = True  # the group's flush, due in a second, cannot be committed
        loads = store.loads
        await asyncio.sleep(4.0)
        # Before: each failed commit reloaded at once and failed again, ~50 times a second.
        # Now the reloads wait 0.5 s, doubling: at most 0.5 + 1 + 2 in these 4 s.
        assert 1 <= store.loads - loads <= 4
        assert receiver.payloads == []
        store.read_only = False
        await _until(lambda: _true("Stuck" in receiver.alertnames()), "notified once writable again")
        assert await _status(client, "/-/ready") == 200
    finally:
        await client.close()


async def test_healthy_fails_when_the_database_is_never_reachable(receiver: Receiver) -> None:
    store = FaultyStore()
    store.down = True
    url = str(receiver.server.make_url("/"))  # type: ignore[union-attr]
    client = await _client(store, url, max_unready_seconds=1.0)
    try:
        assert await _status(client, "/-/healthy") == 200  # starting: not yet too long
        await _until(lambda: _is(client, "/-/healthy", 503), "unhealthy after max_unready_seconds")
        store.down = False
        await _until(lambda: _ok(client, "/-/ready"), "ready once the database answers")
        assert await _status(client, "/-/healthy") == 200
    finally:
        await client.close()


async def _ok(client: TestClient, path: str) -> bool:
    return await _status(client, path) == 200


async def _is(client: TestClient, path: str, status: int) -> bool:
    return await _status(client, path) == status


async def _true(value: bool) -> bool:
    return value


@pytest.mark.parametrize("lease_seconds", [15.0, 1.5])
async def test_what_was_delivered_is_not_sent_again_while_commits_fail(lease_seconds: float) -> None:
    """The receiver's 200 cannot be recorded (the disk fills as it answers): the outcome waits
    for the database, it is not sent again on every reload — nor when the fault outlasts the
    engine lease, and the replica steps down and takes it back with a new engine."""
    store = FaultyStore()
    received: list[dict] = []

    async def handle(request: web.Request) -> web.Response:
        received.append(await request.json())
        if len(received) == 1:
            store.read_only = True  # the commit of this delivery fails, and the next ones
            asyncio.get_running_loop().call_later(3.0, setattr, store, "read_only", False)
        return web.Response()

    app = web.Application()
    app.router.add_post("/", handle)
    hook = TestServer(app)
    await hook.start_server()
    client = await _client(store, str(hook.make_url("/")), lease_seconds=lease_seconds)
    try:
        await _until(lambda: _ok(client, "/-/ready"), "ready")
        first_engine = client.app[RUNTIME].engine  # type: ignore[index]
        assert await _post(client, "Once") == 200
        await _until(lambda: _true(bool(received) and not store.read_only), "delivered, then writable again")
        await _until(lambda: _true(any(n.status == "delivered" for n in store.outbox.values())),  # type: ignore[attr-defined]
                     "the delivery recorded once the database takes it")
        await asyncio.sleep(1.0)
        # Before: every reload while the commits failed sent the notification again.
        assert len(received) == 1
        # A fault of 3 s outlasts a lease of 1.5 s: the replica stepped down and came back.
        assert (client.app[RUNTIME].engine is first_engine) == (lease_seconds == 15.0)  # type: ignore[index]
    finally:
        await client.close()
        await hook.close()
