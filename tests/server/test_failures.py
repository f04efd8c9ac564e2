"""What a subprocess cannot easily show, in-process with the real app: the database refusing a
commit, a full queue, a handler that crashes — each answered with a short status and message
(503s that Alertmanager and Prometheus retry; a 500 without a traceback), and the server
serving on."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import AsyncIterator

import pytest
import structlog
from aiohttp.test_utils import TestClient, TestServer

from bot import logging as botlog
from bot.config import load_config_text
from bot.server import api_status
from bot.server.app import create_app
from bot.server.settings import Settings
from bot.store.base import StoreUnavailable
from bot.store.memory import MemoryStore

CONFIG = "route:\n  receiver: r\n  group_wait: 1h\nreceivers:\n  - name: r\n"
ALERT = [{"labels": {"alertname": "A"}}]


async def _client(store: MemoryStore, **settings: object) -> TestClient:
    app = create_app(Settings(**settings), config=load_config_text(CONFIG), store=store)  # type: ignore[arg-type]
    client = TestClient(TestServer(app))
    await client.start_server()
    for _ in range(200):
        if (await client.get("/-/ready")).status == 200:
            return client
        await asyncio.sleep(0.01)
    raise AssertionError("not ready")


@pytest.fixture
async def logs() -> AsyncIterator[io.StringIO]:
    stream = io.StringIO()
    botlog.configure(instance="test", stream=stream)
    yield stream
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_alertbot", False):
            root.removeHandler(h)
    structlog.reset_defaults()


async def test_database_refusing_a_commit_answers_503_then_recovers(logs: io.StringIO) -> None:
    store = MemoryStore()
    client = await _client(store)
    try:
        store.fail_next = StoreUnavailable("database is locked")
        r = await client.post("/api/v2/alerts", json=ALERT)
        assert r.status == 503
        assert await r.read() == b'"alerts not stored: the database is unavailable; retry later"\n'
        assert r.headers["Retry-After"] == "1"
        assert store.alerts == {}
        # The retry Alertmanager/Prometheus make is stored, once the state is reloaded.
        for _ in range(3000):
            if (await client.get("/-/ready")).status == 200:
                break
            await asyncio.sleep(0.01)
        r = await client.post("/api/v2/alerts", json=ALERT)
        assert r.status == 200
        assert len(store.alerts) == 1
        metrics = await (await client.get("/metrics")).text()
        assert 'alertbot_alerts_received_total{result="unavailable",source="api"} 1.0' in metrics
        assert 'alertbot_db_errors_total{operation="commit"} 1.0' in metrics
    finally:
        await client.close()


async def test_full_queue_answers_503_without_storing(logs: io.StringIO) -> None:
    store = MemoryStore()
    client = await _client(store, max_queued_alerts=5)
    try:
        r = await client.post("/api/v2/alerts", json=[{"labels": {"alertname": "A", "i": str(i)}} for i in range(6)])
        assert r.status == 503
        assert (await r.text()).startswith('"alertbot is overloaded (')
        assert store.alerts == {}
        r = await client.post("/api/v2/alerts", json=ALERT)
        assert r.status == 200
    finally:
        await client.close()


async def test_a_crash_is_a_short_500_and_a_logged_traceback(logs: io.StringIO, monkeypatch) -> None:
    def broken(config: object) -> str:
        raise RuntimeError("bug in the status page with token=abc123")

    monkeypatch.setattr(api_status, "redacted_text", broken)
    client = await _client(MemoryStore())
    try:
        r = await client.get("/api/v2/status", headers={"traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"})
        body = await r.read()
        assert r.status == 500
        assert body == b'{"code":500,"message":"internal server error (trace id ' + b"a" * 32 + b')"}'
        assert (await client.get("/api/v2/receivers")).status == 200  # still serving
    finally:
        await client.close()
    records = [json.loads(line) for line in logs.getvalue().splitlines()]
    crash = next(r for r in records if r["message"] == "request failed")
    assert crash["trace_id"] == "a" * 32
    assert "Traceback" in crash["exception"] and "RuntimeError" in crash["exception"]
    assert "abc123" not in logs.getvalue()
