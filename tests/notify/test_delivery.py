"""The delivery worker against real webhook integrations and a local receiver: a burst of
flush rows is taken a bounded number at a time per destination, in order, and rows whose
flush deadline passes while they wait end without an attempt."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
from aiohttp import web

from bot.config import load_config_text
from bot.notify.delivery import FLUSH_SLOTS, DeliveryWorker
from bot.notify.http import HttpClient
from bot.notify.registry import build_integrations
from bot.store.rows import OutboxRow


class Receiver:
    """Webhook endpoints on a local server: `/slow` holds every request until released, `/fast`
    answers at once. (Two destinations of a test use two servers: the HTTP client's 32
    connections per host would otherwise be the limit a test sees.)"""

    def __init__(self) -> None:
        self.fast: list[bytes] = []
        self.slow_started = 0
        self.release = asyncio.Event()
        self.port = 0

    async def _slow(self, request: web.Request) -> web.Response:
        await request.read()
        self.slow_started += 1
        await self.release.wait()
        return web.Response(text="ok")

    async def _fast(self, request: web.Request) -> web.Response:
        self.fast.append(await request.read())
        return web.Response(text="ok")

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/slow", self._slow)
        app.router.add_post("/fast", self._fast)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release.set()
        await self._runner.cleanup()


def config(slow_port: int, fast_port: int = 1) -> str:
    return f"""
route:
  receiver: slow
receivers:
- name: slow
  webhook_configs:
  - url: http://127.0.0.1:{slow_port}/slow
- name: fast
  webhook_configs:
  - url: http://127.0.0.1:{fast_port}/fast
"""


def row(i: int, receiver: str, deadline_ns: int) -> OutboxRow:
    now = time.time_ns()
    return OutboxRow(id=i, group_id=f"g{i}", flush_id=i, receiver=receiver, integration="webhook",
                     integration_index=0, nflog_key=f"k{i}", payload=f'{{"n":{i}}}', nflog_firing="[]",
                     nflog_resolved="[]", nflog_expires_ns=0, created_at_ns=now, not_before_ns=now,
                     deadline_ns=deadline_ns, ordering_key=f"webhook:0:g{i}")


class Finished:
    def __init__(self) -> None:
        self.results: dict[int, tuple[bool, int, str]] = {}
        self.changed = asyncio.Event()

    def __call__(self, row_id: int, ok: bool, attempts: int, error: str = "", effects: dict | None = None) -> None:
        self.results[row_id] = (ok, attempts, error)
        self.changed.set()

    async def wait_for(self, n: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while len(self.results) < n:
                self.changed.clear()
                await self.changed.wait()


@pytest.fixture
async def http() -> HttpClient:
    client = await HttpClient.create()
    yield client
    await client.close()


async def test_a_burst_is_attempted_a_bounded_number_at_a_time_and_the_rest_expire_unattempted(http) -> None:  # type: ignore[no-untyped-def]
    async with Receiver() as rcv:
        registry = build_integrations(load_config_text(config(rcv.port)), http)
        done = Finished()
        worker = DeliveryWorker(lambda: registry, done)
        burst = 5 * FLUSH_SLOTS
        deadline = time.time_ns() + 1_000_000_000  # the slow receiver answers none of them in time
        worker.submit([row(i, "slow", deadline) for i in range(1, burst + 1)])
        await done.wait_for(burst, timeout=20)
    attempted = sorted(i for i, (_, attempts, _) in done.results.items() if attempts)
    assert attempted == list(range(1, FLUSH_SLOTS + 1)), "the first rows are attempted, no more than the slots"
    assert all(done.results[i] == (False, 1, "flush deadline passed during the attempt") for i in attempted)
    for i in range(FLUSH_SLOTS + 1, burst + 1):
        assert done.results[i] == (False, 0, "flush deadline passed before a connection was free"), i
    assert rcv.slow_started <= FLUSH_SLOTS


async def test_a_destination_with_its_slots_full_does_not_hold_back_another(http) -> None:  # type: ignore[no-untyped-def]
    async with Receiver() as rcv, Receiver() as other:
        registry = build_integrations(load_config_text(config(rcv.port, other.port)), http)
        done = Finished()
        worker = DeliveryWorker(lambda: registry, done)
        deadline = time.time_ns() + 30_000_000_000
        worker.submit([row(i, "slow", deadline) for i in range(1, 3 * FLUSH_SLOTS + 1)])
        worker.submit([row(1000 + i, "fast", deadline) for i in range(20)])
        await done.wait_for(20, timeout=10)
        assert sorted(done.results) == [1000 + i for i in range(20)]
        assert all(ok for ok, _, _ in done.results.values())
        assert len(other.fast) == 20
        rcv.release.set()  # the slow receiver answers: every queued row goes out
        await done.wait_for(3 * FLUSH_SLOTS + 20, timeout=20)
    assert all(ok and attempts == 1 for ok, attempts, _ in done.results.values())


async def test_each_notification_sent_is_logged_and_a_dry_run_is_not_called_sent(http) -> None:  # type: ignore[no-untyped-def]
    """A line at info per notification sent (receiver, integration, group, attempts); a dry-run
    integration, which only logs what it would send, is not reported as sent."""
    from structlog.testing import capture_logs

    from bot.engine.engine import IntegrationRegistry
    from bot.notify.dryrun import DryRunIntegration

    async with Receiver() as rcv:
        registry = build_integrations(load_config_text(config(1, rcv.port)), http)
        dry = IntegrationRegistry({"slow": [DryRunIntegration("webhook", "slow", 0, True, "http://x", "a test")]})
        done = Finished()
        with capture_logs() as logs:
            DeliveryWorker(lambda: registry, done).submit([row(1, "fast", time.time_ns() + 10**10)])
            DeliveryWorker(lambda: dry, done).submit([dataclasses.replace(row(2, "slow", 0), payload=DRY_PAYLOAD)])
            await done.wait_for(2, timeout=10)
    assert done.results[1][0] and done.results[2][0]
    sent = [e for e in logs if e["event"] == "notification sent"]
    assert sent == [{"event": "notification sent", "log_level": "info", "receiver": "fast",
                     "integration": "webhook[0]", "group": "g1", "attempts": 1, "seconds": sent[0]["seconds"]}]


DRY_PAYLOAD = ('{"status": "firing", "alertnames": ["A"], "firing": 1, "resolved": 0, "reason": "new"}')
