"""The extension hooks chatops builds on: transactions, key-value state, durable timers,
audit rows, closed groups and held-back repeats."""

from __future__ import annotations

from bot.engine.engine import Extension, Txn
from bot.engine.groups import AggrGroup
from bot.store.memory import MemoryStore
from tests.engine.harness import Harness, alert
from tests.engine.test_dispatch import CONFIG

S = 10**9


class Recorder(Extension):
    name = "rec"

    def __init__(self) -> None:
        self.closed: list[str] = []
        self.fired: list[tuple[str, int]] = []
        self.hold = False

    def on_group_closed(self, group: AggrGroup, txn: Txn) -> None:
        self.closed.append(group.key)
        txn.audit("system", "resolve", group.id, alerts=len(group.alerts))

    def suppress_repeat(self, group: AggrGroup) -> bool:
        return self.hold

    def on_timer(self, key: str, txn: Txn) -> None:
        self.fired.append((key, txn.now.ns))
        txn.put_kv("rec", key, {"fired": True})


async def test_kv_timers_and_audit_are_durable() -> None:
    store = MemoryStore()
    h = Harness(CONFIG, store)
    rec = Recorder()
    h.engine.extensions.append(rec)
    await h.start()
    start = h.clock.now().ns

    def plan(txn: Txn) -> str:
        txn.put_kv("rec", "page", {"due": 100})
        txn.schedule("rec", "page", start + 100 * S)
        txn.audit("U1 (alice)", "ack", "g1", comment="looking")
        return "planned"

    fut = h.engine.transact(plan)
    await h.settle()
    assert await fut == "planned"
    # The process restarts before the timer is due: the timer survives.
    h2 = Harness(CONFIG, store, start=h.clock.now())
    rec2 = Recorder()
    h2.engine.extensions.append(rec2)
    await h2.start()
    await h2.at(150)
    assert rec2.fired == [("page", start + 100 * S)]
    assert h2.engine.kv[("rec", "page")] == {"fired": True}
    (row,) = await store.audit("g1")
    assert (row.actor, row.action) == ("U1 (alice)", "ack")


async def test_cancelled_timer_does_not_fire() -> None:
    h = Harness(CONFIG)
    rec = Recorder()
    h.engine.extensions.append(rec)
    await h.start()
    now = h.clock.now().ns
    h.engine.transact(lambda txn: txn.schedule("rec", "x", now + 10 * S))
    await h.settle()
    h.engine.transact(lambda txn: txn.cancel("rec", "x"))
    await h.settle()
    await h.at(60)
    assert rec.fired == []


async def test_closed_group_is_reported_even_when_silenced() -> None:
    from bot.engine.silences import Silence, build_matchers
    from bot.engine.timestamp import ZERO

    h = Harness(CONFIG)
    rec = Recorder()
    h.engine.extensions.append(rec)
    await h.start()
    await h.post(alert("1", start=0, end=30))
    await h.at(11)
    now = h.clock.now()
    sil = Silence("", build_matchers([("alertname", "A", False, True)], "fallback"), now, now.add(3600), ZERO, "me", "quiet")
    fut = h.engine.set_silence(sil)
    await h.settle()
    await fut
    await h.at(200)
    assert rec.closed == ['{}:{alertname="A"}']
    # Muted: Alertmanager never notifies the resolve; the extension hook still runs.
    assert [r for _, r, _ in h.notifications()] == ["first notification"]


async def test_suppress_repeat_holds_back_repeats_only() -> None:
    h = Harness(CONFIG.replace("repeat_interval: 1h", "repeat_interval: 2m"))
    rec = Recorder()
    rec.hold = True
    h.engine.extensions.append(rec)
    await h.start()
    await h.post(alert("1", start=0, end=100000))
    await h.at(400)
    await h.post(alert("2", start=400, end=100000))
    await h.at(500)
    assert [r for _, r, _ in h.notifications()] == ["first notification", "new alerts added"]


async def test_run_loop_stops_on_the_first_cancel() -> None:
    import asyncio

    h = Harness(CONFIG)
    await h.start()
    task = asyncio.create_task(h.engine.run())
    for _ in range(200):  # cancel at many points of the loop, including right as it is woken
        await asyncio.sleep(0)
        h.engine._poke()
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done and task.cancelled()
