"""The inbox (docs/inbox.md): request bodies stored by a front process in commit order, kept until
the engine commit that applies them deletes them, on SQLite, PostgreSQL and in memory alike; and
taken in by any replica, lease or not."""

from __future__ import annotations

import pytest

from bot.store.base import LeaseLost
from bot.store.memory import MemoryStore
from bot.store.rows import Changes
from bot.store.sql import SqlStore
from tests.store.factory import alert

BODIES = [
    (1_700_000_000_000_000_001, "api", b'[{"labels":{"alertname":"A"}}]'),
    (1_700_000_000_000_000_002, "webhook", b'{"version":"4","alerts":[]}'),
    (1_700_000_000_000_000_003, "api", bytes(range(256))),  # any bytes: a body is stored as it came
]


def seen(rows: list) -> list[tuple[int, str, bytes]]:
    return [(r.received_ns, r.source, r.body) for r in rows]


async def test_bodies_come_back_in_commit_order_until_applied(store: SqlStore) -> None:
    await bodies_come_back_in_commit_order_until_applied(store)


async def test_memory_store_keeps_the_inbox_alike() -> None:
    await bodies_come_back_in_commit_order_until_applied(MemoryStore())
    await many_ids_in_one_commit(MemoryStore())


async def test_many_ids_in_one_commit(store: SqlStore) -> None:
    await many_ids_in_one_commit(store)


async def bodies_come_back_in_commit_order_until_applied(s: SqlStore | MemoryStore) -> None:
    assert await s.inbox_take(10) == [] and await s.inbox_bounds() is None
    await s.inbox_put(BODIES[:2])
    await s.inbox_put(BODIES[2:])
    rows = await s.inbox_take(10)
    assert seen(rows) == BODIES
    assert [r.id for r in rows] == sorted(r.id for r in rows) and len({r.id for r in rows}) == 3
    assert await s.inbox_bounds() == (rows[0].id, rows[2].id)
    assert seen(await s.inbox_take(2)) == BODIES[:2]
    assert seen(await s.inbox_take(10)) == BODIES, "taking is not applying: the rows stay"

    # Applying is a commit that lists the ids, together with what they changed.
    await s.commit(Changes(alerts_upsert=[alert(7)], inbox_delete=[rows[0].id, rows[2].id, 10**9]))
    left = await s.inbox_take(10)
    assert [r.id for r in left] == [rows[1].id] and seen(left) == BODIES[1:2]
    assert await s.inbox_bounds() == (rows[1].id, rows[1].id)
    assert [a.fingerprint for a in (await s.load()).alerts] == [7]

    await s.inbox_put(BODIES[:1])
    later = await s.inbox_take(10)
    assert seen(later) == [BODIES[1], BODIES[0]]
    assert later[1].id > rows[2].id, "ids keep growing: a new body never sorts before an older one"


async def test_a_fenced_commit_applies_nothing_but_any_replica_takes_bodies_in(pair: tuple[SqlStore, SqlStore]) -> None:
    a, b = pair
    await a.acquire_lease("replica-a", 30)
    await a.inbox_put(BODIES[:2])
    rows = await a.inbox_take(10)
    assert not (await b.acquire_lease("replica-b", 30)).acquired
    await b.inbox_put(BODIES[2:])  # a standby's front needs no lease to take alerts in
    assert seen(await a.inbox_take(10)) == BODIES

    await b.acquire_lease("replica-a", 30)  # the same instance restarted: `a` is fenced out
    with pytest.raises(LeaseLost):
        await a.commit(Changes(alerts_upsert=[alert(1)], inbox_delete=[r.id for r in rows]))
    assert seen(await b.inbox_take(10)) == BODIES, "a fenced commit deleted inbox rows"
    await b.commit(Changes(inbox_delete=[r.id for r in rows]))
    assert seen(await b.inbox_take(10)) == BODIES[2:]


async def many_ids_in_one_commit(s: SqlStore | MemoryStore) -> None:
    await s.inbox_put([(i, "api", b"[]") for i in range(5000)])
    rows = await s.inbox_take(10_000)
    assert len(rows) == 5000
    await s.commit(Changes(inbox_delete=[r.id for r in rows[:4999]] * 2))  # repeats are harmless
    assert [r.received_ns for r in await s.inbox_take(10)] == [4999]
