"""PostgreSQL stopped during ingest (`pg_ctl stop -m fast`, and `-m immediate`: a crash), started
again 4 s later on the same data. The bot must come back by itself: ready again, every alert it
answered 2xx notified, every group notified, nothing sent more than once more, probes within
group_wait + 2 s of the bot being ready again, and its retries paced while the database is away.

The bot runs as the README starts it (a front and the engine's process on two cores), on a
cluster of its own (the test stops that server; the session's shared cluster stays up).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.faults.harness import Fault, World, check_fault_felt, check_retry_rate
from tests.store.pg import PostgresCluster

pytestmark = [pytest.mark.slow, pytest.mark.peer]

DOWN_SECONDS = 4.0


@pytest.mark.parametrize("mode", [
    pytest.param("fast", marks=pytest.mark.xdist_group("faults_pg_fast")),
    pytest.param("immediate", marks=pytest.mark.xdist_group("faults_pg_immediate")),
])
async def test_postgresql_stopped_during_ingest(tmp_path: Path, mode: str) -> None:
    # Durable, as a real server is: fsync off would lose commits it acknowledged on -m immediate.
    cluster = await asyncio.to_thread(PostgresCluster.start, durable=True)
    try:
        url = await asyncio.to_thread(cluster.create_database, "faults")
        async with World(tmp_path) as world:
            bot = await world.start_bot(world.routes(), ["--database", url])
            load = world.load(bot, groups=400, batch=50, rate=5.0, new_group_every=10)
            prober = world.prober(bot)
            ready = world.ready_monitor(bot)
            world.fault = fault = Fault(f"pg_ctl stop -m {mode}, start {DOWN_SECONDS:g}s later")
            async with world.running(ready):
                async with world.running(load, prober):
                    await asyncio.sleep(6)
                    fault.start()
                    await asyncio.to_thread(cluster.stop_server, mode)
                    await asyncio.sleep(max(0.0, fault.started + DOWN_SECONDS - time.monotonic()))
                    await asyncio.to_thread(cluster.restart_server)
                    fault.clear()
                    await asyncio.sleep(8)
                verdict = await world.settle_and_check([load], prober, ready)
            check_fault_felt(verdict, fault, [load], prober, ready)
            check_retry_rate(verdict, bot, fault)
            print("FIGURES", mode, verdict.report())
            assert verdict.ok, verdict.report()
    finally:
        await asyncio.to_thread(cluster.stop)
