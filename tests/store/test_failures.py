"""A failed commit changes nothing and surfaces as StoreUnavailable naming the database (never its
password, never a raw driver exception); the store works again once the database does."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.store.base import StoreUnavailable
from bot.store.rows import Changes, OutboxUpdate
from bot.store.sql import SqlStore
from tests.peers import free_port
from tests.store.factory import alert, everything, group, nflog, outbox, silence
from tests.store.pg import PostgresCluster


def a_bit_of_everything() -> Changes:
    """Valid changes of every kind: they run before the outbox statements in a commit."""
    return Changes(alerts_upsert=[alert(10_000 + i, i) for i in range(500)], alerts_delete=[0x1000],
                   groups_upsert=[group("new")], groups_delete=["g0"], nflog_upsert=[nflog("new")],
                   nflog_delete=["k0"], silences_upsert=[silence("s0", comment="changed")],
                   outbox_update=[OutboxUpdate(1, "delivered", 1, 0, "")])


async def test_null_in_the_middle_of_a_batch_changes_nothing(store: SqlStore) -> None:
    await store.commit(everything(3))
    before = await store.load()
    bad = a_bit_of_everything()
    bad.alerts_upsert[250] = dataclasses.replace(bad.alerts_upsert[250], labels=None)  # type: ignore[arg-type]
    with pytest.raises(StoreUnavailable) as err:
        await store.commit(bad)
    assert str(err.value).startswith(f"database {store.name}: ")
    assert "labels" in str(err.value) or "NOT NULL" in str(err.value) or "null value" in str(err.value)
    assert await store.load() == before
    good = a_bit_of_everything()
    await store.commit(good)  # the store is usable again, and the same changes minus the bad row go in
    assert len((await store.load()).alerts) == len(before.alerts) - 1 + 500


async def test_constraint_violation_in_the_last_statement_undoes_the_earlier_ones(store: SqlStore) -> None:
    await store.commit(everything(3))
    before = await store.load()
    bad = a_bit_of_everything()
    bad.outbox_insert = [outbox(100), outbox(101), outbox(102, status="sent"), outbox(103)]  # not a status
    with pytest.raises(StoreUnavailable, match="status|CHECK|check"):
        await store.commit(bad)
    assert await store.load() == before


async def test_commit_before_open_is_unavailable(database_url: str) -> None:
    store = SqlStore(database_url)
    with pytest.raises(StoreUnavailable, match="not open"):
        await store.commit(everything(1))
    with pytest.raises(StoreUnavailable, match="not open"):
        await store.load()


@pytest.mark.parametrize("url", [
    "mysql+aiomysql://u:p@localhost/db", "sqlite+pysqlite:///x.db", "not a url",
])
def test_unsupported_urls_are_refused_up_front(url: str) -> None:
    with pytest.raises(StoreUnavailable) as err:
        SqlStore(url)
    assert ":p@" not in str(err.value)


def test_plain_scheme_names_mean_the_asyncio_drivers(tmp_path: Path) -> None:
    assert SqlStore(f"sqlite:///{tmp_path}/x.db").url.drivername == "sqlite+aiosqlite"
    assert SqlStore("postgresql://u@h/db").url.drivername == "postgresql+asyncpg"
    assert SqlStore("postgres://u@h/db").url.drivername == "postgresql+asyncpg"


# ---------------------------------------------------------------- PostgreSQL


async def test_connection_refused_names_the_database_without_its_password() -> None:
    port = free_port()
    store = SqlStore(f"postgresql+asyncpg://alertbot:hunter2-secret@127.0.0.1:{port}/alerts", connect_timeout_s=5)
    with pytest.raises(StoreUnavailable) as err:
        await store.open()
    message = str(err.value)
    assert f"127.0.0.1:{port}/alerts" in message and "alertbot:***@" in message
    assert "hunter2" not in message and "hunter2" not in repr(err.value)
    assert "\n" not in message and len(message) < 400
    await store.close()


@pytest.fixture
def own_cluster() -> Iterator[PostgresCluster]:
    """A cluster of this test's own, to stop and start without disturbing other tests."""
    cluster = PostgresCluster.start()
    cluster.create_database("alerts")
    try:
        yield cluster
    finally:
        cluster.stop()


async def test_postgres_going_away_and_coming_back(own_cluster: PostgresCluster) -> None:
    store = SqlStore(own_cluster.url("alerts"), connect_timeout_s=5)
    await store.open()
    try:
        await store.commit(everything(3))
        before = await store.load()
        await asyncio.to_thread(own_cluster.stop_server)
        for attempt in (store.commit(a_bit_of_everything()), store.load(), store.ping()):
            with pytest.raises(StoreUnavailable) as err:
                await attempt
            assert f"127.0.0.1:{own_cluster.port}/alerts" in str(err.value)
        await asyncio.to_thread(own_cluster.restart_server)
        assert await store.load() == before  # the failed commit left nothing
        await store.commit(a_bit_of_everything())  # the pool reconnects: no error once it is back
        assert len((await store.load()).alerts) == 3 - 1 + 500
    finally:
        await store.close()


async def test_killed_connections_are_replaced_without_a_failed_commit(postgres_cluster: PostgresCluster,
                                                                         postgres_url: str) -> None:
    store = SqlStore(postgres_url)
    await store.open()
    try:
        await store.commit(everything(2))
        await asyncio.gather(store.load(), store.load(), store.ping())  # several pooled connections
        database = postgres_url.rsplit("/", 1)[1]
        killed = await postgres_cluster.asql(
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' "
            "AND pid <> pg_backend_pid()")
        assert killed and all(ok for (ok,) in killed)
        await store.commit(Changes(alerts_upsert=[alert(77)]))
        assert 77 in {a.fingerprint for a in (await store.load()).alerts}
    finally:
        await store.close()


# ---------------------------------------------------------------- SQLite


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> SqlStore:
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/alertbot.db", busy_timeout_s=0.3)
    await store.open()
    yield store
    await store.close()


async def test_sqlite_locked_beyond_the_busy_timeout(sqlite_store: SqlStore, tmp_path: Path) -> None:
    await sqlite_store.commit(everything(2))
    before = await sqlite_store.load()
    other = sqlite3.connect(tmp_path / "alertbot.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holding the write lock
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="database is locked"):
            await sqlite_store.commit(a_bit_of_everything())
        # It waited for the busy timeout (0.3 s), then gave up while the lock was still held.
        assert time.monotonic() - started > 0.25
        assert await sqlite_store.load() == before  # readers are not blocked by the writer (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    await sqlite_store.commit(a_bit_of_everything())
    assert len((await sqlite_store.load()).alerts) == 2 - 1 + 500


async def test_sqlite_waits_for_a_lock_shorter_than_the_busy_timeout(tmp_path: Path) -> None:
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/alertbot.db", busy_timeout_s=10)
    await store.open()
    other = sqlite3.connect(tmp_path / "alertbot.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        asyncio.get_running_loop().call_later(0.3, other.execute, "COMMIT")
        await store.commit(everything(2))
        assert len((await store.load()).alerts) == 2
    finally:
        other.close()
        await store.close()


async def test_sqlite_disk_full(sqlite_store: SqlStore) -> None:
    await sqlite_store.commit(everything(2))
    before = await sqlite_store.load()
    # SQLite's own page limit gives the error a full disk gives (SQLITE_FULL) without filling one.
    engine = sqlite_store._engine  # noqa: SLF001 - fault injection on the store's own connections
    assert engine is not None

    @event.listens_for(engine.sync_engine, "connect")
    def _limit(dbapi_conn: object, _record: object) -> None:
        cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
        cur.execute("PRAGMA page_count")
        page_count = cur.fetchone()[0]
        cur.execute(f"PRAGMA max_page_count={page_count + 2}")
        cur.close()

    await engine.dispose()
    big = Changes(alerts_upsert=[alert(i, i, annotations="x" * 4000) for i in range(100, 400)])
    with pytest.raises(StoreUnavailable, match="full"):
        await sqlite_store.commit(big)
    assert await sqlite_store.load() == before


async def test_sqlite_read_only_file(tmp_path: Path) -> None:
    path = tmp_path / "alertbot.db"
    writer = SqlStore(f"sqlite+aiosqlite:///{path}")
    await writer.open()
    await writer.commit(everything(2))
    await writer.close()
    reader = SqlStore(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    await reader.open()  # the schema is current: nothing to write
    try:
        with pytest.raises(StoreUnavailable, match="readonly"):
            await reader.commit(a_bit_of_everything())
        assert len((await reader.load()).alerts) == 2
    finally:
        await reader.close()


async def test_sqlite_directory_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path}/file/sub/alertbot.db")
    with pytest.raises(StoreUnavailable, match="file/sub/alertbot.db"):
        await store.open()
    await store.close()
