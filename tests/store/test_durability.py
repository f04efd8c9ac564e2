"""kill -9 loses nothing that was acknowledged, and never leaves half a commit.

A child process commits numbered change sets and prints each number after its commit returned;
the parent SIGKILLs it (most likely in the middle of the next commit), reopens the database and
checks every acknowledged commit whole, the one in flight all-or-nothing, and nothing beyond.
Three rounds on the same database, each resuming where the last one's state ends.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

from bot.store.rows import State
from bot.store.sql import SqlStore
from tests.store.committer import fingerprint

ROOT = Path(__file__).resolve().parents[2]
BATCH = 2000


async def run_and_kill(url: str, first: int, acks_before_kill: int) -> int:
    """Starts the committer, SIGKILLs it after `acks_before_kill` acknowledgements; returns the last acked number."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.store.committer", url, str(first),
                                                str(BATCH), stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    seen = 0
    killed = False
    try:
        while seen < acks_before_kill:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
            assert line, f"committer exited early: {(await proc.stderr.read()).decode()[-2000:]}"
            seen += 1
        proc.send_signal(signal.SIGKILL)
        killed = True
        rest = await asyncio.wait_for(proc.stdout.read(), timeout=30)  # acks already in the pipe count too
    finally:
        # Signal it only once: Popen.send_signal polls first, and a poll that reaps the dead child
        # races asyncio's own waitpid (which then reports 255 instead of -9).
        if not killed:
            proc.kill()
        await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    acked = [int(n) for n in rest.decode().split()] if rest.strip() else []
    return max([first + seen - 1, *acked])


def commits_in(state: State) -> dict[int, int]:
    """Commit number -> how many of its alerts are stored."""
    counts: dict[int, int] = {}
    for a in state.alerts:
        i = int(a.labels.split('"commit":"')[1].split('"')[0])
        counts[i] = counts.get(i, 0) + 1
    return counts


async def check_after_kill(url: str, first: int, last_acked: int) -> int:
    """Checks the state after a kill; returns the last commit that is in the database."""
    store = SqlStore(url)
    await store.open()
    try:
        state = await store.load()
    finally:
        await store.close()
    counts = commits_in(state)
    in_flight = last_acked + 1
    for i in range(first, last_acked + 1):
        assert counts.get(i) == BATCH, f"acknowledged commit {i} has {counts.get(i, 0)} of {BATCH} alerts"
    assert counts.get(in_flight, 0) in (0, BATCH), f"commit {in_flight} is half there: {counts[in_flight]} alerts"
    assert max(counts) <= in_flight
    last = in_flight if counts.get(in_flight) else last_acked
    groups, logs, silences = {g.id for g in state.groups}, {n.key for n in state.nflog}, {s.id for s in state.silences}
    for i in range(first, last + 1):
        assert f"g{i}" in groups and f"k{i}" in logs and f"s{i}" in silences
        for j in (0, BATCH - 1):
            assert fingerprint(i, j) in {a.fingerprint for a in state.alerts}
    # Each commit marks the previous one's outbox row delivered: only the last one is pending.
    assert [(r.id, r.payload) for r in state.outbox_pending] == [(last + 1, f"commit {last}")]
    return last


async def test_kill_9_loses_no_acknowledged_commit(database_url: str) -> None:
    rng = random.Random(9)
    first = 0
    for _ in range(3):
        last_acked = await run_and_kill(database_url, first, acks_before_kill=rng.randrange(3, 9))
        last = await check_after_kill(database_url, 0, last_acked)
        first = last + 1
