"""Two SqlStores on one database (two replicas; the `pair` fixture) see each other's commits, and can commit
at the same time without errors, lost rows or deadlocks."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from bot.store.rows import Changes, OutboxUpdate
from bot.store.sql import SqlStore
from tests.store.factory import alert, everything, group, kv, outbox, silence


async def test_each_sees_the_others_commits(pair: tuple[SqlStore, SqlStore]) -> None:
    a, b = pair
    await a.commit(everything(3))
    assert await b.load() == await a.load()
    await b.commit(Changes(alerts_delete=[0x1000], outbox_update=[OutboxUpdate(1, "delivered", 1, 0, "")],
                           silences_upsert=[silence("s0", comment="by b")]))
    state = await a.load()
    assert 0x1000 not in {r.fingerprint for r in state.alerts}
    assert [r.id for r in state.outbox_pending] == [2, 3]
    assert {s.id: s.comment for s in state.silences}["s0"] == "by b"


async def test_concurrent_overlapping_commits(pair: tuple[SqlStore, SqlStore]) -> None:
    """Each replica upserts overlapping alert sets in its own random order, many times at once.
    Rows are written in key order, so PostgreSQL never deadlocks; SQLite's writers queue."""
    a, b = pair
    rng = random.Random(5)
    fps = [rng.getrandbits(64) for _ in range(400)]
    written: set[int] = set()

    async def writer(store: SqlStore, name: str, outbox_base: int) -> None:
        for round_ in range(15):
            chosen = rng.sample(fps, 300)
            written.update(chosen)
            await store.commit(Changes(
                alerts_upsert=[alert(fp, annotations=f'{{"by":"{name}","round":{round_}}}') for fp in chosen],
                groups_upsert=[group(f"g{i}", receiver=name) for i in rng.sample(range(20), 10)],
                outbox_insert=[outbox(outbox_base + round_)]))

    await asyncio.gather(writer(a, "a", 1000), writer(b, "b", 2000), writer(a, "a", 3000), writer(b, "b", 4000))
    state = await b.load()
    assert {r.fingerprint for r in state.alerts} == written
    assert all(r.annotations.startswith('{"by":') for r in state.alerts)
    assert len(state.outbox_pending) == 4 * 15
    assert await a.load() == state


async def test_load_is_one_snapshot_while_another_replica_commits(pair: tuple[SqlStore, SqlStore]) -> None:
    """Every commit writes the same number into an alert and a kv row; a load that read the tables
    at different moments would see them disagree."""
    a, b = pair
    await a.commit(Changes(alerts_upsert=[alert(1, labels="0")], kv_upsert=[kv("n", "n", value="0")]))
    done = asyncio.Event()

    async def writer() -> None:
        for n in range(1, 150):
            await a.commit(Changes(alerts_upsert=[alert(1, labels=str(n))], groups_upsert=[group(f"g{n}")],
                                   kv_upsert=[kv("n", "n", value=str(n))]))
        done.set()

    async def reader() -> int:
        loads = 0
        while not done.is_set():
            state = await b.load()
            assert state.alerts[0].labels == state.kv[0].value
            assert len(state.groups) == int(state.kv[0].value)
            loads += 1
        return loads

    _, loads = await asyncio.gather(writer(), reader())
    assert loads > 3


async def test_postgres_load_reads_inside_its_transaction(postgres_url: str) -> None:
    """load() fetches through asyncpg directly; that only gives one snapshot if the transaction
    SQLAlchemy opened is really started on that connection before the first fetch."""
    store = SqlStore(postgres_url)
    await store.open()
    try:
        async with store._reading() as conn:  # noqa: SLF001 - the mechanism load() relies on
            await conn.exec_driver_sql("SELECT 1")
            raw = await conn.get_raw_connection()
            assert raw.driver_connection.is_in_transaction()  # type: ignore[union-attr]
            level = await raw.driver_connection.fetchval("SHOW transaction_isolation")  # type: ignore[union-attr]
            assert level == "repeatable read"
    finally:
        await store.close()


async def test_replicas_starting_at_once_on_a_fresh_sqlite_file_all_open(tmp_path: Path) -> None:
    """Switching a fresh file to WAL takes an exclusive lock that SQLite's busy handler does not
    wait for: without the retry in `_enable_wal`, two of three stores opened at once failed with
    "database is locked" in about two runs of three (CI caught it in the `pair` fixture)."""
    for i in range(20):
        url = f"sqlite+aiosqlite:///{tmp_path}/fresh-{i}.db"
        stores = [SqlStore(url) for _ in range(3)]
        try:
            await asyncio.gather(*(s.open() for s in stores))
            first = await stores[0].load()
            for s in stores[1:]:
                assert await s.load() == first
        finally:
            await asyncio.gather(*(s.close() for s in stores))
