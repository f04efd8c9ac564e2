"""The other subcommands against the running server: help, alerts, runbook, page, status,
audit; Slack-first escalation held by an acknowledgement and started again by an
unacknowledgement; access rules picked up from an edited settings file; and `who` through the
same endpoint of an in-process server whose PagerDuty REST client trusts the fake's TLS."""

from __future__ import annotations

import asyncio
import ssl
import time
from pathlib import Path

import pytest
from aiohttp import web

from tests.chatops.conftest import BOT_TOKEN, SECRET, SETTINGS, World, alert
from tests.chatops.slackapp import ALICE, BOB, MALLORY, FakeSlackApp, SlackClient, wait_for
from tests.fakes.pagerduty import FakePagerDuty
from tests.peers import free_port

pytestmark = pytest.mark.peer  # a real Alertmanager 0.25 beside the bot


def shown(answer: dict) -> str:
    return answer.get("text", "") + str(answer.get("blocks", ""))


async def test_help_and_unknown_answer_in_the_ack(w: World) -> None:
    r = await w.client.command("", ALICE)
    assert r.status == 200 and r.seconds < 3 and "silence <duration> <matchers>" in r.text
    r = await w.client.command("frobnicate now", ALICE)
    assert r.status == 200 and "unknown subcommand" in r.text and "/oncall help" in r.text


async def test_alerts_runbook_status_and_audit(w: World) -> None:
    await w.post_alerts(alert("QueueBacklog", queue="ingest"), alert("OtherThing", instance="o1"))
    p = await w.parent("QueueBacklog")
    r = await w.client.command(f"ack {p.short} draining", BOB)
    await w.slack.wait_response(r.response_id)
    r = await w.client.command('alerts alertname="QueueBacklog"', ALICE)
    a = shown(await w.slack.wait_response(r.response_id))
    assert "1 firing alert" in a and p.short in a and "OtherThing" not in a and f"<@{BOB.id}>" in a
    r = await w.client.command("runbook QueueBacklog", ALICE)
    a = shown(await w.slack.wait_response(r.response_id))
    assert "Queue backlog" in a and "Look at the depth of this queue" in a and "Queue depth" in a
    r = await w.client.command(f"runbook {p.short}", ALICE)
    assert "Queue backlog" in shown(await w.slack.wait_response(r.response_id))
    r = await w.client.command("runbook NoSuchAlert", ALICE)
    assert "No runbook for" in shown(await w.slack.wait_response(r.response_id))
    r = await w.client.command("status", ALICE)
    a = shown(await w.slack.wait_response(r.response_id))
    for needle in ("alertbot 0.1.0", "up ", "configuration", "loaded", "outbox:", "groups (1 acknowledged)",
                   "HTTP /slack/events on", "upstream Alertmanager"):
        assert needle in a, (needle, a)
    r = await w.client.command(f"audit {p.short}", ALICE)
    a = shown(await w.slack.wait_response(r.response_id))
    assert "*ack*" in a and f"<@{BOB.id}>" in a and "draining" in a


async def test_page_needs_a_rule(w: World) -> None:
    r = await w.client.command("page pager the database is on fire", MALLORY)
    assert "you may not page PagerDuty by hand" in shown(await w.slack.wait_response(r.response_id))
    assert w.pd.accepted == []
    r = await w.client.command("page nowhere hello", ALICE)
    assert "receivers that can page" in shown(await w.slack.wait_response(r.response_id))
    r = await w.client.command("page pager the database is on fire", ALICE)
    a = shown(await w.slack.wait_response(r.response_id))
    assert "Paged PagerDuty" in a, a
    (event,) = await w.pd.wait_events(1, timeout=10)
    assert event["payload"]["summary"] == "the database is on fire"
    assert event["payload"]["custom_details"]["paged_by"] == f"<@{ALICE.id}>"
    assert ("<@U0ALICE01>", "page") in [(x, b) for x, b, _, _ in w.audit()]


async def test_slack_first_escalation_waits_while_acknowledged_and_again_after_unack(w: World) -> None:
    await w.post_alerts(alert("Escalating", instance="e1", escalate="yes"))
    p = await w.parent("Escalating")
    r = await w.client.click("alertbot.ack", p.ref, ALICE, channel_id=p.channel_id, message_ts=p.ts)
    assert r.status == 200 and r.seconds < 3
    await wait_for(lambda: w.kv("chatops.ack", p.group_id), 5, "the acknowledgement")
    await asyncio.sleep(6)  # page_after is 4s
    assert w.pd.accepted == []  # nobody paged
    r = await w.client.click("alertbot.unack", p.ref, ALICE, channel_id=p.channel_id, message_ts=p.ts)
    assert r.status == 200
    started = time.monotonic()
    (event,) = await w.pd.wait_events(1, timeout=15)
    assert event["event_action"] == "trigger" and time.monotonic() - started >= 3  # the clock started again
    assert ("alertbot", "escalate") in [(a, b) for a, b, _, _ in w.audit(p.group_id)]


async def test_an_edited_settings_file_applies_to_the_next_command(w: World) -> None:
    await w.post_alerts(alert("Editable", instance="x"))
    await w.parent("Editable")
    r = await w.client.command('silence 1h alertname="Editable"', MALLORY)
    assert "you may not create silences" in shown(await w.slack.wait_response(r.response_id))
    settings = Path(w.tmp / "alertbot.yaml")
    w.slack.add_user(MALLORY.id, "mallory")  # '@mallory' is the name Slack's users.info gives for her id
    settings.write_text(SETTINGS.replace("users: [U0ALICE01]", "users: [U0ALICE01, '@mallory']"))
    r = await w.client.command('silence 1h alertname="Editable"', MALLORY)
    assert "Silence preview" in shown(await w.slack.wait_response(r.response_id))
    settings.write_text("access:\n  rules: [{allow: [fly]}]\n")  # broken: the rules loaded before stay
    time.sleep(0.01)
    r = await w.client.command('silence 1h alertname="Editable"', MALLORY)
    assert "Silence preview" in shown(await w.slack.wait_response(r.response_id))
    rec = await wait_for(lambda: w.logged("settings file refused"), 5, "the refusal in the log")
    assert "unknown action" in str(rec[-1]) and "alertbot.yaml:2" in str(rec[-1])


# ---------------------------------------------------------------------------------- in process
@pytest.fixture
async def tls_pd(tmp_path: Path) -> FakePagerDuty:
    pd = FakePagerDuty()
    await pd.start(tls_dir=tmp_path / "tls")
    yield pd
    await pd.stop()


async def test_who_is_on_call(tmp_path: Path, tls_pd: FakePagerDuty, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.notify.pagerduty import OnCallDirectory, service_for
    from bot.server.app import create_app
    from bot.server.common import RUNTIME
    from bot.server.settings import Settings

    slack = FakeSlackApp(channels=["#alerts"], token=BOT_TOKEN)
    await slack.start()
    (tmp_path / "alertbot.yaml").write_text(SETTINGS)
    for k, v in {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.api_url, "SLACK_SIGNING_SECRET": SECRET,
                 "ALERTBOT_SETTINGS": str(tmp_path / "alertbot.yaml"),
                 "ALERTBOT_RUNBOOKS": str(tmp_path / "none")}.items():
        monkeypatch.setenv(k, v)
    for k in ("ALERTMANAGER_URL", "SLACK_APP_TOKEN", "PROMETHEUS_URL", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(k, raising=False)
    (tmp_path / "routes.yaml").write_text("route: {receiver: r}\nreceivers: [{name: r}]\n")
    port = free_port()
    app = create_app(Settings(config_path=str(tmp_path / "routes.yaml"), listen=f"127.0.0.1:{port}",
                              database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        rt = app[RUNTIME]
        deadline = time.monotonic() + 20
        while not rt.ready:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert tls_pd.ca_file is not None
        ctx = ssl.create_default_context(cafile=str(tls_pd.ca_file))
        service_for(None, rt.http).oncall = OnCallDirectory("pd-rest-token", base_url=tls_pd.rest_url, verify=ctx)
        client = SlackClient(slack, f"http://127.0.0.1:{port}", SECRET)
        r = await client.command("who mlops-platform", ALICE)
        assert r.status == 200 and r.seconds < 3
        a = shown(await slack.wait_response(r.response_id))
        assert "On call" in a and "mlops-platform" in a and "level 1: *Alice Oncall*" in a and "Bob Backup" in a
        r = await client.command("who nothing-like-it", ALICE)
        assert "no PagerDuty service or escalation policy" in shown(await slack.wait_response(r.response_id))
        r = await client.command("who", ALICE)
        assert "which PagerDuty service" in shown(await slack.wait_response(r.response_id))
    finally:
        await runner.cleanup()
        await slack.stop()


async def test_the_command_name_comes_from_the_settings(tmp_path: Path) -> None:
    from tests.chatops.conftest import world

    async with world(tmp_path, settings="chatops: {command: /am}\n", upstream=False) as w:
        r = await w.client.command("help", ALICE, command="/am")
        assert r.status == 200 and "`/am ack <group> [comment]`" in r.text
        r = await w.client.command("help", ALICE, command="/oncall")
        assert r.status == 404  # not this app's command: Bolt answers "unhandled request"
