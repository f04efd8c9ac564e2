"""The chatops tests' world: the real `alertbot serve` (a subprocess, SQLite) with the fake
Slack (Web API, response_url, uploads, Socket Mode), the fake PagerDuty, a real Alertmanager
0.25 as the upstream (`ALERTMANAGER_URL`), and, where asked, a real Prometheus with known data.

    async with world(tmp_path, settings=..., prometheus=prom) as w:
        await w.post_alerts(alert("DiskFull", instance="db-1"))
        msg = await w.parent("DiskFull")            # the group's Slack message (channel id, ts, group id)
        r = await w.client.command(f"ack {msg.short} on it", ALICE)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import textwrap
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.chatops.slackapp import FakeSlackApp, SlackClient, wait_for
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.socketmode import FakeSocketMode
from tests.fixtures.alertmanager import Alertmanager
from tests.server.conftest import BotServer

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-test"
APP_TOKEN = "xapp-1-A0FAKE0001-1-test"
ROUTING_KEY = "0123456789abcdef0123456789abcdef"

ROUTES = """\
route:
  receiver: team
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 3s
  routes:
  - matchers: [ack_silence="yes"]
    receiver: team
    ack_silence: true
  - matchers: [escalate="yes"]
    receiver: team-slack
    escalation: {page_after: 4s, receiver: pager}
receivers:
- name: team
  slack_configs:
  - channel: '#alerts'
  pagerduty_configs:
  - routing_key: ${PD_ROUTING_KEY}
    url: PD_URL
- name: team-slack
  slack_configs:
  - channel: '#alerts'
- name: pager
  pagerduty_configs:
  - routing_key: ${PD_ROUTING_KEY}
    url: PD_URL
"""

SETTINGS = """\
chatops:
  upkeep_interval: 1s
  ack_silence_duration: 9s
  upstream_resolve_after: 2s
access:
  everyone:
    allow: [ack, query, expire]
  rules:
    - name: sre
      users: [U0ALICE01]
      allow: [ack, silence, expire, page, query]
      silence: {max_duration: 48h}
    - name: ml-team
      groups: ["@ml-team"]
      allow: [silence]
      silence:
        required_matchers: ['team="ml"']
        max_duration: 24h
"""

RUNBOOK = """\
---
title: Queue backlog
matchers:
  - alertname="QueueBacklog"
owner: platform
---
# Queue backlog

## Impact

Jobs wait.

## Investigation steps

1. Look at the depth of this queue.

   ```promql
   # Queue depth
   queue_depth{queue="{{ .Labels.queue }}"}
   ```

2. Look at all queues.

   ```promql
   # Total depth
   sum(queue_depth)
   ```
"""

AM_CONFIG = """\
route:
  receiver: bot
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
- name: bot
"""


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert(name: str, resolved: bool = False, starts: datetime | None = None, **labels: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"labels": {"alertname": name, **labels},
            "annotations": {"summary": f"{name} on {labels.get('instance', '?')}"},
            "startsAt": iso(starts or now - timedelta(minutes=5)),
            "endsAt": iso(now if resolved else now + timedelta(hours=1))}


@dataclass
class Parent:
    channel_id: str
    ts: str
    group_id: str
    short: str
    ref: str  # the Acknowledge button's value

    def blocks_text(self, slack: FakeSlackApp) -> str:
        m = next(m for m in slack.messages[self.channel_id] if m.ts == self.ts)
        return json.dumps(m.blocks, ensure_ascii=False)


class World:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.socket_mode: FakeSocketMode | None = None
        self.slack: FakeSlackApp
        self.pd: FakePagerDuty
        self.am: Alertmanager | None = None
        self.bot: BotServer
        self.client: SlackClient
        self.env: dict[str, str] = {}  # what the bot was started with

    # ------------------------------------------------------------------ the bot's side
    async def post_alerts(self, *alerts: dict[str, Any]) -> None:
        async with aiohttp.ClientSession() as s, s.post(f"{self.bot.url}/api/v2/alerts", json=list(alerts)) as r:
            assert r.status == 200, await r.text()

    async def parent(self, alertname: str, timeout: float = 15.0) -> Parent:
        """The group's Slack message once posted."""
        def find() -> Parent | None:
            for cid, msgs in self.slack.messages.items():
                for m in msgs:
                    if m.thread_ts or m.deleted:
                        continue
                    text = json.dumps(m.blocks, ensure_ascii=False)
                    if alertname not in text or "alertbot.ack" not in text and "alertbot.unack" not in text:
                        continue
                    for b in m.blocks + [b for a in m.attachments for b in a.get("blocks", [])]:
                        for e in b.get("elements", []) if b.get("type") == "actions" else []:
                            if e.get("action_id") in ("alertbot.ack", "alertbot.unack"):
                                gid = json.loads(e["value"])["g"]
                                from bot.notify.slack.view import short_id

                                return Parent(cid, m.ts, gid, short_id(gid), e["value"])
            return None

        return await wait_for(find, timeout, f"the Slack message of {alertname}")

    def message(self, p: Parent) -> Any:
        return next(m for m in self.slack.messages[p.channel_id] if m.ts == p.ts)

    def thread(self, p: Parent) -> list[str]:
        return [m.text for m in self.slack.thread(p.channel_id, p.ts)]

    async def wait_thread(self, p: Parent, needle: str, timeout: float = 10.0) -> str:
        return await wait_for(lambda: next((t for t in self.thread(p) if needle in t), None), timeout,
                              f"a thread reply with {needle!r}")

    def db(self, sql: str, *args: object) -> list[tuple]:
        con = sqlite3.connect(f"file:{self.bot.workdir / 'bot.db'}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def kv(self, namespace: str, key: str) -> Any:
        rows = self.db("SELECT value FROM kv WHERE namespace = ? AND key = ?", namespace, key)
        return json.loads(rows[0][0]) if rows else None

    def audit(self, group_id: str | None = None) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(actor, action, group id, details) in order."""
        sql = "SELECT actor, action, group_id, details FROM audit"
        rows = self.db(sql + (" WHERE group_id = ?" if group_id is not None else "") + " ORDER BY id",
                       *([group_id] if group_id is not None else []))
        return [(a, b, c, json.loads(d)) for a, b, c, d in rows]

    def silences(self) -> list[dict[str, Any]]:
        rows = self.db("SELECT id, matchers, starts_at_ns, ends_at_ns, created_by, comment FROM silences")
        return [{"id": r[0], "matchers": json.loads(r[1]), "starts_ns": r[2], "ends_ns": r[3], "created_by": r[4],
                 "comment": r[5]} for r in rows]

    def active_silences(self) -> list[dict[str, Any]]:
        now = time.time_ns()
        return [s for s in self.silences() if s["starts_ns"] <= now < s["ends_ns"]]

    async def am_silences(self) -> list[dict[str, Any]]:
        assert self.am is not None
        async with aiohttp.ClientSession() as s, s.get(f"{self.am.url}/api/v2/silences") as r:
            return await r.json()

    async def metrics(self) -> str:
        async with aiohttp.ClientSession() as s, s.get(f"{self.bot.url}/metrics") as r:
            return await r.text()

    def log_records(self) -> list[dict[str, Any]]:
        return self.bot.log_records()

    def logged(self, needle: str) -> list[dict[str, Any]]:
        return [r for r in self.log_records() if needle in json.dumps(r, ensure_ascii=False)]


@contextlib.asynccontextmanager
async def world(tmp: Path, *, settings: str = SETTINGS, routes: str = ROUTES, upstream: bool = True,
                socket_mode: bool = False, prometheus_url: str | None = None, env: dict[str, str] | None = None,
                http_secret: str | None = SECRET) -> AsyncIterator[World]:
    w = World(tmp)
    if socket_mode:
        w.socket_mode = FakeSocketMode(app_token=APP_TOKEN)
        await w.socket_mode.start()
    w.slack = FakeSlackApp(channels=["#alerts", "#ops"], token=BOT_TOKEN, socket_mode=w.socket_mode)
    await w.slack.start()
    w.slack.usergroups = {"S0MLTEAM1": ("ml-team", ["U0BOB0001"])}
    w.pd = FakePagerDuty()
    await w.pd.start()
    try:
        if upstream:
            w.am = await asyncio.to_thread(Alertmanager.start, AM_CONFIG, tmp / "alertmanager")
        runbooks = tmp / "runbooks"
        runbooks.mkdir(exist_ok=True)
        (runbooks / "queue-backlog.md").write_text(RUNBOOK)
        (tmp / "alertbot.yaml").write_text(textwrap.dedent(settings))
        full_env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": w.slack.api_url,
                    "PD_ROUTING_KEY": ROUTING_KEY, "ALERTBOT_SETTINGS": str(tmp / "alertbot.yaml"),
                    "ALERTBOT_RUNBOOKS": str(runbooks), "ALERTBOT_SLACK_DEBOUNCE": "0.2"}
        if http_secret:
            full_env["SLACK_SIGNING_SECRET"] = http_secret
        if w.am is not None:
            full_env["ALERTMANAGER_URL"] = w.am.url
        if socket_mode:
            full_env["SLACK_APP_TOKEN"] = APP_TOKEN
        if prometheus_url:
            full_env["PROMETHEUS_URL"] = prometheus_url
        full_env.update(env or {})
        w.env = full_env
        w.bot = await asyncio.to_thread(BotServer.start, routes.replace("PD_URL", w.pd.events_url), tmp / "bot",
                                        None, full_env)
        if w.am is not None:
            # Alertmanager → the bot's webhook intake (the bot behind an upstream Alertmanager).
            w.am.config_path.write_text(AM_CONFIG + f"  webhook_configs:\n  - url: {w.bot.url}/webhook\n")
            await asyncio.to_thread(w.am.reload)
        w.client = SlackClient(w.slack, w.bot.url, SECRET)
        yield w
    finally:
        bot = getattr(w, "bot", None)
        if bot is not None:
            await asyncio.to_thread(bot.stop)
        if w.am is not None:
            await asyncio.to_thread(w.am.stop)
        await w.pd.stop()
        await w.slack.stop()
        if w.socket_mode is not None:
            await w.socket_mode.stop()


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as the_world:
        yield the_world
