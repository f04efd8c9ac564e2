"""Readers: 50,000 active alerts, then three clients polling GET /api/v2/alerts in a loop for
30 s. Reading must not hold the engine: the probes are notified within group_wait + 2 s
throughout, every reader gets complete answers, and everything loaded is notified once.

Run with the default (a front and the engine's process) and with `--ingest-workers 0`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.faults.harness import Readers, World

pytestmark = [pytest.mark.slow]

ALERTS = 50_000
GROUPS = 500
READERS = 3
READ_SECONDS = 30.0

MODES = [
    pytest.param([], marks=pytest.mark.xdist_group("faults_readers_front"), id="front"),
    pytest.param(["--ingest-workers", "0"], marks=pytest.mark.xdist_group("faults_readers_single"), id="single"),
]


@pytest.mark.parametrize("args", MODES)
async def test_readers_of_50000_alerts_hold_nothing_back(tmp_path: Path, args: list[str]) -> None:
    async with World(tmp_path) as world:
        bot = await world.start_bot(world.routes(), args)
        load = world.load(bot, groups=GROUPS)
        prober = world.prober(bot)
        ready = world.ready_monitor(bot)
        readers = Readers(bot.url, READERS)
        async with world.running(ready):
            await load.preload(ALERTS, batch=1000)
            await world.wait_notified([load], None, group_interval=3.0)
            async with world.running(prober):
                readers.start()
                await asyncio.sleep(READ_SECONDS)
                readers.stop()
            await readers.join(timeout=120)
            verdict = await world.settle_and_check([load], prober, ready)
        reads = readers.reads
        answered = [r for r in reads if r.status is not None]
        verdict.figures["reads"] = len(reads)
        verdict.figures["read_seconds_max"] = round(max((r.answered - r.sent for r in reads), default=0), 2)
        verdict.figures["read_seconds_median"] = round(
            sorted(r.answered - r.sent for r in reads)[len(reads) // 2], 2) if reads else None
        incomplete = [r for r in reads if r.status != 200 or r.alerts < ALERTS]
        if incomplete:
            r = incomplete[0]
            verdict.problems.append(f"{len(incomplete)} of {len(reads)} reads were not complete answers "
                                    f"(e.g. reader {r.reader}: status {r.status}, {r.alerts} alerts {r.error})")
        idle = [k for k in range(READERS) if not any(r.reader == k for r in answered)]
        if idle:
            verdict.problems.append(f"readers {idle} got no answer in {READ_SECONDS:g}s")
        print("FIGURES", verdict.report())
        assert verdict.ok, verdict.report()
