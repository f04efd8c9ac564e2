"""Acknowledgement end to end: signed slash commands and button clicks to the running
`alertbot serve`, answered within three seconds; the state in the database, the message
redrawn in place, the thread, PagerDuty's `acknowledge`, repeats held back, the ack silence
kept alive while firing and mirrored to the real Alertmanager, and the audit rows."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.chatops.conftest import World, alert
from tests.chatops.slackapp import ALICE, BOB, wait_for

pytestmark = pytest.mark.peer  # a real Alertmanager 0.25 beside the bot


async def test_ack_by_command_updates_state_slack_pagerduty_and_audit(w: World) -> None:
    await w.post_alerts(alert("DiskFull", instance="db-1", severity="critical"),
                        alert("DiskFull", instance="db-2", severity="critical"))
    p = await w.parent("DiskFull")
    await w.pd.wait_events(1, timeout=15)
    r = await w.client.command(f"ack {p.short} replacing the disk", ALICE)
    assert r.status == 200 and r.seconds < 3, (r.status, r.seconds, r.body)
    answer = await w.slack.wait_response(r.response_id)
    assert "Acknowledged" in answer["text"] and p.short in answer["text"], answer
    assert answer["response_type"] == "ephemeral"
    # the state, in the database
    rec = w.kv("chatops.ack", p.group_id)
    assert rec["by"] == ALICE.id and rec["name"] == "alice" and rec["comment"] == "replacing the disk"
    assert rec["source"] == "slack"
    # the message, redrawn in place; the thread
    await wait_for(lambda: "ACKNOWLEDGED" in p.blocks_text(w.slack), 10, "the message to say ACKNOWLEDGED")
    assert "alertbot.unack" in p.blocks_text(w.slack) and w.message(p).edits >= 1
    assert "({ago})|" in p.blocks_text(w.slack)  # the acknowledgement's age, as Slack keeps it current
    assert len(w.slack.parents("#alerts")) == 1
    line = await w.wait_thread(p, "acknowledged")
    assert f"<@{ALICE.id}>" in line and "replacing the disk" in line
    # PagerDuty: acknowledge with the group's dedup_key, after the trigger
    await wait_for(lambda: "acknowledge" in w.pd.actions(), 10, "PagerDuty's acknowledge")
    actions = w.pd.actions()  # (a slow run may see a repeat trigger first: repeat_interval is 3s)
    first_ack = actions.index("acknowledge")
    assert first_ack >= 1 and set(actions[:first_ack]) == {"trigger"}, actions
    # the audit rows (ours and PagerDuty's)
    rows = w.audit(p.group_id)
    assert ("U0ALICE01", "ack") in [(a, b) for a, b, _, _ in rows]
    ack_row = next(d for a, b, _, d in rows if b == "ack")
    assert ack_row["comment"] == "replacing the disk" and ack_row["name"] == "alice"
    assert "alertbot_audit_actions_total{action=\"ack\"} 1.0" in await w.metrics()


async def test_ack_holds_repeats_and_unack_releases_them(w: World) -> None:
    await w.post_alerts(alert("Repeats", instance="a"))
    p = await w.parent("Repeats")
    r = await w.client.click("alertbot.ack", p.ref, BOB, channel_id=p.channel_id, message_ts=p.ts)
    assert r.status == 200 and r.seconds < 3
    await wait_for(lambda: w.kv("chatops.ack", p.group_id), 10, "the acknowledgement")
    await wait_for(lambda: "ACKNOWLEDGED" in p.blocks_text(w.slack), 10, "the redraw")
    # repeat_interval is 3s: while acknowledged nothing repeats in the thread
    before = [t for t in w.thread(p) if "Still firing" in t]
    await asyncio.sleep(7)
    assert [t for t in w.thread(p) if "Still firing" in t] == before
    r = await w.client.click("alertbot.unack", p.ref, BOB, channel_id=p.channel_id, message_ts=p.ts)
    assert r.status == 200 and r.seconds < 3
    await wait_for(lambda: w.kv("chatops.ack", p.group_id) is None, 10, "the acknowledgement to end")
    await w.wait_thread(p, "unacknowledged")
    await wait_for(lambda: "ACKNOWLEDGED" not in p.blocks_text(w.slack), 10, "the redraw")
    await w.wait_thread(p, "Still firing", timeout=12)
    actions = [b for _, b, _, _ in w.audit(p.group_id)]
    assert actions.index("ack") < actions.index("unack")


async def test_ack_by_matchers_and_twice(w: World) -> None:
    await w.post_alerts(alert("NodeDown", instance="n1", team="infra"))
    p = await w.parent("NodeDown")
    r = await w.client.command('ack alertname="NodeDown" team="infra" -- looking', ALICE)
    assert r.status == 200 and r.seconds < 3
    assert "Acknowledged" in (await w.slack.wait_response(r.response_id))["text"]
    assert w.kv("chatops.ack", p.group_id)["comment"] == "looking"
    r = await w.client.command(f"ack {p.short}", BOB)
    answer = await w.slack.wait_response(r.response_id)
    assert "already acknowledged" in answer["text"] and ALICE.id in answer["text"]
    assert w.kv("chatops.ack", p.group_id)["by"] == ALICE.id
    assert [b for _, b, _, _ in w.audit(p.group_id)].count("ack") == 1


async def test_ack_ends_when_the_group_resolves(w: World) -> None:
    await w.post_alerts(alert("Flappy", instance="x"))
    p = await w.parent("Flappy")
    r = await w.client.command(f"ack {p.short}", ALICE)
    await w.slack.wait_response(r.response_id)
    await w.post_alerts(alert("Flappy", resolved=True, instance="x"))
    await wait_for(lambda: "RESOLVED" in p.blocks_text(w.slack), 15, "the message to say RESOLVED")
    rec = await wait_for(lambda: (w.kv("chatops.ack", p.group_id) or {}).get("ended_ns") and
                         w.kv("chatops.ack", p.group_id), 10, "the acknowledgement to end")
    assert rec["end"] == "resolved"
    rows = w.audit(p.group_id)
    resolve = next(d for a, b, _, d in rows if b == "resolve" and a == "alertbot")
    assert resolve["acknowledged_by"] == "alice"
    # a new alert with the same labels starts a new, unacknowledged group incarnation
    await w.post_alerts(alert("Flappy", instance="x"))
    await wait_for(lambda: len([m for m in w.slack.parents("#alerts") if "Flappy" in str(m.blocks)]) == 2, 15,
                   "a new parent message")
    r = await w.client.command(f"ack {p.short}", BOB)
    assert "Acknowledged" in (await w.slack.wait_response(r.response_id))["text"]


async def test_ack_silence_is_mirrored_extended_while_firing_and_expired_on_unack(w: World) -> None:
    assert w.am is not None
    await w.post_alerts(alert("HotDisk", instance="h1", ack_silence="yes"))
    p = await w.parent("HotDisk")
    r = await w.client.command(f"ack {p.short}", ALICE)
    answer = await w.slack.wait_response(r.response_id)
    assert "ack silence" in answer["text"], answer
    rec = w.kv("chatops.ack", p.group_id)
    sid = rec["silence"]["id"]
    first_end = rec["silence"]["until_ns"]
    (s,) = [s for s in w.active_silences() if s["id"] == sid]
    assert s["matchers"] == [{"name": "alertname", "value": "HotDisk", "isRegex": False, "isEqual": True}]
    assert s["created_by"] == "alice"
    up = await wait_for(lambda: w.kv("chatops.silence", sid).get("upstream"), 10, "the upstream silence id")
    am = {x["id"]: x for x in await w.am_silences()}
    assert am[up]["createdBy"] == "alice" and am[up]["status"]["state"] == "active"
    # 9s silence, extended when a third of it is gone, while the alert fires
    await wait_for(lambda: (w.kv("chatops.ack", p.group_id)["silence"]["until_ns"] > first_end), 12,
                   "the ack silence to be extended")
    await asyncio.sleep(1.5)
    up2 = w.kv("chatops.silence", w.kv("chatops.ack", p.group_id)["silence"]["id"])["upstream"]
    am = {x["id"]: x for x in await w.am_silences()}
    assert am[up2]["status"]["state"] == "active"
    assert [x["id"] for x in am.values() if x["status"]["state"] == "active"] == [up2]  # one, kept alive
    end_here = max(s["ends_ns"] for s in w.active_silences())
    assert am[up2]["endsAt"][:19] == time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(end_here / 1e9))
    # unack: the silence is expired here and upstream
    r = await w.client.command(f"unack {p.short}", ALICE)
    assert "expired" in (await w.slack.wait_response(r.response_id))["text"]
    assert not w.active_silences()
    await wait_for(lambda: True, 0.1, "")

    async def upstream_expired() -> bool:
        return all(x["status"]["state"] == "expired" for x in await w.am_silences())

    deadline = time.monotonic() + 10
    while not await upstream_expired():
        assert time.monotonic() < deadline, await w.am_silences()
        await asyncio.sleep(0.2)
