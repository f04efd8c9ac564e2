"""Delivery to Slack through the real engine, outbox and worker, against the fake Slack, in
the test's event loop: crashes between Slack's answer and the commit, answers that may or may
not have taken effect, 429s, Slack errors of every class, deleted parents, debouncing."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.engine.silences import Silence, build_matchers
from bot.engine.timestamp import Timestamp
from bot.notify.slack.state import GROUP, MSG
from tests.fakes.slack import FakeSlack
from tests.slack.inprocess import InProcessBot, alert, slack_env

CONFIG = """
route:
  receiver: team
  group_by: [alertname, service]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: team
    slack_configs:
      - channel: '#alerts'
        send_resolved: true
"""


@pytest.fixture
async def slack() -> FakeSlack:
    s = FakeSlack(["#alerts", "#other"])
    await s.start()
    yield s
    await s.stop()


async def start(slack: FakeSlack, config: str = CONFIG, **kw) -> InProcessBot:
    return await InProcessBot(config, slack, **kw).start()


def header(m) -> str:
    return m.blocks[0]["text"]["text"]


async def test_a_crash_after_slack_posted_does_not_post_a_second_parent(slack: FakeSlack) -> None:
    bot = await start(slack)
    release = slack.hold_next("chat.postMessage")  # Slack posts it; the answer never reaches the bot
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the post")
    await asyncio.sleep(0.1)
    await bot.crash()
    release.set()
    again = await start(slack, store=bot.store)
    await again.post(alert("DiskFull", service="db", instance="b"))
    await slack.wait_until(lambda: any("2 alerts" in header(m) for m in slack.parents("#alerts")), 15,
                           "the edit with the second alert")
    (parent,) = slack.parents("#alerts")
    methods = [c.method for c in slack.calls]
    assert methods.count("chat.postMessage") - len(slack.thread("#alerts", parent.ts)) == 1
    assert "conversations.history" in methods  # it looked before posting again
    entry = again.engine.kv[(MSG, next(k for (ns, k) in again.engine.kv if ns == MSG))]
    assert entry["ts"] == parent.ts
    await again.stop()


async def test_an_answer_that_may_have_posted_is_checked_before_posting_again(slack: FakeSlack) -> None:
    bot = await start(slack)
    slack.fail_next("chat.postMessage", error="fatal_error", apply=True)  # posted, then "failed"
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.calls_of("conversations.history")) >= 1, 10, "the history lookup")
    await slack.wait_until(lambda: len(slack.calls_of("chat.update")) >= 1, 10, "the adoption")
    assert len(slack.parents("#alerts")) == 1
    assert len(slack.calls_of("chat.postMessage")) == 1
    await bot.stop()


async def test_429_waits_for_retry_after_and_does_not_look_for_a_post(slack: FakeSlack) -> None:
    bot = await start(slack)
    slack.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=2)
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 15, "the post after the 429")
    first, second = slack.calls_of("chat.postMessage")[:2]
    assert first.status == 429 and second.ok
    assert second.at - first.at >= 2.0  # Retry-After: 2 honoured (the worker may wait a little longer)
    assert slack.calls_of("conversations.history") == []  # a 429 surely posted nothing
    assert bot.service.metrics.rate_limited.labels("chat.postMessage")._value.get() == 1
    await bot.stop()


async def test_5xx_and_retryable_errors_are_retried_until_delivered(slack: FakeSlack) -> None:
    bot = await start(slack)
    slack.fail_next("chat.postMessage", status=503, error="service_unavailable")
    slack.fail_next("chat.postMessage", error="internal_error")
    slack.fail_next("chat.postMessage", error="ratelimited", status=429, retry_after=1)
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 20, "the post after three failures")
    # 503 and internal_error may have posted: the bot looked in the channel before trying again.
    assert len(slack.calls_of("conversations.history")) >= 1
    assert len(slack.parents("#alerts")) == 1
    await bot.stop()


async def test_permanent_errors_are_reported_not_retried(slack: FakeSlack) -> None:
    config = CONFIG.replace("'#alerts'", "'#nowhere'")
    bot = await start(slack, config)
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: "#nowhere" in bot.service.status()["channels_failing"], 10, "the refused post")
    await asyncio.sleep(1.0)
    assert [c.error for c in slack.calls_of("chat.postMessage")] == ["channel_not_found"]  # not retried
    status = bot.service.status()
    assert status["channels_failing"]["#nowhere"]["error"] == "channel_not_found"
    assert bot.service.metrics.permanent.labels("channel_not_found")._value.get() == 1
    gid = next(iter(bot.engine.groups))
    rows = await bot.store.audit(gid)
    assert [(r.actor, r.action, json.loads(r.details)["error"]) for r in rows] == [
        ("slack", "delivery_failed", "channel_not_found")]
    await bot.stop()


async def test_not_in_channel_then_invited(slack: FakeSlack) -> None:
    cid = slack.channel_id("#alerts")
    slack.not_member.add(cid)
    bot = await start(slack)
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: "#alerts" in bot.service.status()["channels_failing"], 10, "the refused post")
    assert bot.service.status()["channels_failing"]["#alerts"]["hint"].startswith("invite the bot")
    slack.not_member.discard(cid)  # someone invites the bot; the next change posts the message
    await bot.post(alert("DiskFull", service="db", instance="b"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the post once invited")
    assert "2 alerts" in header(slack.parents("#alerts")[0])
    await slack.wait_until(lambda: bot.service.status()["channels_failing"] == {}, 10, "the channel to count as fine")
    await bot.stop()


async def test_a_deleted_parent_is_posted_again(slack: FakeSlack) -> None:
    bot = await start(slack)
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the post")
    old = slack.parents("#alerts")[0]
    slack.delete("#alerts", old.ts)
    await bot.post(alert("DiskFull", service="db", instance="b"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "a new parent")
    new = slack.parents("#alerts")[0]
    assert new.ts != old.ts and "2 alerts" in header(new)
    assert [c.error for c in slack.calls_of("chat.update")] == ["message_not_found"]
    await slack.wait_until(lambda: len(slack.thread("#alerts", new.ts)) >= 1, 10, "the thread note")
    assert "deleted" in slack.thread("#alerts", new.ts)[0].text
    await bot.stop()


async def test_refused_blocks_fall_back_to_the_minimal_message(slack: FakeSlack) -> None:
    bot = await start(slack)
    slack.fail_next("chat.postMessage", error="invalid_blocks")
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the minimal post")
    (m,) = slack.parents("#alerts")
    assert len(m.blocks) == 2 and header(m).startswith("🔥 FIRING")
    await bot.stop()


async def test_refresh_acknowledges_and_tells_the_thread_once_debounced(slack: FakeSlack) -> None:
    bot = await start(slack, env=slack_env(slack, ALERTBOT_SLACK_DEBOUNCE="1.0"))
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the post")
    gid = next(iter(bot.engine.groups))
    notifier = bot.service.notifier
    # A burst of ten changes within the debounce window: one edit carries the last one.
    for i in range(10):
        await bot.transact(lambda txn, i=i: notifier.refresh(gid, txn, note=f"note {i}"))
    await bot.transact(lambda txn: notifier.refresh(
        gid, txn, acknowledged_by="U0ALICE", acknowledged_at_ns=txn.now.ns, ack_comment="on it",
        story="👀 <@U0ALICE> acknowledged: on it", story_kind="ack"))
    (parent,) = slack.parents("#alerts")
    await slack.wait_until(lambda: header(parent).startswith("👀 ACKNOWLEDGED"), 10, "the acknowledged edit")
    await slack.wait_until(lambda: len(slack.thread("#alerts", parent.ts)) == 1, 10, "the thread reply")
    await asyncio.sleep(1.5)
    assert len(slack.calls_of("chat.update")) <= 2, [c.args.get("text") for c in slack.calls_of("chat.update")]
    assert "note 9" in json.dumps(parent.blocks)
    (reply,) = slack.thread("#alerts", parent.ts)
    assert reply.text == "👀 <@U0ALICE> acknowledged: on it" and not reply.broadcast
    refs = notifier.messages(gid)
    assert [(r.channel, r.ts, r.state) for r in refs] == [("#alerts", parent.ts, "acknowledged")]
    assert notifier.group_for_message(parent.channel, parent.ts) == gid
    await bot.stop()


async def test_a_silenced_group_says_so_and_is_marked_resolved_when_it_ends(slack: FakeSlack) -> None:
    bot = await start(slack)
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the post")
    (parent,) = slack.parents("#alerts")
    now = Timestamp.now()
    await bot.engine.set_silence(Silence("", build_matchers([("alertname", "DiskFull", False, True)], "fallback"),
                                         now, now.add(3600), now, "amtool", "maintenance"))
    await slack.wait_until(lambda: header(parent).startswith("🔕 SILENCED"), 10, "the silenced edit")
    assert "Silenced in Alertmanager" in json.dumps(parent.blocks)
    await bot.post(alert("DiskFull", service="db", instance="a", resolved=True))
    await slack.wait_until(lambda: header(parent).startswith("✅ RESOLVED"), 10, "resolved though silenced")
    await slack.wait_until(lambda: len(slack.thread("#alerts", parent.ts)) == 2, 10, "the thread")
    story = [r.text for r in slack.thread("#alerts", parent.ts)]
    assert story[0].startswith("🔕 Every firing alert is silenced") and story[-1].startswith("✅ All alerts resolved")
    assert not bot.engine.groups
    await bot.stop()


async def test_full_resolution_then_refire_starts_a_new_parent(slack: FakeSlack) -> None:
    bot = await start(slack)
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the post")
    await bot.post(alert("DiskFull", service="db", instance="a", resolved=True))
    await slack.wait_until(lambda: header(slack.parents("#alerts")[0]).startswith("✅"), 10, "resolved")
    await slack.wait_until(lambda: not bot.engine.groups, 10, "the group closed")
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 2, 10, "a second parent")
    first, second = slack.parents("#alerts")
    assert header(first).startswith("✅ RESOLVED") and header(second).startswith("🔥 FIRING")
    gid = next(iter(bot.engine.groups))
    await slack.wait_until(lambda: bot.engine.kv[(GROUP, gid)]["inc"] == bot.engine.groups[gid].created_ns, 10,
                           "the new incarnation recorded")
    await bot.stop()


async def test_broadcast_is_opt_in(slack: FakeSlack) -> None:
    bot = await start(slack, env=slack_env(slack, ALERTBOT_SLACK_BROADCAST="added"))
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the post")
    await bot.post(alert("DiskFull", service="db", instance="b"))
    parent = slack.parents("#alerts")[0]
    await slack.wait_until(lambda: len(slack.thread("#alerts", parent.ts)) == 1, 10, "the reply")
    assert slack.thread("#alerts", parent.ts)[0].broadcast
    await bot.post(alert("DiskFull", service="db", instance="a", resolved=True))
    await slack.wait_until(lambda: len(slack.thread("#alerts", parent.ts)) == 2, 10, "the second reply")
    assert not slack.thread("#alerts", parent.ts)[1].broadcast  # "resolved" was not asked for
    await bot.stop()


async def test_incoming_webhook_config_posts_new_messages(slack: FakeSlack, caplog) -> None:
    config = f"""
route:
  receiver: team
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 1s
receivers:
  - name: team
    slack_configs:
      - api_url: '{slack.webhook_url('#alerts')}'
        send_resolved: true
"""
    bot = await start(slack, config, env={"SLACK_API_URL": slack.api_url})  # no bot token
    assert "incoming webhook" in caplog.text and "no in-place updates" in caplog.text
    await bot.post(alert("DiskFull", instance="a"))
    await slack.wait_until(lambda: len(slack.webhook_posts) == 1, 10, "the webhook post")
    await bot.post(alert("DiskFull", instance="a", resolved=True))
    await slack.wait_until(lambda: len(slack.webhook_posts) == 2, 10, "the resolved post")
    first, second = (b for _, _, b in slack.webhook_posts)
    assert first["blocks"][0]["text"]["text"].startswith("🔥 FIRING")
    assert second["blocks"][0]["text"]["text"].startswith("✅ RESOLVED")
    assert not [b for b in first["blocks"] if b["type"] == "actions" and any(
        e["type"] != "button" or "url" not in e for e in b["elements"])]  # no buttons that call back
    assert slack.calls == []
    await bot.stop()


async def test_pace_per_channel_is_kept() -> None:
    """Slack's own pace (1/s, bursts of 3) in three channels, with 429s: posts name a channel,
    edits and replies give its id, retries come back later — one pace per channel throughout."""
    slack = FakeSlack(["#a", "#b", "#c"])
    await slack.start()
    slack.rate_limit_every(5, retry_after=1)
    config = CONFIG.replace("'#alerts'", "'#{{ .CommonLabels.team }}'")
    bot = await start(slack, config, env=slack_env(slack, ALERTBOT_SLACK_CHANNEL_RATE="1",
                                                   ALERTBOT_SLACK_CHANNEL_BURST="3"))
    try:
        started = time.monotonic()
        await bot.post(*[alert("DiskFull", service=f"s{i}", team="abc"[i % 3]) for i in range(15)])
        await slack.wait_until(lambda: sum(len(slack.parents(c)) for c in "abc") == 15, 30, "fifteen posts")
        assert time.monotonic() - started >= (5 - 3) / 1 * 0.9  # 3 at once per channel, then 1 a second
        await bot.post(*[alert("DiskFull", service=f"s{i}", team="abc"[i % 3], resolved=True) for i in range(15)])
        await slack.wait_until(lambda: all(header(m).startswith("✅") and slack.thread(m.channel, m.ts)
                                           for c in "abc" for m in slack.parents(c)), 60, "the edits and replies")
        assert any(c.status == 429 for c in slack.calls)
        assert slack.pace_violations(1, 3) == []
    finally:
        await bot.stop()
        await slack.stop()


async def test_a_repeat_is_told_in_the_thread_and_refreshes_the_message(slack: FakeSlack) -> None:
    config = CONFIG.replace("repeat_interval: 1h", "repeat_interval: 2s")
    bot = await start(slack, config)
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the post")
    (parent,) = slack.parents("#alerts")
    await slack.wait_until(lambda: slack.thread("#alerts", parent.ts), 15, "the repeat")
    assert slack.thread("#alerts", parent.ts)[0].text == "🔁 Still firing: 1 alert (repeat_interval elapsed)."
    assert parent.edits >= 1 and len(slack.parents("#alerts")) == 1  # repeats edit, never re-post
    await bot.stop()


async def test_a_finished_message_is_forgotten_after_the_retention(slack: FakeSlack) -> None:
    bot = await start(slack, env=slack_env(slack, ALERTBOT_SLACK_RETENTION="1"))
    await bot.post(alert("DiskFull", service="db", instance="a"))
    await slack.wait_until(lambda: len(slack.parents("#alerts")) == 1, 10, "the post")
    gid = next(iter(bot.engine.groups))
    await bot.post(alert("DiskFull", service="db", instance="a", resolved=True))
    await slack.wait_until(lambda: not bot.engine.groups, 10, "the group closed")
    await slack.wait_until(lambda: [m.state for m in bot.service.notifier.messages(gid)] == ["resolved"], 10,
                           "the message shown resolved")
    await slack.wait_until(lambda: not [k for (ns, k) in bot.engine.kv if ns in (MSG, GROUP)], 10,
                           "the state dropped after the retention")
    assert bot.service.notifier.messages(gid) == []
    assert await bot.transact(lambda txn: bot.service.notifier.refresh(gid, txn, note="late")) is False
    await bot.stop()
