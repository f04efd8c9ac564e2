"""End to end: the real `alertbot serve` with the shipped routes.yaml (shorter timers) and the
fake Slack; alerts in through /api/v2/alerts and /webhook; the Slack calls asserted in order."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.fakes.slack import FakeSlack
from tests.slack.conftest import Bots, api_alert, bot_env, header, post_alerts, post_webhook, shipped_routes

pytestmark = pytest.mark.slow


async def test_first_post_updates_thread_and_a_new_parent_after_resolution(slack: FakeSlack, bots: Bots) -> None:
    bot = await bots.start(shipped_routes(), bot_env(slack))
    labels = {"service": "api", "severity": "warning"}
    sent = time.monotonic()
    await post_alerts(bot, api_alert("APIHighErrorRate", instance="api-1", annotations={
        "summary": "5xx ratio 3% on api-1", "description": "errors <!channel> *now*"}, **labels))
    await slack.wait_until(lambda: len(slack.parents("#mlops-alerts")) == 1, 20, "the first post")
    post = slack.calls_of("chat.postMessage")[0]
    assert post.args["channel"] == "#mlops-alerts"
    assert post.at - sent >= 0.95  # group_wait: 1s
    (parent,) = slack.parents("#mlops-alerts")
    assert header(parent) == "🔥 FIRING · APIHighErrorRate · 1 alert"
    body = json.dumps(parent.blocks, ensure_ascii=False)
    assert "*Runbook:* <https://git.example.com/mlops/alertbot/blob/main/runbooks/api-high-error-rate.md" in body
    assert "&lt;!channel&gt;" in body and "<!channel>" not in body
    assert parent.metadata["event_type"] == "alertbot_alert_group"

    # A second alert joins: the same message is edited, the thread says what changed.
    await post_alerts(bot, api_alert("APIHighErrorRate", instance="api-2", **labels))
    await slack.wait_until(lambda: header(parent) == "🔥 FIRING · APIHighErrorRate · 2 alerts", 20, "the edit")
    await slack.wait_until(lambda: len(slack.thread("#mlops-alerts", parent.ts)) == 1, 10, "the first reply")
    assert slack.thread("#mlops-alerts", parent.ts)[0].text == "🔥 1 new alert: `instance=api-2`"

    # One resolves, then the other: edited each time, told in the thread; no new message.
    await post_alerts(bot, api_alert("APIHighErrorRate", instance="api-1", resolved=True, **labels))
    await slack.wait_until(lambda: len(slack.thread("#mlops-alerts", parent.ts)) == 2, 20, "the resolved reply")
    assert "1 firing" in json.dumps(parent.blocks) and "1 resolved" in json.dumps(parent.blocks)
    await post_alerts(bot, api_alert("APIHighErrorRate", instance="api-2", resolved=True, **labels))
    await slack.wait_until(lambda: header(parent) == "✅ RESOLVED · APIHighErrorRate · 1 alert", 20, "resolved")
    await slack.wait_until(lambda: len(slack.thread("#mlops-alerts", parent.ts)) == 3, 10, "the last reply")
    story = [r.text for r in slack.thread("#mlops-alerts", parent.ts)]
    assert story[1].startswith("✅ 1 resolved: `instance=api-1`")
    assert story[2].startswith("✅ All alerts resolved")
    assert all(not r.broadcast for r in slack.thread("#mlops-alerts", parent.ts))  # the thread never pings

    # The group is over; the same alert firing again starts a new parent.
    await asyncio.sleep(2.5)
    await post_alerts(bot, api_alert("APIHighErrorRate", instance="api-1", **labels))
    await slack.wait_until(lambda: len(slack.parents("#mlops-alerts")) == 2, 20, "a new parent")
    old, new = slack.parents("#mlops-alerts")
    assert old.ts == parent.ts and header(old).startswith("✅") and header(new).startswith("🔥 FIRING")

    # Alertmanager's webhook in, routed by the shipped tree to the ML team's channel.
    await post_webhook(bot, api_alert("ModelFeatureDrift", model="churn", service="model-registry",
                                      severity="warning"))
    await slack.wait_until(lambda: len(slack.parents("#ml-team-alerts")) == 1, 20, "the ML team's message")
    assert header(slack.parents("#ml-team-alerts")[0]).startswith("🔥 FIRING · ModelFeatureDrift")
    # Every call went to a channel the routes name, none was refused.
    assert all(c.ok for c in slack.calls), [(c.method, c.error) for c in slack.calls if not c.ok]


async def test_no_duplicate_parent_after_a_kill_and_restart_mid_group(slack: FakeSlack, bots: Bots) -> None:
    config = shipped_routes()
    env = bot_env(slack)
    bot = await bots.start(config, env)
    labels = {"service": "api", "severity": "warning"}
    # Slack gets the post and posts it; the bot is killed before the answer arrives.
    release = slack.hold_next("chat.postMessage")
    await post_alerts(bot, api_alert("APIHighErrorRate", instance="api-1", **labels))
    await slack.wait_until(lambda: len(slack.parents("#mlops-alerts")) == 1, 20, "the post")
    bots.kill(bot)
    release.set()
    (parent,) = slack.parents("#mlops-alerts")

    again = await bots.start(config, env)  # same directory, same database
    await slack.wait_until(lambda: len(slack.calls_of("chat.update")) >= 1, 20, "the adoption")
    await post_alerts(again, api_alert("APIHighErrorRate", instance="api-2", **labels))
    await slack.wait_until(lambda: header(parent).endswith("2 alerts"), 20, "the edit after the restart")
    assert len(slack.parents("#mlops-alerts")) == 1
    assert len([c for c in slack.calls_of("chat.postMessage") if "thread_ts" not in c.args]) == 1
    assert slack.calls_of("conversations.history"), "the restarted bot looked for its interrupted post"

    # And a plain kill -9 once the post is recorded: the restarted bot edits the same message.
    bots.kill(again)
    third = await bots.start(config, env)
    await post_alerts(third, api_alert("APIHighErrorRate", instance="api-3", **labels))
    await slack.wait_until(lambda: header(parent).endswith("3 alerts"), 20, "the edit after the second restart")
    assert len(slack.parents("#mlops-alerts")) == 1
    await slack.wait_until(lambda: len(slack.thread("#mlops-alerts", parent.ts)) == 2, 20, "the replies")
    replies = [r.text for r in slack.thread("#mlops-alerts", parent.ts)]
    assert replies == ["🔥 1 new alert: `instance=api-2`", "🔥 1 new alert: `instance=api-3`"]
