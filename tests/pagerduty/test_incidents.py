"""Incidents kept in step, on a virtual clock with the real integrations posting to the fake
PagerDuty: one incident per group, acknowledge from the chatops API, resolve after a full
resolution and after a silence, Slack-first escalation, a refused event reported, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from bot.notify.pagerduty import NotPageable, UnknownGroup, dedup_key
from bot.store.memory import MemoryStore
from tests.engine.harness import START
from tests.fakes.pagerduty import FakePagerDuty
from tests.pagerduty.conftest import SlackStandIn
from tests.pagerduty.harness import PDHarness

MIN = 60


def alert(name: str, i: str, start: float, end: float | None = None, **labels: str) -> dict:
    return {"labels": {"alertname": name, "instance": i, **labels}, "annotations": {"summary": f"{name} on {i}"},
            "startsAt": start, "endsAt": end if end is not None else start + 24 * 3600}


async def call(h: PDHarness, coro: Awaitable[Any]) -> Any:
    """An API call that needs an engine cycle: start it, run the cycle, return its answer."""
    task = asyncio.ensure_future(coro)
    await asyncio.sleep(0)
    await h.settle()
    return await task


async def test_one_incident_per_group_as_alerts_join(harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    h = harness()
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="pd"))
    await h.at(29)
    await h.deliver()
    assert fake_pd.accepted == []  # group_wait
    await h.at(31)
    await h.deliver()
    key = dedup_key('{}/{team="pd"}:{alertname="DiskFull"}')
    assert fake_pd.actions(key) == ["trigger"]
    await h.post(alert("DiskFull", "b", 60, team="pd"), alert("DiskFull", "c", 61, team="pd"))
    await h.at(31 + 5 * MIN + 1)
    await h.deliver()
    assert fake_pd.actions(key) == ["trigger", "trigger"]
    assert fake_pd.accepted[-1]["payload"]["summary"] == "[FIRING:3] DiskFull (pd)"
    assert [a.dedup_key for a in fake_pd.alerts] == [key]  # one incident, updated
    assert fake_pd.alerts[0].log == ["trigger", "trigger"]
    st = h.incident("DiskFull")
    assert st is not None and st["status"] == "triggered" and st["dedup_key"] == key


async def test_acknowledge_from_chatops_reaches_pagerduty_and_holds_repeats(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    h = harness()
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="pd"))
    await h.at(31)
    await h.deliver()
    gid = h.group_id("DiskFull")
    key = dedup_key(h.engine.groups[gid].key)
    result = await call(h, h.service.acknowledge(gid, "U123 (alice)", "looking at it"))
    assert result.sent_to == ("pd/0",) and result.dedup_key == key and not result.already_acknowledged
    await h.deliver()
    assert fake_pd.actions(key) == ["trigger", "acknowledge"]
    assert fake_pd.accepted[-1] == {"routing_key": fake_pd.accepted[0]["routing_key"], "dedup_key": key,
                                    "event_action": "acknowledge"}
    assert fake_pd.alert(key).status == "acknowledged"
    st = h.incident("DiskFull")
    assert st["status"] == "acknowledged" and st["ack"]["by"] == "U123 (alice)" and st["ack"]["comment"] == "looking at it"
    # Acknowledged: the repeat (4h) is held back; a second acknowledge sends nothing.
    assert h.service.extension.suppress_repeat(h.engine.groups[gid])
    again = await call(h, h.service.acknowledge(gid, "U999 (bob)"))
    assert again.already_acknowledged and again.sent_to == () and again.acknowledged_by == "U123 (alice)"
    await h.at(31 + 4 * 3600 + 10 * MIN)
    await h.deliver()
    assert fake_pd.actions(key) == ["trigger", "acknowledge"]
    (audit,) = [r for r in await h.store.audit(gid) if r.action == "acknowledge" and r.actor == "U123 (alice)"]
    assert audit is not None
    with pytest.raises(UnknownGroup):
        await call(h, h.service.acknowledge("no-such-group", "U1"))


async def test_acknowledge_waits_behind_an_undelivered_trigger(harness: Callable[..., PDHarness],
                                                               fake_pd: FakePagerDuty) -> None:
    h = harness()
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="pd"))
    await h.at(31)  # trigger queued, not delivered
    gid = h.group_id("DiskFull")
    result = await call(h, h.service.acknowledge(gid, "U1"))
    assert result.sent_to == ("pd/0",)
    await h.deliver()
    key = dedup_key(h.engine.groups[gid].key)
    assert fake_pd.actions(key) == ["trigger", "acknowledge"]
    assert fake_pd.alert(key).status == "acknowledged"


async def test_resolve_after_full_resolution_is_sent_once(harness: Callable[..., PDHarness],
                                                          fake_pd: FakePagerDuty) -> None:
    h = harness()
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="pd"), alert("DiskFull", "b", 0, team="pd"))
    await h.at(31)
    await h.deliver()
    key = dedup_key('{}/{team="pd"}:{alertname="DiskFull"}')
    await h.at(100)
    await h.post(alert("DiskFull", "a", 0, 100, team="pd"))
    await h.at(31 + 5 * MIN + 1)
    await h.deliver()
    assert fake_pd.actions(key) == ["trigger", "trigger"]  # some resolved: still a trigger, as Alertmanager
    await h.at(400)
    await h.post(alert("DiskFull", "b", 0, 400, team="pd"))
    await h.at(31 + 10 * MIN + 1)
    await h.deliver()
    await h.at(31 + 30 * MIN)
    await h.deliver()
    assert fake_pd.actions(key) == ["trigger", "trigger", "resolve"]
    assert fake_pd.alert(key).status == "resolved"
    assert not h.engine.groups
    st = h.service.extension.incident_of(h.engine.kv[("pagerduty.incident", key)]["group_id"])
    assert st["status"] == "resolved" and st["closed"]


async def test_resolve_after_the_group_was_silenced(harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    slack = SlackStandIn()
    h = harness()
    h.engine.extensions.append(slack)
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="pd"))
    await h.at(31)
    await h.deliver()
    key = dedup_key('{}/{team="pd"}:{alertname="DiskFull"}')
    gid = h.group_id("DiskFull")
    await h.silence([("alertname", "DiskFull")])
    await h.at(200)
    await h.post(alert("DiskFull", "a", 0, 200, team="pd"))
    await h.at(31 + 10 * MIN)
    await h.deliver()
    # Alertmanager sends nothing for a muted group; the bot resolves the incident it opened.
    assert fake_pd.actions(key) == ["trigger", "resolve"]
    assert fake_pd.alert(key).status == "resolved"
    assert fake_pd.accepted[-1] == {"routing_key": fake_pd.accepted[0]["routing_key"], "dedup_key": key,
                                    "event_action": "resolve"}
    assert any(r.action == "resolve" for r in await h.store.audit(gid))
    assert any("resolving the PagerDuty incident" in text for g, text in slack.notes if g == gid)


async def test_resolve_after_silence_follows_a_trigger_still_in_the_outbox(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    h = harness()
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="pd"))
    await h.at(31)  # the trigger is queued (PagerDuty unreachable, say)
    await h.silence([("alertname", "DiskFull")])
    await h.at(200)
    await h.post(alert("DiskFull", "a", 0, 200, team="pd"))
    await h.at(31 + 10 * MIN)
    assert not h.engine.groups
    await h.deliver()
    key = dedup_key('{}/{team="pd"}:{alertname="DiskFull"}')
    assert fake_pd.actions(key) == ["trigger", "resolve"]


async def test_send_resolved_false_leaves_the_incident_as_alertmanager_does(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    h = harness()
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="quiet"))
    await h.at(31)
    await h.deliver()
    await h.silence([("alertname", "DiskFull")])
    await h.at(200)
    await h.post(alert("DiskFull", "a", 0, 200, team="quiet"))
    await h.at(31 + 10 * MIN)
    await h.deliver()
    assert [b["event_action"] for b in fake_pd.accepted] == ["trigger"]


async def test_slack_first_escalation_pages_only_when_unacknowledged(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    slack = SlackStandIn()
    h = harness()
    h.engine.extensions.append(slack)
    await h.start()
    await h.post(alert("ModelDown", "m1", 0, team="slackfirst"))
    await h.at(31)  # first flush: the route's own receiver ("Slack") was notified
    gid = h.group_id("ModelDown")
    st = h.incident("ModelDown")
    assert st["escalation"]["state"] == "waiting"
    assert st["escalation"]["due_ns"] == START.ns + (30 + 10 * MIN) * 10**9
    await h.at(30 + 10 * MIN - 1)
    await h.deliver()
    assert fake_pd.accepted == []
    await h.at(30 + 10 * MIN)
    await h.deliver()
    key = dedup_key(h.engine.groups[gid].key)
    assert fake_pd.actions(key) == ["trigger"]
    assert fake_pd.accepted[0]["payload"]["summary"] == "[FIRING:1] ModelDown (m1 slackfirst)"
    assert h.incident("ModelDown")["escalation"]["state"] == "paged"
    assert any("Nobody acknowledged within 10m: paging PagerDuty" in text for g, text in slack.notes if g == gid)
    assert any(r.action == "escalate" for r in await h.store.audit(gid))
    # A new alert joins after the page: the incident is updated, nobody is paged twice.
    await h.post(alert("ModelDown", "m2", 30 + 11 * MIN, team="slackfirst"))
    await h.at(30 + 16 * MIN)
    await h.deliver()
    assert fake_pd.actions(key) == ["trigger", "trigger"]
    assert [a.dedup_key for a in fake_pd.alerts] == [key]
    # The group resolves: the escalated incident is resolved too (the route's receiver is not PagerDuty).
    await h.at(30 + 17 * MIN)
    await h.post(alert("ModelDown", "m1", 0, 30 + 17 * MIN, team="slackfirst"),
                 alert("ModelDown", "m2", 30 + 11 * MIN, 30 + 17 * MIN, team="slackfirst"))
    await h.at(30 + 30 * MIN)
    await h.deliver()
    assert fake_pd.actions(key) == ["trigger", "trigger", "resolve"]


async def test_escalation_is_cancelled_by_an_acknowledgement(harness: Callable[..., PDHarness],
                                                             fake_pd: FakePagerDuty) -> None:
    h = harness()
    await h.start()
    await h.post(alert("ModelDown", "m1", 0, team="slackfirst"))
    await h.at(5 * MIN)
    gid = h.group_id("ModelDown")
    result = await call(h, h.service.acknowledge(gid, "U1 (alice)"))
    assert result.escalation_cancelled and result.sent_to == ()
    await h.at(40 * MIN)
    await h.deliver()
    assert fake_pd.accepted == []
    assert h.incident("ModelDown")["escalation"]["state"] == "acknowledged"


async def test_escalation_respects_an_acknowledgement_held_by_another_module(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    slack = SlackStandIn()
    h = harness()
    h.engine.extensions.append(slack)
    await h.start()
    await h.post(alert("ModelDown", "m1", 0, team="slackfirst"))
    await h.at(5 * MIN)
    slack.acked.add(h.group_id("ModelDown"))  # acknowledged through Slack chatops' own state
    await h.at(40 * MIN)
    await h.deliver()
    assert fake_pd.accepted == []


async def test_escalation_waits_while_the_group_is_muted(harness: Callable[..., PDHarness],
                                                         fake_pd: FakePagerDuty) -> None:
    h = harness()
    await h.start()
    await h.post(alert("ModelDown", "m1", 0, team="slackfirst"))
    await h.at(31)
    await h.silence([("alertname", "ModelDown")], seconds=20 * MIN)
    await h.at(31 + 12 * MIN)
    await h.deliver()
    assert fake_pd.accepted == []  # muted when due: nobody paged
    assert h.incident("ModelDown")["escalation"] is None
    # The silence ends; the next flush with the alert unmuted starts the clock again.
    await h.at(31 + 21 * MIN)
    await h.at(31 + 25 * MIN + 5)
    st = h.incident("ModelDown")
    assert st["escalation"]["state"] == "waiting"
    await h.at(31 + 40 * MIN)
    await h.deliver()
    assert [b["event_action"] for b in fake_pd.accepted] == ["trigger"]


async def test_unacknowledged_escalated_incident_can_be_left_open(harness: Callable[..., PDHarness],
                                                                  fake_pd: FakePagerDuty) -> None:
    slack = SlackStandIn()
    h = harness()
    h.engine.extensions.append(slack)
    await h.start()
    await h.post(alert("ModelDown", "m1", 0, team="keepopen"), alert("ModelDrift", "m1", 0, team="keepopen"))
    await h.at(30 + 10 * MIN)
    await h.deliver()
    assert [b["event_action"] for b in fake_pd.accepted] == ["trigger", "trigger"]
    drift = h.group_id("ModelDrift")
    await call(h, h.service.acknowledge(drift, "U1 (alice)"))  # one of the two is acknowledged
    await h.at(30 + 11 * MIN)
    await h.post(alert("ModelDown", "m1", 0, 30 + 11 * MIN, team="keepopen"),
                 alert("ModelDrift", "m1", 0, 30 + 11 * MIN, team="keepopen"))
    await h.at(30 + 30 * MIN)
    await h.deliver()
    down = dedup_key('{}/{team="keepopen"}:{alertname="ModelDown"}')
    drift_key = dedup_key('{}/{team="keepopen"}:{alertname="ModelDrift"}')
    assert fake_pd.actions(down) == ["trigger"]  # nobody acknowledged: left open
    assert fake_pd.alert(down).status == "triggered"
    assert fake_pd.actions(drift_key) == ["trigger", "acknowledge", "resolve"]
    assert any("stays open" in text for _, text in slack.notes)


async def test_a_refused_event_is_not_retried_and_is_reported(harness: Callable[..., PDHarness],
                                                              fake_pd: FakePagerDuty) -> None:
    slack = SlackStandIn()
    h = harness()
    h.engine.extensions.append(slack)
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="badkey"))
    await h.at(31)
    (outcome,) = await h.deliver(retries=5)
    assert not outcome.ok and not outcome.retryable
    assert outcome.error == ("unexpected status code 400: Event object is invalid: Length of 'routing_key' is "
                             "incorrect (should be 32 characters)")
    assert len(fake_pd.received) == 1 and fake_pd.received[0].status == 400
    gid = h.group_id("DiskFull")
    (audit,) = [r for r in await h.store.audit(gid) if r.action == "pagerduty event refused"]
    assert "routing_key" in audit.details
    st = h.incident("DiskFull")
    assert st["targets"]["pd-badkey/0"]["failed_action"] == "trigger"
    assert any("PagerDuty refused the trigger event" in text for _, text in slack.notes)


async def test_escalation_and_queued_events_survive_a_restart(harness: Callable[..., PDHarness],
                                                              fake_pd: FakePagerDuty) -> None:
    store = MemoryStore()
    h = harness(store=store)
    await h.start()
    await h.post(alert("ModelDown", "m1", 0, team="slackfirst"), alert("DiskFull", "a", 0, team="pd"))
    await h.at(5 * MIN)  # DiskFull's trigger is queued, not delivered; ModelDown waits for its page
    h2 = harness(store=store, start=h.clock.now())
    await h2.start()
    assert [r.integration for r in h2.deliverer.rows] == ["pagerduty"]  # resumed from the outbox
    await h2.at(30 + 10 * MIN)
    await h2.deliver()
    assert sorted(b["payload"]["summary"] for b in fake_pd.accepted) == [
        "[FIRING:1] DiskFull (a pd)", "[FIRING:1] ModelDown (m1 slackfirst)"]


async def test_manual_page(harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    h = harness()
    await h.start()
    await h.post(alert("ModelDown", "m1", 0, team="slackfirst"))
    await h.at(31)
    gid = h.group_id("ModelDown")
    key = await call(h, h.service.trigger_manual("pd", "please look", "U1 (alice)", group_id=gid))
    assert key == dedup_key(h.engine.groups[gid].key)
    alone = await call(h, h.service.trigger_manual("pd", "the lab is on fire", "U2 (bob)"))
    assert alone.startswith("alertbot-")
    await h.deliver()
    assert fake_pd.actions(key) == ["trigger"]
    assert fake_pd.actions(alone) == ["trigger"]
    assert fake_pd.alert(alone).summary == "the lab is on fire"
    assert h.incident("ModelDown")["escalation"]["state"] == "paged"  # no second page at 10m
    await h.at(30 + 15 * MIN)
    await h.deliver()
    assert fake_pd.actions(key) == ["trigger"]
    with pytest.raises(NotPageable):
        await call(h, h.service.trigger_manual("team", "x", "U1"))


async def test_pagerduty_webhooks_update_the_incident_and_the_slack_message(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    import json

    slack = SlackStandIn()
    h = harness()
    h.engine.extensions.append(slack)
    fake_pd.clock = lambda: h.clock.now().ns / 1e9  # occurred_at follows the virtual clock
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="pd"))
    await h.at(31)
    await h.deliver()
    gid = h.group_id("DiskFull")
    key = dedup_key(h.engine.groups[gid].key)
    ext = h.service.extension

    async def webhook(event_type: str, webhook_id: str, **kw: Any) -> Any:
        body, headers = fake_pd.webhook(event_type, key, secrets=["s"], webhook_id=webhook_id, **kw)
        event = json.loads(body)["event"]
        return await call(h, h.engine.transact(lambda txn: ext.apply_webhook(txn, headers["X-Webhook-Id"], event)))

    result = await webhook("incident.acknowledged", "wh-1", agent="Alice Oncall")
    assert result.outcome == "applied" and result.group_id == gid
    # Slack was told after the state was saved: its redraw read "acknowledged".
    assert slack.refreshed[-1] == (gid, "acknowledged")
    assert slack.notes[-1] == (gid, ":eyes: Acknowledged in PagerDuty by Alice Oncall (incident #1).")
    assert slack.kinds[-1] == "ack"
    assert ext.suppress_repeat(h.engine.groups[gid])
    st = h.incident("DiskFull")
    assert st["ack"]["source"] == "pagerduty" and st["incident"]["html_url"] == "https://acme.pagerduty.com/incidents/Q000001"
    notes = len(slack.notes)
    assert (await webhook("incident.acknowledged", "wh-1")).outcome == "duplicate"
    assert len(slack.notes) == notes
    await webhook("incident.unacknowledged", "wh-2", agent=None)
    assert h.incident("DiskFull")["status"] == "triggered" and h.incident("DiskFull")["ack"] is None
    assert not ext.suppress_repeat(h.engine.groups[gid])
    await webhook("incident.reassigned", "wh-3", agent="Bob Backup", assignees=["<!channel> Eve"])
    assert slack.notes[-1][1] == (":busts_in_silhouette: Reassigned in PagerDuty by Bob Backup to &lt;!channel&gt; Eve "
                                  "(incident #1).")
    await webhook("incident.escalated", "wh-4", assignees=["Carol Level2"])
    assert slack.notes[-1][1] == ":arrow_up: Escalated in PagerDuty (incident #1) to Carol Level2."
    await webhook("incident.resolved", "wh-5", agent="Bob Backup")
    assert slack.notes[-1][1] == (":white_check_mark: Resolved in PagerDuty by Bob Backup (incident #1); alerts of "
                                  "this group are still firing.")
    assert h.incident("DiskFull")["status"] == "resolved"
    other = json.loads(fake_pd.webhook("incident.acknowledged", "not-ours", secrets=["s"])[0])["event"]
    ignored = await call(h, h.engine.transact(lambda txn: ext.apply_webhook(txn, "wh-6", other)))
    assert ignored.outcome == "ignored"
    actions = [r.action for r in await h.store.audit(gid)]
    assert {"incident.acknowledged", "incident.unacknowledged", "incident.reassigned", "incident.escalated",
            "incident.resolved"} <= set(actions)


async def test_a_pagerduty_acknowledgement_stops_a_waiting_escalation(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    import json

    h = harness()
    fake_pd.clock = lambda: h.clock.now().ns / 1e9  # occurred_at follows the virtual clock
    await h.start()
    await h.post(alert("ModelDown", "m1", 0, team="slackfirst"))
    await h.at(31)
    key = dedup_key(h.engine.groups[h.group_id("ModelDown")].key)
    st = h.engine.kv[("pagerduty.incident", key)]
    st["incident"] = {"id": "QX"}  # known from an earlier webhook; this one comes without our key
    body, headers = fake_pd.webhook("incident.acknowledged", "grouped-by-pagerduty", secrets=["s"])
    event = json.loads(body)["event"]
    event["data"]["id"] = "QX"
    ext = h.service.extension
    result = await call(h, h.engine.transact(lambda txn: ext.apply_webhook(txn, "wh-x", event)))
    assert result.outcome == "applied"
    await h.at(40 * MIN)
    await h.deliver()
    assert fake_pd.accepted == []
    assert h.incident("ModelDown")["escalation"]["state"] == "acknowledged"


async def test_the_matched_runbook_goes_into_links_and_custom_details(fake_pd: FakePagerDuty, http: Any) -> None:
    from bot.notify.pagerduty import PagerDutyService
    from bot.runbooks import Catalog
    from tests.pagerduty.conftest import CONFIG, config_for

    catalog = Catalog.load("runbooks", quiet=True)
    assert catalog.get("api-high-error-rate") is not None
    h = PDHarness(config_for(fake_pd, CONFIG), http, service=PagerDutyService(http, runbooks=catalog))
    await h.start()
    await h.post(alert("APIHighErrorRate", "api-0", 0, team="pd", service="api"))
    await h.at(31)
    await h.deliver()
    (event,) = fake_pd.accepted
    url = "https://git.example.com/mlops/alertbot/blob/main/runbooks/api-high-error-rate.md"
    assert event["links"] == [{"href": url, "text": "Runbook: API error rate above 1%"}]
    rb = event["payload"]["custom_details"]["runbook"]
    assert rb["title"] == "API error rate above 1%" and rb["url"] == url and rb["owner"] == "platform-api"
    assert rb["first_steps"] and rb["first_steps"][0].startswith("**Find what fails.**")
    # Alertmanager's own details are still there, as strings.
    assert event["payload"]["custom_details"]["num_firing"] == "1"


async def test_webhook_ids_and_closed_incidents_are_forgotten_after_a_week(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    import json

    h = harness()
    fake_pd.clock = lambda: h.clock.now().ns / 1e9  # occurred_at follows the virtual clock
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="pd"))
    await h.at(31)
    await h.deliver()
    gid = h.group_id("DiskFull")
    key = dedup_key(h.engine.groups[gid].key)
    body, headers = fake_pd.webhook("incident.acknowledged", key, secrets=["s"], webhook_id="wh-old")
    ext = h.service.extension
    await call(h, h.engine.transact(lambda txn: ext.apply_webhook(txn, "wh-old", json.loads(body)["event"])))
    assert ("pagerduty.webhook", "wh-old") in h.engine.kv
    await h.at(100)
    await h.post(alert("DiskFull", "a", 0, 100, team="pd"))
    await h.at(31 + 10 * MIN)
    await h.deliver()
    assert not h.engine.groups
    assert h.service.incident(gid)["closed"]  # still shown for a closed group (late webhooks)
    await h.at(8 * 86400)
    assert ("pagerduty.webhook", "wh-old") not in h.engine.kv
    assert ("pagerduty.incident", key) not in h.engine.kv
    assert h.service.incident(gid) is None
    assert not any(ns == "timer" and k.startswith("pagerduty|") for ns, k in h.engine.kv)
