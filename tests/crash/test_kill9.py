"""kill -9 at the worst moments, then restart: what was due is delivered, and nothing is
delivered twice beyond what the README promises (a webhook notification whose delivery was
cut short by the kill may arrive once more; nothing else repeats).

Each test runs on a fresh SQLite file and on a fresh PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import aiohttp
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


def kill9(server: BotServer) -> None:
    server.signal(signal.SIGKILL)
    server.proc.wait(timeout=10)


def instances(body: dict) -> list[str]:
    return sorted(a["labels"]["instance"] for a in body["alerts"])


async def test_kill_during_group_wait_keeps_the_timer(tmp_path: Path, database_url: str) -> None:  # noqa: F811
    rx = Receiver()
    await rx.start()
    bot = start_bot(tmp_path / "bot", rx.url, database_url, "6s", "1h")
    try:
        posted = time.monotonic()
        await post(bot, "a")
        await asyncio.sleep(1.5)
        kill9(bot)
        # In a thread: the receiver runs on this event loop and must keep answering.
        bot = await asyncio.to_thread(start_bot, tmp_path / "bot", rx.url, database_url, "6s", "1h")
        assert await rx.wait(lambda: rx.received, 30)
        at = rx.received[0][0] - posted
        # The group's timer was stored: the first notification comes at group_wait after
        # the alert, not group_wait after the restart (an Alertmanager restart would reset it).
        assert 5.0 <= at <= 9.0, at
        await asyncio.sleep(3)
        assert [instances(b) for _, b in rx.received] == [["a"]]
    finally:
        bot.stop()
        await rx.stop()


async def test_kill_during_a_slow_delivery_resends_at_most_once(tmp_path: Path, database_url: str) -> None:  # noqa: F811
    rx = Receiver()
    rx.delay = 3.0  # the receiver holds the request while the bot is killed
    await rx.start()
    bot = start_bot(tmp_path / "bot", rx.url, database_url, "1s", "20s")
    try:
        await post(bot, "a", "b")
        assert await rx.wait(lambda: rx.attempts, 15)
        kill9(bot)  # the delivery was sent but its success never recorded
        rx.delay = 0.0
        # In a thread: the receiver runs on this event loop and must keep answering.
        bot = await asyncio.to_thread(start_bot, tmp_path / "bot", rx.url, database_url, "1s", "20s")
        assert await rx.wait(lambda: len(rx.received) >= 2, 20)
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
        assert await rx.wait(lambda: len(rx.attempts) >= 2, 15)  # retried
        kill9(bot)
        rx.status = 200
        # In a thread: the receiver runs on this event loop and must keep answering.
        bot = await asyncio.to_thread(start_bot, tmp_path / "bot", rx.url, database_url, "1s", "30s")
        assert await rx.wait(lambda: rx.received, 20)
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
        assert await rx.wait(lambda: rx.received, 15)
        await asyncio.sleep(0.5)
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
