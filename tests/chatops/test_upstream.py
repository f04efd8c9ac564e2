"""The bot behind a real Alertmanager 0.25 (its webhook → alertbot's /webhook, and
ALERTMANAGER_URL for the API): an alert silenced in Alertmanager resolves there, Alertmanager
sends no resolved notification (silenced), and alertbot still resolves the group — in Slack
and in PagerDuty — because it polls Alertmanager's alerts for the muted ones it has firing."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

import pytest

from tests.chatops.conftest import World, alert, iso
from tests.chatops.slackapp import wait_for

pytestmark = pytest.mark.peer  # a real Alertmanager 0.25 beside the bot


async def am_post(w: World, path: str, body: Any) -> Any:
    assert w.am is not None
    async with aiohttp.ClientSession() as s, s.post(f"{w.am.url}{path}", json=body) as r:
        assert r.status == 200, await r.text()
        text = await r.text()
        return text


async def test_a_resolve_alertmanager_keeps_back_still_resolves_slack_and_pagerduty(w: World) -> None:
    firing = alert("UpstreamMuted", instance="u1", severity="critical")
    await am_post(w, "/api/v2/alerts", [firing])  # Prometheus → Alertmanager → alertbot
    p = await w.parent("UpstreamMuted", timeout=20)
    await w.pd.wait_events(1, timeout=15)
    assert set(w.pd.actions()) == {"trigger"}  # (repeat_interval is 3s: a slow run may see a repeat)
    # someone silences it in Alertmanager itself
    now = datetime.now(UTC)
    await am_post(w, "/api/v2/silences", {
        "matchers": [{"name": "alertname", "value": "UpstreamMuted", "isRegex": False, "isEqual": True}],
        "startsAt": iso(now), "endsAt": iso(now + timedelta(hours=1)), "createdBy": "ops", "comment": "noisy"})
    watched = await wait_for(lambda: w.db("SELECT key FROM kv WHERE namespace = 'chatops.watch'"), 10,
                             "alertbot to watch the muted alert")
    assert len(watched) == 1
    # it resolves in Alertmanager, which notifies nobody (the alert is silenced there)
    resolved = dict(firing, endsAt=iso(datetime.now(UTC) - timedelta(seconds=1)))
    await am_post(w, "/api/v2/alerts", [resolved])
    gone_at = time.monotonic()
    missing = await wait_for(lambda: (w.kv("chatops.watch", watched[0][0]) or {}).get("missing_ns"), 10,
                             "the alert to be seen missing")
    assert missing
    await wait_for(lambda: "RESOLVED" in p.blocks_text(w.slack), 20, "the Slack message to say RESOLVED")
    assert time.monotonic() - gone_at >= 2  # upstream_resolve_after: not on the first poll that misses it
    await wait_for(lambda: w.pd.actions()[-1:] == ["resolve"], 15, "PagerDuty's resolve")
    actions = w.pd.actions()
    assert actions.count("resolve") == 1 and set(actions[:-1]) == {"trigger"}, actions
    rows = w.audit(p.group_id)
    upstream = [d for a, b, _, d in rows if b == "resolve" and "upstream" in d.get("reason", "")]
    assert upstream and upstream[0]["alert"]["instance"] == "u1"
    assert any(b == "resolve" and "group_key" in d for _, b, _, d in rows)  # the group itself ended
    assert w.db("SELECT key FROM kv WHERE namespace = 'chatops.watch'") == []
    await w.wait_thread(p, "resolved in the upstream Alertmanager")
    # Alertmanager itself sent the firing notification only: the resolve came from the poll
    hooks = [r for r in w.log_records() if r.get("path") == "/webhook"]
    assert len(hooks) == 1, hooks
