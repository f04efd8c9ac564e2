"""PagerDuty webhooks applied once, in order, and only while fresh.

A signed body is a signed body whatever `X-Webhook-Id` travels with it (the header is not
signed), so deliveries are told apart by the signed `event.id`; an event whose `occurred_at`
is older than the window is refused; an event older than the last one applied to the same
incident changes nothing (an old `incident.acknowledged` arriving after `unacknowledged`);
what is remembered for this is durable (the engine's state) and forgotten after the window.

On the virtual clock of the PagerDuty harness (the fake's `occurred_at` follows that clock),
and once end to end through `POST /pagerduty/webhook` of `alertbot serve`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.notify.pagerduty import dedup_key
from bot.notify.pagerduty.extension import NS_EVENT, NS_WEBHOOK, WEBHOOK_WINDOW_S
from bot.store.memory import MemoryStore
from tests.fakes.pagerduty import FakePagerDuty
from tests.pagerduty.conftest import SlackStandIn
from tests.pagerduty.harness import PDHarness
from tests.pagerduty.test_incidents import alert, call
from tests.pagerduty.test_serve import Bot, alertmanagers_dedup_key, wait_until
from tests.pagerduty.test_serve import alert as serve_alert
from tests.pagerduty.test_serve import bot  # noqa: F401  (the fixture)

MIN = 60


async def started(harness: Callable[..., PDHarness], fake_pd: FakePagerDuty,
                  store: MemoryStore | None = None) -> tuple[PDHarness, SlackStandIn, str, str]:
    h = harness(store=store) if store is not None else harness()
    slack = SlackStandIn()
    h.engine.extensions.append(slack)
    fake_pd.clock = lambda: h.clock.now().ns / 1e9  # PagerDuty's clock is the test's
    await h.start()
    await h.post(alert("DiskFull", "a", 0, team="pd"))
    await h.at(31)
    await h.deliver()
    gid = h.group_id("DiskFull")
    return h, slack, gid, dedup_key(h.engine.groups[gid].key)


async def apply(h: PDHarness, body: bytes, headers: dict[str, str]) -> Any:
    """What POST /pagerduty/webhook does once the signature is checked."""
    from bot.notify.pagerduty.webhooks import parse

    envelope = parse(body, headers.get("X-Webhook-Id"))
    ext = h.service.extension
    return await call(h, h.engine.transact(lambda txn: ext.apply_webhook(txn, envelope.webhook_id, envelope.event)))


async def test_the_same_signed_event_under_a_new_webhook_id_is_applied_once(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    h, slack, gid, key = await started(harness, fake_pd)
    body, headers = fake_pd.webhook("incident.acknowledged", key, secrets=["s"], webhook_id="wh-1")
    first = await apply(h, body, headers)
    assert first.outcome == "applied"
    notes = list(slack.notes)
    audit = [r.action for r in await h.store.audit(gid)]
    # The captured body again, three times, each under a header of the attacker's choosing.
    for wid in ("wh-2", "wh-3", "attacker-chosen"):
        again = await apply(h, body, {**headers, "X-Webhook-Id": wid})
        assert again.outcome == "duplicate", again
        assert json.loads(body)["event"]["id"] in again.detail
    assert slack.notes == notes
    assert [r.action for r in await h.store.audit(gid)] == audit
    assert audit.count("incident.acknowledged") == 1


async def test_an_old_acknowledgement_never_overwrites_a_newer_unacknowledgement(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    h, slack, gid, key = await started(harness, fake_pd)
    t0 = h.clock.now().ns / 1e9
    acked, ah = fake_pd.webhook("incident.acknowledged", key, secrets=["s"], occurred_at=t0)
    assert (await apply(h, acked, ah)).outcome == "applied"
    await h.at(31 + 2 * MIN)
    unacked, uh = fake_pd.webhook("incident.unacknowledged", key, secrets=["s"], agent=None)
    assert (await apply(h, unacked, uh)).outcome == "applied"
    assert h.incident("DiskFull")["status"] == "triggered" and h.incident("DiskFull")["ack"] is None
    notes = list(slack.notes)
    # The old acknowledgement replayed: refused as a duplicate of the event already applied.
    assert (await apply(h, acked, {**ah, "X-Webhook-Id": "replayed"})).outcome == "duplicate"
    # Another acknowledgement that happened before the unacknowledgement (PagerDuty delivers a
    # late retry, or the retries of two events cross): recorded, and changes nothing.
    late, lh = fake_pd.webhook("incident.acknowledged", key, secrets=["s"], occurred_at=t0 + 30)
    result = await apply(h, late, lh)
    assert result.outcome == "outdated", result
    st = h.incident("DiskFull")
    assert st["status"] == "triggered" and st["ack"] is None
    assert not h.service.extension.suppress_repeat(h.engine.groups[gid])
    assert slack.notes == notes
    assert (await apply(h, late, {**lh, "X-Webhook-Id": "again"})).outcome == "duplicate"
    # It is in the audit log, as every webhook is, saying it was not applied.
    rows = [json.loads(r.details) for r in await h.store.audit(gid) if r.action == "incident.acknowledged"]
    assert len(rows) == 2 and [r.get("outcome") for r in rows].count("outdated") == 1
    # A newer event still applies; one at the very same instant as the last applied, too.
    newer, nh = fake_pd.webhook("incident.acknowledged", key, secrets=["s"])
    assert (await apply(h, newer, nh)).outcome == "applied"
    assert h.incident("DiskFull")["status"] == "acknowledged"


async def test_events_older_than_the_window_are_refused(harness: Callable[..., PDHarness],
                                                        fake_pd: FakePagerDuty) -> None:
    assert 20 * MIN < WEBHOOK_WINDOW_S <= 60 * MIN  # PagerDuty retries for about 20 minutes
    h, slack, gid, key = await started(harness, fake_pd)
    now = h.clock.now().ns / 1e9
    before = dict(h.engine.kv)
    old, oh = fake_pd.webhook("incident.acknowledged", key, secrets=["s"], occurred_at=now - WEBHOOK_WINDOW_S - 1)
    result = await apply(h, old, oh)
    assert result.outcome == "too_old" and "older than" in result.detail, result
    ahead, fh = fake_pd.webhook("incident.acknowledged", key, secrets=["s"], occurred_at=now + WEBHOOK_WINDOW_S + 1)
    result = await apply(h, ahead, fh)
    assert result.outcome == "from_the_future" and "clock" in result.detail, result
    assert dict(h.engine.kv) == before  # nothing recorded, nothing changed
    assert h.incident("DiskFull")["status"] == "triggered"
    # Just inside the window: applied (a retry PagerDuty made 20 minutes after the event).
    late, lh = fake_pd.webhook("incident.acknowledged", key, secrets=["s"], occurred_at=now - 20 * MIN)
    assert (await apply(h, late, lh)).outcome == "applied"
    assert h.incident("DiskFull")["status"] == "acknowledged"


async def test_what_is_remembered_survives_a_restart_and_is_forgotten_after_the_window(
        harness: Callable[..., PDHarness], fake_pd: FakePagerDuty) -> None:
    store = MemoryStore()
    h, _, gid, key = await started(harness, fake_pd, store)
    body, headers = fake_pd.webhook("incident.acknowledged", key, secrets=["s"], webhook_id="wh-1")
    event_id = json.loads(body)["event"]["id"]
    assert (await apply(h, body, headers)).outcome == "applied"
    assert (NS_EVENT, event_id) in h.engine.kv and (NS_WEBHOOK, "wh-1") in h.engine.kv
    # A restart on the same database: the event is still known.
    h2 = harness(store=store, start=h.clock.now())
    fake_pd.clock = lambda: h2.clock.now().ns / 1e9
    await h2.start()
    assert (await apply(h2, body, {**headers, "X-Webhook-Id": "wh-after-restart"})).outcome == "duplicate"
    # After the window nothing is left of it, and the same body is refused by its age instead.
    await h2.at(31 + WEBHOOK_WINDOW_S + 20 * MIN)
    assert not [k for k in h2.engine.kv if k[0] in (NS_EVENT, NS_WEBHOOK)]
    result = await apply(h2, body, {**headers, "X-Webhook-Id": "wh-much-later"})
    assert result.outcome == "too_old"
    assert [r.action for r in await store.audit(gid)].count("incident.acknowledged") == 1
    # The clean-up timer stops once there is nothing left to forget.
    await h2.at(31 + 3 * WEBHOOK_WINDOW_S)
    assert not any(ns == "timer" and k == "pagerduty|webhook-gc" for ns, k in h2.engine.kv)


async def test_serve_refuses_a_signed_body_replayed_under_new_webhook_ids(
        bot: Callable[..., Bot], fake_pd: FakePagerDuty, tmp_path: Path) -> None:  # noqa: F811
    b = bot()
    await b.start()
    await b.post(serve_alert("i1"))
    await fake_pd.wait_events(1, timeout=15)
    key = alertmanagers_dedup_key()
    await wait_until(lambda: (b.incident(key) or {}).get("status") == "triggered", 5, "the trigger recorded")
    acked, ah = fake_pd.webhook("incident.acknowledged", key, secrets=["new-secret"], agent="Alice Oncall")
    status, answer = await b.webhook(acked, ah)
    assert status == 202 and answer["outcome"] == "applied", answer
    unacked, uh = fake_pd.webhook("incident.unacknowledged", key, secrets=["new-secret"], agent=None)
    status, answer = await b.webhook(unacked, uh)
    assert status == 202 and answer["outcome"] == "applied", answer
    state, audit = b.pagerduty_state(), b.audit()
    # The acknowledgement's signed body again, 4 times, each with a fresh X-Webhook-Id.
    for i in range(4):
        status, answer = await b.webhook(acked, {**ah, "X-Webhook-Id": f"fresh-{i}"})
        assert status == 400 and "already" in answer["message"], (status, answer)
    assert b.pagerduty_state() == state and b.audit() == audit
    assert b.incident(key)["status"] == "triggered"
    # An event too old to be a retry: refused with the reason.
    old, oh = fake_pd.webhook("incident.acknowledged", key, secrets=["new-secret"],
                              occurred_at=fake_pd.clock() - WEBHOOK_WINDOW_S - 60)
    status, answer = await b.webhook(old, oh)
    assert status == 400 and "older than" in answer["message"], answer
    # Durable: after a restart on the same database the replay is still refused.
    await asyncio.to_thread(b.stop)
    await b.start()
    status, answer = await b.webhook(acked, {**ah, "X-Webhook-Id": "after-restart"})
    assert status == 400 and "already" in answer["message"], (status, answer)
    assert b.incident(key)["status"] == "triggered"
