"""Slack and PagerDuty together, end to end, with the fake Slack and the fake PagerDuty:

- `alertbot serve` with a Slack-first route: Slack is posted at group_wait, PagerDuty paged
  only after page_after, the thread says so; a signed PagerDuty acknowledgement shows on the
  Slack message and in its thread;
- the real app in this process, for the chatops API (acknowledge, as the Slack buttons will
  call it): an acknowledgement in time means nobody is paged; on a group that paged directly
  it reaches PagerDuty as `acknowledge` with the same dedup_key.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.notify.pagerduty import service_for
from bot.server.app import create_app
from bot.server.common import RUNTIME
from bot.server.settings import Settings
from tests.fakes.pagerduty import FakePagerDuty
from tests.fakes.slack import FakeSlack
from tests.peers import free_port
from tests.server.conftest import BotServer

ROUTING_KEY = "0123456789abcdef0123456789abcdef"
SECRET = "whsec-test"

CONFIG = """\
route:
  receiver: slack
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
  - matchers: [team="slackfirst"]
    receiver: slack
    escalation: {page_after: PAGE_AFTER, receiver: pd}
  - matchers: [team="pd"]
    receiver: pd
receivers:
- name: slack
  slack_configs:
  - channel: '#alerts'
    send_resolved: true
- name: pd
  pagerduty_configs:
  - routing_key: ROUTING_KEY
    url: PD_URL
"""


def config(pd: FakePagerDuty, page_after: str) -> str:
    return (CONFIG.replace("PD_URL", pd.events_url).replace("ROUTING_KEY", ROUTING_KEY)
            .replace("PAGE_AFTER", page_after))


def env(slack: FakeSlack, tmp: Path) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": slack.token, "SLACK_API_URL": slack.api_url, "ALERTBOT_SLACK_DEBOUNCE": "0",
            "ALERTBOT_SLACK_CHANNEL_RATE": "50", "ALERTBOT_SLACK_CHANNEL_BURST": "10",
            "PAGERDUTY_WEBHOOK_SECRET": SECRET, "ALERTBOT_RUNBOOKS": str(tmp / "no-runbooks")}


def alert(name: str, team: str, resolved: bool = False) -> dict[str, Any]:
    now = datetime.now(UTC)
    iso = lambda t: t.isoformat().replace("+00:00", "Z")  # noqa: E731
    return {"labels": {"alertname": name, "team": team, "severity": "critical"},
            "annotations": {"summary": f"{name} is down"}, "startsAt": iso(now),
            "endsAt": iso(now if resolved else now + timedelta(hours=1))}


async def post(url: str, *alerts: dict[str, Any]) -> None:
    async with aiohttp.ClientSession() as s, s.post(f"{url}/api/v2/alerts", json=list(alerts)) as r:
        assert r.status == 200, await r.text()


def texts(messages: list[Any]) -> list[str]:
    return [m.text for m in messages]


def message_text(m: Any) -> str:
    return json.dumps({"text": m.text, "blocks": m.blocks, "attachments": m.attachments}, ensure_ascii=False)


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(channels=["#alerts"], token="xoxb-test")
    await fake.start()
    yield fake
    await fake.stop()


async def test_serve_slack_first_then_page_and_a_pagerduty_ack_shows_in_slack(
        slack: FakeSlack, fake_pd: FakePagerDuty, tmp_path: Path) -> None:
    server = await asyncio.to_thread(BotServer.start, config(fake_pd, "3s"), tmp_path / "bot", None,
                                     env(slack, tmp_path))
    try:
        await post(server.url, alert("ModelDown", "slackfirst"))
        await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 15, "the Slack post")
        posted = time.monotonic()
        assert fake_pd.received == []  # Slack first
        events = await fake_pd.wait_events(1, timeout=20)
        paged = fake_pd.received[0].at
        assert paged - posted >= 2.0, paged - posted  # page_after: 3s from the first flush
        group_key = '{}/{team="slackfirst"}:{alertname="ModelDown"}'
        key = hashlib.sha256(group_key.encode()).hexdigest()
        assert events[0]["dedup_key"] == key and events[0]["event_action"] == "trigger"
        (parent,) = slack.parents("#alerts")
        await slack.wait_until(lambda: any("paging PagerDuty" in t for t in texts(slack.thread("#alerts", parent.ts))),
                               10, "the escalation in the thread")
        updates_before = len(slack.calls_of("chat.update"))
        body, headers = fake_pd.webhook("incident.acknowledged", key, secrets=[SECRET], agent="Alice Oncall")
        async with aiohttp.ClientSession() as s, \
                s.post(f"{server.url}/pagerduty/webhook", data=body, headers=headers) as r:
            assert r.status == 202, await r.text()
        await slack.wait_until(
            lambda: any("Acknowledged in PagerDuty by Alice Oncall" in t for t in texts(slack.thread("#alerts", parent.ts))),
            10, "the PagerDuty acknowledgement in the thread")
        await slack.wait_until(lambda: len(slack.calls_of("chat.update")) > updates_before, 10, "the message redrawn")
        (parent,) = slack.parents("#alerts")
        shown = message_text(parent)
        assert "Alice Oncall" in shown, shown
        assert "acknowledged" in shown.lower()
    finally:
        await asyncio.to_thread(server.stop)


async def _run_app(cfg: str, tmp: Path, extra_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
                   ) -> tuple[web.AppRunner, web.Application, str]:
    for k, v in extra_env.items():
        monkeypatch.setenv(k, v)
    (tmp / "routes.yaml").write_text(cfg)
    port = free_port()
    settings = Settings(config_path=str(tmp / "routes.yaml"), listen=f"127.0.0.1:{port}",
                        database_url=f"sqlite+aiosqlite:///{tmp / 'bot.db'}")
    app = create_app(settings)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not app[RUNTIME].ready:
        assert time.monotonic() < deadline, "the app did not become ready"
        await asyncio.sleep(0.05)
    return runner, app, url


async def test_acknowledge_from_chatops_in_time_means_nobody_is_paged_and_reaches_pagerduty_otherwise(
        slack: FakeSlack, fake_pd: FakePagerDuty, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner, app, url = await _run_app(config(fake_pd, "3s"), tmp_path, env(slack, tmp_path), monkeypatch)
    try:
        rt = app[RUNTIME]
        pd = service_for(None, rt.http)  # how the chatops module gets it
        await post(url, alert("ModelDown", "slackfirst"), alert("DiskFull", "pd"))
        await fake_pd.wait_events(1, timeout=15)  # DiskFull pages directly
        await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 15, "the Slack post")
        groups = {g.labels["alertname"]: g.id for g in rt.engine.groups.values()}
        slack_first = await pd.acknowledge(groups["ModelDown"], "U123 (alice)", "on it")
        assert slack_first.escalation_cancelled and slack_first.sent_to == ()
        direct = await pd.acknowledge(groups["DiskFull"], "U123 (alice)", "on it too")
        assert direct.sent_to == ("pd/0",)
        await fake_pd.wait_events(2, timeout=10)
        disk_key = hashlib.sha256(b'{}/{team="pd"}:{alertname="DiskFull"}').hexdigest()
        assert fake_pd.actions(disk_key) == ["trigger", "acknowledge"]
        assert fake_pd.alert(disk_key).status == "acknowledged"
        await asyncio.sleep(5)  # well past page_after
        assert [b["dedup_key"] for b in fake_pd.accepted] == [disk_key, disk_key]  # ModelDown never paged
        assert pd.incident(groups["ModelDown"])["escalation"]["state"] == "acknowledged"
        # Once its alert resolves the directly paged incident is resolved in PagerDuty as well.
        await post(url, alert("DiskFull", "pd", resolved=True))
        await fake_pd.wait_events(3, timeout=10)
        assert fake_pd.actions(disk_key) == ["trigger", "acknowledge", "resolve"]
    finally:
        await runner.cleanup()
