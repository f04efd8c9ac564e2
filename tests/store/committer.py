"""A child process for the kill -9 tests: commits numbered change sets forever, printing each
number once its commit has returned (i.e. once the store has acknowledged it).

    python -m tests.store.committer URL FIRST BATCH
"""

from __future__ import annotations

import asyncio
import sys

from bot.store.rows import Changes, OutboxUpdate
from bot.store.sql import SqlStore
from tests.store.factory import alert, group, nflog, outbox, silence


def numbered(i: int, batch: int) -> Changes:
    """Commit i: `batch` alerts of its own, a group, a log entry, a silence and an outbox row, and
    commit i-1's outbox row marked delivered."""
    return Changes(
        alerts_upsert=[alert(fingerprint(i, j), j, labels=f'{{"commit":"{i}","n":"{j}"}}') for j in range(batch)],
        groups_upsert=[group(f"g{i}")], nflog_upsert=[nflog(f"k{i}")], silences_upsert=[silence(f"s{i}")],
        outbox_insert=[outbox(i + 1, payload=f"commit {i}")],
        outbox_update=[OutboxUpdate(i, "delivered", 1, 0, "")] if i > 0 else [],
    )


def fingerprint(i: int, j: int) -> int:
    return ((i << 32) | j) * 0x9E3779B97F4A7C15 % (1 << 64)  # spread over the whole unsigned range


async def main(url: str, first: int, batch: int) -> None:
    store = SqlStore(url)
    await store.open()
    i = first
    while True:
        await store.commit(numbered(i, batch))
        sys.stdout.write(f"{i}\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
