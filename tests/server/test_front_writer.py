"""A front's inbox writer on SQLite (bot.server.front._SqliteWriter): it waits for the write lock
another connection holds (the engine's commits), tries again on its own schedule rather than
SQLite's busy handler, gives up with StoreUnavailable at its busy timeout, and reports the
backlog its insert leaves."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from bot.server.front import _SqliteWriter
from bot.store.base import StoreUnavailable
from bot.store.sql import SqlStore


async def _writer(tmp_path: Path, busy_timeout_s: float) -> tuple[SqlStore, _SqliteWriter, str]:
    path = str(tmp_path / "bot.db")
    store = SqlStore(f"sqlite+aiosqlite:///{path}")
    await store.open()
    return store, _SqliteWriter(path, busy_timeout_s, store.inbox_insert_sql), path


def _hold_write_lock(path: str, seconds: float, held: threading.Event) -> None:
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("BEGIN IMMEDIATE")
    held.set()
    time.sleep(seconds)
    c.execute("COMMIT")
    c.close()


async def test_waits_for_the_write_lock_and_reports_the_backlog(tmp_path: Path) -> None:
    store, writer, path = await _writer(tmp_path, busy_timeout_s=5.0)
    try:
        assert await writer.put([(1, "api:validated", b"[]")]) == 1
        held = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(path, 0.3, held))
        holder.start()
        assert await asyncio.to_thread(held.wait, 5)
        started = time.monotonic()
        assert await writer.put([(2, "api:validated", b"[]"), (3, "webhook:validated", b"[]")]) == 3
        assert time.monotonic() - started >= 0.2, "the insert went through a held write lock"
        holder.join()
        rows = await store.inbox_take(10)
        assert [(r.received_ns, r.source) for r in rows] == [(1, "api:validated"), (2, "api:validated"),
                                                             (3, "webhook:validated")]
    finally:
        writer.close()
        await store.close()


async def test_gives_up_at_its_busy_timeout(tmp_path: Path) -> None:
    store, writer, path = await _writer(tmp_path, busy_timeout_s=0.2)
    try:
        held = threading.Event()
        holder = threading.Thread(target=_hold_write_lock, args=(path, 1.5, held))
        holder.start()
        assert await asyncio.to_thread(held.wait, 5)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable, match="database is locked"):
            await writer.put([(1, "api:validated", b"[]")])
        # It waited its busy timeout, and gave up while the lock was still held (it is released
        # at 1.5 s: an insert that had waited for it would have succeeded, not raised).
        assert time.monotonic() - started >= 0.2
        holder.join()
        assert await store.inbox_take(10) == []
    finally:
        writer.close()
        await store.close()


async def test_a_file_read_only_at_its_first_insert_is_written_once_it_can_be(tmp_path: Path) -> None:
    """SQLite opens a file it cannot write read-only, and such a connection stays read-only: the
    writer opens it afresh after a failure (before, it answered 503 for good)."""
    store, writer, path = await _writer(tmp_path, busy_timeout_s=1.0)
    await store.close()  # its connections hold the write-ahead log open; only the writer's remain
    files = [p for p in (path, path + "-wal", path + "-shm") if Path(p).exists()]
    try:
        subprocess.run(["chattr", "+i", *files], check=True)  # immutable, even for root
        try:
            with pytest.raises(StoreUnavailable, match="readonly|read-only|unable to open"):
                await writer.put([(1, "api:validated", b"[]")])
        finally:
            subprocess.run(["chattr", "-i", *files], check=True)
        assert await writer.put([(2, "api:validated", b"[]")]) == 1
    finally:
        writer.close()
    await store.open()
    try:
        assert [r.received_ns for r in await store.inbox_take(10)] == [2]
    finally:
        await store.close()
