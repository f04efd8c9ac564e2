from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.store.sql import SqlStore
from tests.fixtures.database import database_url  # noqa: F401
from tests.fixtures.postgres import postgres_cluster, postgres_databases, postgres_url  # noqa: F401


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:  # noqa: F811
    s = SqlStore(database_url)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def pair(database_url: str) -> AsyncIterator[tuple[SqlStore, SqlStore]]:  # noqa: F811
    """Two stores on one database, as two replicas have."""
    a, b = SqlStore(database_url), SqlStore(database_url)
    await asyncio.gather(a.open(), b.open())  # both migrate a fresh database at once: one waits for the other
    try:
        yield a, b
    finally:
        await asyncio.gather(a.close(), b.close())
