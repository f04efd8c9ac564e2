from __future__ import annotations

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
