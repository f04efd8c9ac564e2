"""A flush carries every alert answered before it, also when a front answered it (issue 17):
the engine and the inbox applier on the real loop and clock, rows written to the inbox as a
front writes them (without waking the applier), one just before the group falls due.

Before the engine waited for the inbox, the group was flushed at its due time with whatever the
applier had happened to read: the resolve written 30 ms before was in the next flush, a
group_interval later (unless the applier's idle poll, every 0.5 s here, fell in those 30 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from bot.config import load_config_text
from bot.engine.clock import SystemClock
from bot.engine.codec import validated_to_bytes
from bot.engine.engine import Engine
from bot.engine.ingest import Postable, to_alert
from bot.engine.replay import recording_registry
from bot.engine.timestamp import ZERO, Timestamp
from bot.server.inbox import InboxApplier
from bot.server.metrics import Metrics
from bot.store.memory import MemoryStore
from tests.engine.harness import ScriptedDeliverer

CONFIG = """\
route:
  receiver: hook
  group_by: [grp]
  group_wait: 1s
  group_interval: 1m
  repeat_interval: 1h
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:9/hook
"""


async def _front_writes(store: MemoryStore, *alerts: tuple[str, bool]) -> None:
    """What a front does with a POST /api/v2/alerts it answers 200: the validated alerts (inst,
    resolved now?), with the time it received them, committed to the inbox."""
    now = Timestamp(time.time_ns())
    taken = [to_alert(Postable({"alertname": "R", "grp": "g", "inst": inst}, {}, ends_at=now if resolved else ZERO),
                      now, 300.0) for inst, resolved in alerts]
    await store.inbox_put([(now.ns, "api:validated", validated_to_bytes(taken))])


async def test_a_resolve_answered_just_before_the_tick_is_in_it() -> None:
    config = load_config_text(CONFIG)
    store = MemoryStore()
    deliverer = ScriptedDeliverer()
    engine = Engine(config, store, SystemClock(), recording_registry(config), "http://bot", deliverer)  # type: ignore[arg-type]
    deliverer.engine = engine
    applier = InboxApplier(engine, store, Metrics(), fronts_here=False)  # idle polls back off to 0.5 s
    await engine.start()
    tasks = [asyncio.create_task(engine.run()), asyncio.create_task(applier.run())]
    try:
        started = time.monotonic()
        await _front_writes(store, ("a", False), ("b", False))
        # The group falls due 1 s after the first request was received; 30 ms before that the
        # applier has long gone idle (nothing new for ~1 s), and a second request resolves "a".
        await asyncio.sleep(max(0.0, started + 0.97 - time.monotonic()))
        await _front_writes(store, ("a", True))
        deadline = time.monotonic() + 10
        while not deliverer.sent and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    finally:
        for t in tasks:
            t.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await t
    assert deliverer.sent, "the group was never flushed"
    first = deliverer.sent[0][1]
    statuses = {a["labels"]["inst"]: a["status"] for a in first["alerts"]}
    assert statuses == {"a": "resolved", "b": "firing"}, first


class SilentIntake:
    """An inbox that is asked and never answers (it cannot be read)."""

    def __init__(self) -> None:
        self.requests = 0

    def request(self) -> None:
        self.requests += 1


async def test_a_group_waits_for_the_inbox_at_most_five_seconds_and_says_so() -> None:
    """On the virtual clock: a due group waits for the intake (asked at once), is flushed when
    the intake reports, and when it never does, is flushed INTAKE_WAIT_MAX_NS later anyway,
    counted (alertbot_engine_flushes_without_inbox) and logged."""
    from bot.engine.engine import INTAKE_WAIT_MAX_NS
    from tests.engine.harness import START, Harness, alert

    for reports in (True, False):
        h = Harness(CONFIG)
        await h.start()
        intake = SilentIntake()
        h.engine.attach_intake(intake)
        h.engine.intake_caught_up(START.ns)  # the inbox was empty at the start
        await h.post(alert("a", grp="g"))
        due = START.ns + 1_000_000_000
        h.clock.set(due)
        assert not h.engine.has_work(due) and await h.engine.cycle() is False  # waits for the intake
        assert h.engine._wake_at_ns(due) == due + INTAKE_WAIT_MAX_NS and intake.requests == 1
        if reports:
            h.engine.intake_caught_up(due + 1)
            assert h.engine.has_work(due)
        else:
            h.clock.set(due + INTAKE_WAIT_MAX_NS - 1)
            assert not h.engine.has_work(h.clock.now().ns)
            h.clock.set(due + INTAKE_WAIT_MAX_NS)
        await h.settle()
        assert len(h.deliverer.sent) == 1
        assert h.engine.stats.flushes_without_intake == (0 if reports else 1)
