"""The engine lease: one replica at a time runs the engine, decided in the database, and a replica
that lost the lease can never write again (every commit checks holder and epoch in its own
transaction)."""

from __future__ import annotations

import asyncio

import pytest

from bot.store.base import LeaseLost
from bot.store.rows import Changes
from bot.store.sql import SqlStore
from tests.store.factory import alert


async def test_one_holder_at_a_time(pair: tuple[SqlStore, SqlStore]) -> None:
    a, b = pair
    got = await a.acquire_lease("replica-a", 30)
    assert got.acquired and got.holder == "replica-a" and got.epoch == 1
    refused = await b.acquire_lease("replica-b", 30)
    assert not refused.acquired
    assert refused.holder == "replica-a" and refused.epoch == 1
    assert refused.expires_at_ns == pytest.approx(got.expires_at_ns, abs=2e9)
    await a.renew_lease()  # the holder renews without trouble
    await a.commit(Changes(alerts_upsert=[alert(1)]))


async def test_a_restart_of_the_holder_takes_it_back_at_once(pair: tuple[SqlStore, SqlStore]) -> None:
    a, b = pair
    first = await a.acquire_lease("host/127.0.0.1:9093", 30)
    again = await b.acquire_lease("host/127.0.0.1:9093", 30)  # same instance, new process
    assert again.acquired and again.epoch == first.epoch + 1
    with pytest.raises(LeaseLost):  # the earlier run, were it still alive, is fenced out
        await a.commit(Changes(alerts_upsert=[alert(2)]))


async def test_an_expired_lease_is_taken_over_and_the_old_holder_is_fenced(pair: tuple[SqlStore, SqlStore]) -> None:
    a, b = pair
    lost: list[str] = []
    a.on_lease_lost = lost.append
    await a.acquire_lease("replica-a", 1)
    await a.commit(Changes(alerts_upsert=[alert(1)]))
    assert not (await b.acquire_lease("replica-b", 1)).acquired
    await asyncio.sleep(1.3)  # a neither commits nor renews: its lease runs out
    taken = await b.acquire_lease("replica-b", 30)
    assert taken.acquired and taken.epoch == 2
    with pytest.raises(LeaseLost, match="taken over by another replica"):
        await a.commit(Changes(alerts_upsert=[alert(2)]))
    assert lost and "epoch 1" in lost[0]
    with pytest.raises(LeaseLost):  # and it stays fenced: no later commit or renewal gets through
        await a.renew_lease()
    with pytest.raises(LeaseLost):
        await a.commit(Changes(alerts_upsert=[alert(3)]))
    fps = {r.fingerprint for r in (await b.load()).alerts}
    assert fps == {1}, "a commit of the fenced replica was stored"
    await b.commit(Changes(alerts_upsert=[alert(4)]))
    assert {r.fingerprint for r in (await b.load()).alerts} == {1, 4}


async def test_commits_renew_the_lease(pair: tuple[SqlStore, SqlStore]) -> None:
    a, b = pair
    await a.acquire_lease("replica-a", 1)
    for i in range(4):  # 1.6 s of commits, each renewing the 1 s lease
        await asyncio.sleep(0.4)
        await a.commit(Changes(alerts_upsert=[alert(10 + i)]))
    assert not (await b.acquire_lease("replica-b", 1)).acquired


async def test_a_store_without_a_lease_commits_unfenced(pair: tuple[SqlStore, SqlStore]) -> None:
    """Tools and tests that never acquire the lease keep working beside a holder."""
    a, b = pair
    await a.acquire_lease("replica-a", 30)
    await b.commit(Changes(alerts_upsert=[alert(7)]))
    await b.renew_lease()  # nothing to renew
    assert 7 in {r.fingerprint for r in (await a.load()).alerts}


async def test_a_released_lease_is_free_at_once(pair: tuple[SqlStore, SqlStore]) -> None:
    a, b = pair
    await a.acquire_lease("replica-a", 60)
    assert not (await b.acquire_lease("replica-b", 60)).acquired
    await a.release_lease()
    taken = await b.acquire_lease("replica-b", 60)
    assert taken.acquired and taken.epoch == 2
    await a.commit(Changes(alerts_upsert=[alert(5)]))  # released, not lost: a commits unfenced again
