"""Fixtures for the Slack tests: the fake Slack in the test's loop, and `alertbot serve` as a
subprocess pointed at it (started from a worker thread, so the fake keeps answering)."""

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.slack import FakeSlack
from tests.server.conftest import BotServer

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = ["#mlops-alerts", "#ml-team-alerts", "#data-team-alerts", "#alerts"]


def shipped_routes(group_wait: str = "1s", group_interval: str = "2s", repeat_interval: str = "1h") -> str:
    """The routes.yaml the bot ships, with timers short enough for a test."""
    text = (ROOT / "routes.yaml").read_text()
    text = re.sub(r"(?m)^(\s*)group_wait: .*$", rf"\1group_wait: {group_wait}", text)
    text = re.sub(r"(?m)^(\s*)group_interval: .*$", rf"\1group_interval: {group_interval}", text)
    text = re.sub(r"(?m)^(\s*)repeat_interval: .*$", rf"\1repeat_interval: {repeat_interval}", text)
    return text


def bot_env(slack: FakeSlack, **extra: str) -> dict[str, str]:
    env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.api_url, "ALERTBOT_SLACK_DEBOUNCE": "0.5",
           "ALERTBOT_RUNBOOKS": str(ROOT / "runbooks"), "ALERTBOT_LOG_LEVEL": "info"}
    env.update(extra)
    return env


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    s = FakeSlack(CHANNELS)
    await s.start()
    yield s
    await s.stop()


class Bots:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.started: list[BotServer] = []

    async def start(self, config: str, env: dict[str, str], name: str = "bot") -> BotServer:
        server = await asyncio.to_thread(BotServer.start, config, self.tmp_path / name, None, env)
        self.started.append(server)
        return server

    def kill(self, server: BotServer) -> None:
        server.proc.send_signal(signal.SIGKILL)
        server.proc.wait(timeout=10)


@pytest.fixture
def bots(tmp_path: Path) -> Iterator[Bots]:
    b = Bots(tmp_path)
    yield b
    for s in b.started:
        s.stop()


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def api_alert(name: str, *, resolved: bool = False, annotations: dict[str, str] | None = None,
              started_ago: float = 0.0, **labels: str) -> dict[str, Any]:
    """An alert as Prometheus posts it (started `started_ago` seconds ago: an alert that started
    longer ago than group_wait is flushed at once, as today's Alertmanager does)."""
    now = datetime.now(UTC)
    if resolved:
        started_ago = max(started_ago, 60.0)
    a: dict[str, Any] = {"labels": {"alertname": name, **labels}, "annotations": annotations or {},
                         "startsAt": iso(now - timedelta(seconds=started_ago)),
                         "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up"}
    if resolved:
        a["endsAt"] = iso(now - timedelta(seconds=1))
    return a


async def post_alerts(bot: BotServer, *alerts: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as s, s.post(f"{bot.url}/api/v2/alerts", json=list(alerts)) as r:
        assert r.status == 200, await r.text()


async def post_webhook(bot: BotServer, *alerts: dict[str, Any], status: str = "firing") -> None:
    """What an Alertmanager's webhook_configs sends (version 4)."""
    body = {"version": "4", "groupKey": '{}:{alertname="X"}', "truncatedAlerts": 0, "status": status,
            "receiver": "bot", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": [{"status": "resolved" if "endsAt" in a else "firing", "labels": a["labels"],
                        "annotations": a["annotations"], "startsAt": a["startsAt"],
                        "endsAt": a.get("endsAt", "0001-01-01T00:00:00Z"), "generatorURL": a["generatorURL"],
                        "fingerprint": "0"} for a in alerts]}
    async with aiohttp.ClientSession() as s, s.post(f"{bot.url}/webhook", data=json.dumps(body),
                                                  headers={"Content-Type": "application/json"}) as r:
        assert r.status == 200, await r.text()


def header(m: Any) -> str:
    return m.blocks[0]["text"]["text"]

