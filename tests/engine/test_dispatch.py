"""Dispatcher timing, notification-log effects and durability, on a virtual clock."""

from __future__ import annotations

import json

from bot.engine.engine import FLUSHES_PER_CYCLE
from bot.engine.ingest import to_alert
from bot.store.base import StoreUnavailable
from bot.store.memory import MemoryStore
from tests.engine.harness import START, Harness, S, _postable, alert

CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 10s
  group_interval: 60s
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:1/
"""


async def test_group_wait_then_interval_ticks() -> None:
    h = Harness(CONFIG)
    await h.start()
    await h.post(alert("1", start=0, end=1000))
    await h.at(5)
    await h.post(alert("2", start=5, end=1000))
    await h.at(65)
    await h.post(alert("3", start=65, end=1000))
    await h.at(200)
    assert h.notifications() == [
        (10.0, "first notification", [("1", "firing"), ("2", "firing")]),
        (70.0, "new alerts added", [("1", "firing"), ("2", "firing"), ("3", "firing")]),
    ]


async def test_old_alert_flushes_at_once_and_resolution_empties_the_group() -> None:
    h = Harness(CONFIG)
    await h.start()
    await h.post(alert("1", start=-3600, end=30))
    await h.at(1)
    assert h.notifications() == [(0.0, "first notification", [("1", "firing")])]
    await h.at(61)
    assert h.notifications()[-1] == (60.0, "all alerts resolved", [("1", "resolved")])
    assert not h.engine.groups  # destroyed once the resolved alert was notified
    await h.at(70)
    await h.post(alert("1", start=70, end=1000))
    await h.at(200)
    # A new group: it waits group_wait again (today's Alertmanager).
    assert h.notifications()[-1] == (80.0, "first notification", [("1", "firing")])


async def test_repeat_after_repeat_interval_on_the_next_tick() -> None:
    h = Harness(CONFIG.replace("repeat_interval: 1h", "repeat_interval: 2m"))
    await h.start()
    await h.post(alert("1", start=0, end=100000))
    await h.at(400)
    times = [t for t, reason, _ in h.notifications()]
    # log written at 10 s; the strict test `ts < now - 2m` holds at 190 s, not 130 s.
    assert times == [10.0, 190.0, 370.0]


async def test_failed_delivery_retries_next_tick_and_keeps_resolved_alerts() -> None:
    h = Harness(CONFIG)
    await h.start()
    await h.post(alert("1", start=0, end=30))
    h.deliverer.failures = 1
    await h.at(11)
    assert h.notifications() == []  # the first notification failed: nothing logged
    await h.at(71)
    # The next tick sends the group's state at that time: the alert has resolved meanwhile.
    assert h.notifications() == []  # nothing was ever notified firing, so the resolve is not news
    assert not h.engine.groups


async def test_send_resolved_false_logs_but_sends_nothing() -> None:
    cfg = CONFIG.replace("  - url: http://127.0.0.1:1/", "  - url: http://127.0.0.1:1/\n    send_resolved: false")
    h = Harness(cfg)
    await h.start()
    await h.post(alert("1", start=0, end=100), alert("2", start=0, end=1000))
    await h.at(1200)
    # Alert 1 resolving is not news without send_resolved; alert 2 resolving ends the group
    # ("all alerts resolved"), which is logged but not sent.
    assert h.notifications() == [(10.0, "first notification", [("1", "firing"), ("2", "firing")])]
    (entry,) = h.engine.nflog.values()
    assert entry.firing == frozenset() and len(entry.resolved) == 1  # alert 1 left the group at 130 s
    assert not h.engine.groups


async def test_commit_failure_answers_with_the_error_and_loses_nothing_stored() -> None:
    store = MemoryStore()
    h = Harness(CONFIG, store)
    await h.start()
    await h.post(alert("1", start=0, end=1000))
    store.fail_next = StoreUnavailable("database is locked")
    now = h.clock.now()
    from bot.engine.ingest import to_alert
    from tests.engine.harness import _postable

    fut = h.engine.enqueue_alerts([to_alert(_postable(alert("2", start=1, end=1000)), now, 300)])
    await h.settle()
    try:
        await fut
    except StoreUnavailable:
        pass
    else:
        raise AssertionError("the ingest should have failed")
    assert set(h.engine.alerts) == {a for a in store.alerts}  # memory is what the database holds
    assert len(h.engine.alerts) == 1
    await h.at(20)
    assert h.notifications() == [(10.0, "first notification", [("1", "firing")])]


async def test_restart_keeps_group_timers() -> None:
    store = MemoryStore()
    h = Harness(CONFIG, store)
    await h.start()
    await h.post(alert("1", start=0, end=100000))
    await h.at(11)
    # A restart 40 s later: the next tick stays at 70 s (an Alertmanager restart would
    # start a new group_wait).
    h2 = Harness(CONFIG, store, start=h.clock.now())
    h2.clock.set(h.clock.now().ns + 29 * 10**9)
    await h2.start()
    await h2.post(alert("2", start=45, end=100000))
    await h2.at(100)
    assert [(t, r) for t, r, _ in h2.notifications()] == [(70.0, "new alerts added")]


async def test_restart_resumes_undelivered_notifications() -> None:
    store = MemoryStore()
    h = Harness(CONFIG, store)
    await h.start()
    h.deliverer.hold = True  # the process dies with the notification queued
    await h.post(alert("1", start=0, end=100000))
    await h.at(11)
    assert h.deliverer.held and h.notifications() == []
    h2 = Harness(CONFIG, store, start=h.clock.now())
    await h2.start()
    assert [r for _, r, _ in h2.notifications()] == ["first notification"]  # resumed, sent once
    await h2.at(60)
    assert len(h2.notifications()) == 1


async def test_outbox_ids_are_never_reused_after_a_restart() -> None:
    store = MemoryStore()
    h = Harness(CONFIG, store)
    await h.start()
    await h.post(alert("1", start=0, end=100000))
    await h.at(11)
    used = set(store.outbox)
    assert used and all(r.status == "delivered" for r in store.outbox.values())
    h2 = Harness(CONFIG, store, start=h.clock.now())
    await h2.start()
    await h2.post(alert("2", start=20, end=100000))
    await h2.at(80)
    new = set(store.outbox) - used
    assert new and min(new) > max(used)
    assert len(store.outbox) == len(used) + len(new)  # nothing overwritten


PER_ALERT = CONFIG.replace("group_by: [alertname]", "group_by: ['...']")


async def test_a_burst_of_due_groups_is_flushed_in_slices_earliest_first() -> None:
    # A cycle's rows are sent once it commits, and their flush deadline runs from the flush:
    # 1,200 groups due at once go out in slices, so the first are sent after one slice's work.
    h = Harness(PER_ALERT)
    await h.start()
    h.deliverer.hold = True
    await h.post(*[alert(f"early{i}", start=0, end=1000) for i in range(600)])
    h.clock.set(START.ns + 1 * S)
    await h.post(*[alert(f"late{i}", start=1, end=1000) for i in range(600)])
    h.clock.set(START.ns + 20 * S)  # both bursts are due

    def flushed() -> list[str]:
        return [json.loads(r.payload)["alerts"][0]["labels"]["i"] for r in h.deliverer.held]

    early = {f"early{i}" for i in range(600)}
    assert await h.engine.cycle()
    first = flushed()
    assert len(first) == FLUSHES_PER_CYCLE and set(first) <= early
    assert await h.engine.cycle()
    second = flushed()[len(first):]
    assert len(second) == FLUSHES_PER_CYCLE
    assert set(first + second[:600 - FLUSHES_PER_CYCLE]) == early, "the earliest due groups first"
    await h.settle()
    assert sorted(flushed()) == sorted(early | {f"late{i}" for i in range(600)})


async def test_in_a_backlog_first_notifications_go_before_later_ticks() -> None:
    # 1,200 groups that have notified all tick at once (their group_interval fell due while the
    # engine could not run, say), and a new group is due at the same moment: its first
    # notification comes in the first slice, not after the backlog of ticks, which find
    # nothing new to send.
    h = Harness(PER_ALERT)
    await h.start()
    await h.post(*[alert(f"old{i}", start=0, end=10_000) for i in range(1200)])
    await h.at(11)  # group_wait 10s: all have notified; their next ticks are at 70s
    assert len(h.deliverer.sent) == 1200
    h.deliverer.hold = True
    h.clock.set(START.ns + 400 * S)  # no cycle ran since: every old group's tick is long due
    # An alert that started long ago makes its group due at once (Alertmanager's rule).
    new = to_alert(_postable(alert("new", start=0, end=10_000)), h.clock.now(), h.config.resolve_timeout)
    stored = h.engine.enqueue_alerts([new])
    assert await h.engine.cycle()
    await stored
    first = [json.loads(r.payload)["alerts"][0]["labels"]["i"] for r in h.deliverer.held]
    assert first == ["new"]  # before: the 500 earliest due, all old ticks, and the new group after them
    await h.settle()
    assert [json.loads(r.payload)["alerts"][0]["labels"]["i"] for r in h.deliverer.held] == ["new"]
