"""kill -9 at the worst moments, then restart: what was due is delivered, and nothing is
delivered twice beyond what the README promises (a webhook notification whose delivery was
cut short by the kill may arrive once more; nothing else repeats).

Each test runs on a fresh SQLite file and on a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from tests.fixtures.database import database_url  # noqa: F401  (fixture)
from tests.fixtures.postgres import postgres_cluster, postgres_databases, postgres_url  # noqa: F401
from tests.server.conftest import BotServer

pytestmark = [pytest.mark.slow]

CONFIG = """\
route:
  receiver: hook
  group_by: [alertname]
  group_wait: {group_wait}
  group_interval: {group_interval}
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: {url}
"""


class Receiver:
    """A webhook receiver that can be slow, refuse, or answer 503."""

    def __init__(self) -> None:
        self.received: list[tuple[float, dict]] = []  # (monotonic time, body) of each request it answered 2xx
        self.attempts: list[tuple[float, dict]] = []  # every request that reached it
        self.delay = 0.0
        self.hold: asyncio.Event | None = None  # when set: requests wait for it (after `delay`)
        self.status = 200
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.attempts.append((time.monotonic(), body))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.hold is not None:
            await self.hold.wait()
        if self.status == 200:
            self.received.append((time.monotonic(), body))
        return web.Response(status=self.status, text="ok" if self.status == 200 else "unavailable")

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def wait(self, predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return True
            await asyncio.sleep(0.05)
        return predicate()


async def post(server: BotServer, *names: str) -> None:
    alerts = [{"labels": {"alertname": "Crash", "instance": n}} for n in names]
    async with aiohttp.ClientSession() as s:
        async with s.post(f"{server.url}/api/v2/alerts", data=json.dumps(alerts),
                          headers={"Content-Type": "application/json"}) as r:
            assert r.status == 200, await r.text()


def start_bot(tmp: Path, url: str, db: str, group_wait: str, group_interval: str) -> BotServer:
    cfg = CONFIG.format(group_wait=group_wait, group_interval=group_interval, url=url)
    return BotServer.start(cfg, tmp, ["--database", db])


async def delivered(database_url: str) -> int:
    """How many notifications the bot has recorded as delivered (its outbox, in its database)."""
    sql = "SELECT count(*) FROM outbox WHERE status = 'delivered'"
    if database_url.startswith("sqlite"):
        def count() -> int:
            con = sqlite3.connect(f"file:{database_url.split(':///', 1)[1]}?mode=ro", uri=True, timeout=10)
            try:
                return con.execute(sql).fetchone()[0]
            finally:
                con.close()
        return await asyncio.to_thread(count)
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"), timeout=30)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def wait_async(predicate, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.1)
    return bool(await predicate())


def kill9(server: BotServer) -> None:
    server.signal(signal.SIGKILL)
    server.proc.wait(timeout=10)


def instances(body: dict) -> list[str]:
    return sorted(a["labels"]["instance"] for a in body["alerts"])


GROUP_WAIT = 15.0
KILLED_AFTER = 7.0  # into the group_wait


def logged_at(record: dict) -> float:
    """A log record's time on this process's monotonic clock."""
    return datetime.fromisoformat(record["timestamp"]).timestamp() - (time.time() - time.monotonic())


async def test_kill_during_group_wait_keeps_the_timer(tmp_path: Path, database_url: str) -> None:  # noqa: F811
    """The group's timer was stored: the first notification is due group_wait after the alert,
    not group_wait after the restart (an Alertmanager restart would reset it).

    Told apart by order, not by how fast this machine is. A timer started afresh cannot fire
    before `restarted + GROUP_WAIT`, where `restarted` is when the new process logged
    "starting" (before it opens the database, let alone makes timers). The stored timer fires
    at `posted + GROUP_WAIT`, or as soon as the new process has loaded its state if that is
    later: at least KILLED_AFTER seconds (plus the new process's start) earlier when the restart
    is quick, and GROUP_WAIT seconds minus the state's load earlier when it is slow."""
    wait = f"{GROUP_WAIT:g}s"
    rx = Receiver()
    await rx.start()
    bot = start_bot(tmp_path / "bot", rx.url, database_url, wait, "1h")
    try:
        posted = time.monotonic()
        await post(bot, "a")
        await asyncio.sleep(KILLED_AFTER - (time.monotonic() - posted))
        killed = time.monotonic()
        kill9(bot)
        # In a thread: the receiver runs on this event loop and must keep answering.
        bot = await asyncio.to_thread(start_bot, tmp_path / "bot", rx.url, database_url, wait, "1h")
        assert await rx.wait(lambda: rx.received, 2 * GROUP_WAIT + 60)
        at = rx.received[0][0]
        starts = [r for r in bot.log_records() if r.get("message") == "starting" and not r.get("process")]
        assert len(starts) == 2, starts
        restarted = logged_at(starts[-1])
        loaded = [logged_at(r) for r in bot.log_records() if str(r.get("message")).startswith("engine started")]
        story = (f"posted at 0, killed at {killed - posted:.1f}s, restarted at {restarted - posted:.1f}s, "
                 f"state loaded at {loaded[-1] - posted if loaded else float('nan'):.1f}s, "
                 f"notified at {at - posted:.1f}s")
        assert at >= posted + GROUP_WAIT - 0.5, f"notified before group_wait: {story}"
        assert at < restarted + GROUP_WAIT, f"the timer started again at the restart: {story}"
        await asyncio.sleep(3)
        assert [instances(b) for _, b in rx.received] == [["a"]]
    finally:
        bot.stop()
        await rx.stop()


async def test_kill_during_a_slow_delivery_resends_at_most_once(tmp_path: Path, database_url: str) -> None:  # noqa: F811
    rx = Receiver()
    rx.hold = asyncio.Event()  # the receiver holds the request until the bot has been killed
    await rx.start()
    bot = start_bot(tmp_path / "bot", rx.url, database_url, "1s", "20s")
    try:
        await post(bot, "a", "b")
        assert await rx.wait(lambda: rx.attempts, 60)
        kill9(bot)  # the delivery was sent but its success never recorded
        rx.hold.set()  # it arrives (2xx) only now, with nobody left to hear the answer
        rx.hold = None
        # In a thread: the receiver runs on this event loop and must keep answering.
        bot = await asyncio.to_thread(start_bot, tmp_path / "bot", rx.url, database_url, "1s", "20s")
        assert await rx.wait(lambda: len(rx.received) >= 2, 60)
        await asyncio.sleep(3)
        bodies = [b for _, b in rx.received]
        # The README's promise: at most one extra delivery of a notification cut short by a kill.
        assert len(bodies) == 2, [instances(b) for b in bodies]
        assert all(instances(b) == ["a", "b"] and b["status"] == "firing" for b in bodies)
    finally:
        bot.stop()
        await rx.stop()


async def test_kill_with_notifications_queued_delivers_after_restart(tmp_path: Path, database_url: str) -> None:  # noqa: F811
    rx = Receiver()
    rx.status = 503  # the receiver is down: the bot keeps retrying within the flush
    await rx.start()
    bot = start_bot(tmp_path / "bot", rx.url, database_url, "1s", "30s")
    try:
        await post(bot, "a")
        assert await rx.wait(lambda: len(rx.attempts) >= 2, 60)  # retried
        kill9(bot)
        rx.status = 200
        # In a thread: the receiver runs on this event loop and must keep answering.
        bot = await asyncio.to_thread(start_bot, tmp_path / "bot", rx.url, database_url, "1s", "30s")
        assert await rx.wait(lambda: rx.received, 60)
        await asyncio.sleep(3)
        assert [instances(b) for _, b in rx.received] == [["a"]]
        assert rx.received[0][1]["status"] == "firing"
    finally:
        bot.stop()
        await rx.stop()


async def test_nothing_repeats_after_a_delivered_notification(tmp_path: Path, database_url: str) -> None:  # noqa: F811
    rx = Receiver()
    await rx.start()
    bot = start_bot(tmp_path / "bot", rx.url, database_url, "1s", "4s")
    try:
        await post(bot, "a")
        assert await rx.wait(lambda: rx.received, 60)
        assert await wait_async(lambda: delivered(database_url), 60), "the delivery was never recorded"
        kill9(bot)
        # In a thread: the receiver runs on this event loop and must keep answering.
        bot = await asyncio.to_thread(start_bot, tmp_path / "bot", rx.url, database_url, "1s", "4s")
        await post(bot, "a")  # Prometheus keeps re-sending the firing alert
        await asyncio.sleep(9)  # two more ticks
        # Delivered and recorded before the kill: the notification log says so after restart.
        assert [instances(b) for _, b in rx.received] == [["a"]]
    finally:
        bot.stop()
        await rx.stop()
