"""Finished outbox rows are purged after the retention, in the background, never pending ones."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.rows import Changes
from bot.store.sql import PURGE_BATCH, SqlStore
from tests.store.factory import T0, outbox

HOUR = 3600 * 10**9
NOW = T0 + 100 * HOUR


async def outbox_ids(store: SqlStore) -> list[int]:
    """Every outbox row, delivered or not (load() returns only pending ones)."""
    engine = create_async_engine(store.url)
    try:
        async with engine.connect() as conn:
            return [r[0] for r in await conn.exec_driver_sql("SELECT id FROM outbox ORDER BY id")]
    finally:
        await engine.dispose()


def aged() -> Changes:
    old = NOW - 25 * HOUR
    return Changes(outbox_insert=[
        outbox(1, status="delivered", created_at_ns=old), outbox(2, status="failed", created_at_ns=old),
        outbox(3, status="abandoned", created_at_ns=old), outbox(4, status="pending", created_at_ns=old),
        outbox(5, status="delivered", created_at_ns=NOW - 23 * HOUR), outbox(6, status="pending", created_at_ns=NOW),
    ])


async def test_purge_keeps_pending_and_recent_rows(store: SqlStore) -> None:
    await store.commit(aged())
    assert await store.purge_outbox(now_ns=NOW) == 3
    assert await outbox_ids(store) == [4, 5, 6]
    assert [r.id for r in (await store.load()).outbox_pending] == [4, 6]
    assert await store.purge_outbox(now_ns=NOW) == 0


async def test_purge_runs_in_batches(store: SqlStore) -> None:
    n = PURGE_BATCH * 2 + 3
    await store.commit(Changes(outbox_insert=[outbox(i, status="delivered", created_at_ns=T0) for i in range(1, n + 1)]
                               + [outbox(n + 1)]))
    assert await store.purge_outbox(now_ns=NOW) == n
    assert await outbox_ids(store) == [n + 1]


async def test_commits_start_the_purge_in_the_background(database_url: str) -> None:
    store = SqlStore(database_url, purge_interval_s=0, clock=lambda: NOW)
    await store.open()
    try:
        await store.commit(aged())
        for _ in range(100):
            if await outbox_ids(store) == [4, 5, 6]:
                break
            await asyncio.sleep(0.05)
        assert await outbox_ids(store) == [4, 5, 6]
    finally:
        await store.close()


async def test_no_purge_before_the_interval(database_url: str) -> None:
    store = SqlStore(database_url, purge_interval_s=3600, clock=lambda: NOW)
    await store.open()
    try:
        await store.commit(aged())
        await asyncio.sleep(0.2)
        assert await outbox_ids(store) == [1, 2, 3, 4, 5, 6]
    finally:
        await store.close()
