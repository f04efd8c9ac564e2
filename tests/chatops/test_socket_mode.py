"""Socket Mode: the running server opens a connection with its app-level token
(`apps.connections.open` at the fake Slack, then the fake's websocket) and the same listeners
answer the same payloads as over HTTP — acknowledged on the socket within three seconds, the
work done afterwards; a redelivered envelope is acknowledged and not run again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chatops.conftest import World, alert, world
from tests.chatops.slackapp import ALICE, BOB, wait_for

pytestmark = pytest.mark.peer  # a real Alertmanager 0.25 beside the bot


@pytest.fixture
async def sw(tmp_path: Path) -> AsyncIterator[World]:
    # No signing secret: only Socket Mode can reach the app.
    async with world(tmp_path, socket_mode=True, http_secret=None) as the_world:
        assert the_world.socket_mode is not None
        await the_world.socket_mode.wait_connected(20)
        yield the_world


async def test_commands_and_buttons_over_socket_mode(sw: World) -> None:
    sm = sw.socket_mode
    assert sm is not None and sm.opened and sm.opened[-1]["token_ok"]
    await sw.post_alerts(alert("SocketDisk", instance="s1"))
    p = await sw.parent("SocketDisk")
    payload, rid = sw.client.command_payload(f"ack {p.short} via the socket", ALICE)
    ack = await sm.deliver("slash_commands", payload)
    assert ack.seconds < 3 and ack.payload in (None, {}), ack
    answer = await sw.slack.wait_response(rid)
    assert "Acknowledged" in answer["text"]
    assert sw.kv("chatops.ack", p.group_id)["comment"] == "via the socket"
    await sw.wait_thread(p, "via the socket")
    # the same envelope again (Slack's retry): acknowledged, not run twice
    again = await sm.deliver("slash_commands", payload, retry_attempt=1)
    assert again.seconds < 3
    assert len(sw.slack.responses[rid]) == 1
    # a button, as an `interactive` envelope
    action, rid2 = sw.client.interaction_payload(
        {"action_id": "alertbot.unack", "block_id": "b1", "type": "button", "value": p.ref}, BOB,
        channel_id=p.channel_id, message_ts=p.ts)
    ack = await sm.deliver("interactive", action)
    assert ack.seconds < 3
    await wait_for(lambda: sw.kv("chatops.ack", p.group_id) is None, 10, "the unacknowledgement")
    await sw.wait_thread(p, "unacknowledged")
    # help answers in the ack itself
    payload, _ = sw.client.command_payload("help", ALICE)
    ack = await sm.deliver("slash_commands", payload)
    assert "unack" in str(ack.payload)
    actions = [b for _, b, _, _ in sw.audit(p.group_id)]
    assert actions.count("ack") == 1 and actions.count("unack") == 1
    metrics = await sw.metrics()
    assert 'alertbot_chatops_requests_total{outcome="handled",transport="socket_mode"}' in metrics
    assert 'alertbot_chatops_requests_total{outcome="duplicate",transport="socket_mode"}' in metrics


async def test_http_is_refused_without_a_signing_secret(sw: World) -> None:
    r = await sw.client.command("status", ALICE)
    assert r.status == 503 and "SLACK_SIGNING_SECRET is not set" in r.body["error"]
    payload, rid = sw.client.command_payload("status", ALICE)
    assert sw.socket_mode is not None
    ack = await sw.socket_mode.deliver("slash_commands", payload)
    assert ack.seconds < 3
    status = await sw.slack.wait_response(rid)
    shown = str(status["blocks"])
    assert "Socket Mode connected" in shown and "HTTP /slack/events" in shown and "off" in shown


async def test_a_wrong_app_token_is_said_and_retried(tmp_path: Path) -> None:
    async with world(tmp_path, socket_mode=True, env={"SLACK_APP_TOKEN": "xapp-1-wrong"}) as w:
        assert w.socket_mode is not None
        await wait_for(lambda: len(w.socket_mode.opened) >= 2, 15, "a second attempt")  # type: ignore[union-attr]
        assert not any(o["token_ok"] for o in w.socket_mode.opened)  # type: ignore[union-attr]
        rec = await wait_for(lambda: w.logged("Failed to connect"), 5, "the error in the log")
        assert "invalid_auth" in str(rec[-1]) and "xapp-1-wrong" not in str(w.log_records())
        r = await w.client.command("status", ALICE)  # HTTP still works
        status = str((await w.slack.wait_response(r.response_id))["blocks"])
        assert "Socket Mode ⚠️ not connected (invalid_auth)" in status, status


async def test_only_the_replica_holding_the_engine_lease_connects(tmp_path: Path) -> None:
    """Slack gives each event to one of the app's connections: a standby replica must not hold
    one. When the holder dies the standby takes the lease, connects, and answers."""
    import asyncio
    import signal

    from tests.chatops.conftest import SECRET
    from tests.chatops.slackapp import SlackClient
    from tests.server.conftest import BotServer, http_status

    lease = {"ALERTBOT_LEASE_DURATION": "2s"}
    async with world(tmp_path, socket_mode=True, upstream=False,
                     env={**lease, "ALERTBOT_INSTANCE_ID": "replica-a"}) as w:
        sm = w.socket_mode
        assert sm is not None
        await sm.wait_connected(20)
        assert len(sm.opened) == 1
        db = w.bot.argv[w.bot.argv.index("--database") + 1]  # b shares the holder's database
        b = await asyncio.to_thread(BotServer.start, w.bot.config_path.read_text(), tmp_path / "replica-b",
                                    ["--database", db], {**w.env, "ALERTBOT_INSTANCE_ID": "replica-b"}, 60.0, False)
        try:
            await wait_for(lambda: b.log_records() and any(r.get("message") == "standing by"
                                                          for r in b.log_records()), 20, "b standing by")
            await wait_for(lambda: http_status(b.url + "/-/healthy") == 200, 20, "b listening")
            await asyncio.sleep(2)
            assert len(sm.opened) == 1, "a standby replica opened a Socket Mode connection"
            r = await SlackClient(w.slack, b.url, SECRET).command("status", ALICE)  # over HTTP: refused
            assert r.status == 503 and "replica 'replica-a' holds the engine lease" in r.body["error"], r.body
            w.bot.signal(signal.SIGKILL)
            await asyncio.to_thread(w.bot.proc.wait, 10)
            await wait_for(lambda: len(sm.opened) >= 2, 20, "the new holder's connection")
            await sm.wait_connected(10)
            payload, rid = w.client.command_payload("help", ALICE)
            ack = await sm.deliver("slash_commands", payload)
            assert ack.seconds < 3 and "unack" in str(ack.payload)
            assert any(r.get("message") == "chatops: Socket Mode connected" for r in b.log_records())
        finally:
            await asyncio.to_thread(b.stop)
