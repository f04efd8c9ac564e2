"""Every kind of change round-trips through commit/load, on SQLite and on PostgreSQL, exactly as
through MemoryStore (the reference semantics)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from bot.engine.timestamp import ZERO_NS
from bot.store.memory import MemoryStore
from bot.store.rows import Changes, OutboxUpdate, State
from bot.store.sql import PG_CHUNK, SqlStore
from tests.store.factory import (alert, audit, everything, group, kv, nflog, normal, outbox, random_changes,
                                 silence)


async def both(store: SqlStore, memory: MemoryStore, changes: Changes) -> None:
    await store.commit(changes)
    await memory.commit(changes)
    assert normal(await store.load()) == normal(await memory.load())
    assert await store.audit(limit=10**6) == await memory.audit(limit=10**6)


async def test_empty_database_loads_empty_state(store: SqlStore) -> None:
    assert await store.load() == State()
    await store.commit(Changes())  # nothing to do is not an error
    assert await store.load() == State()


async def test_every_kind_round_trips(store: SqlStore) -> None:
    changes = everything(5)
    await store.commit(changes)
    state = await store.load()
    assert normal(state) == {
        "alerts": changes.alerts_upsert, "groups": changes.groups_upsert, "nflog": changes.nflog_upsert,
        "silences": changes.silences_upsert, "outbox_pending": changes.outbox_insert,
        "kv": sorted(changes.kv_upsert, key=lambda r: (r.namespace, r.key))}
    assert [(a.id, a.action) for a in await store.audit()] == [(5, "a4"), (4, "a3"), (3, "a2"), (2, "a1"), (1, "a0")]
    assert all(type(r.fingerprint) is int and type(r.timeout) is bool for r in state.alerts)
    assert all(type(g.has_flushed) is bool for g in state.groups)


async def test_updates_and_deletes_of_every_kind(store: SqlStore) -> None:
    memory = MemoryStore()
    await both(store, memory, everything(6))
    await both(store, memory, Changes(
        alerts_upsert=[alert(0x1000, 0, ends_at_ns=1_800_000_000_000_000_000, ends_at_offset=7200, timeout=True,
                             annotations='{"summary":"resolved"}')],
        alerts_delete=[0x1001, 0x1002, 0xDEAD],  # 0xDEAD was never stored: ignored
        groups_upsert=[group("g0", has_flushed=True, next_flush_ns=123)],
        groups_delete=["g1", "nope"],
        nflog_upsert=[nflog("k0", resolved='["00000000000000ff"]', firing="[]")],
        nflog_delete=["k5"],
        silences_upsert=[silence("s0", ends_at_ns=5, comment="expired early")],
        outbox_update=[OutboxUpdate(1, "delivered", 1, 77, ""), OutboxUpdate(2, "pending", 3, 99, "HTTP 503"),
                       OutboxUpdate(3, "failed", 10, 0, "gave up"), OutboxUpdate(4, "abandoned", 0, 0, "restart"),
                       OutboxUpdate(999, "delivered", 1, 1, "no such row: ignored")],
    ))
    state = await store.load()
    assert [r.id for r in state.outbox_pending] == [2, 5, 6]
    assert state.outbox_pending[0].attempts == 3 and state.outbox_pending[0].last_error == "HTTP 503"
    assert {r.fingerprint for r in state.alerts} == {0x1000, 0x1003, 0x1004, 0x1005}


async def test_nflog_state_defaults_to_empty_object(store: SqlStore) -> None:
    await store.commit(Changes(nflog_upsert=[nflog("k")]))
    (row,) = (await store.load()).nflog
    assert row.state == "{}"


async def test_load_order_is_stable_and_outbox_by_id(store: SqlStore) -> None:
    ids = [7, 3, 11, 1, 5]
    fps = [5, 1 << 63, 2, (1 << 64) - 1, 0]
    await store.commit(Changes(outbox_insert=[outbox(i) for i in ids], alerts_upsert=[alert(fp) for fp in fps],
                               groups_upsert=[group(g) for g in ("b", "a", "c")]))
    first = await store.load()
    assert [r.id for r in first.outbox_pending] == [1, 3, 5, 7, 11]
    assert [g.id for g in first.groups] == ["a", "b", "c"]
    for _ in range(3):
        assert await store.load() == first


@pytest.mark.parametrize("fp", [0, 1, (1 << 63) - 1, 1 << 63, (1 << 63) + 1, (1 << 64) - 1])
async def test_unsigned_fingerprints_at_the_extremes(store: SqlStore, fp: int) -> None:
    await store.commit(Changes(alerts_upsert=[alert(fp, labels=f'{{"fp":"{fp:016x}"}}')]))
    (row,) = (await store.load()).alerts
    assert row.fingerprint == fp and row.labels == f'{{"fp":"{fp:016x}"}}'
    await store.commit(Changes(alerts_upsert=[alert(fp, labels="updated")]))
    (row,) = (await store.load()).alerts
    assert row.fingerprint == fp and row.labels == "updated"
    await store.commit(Changes(alerts_delete=[fp]))
    assert (await store.load()).alerts == []


async def test_fingerprint_outside_unsigned_64_bits_is_a_bug_not_an_outage(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="unsigned 64-bit"):
        await store.commit(Changes(alerts_upsert=[alert(1 << 64)]))
    with pytest.raises(ValueError, match="unsigned 64-bit"):
        await store.commit(Changes(alerts_delete=[-1]))
    assert await store.load() == State()


async def test_times_round_trip_including_go_zero_time(store: SqlStore) -> None:
    times = [ZERO_NS, 0, -1, 1, -(1 << 63) + 1, (1 << 63) - 1, 1_764_000_000_123_456_789]
    changes = Changes(alerts_upsert=[alert(i, ends_at_ns=t, starts_at_ns=t, updated_at_ns=t)
                                     for i, t in enumerate(times)],
                      groups_upsert=[group(f"g{i}", created_at_ns=t, next_flush_ns=t) for i, t in enumerate(times)],
                      silences_upsert=[silence(f"s{i}", starts_at_ns=t, ends_at_ns=t, updated_at_ns=t)
                                       for i, t in enumerate(times)],
                      nflog_upsert=[nflog(f"k{i}", timestamp_ns=t, expires_at_ns=t) for i, t in enumerate(times)],
                      outbox_insert=[outbox(i + 1, nflog_expires_ns=t, created_at_ns=t, not_before_ns=t,
                                            deadline_ns=t) for i, t in enumerate(times)])
    await store.commit(changes)
    state = normal(await store.load())
    assert state["alerts"] == changes.alerts_upsert
    assert state["groups"] == changes.groups_upsert
    assert state["silences"] == changes.silences_upsert
    assert state["nflog"] == changes.nflog_upsert
    assert state["outbox_pending"] == changes.outbox_insert


async def test_times_beyond_bigint_saturate(store: SqlStore) -> None:
    """Year 3000 (beyond 2262-04-11) is stored as the last representable instant, not refused:
    one alert with a far-future endsAt must not fail the whole batch."""
    year_3000 = 32_503_680_000 * 10**9
    year_1000 = -30_610_224_000 * 10**9
    await store.commit(Changes(alerts_upsert=[alert(1, ends_at_ns=year_3000, starts_at_ns=year_1000)]))
    (row,) = (await store.load()).alerts
    assert row.ends_at_ns == (1 << 63) - 1
    assert row.starts_at_ns == -(1 << 63) + 1 and row.starts_at_ns != ZERO_NS


async def test_text_is_stored_byte_for_byte(store: SqlStore) -> None:
    texts = ["", "ünïcödé ✓ 🚨 漢字", 'q" \' \\ %s %(x)s ? $1 :name', "\n\t\r", "x" * 1_000_000,
             '{"a":1,"b":[true,null]}', "\u2028\u2029", "trailing space "]
    await store.commit(Changes(silences_upsert=[silence(f"s{i}", comment=t, created_by=t, matchers=t)
                                                for i, t in enumerate(texts)],
                               alerts_upsert=[alert(i, labels=t, annotations=t, generator_url=t)
                                              for i, t in enumerate(texts)]))
    state = normal(await store.load())
    assert [s.comment for s in state["silences"]] == texts
    assert [a.labels for a in state["alerts"]] == texts
    assert [a.generator_url for a in state["alerts"]] == texts


async def test_duplicates_in_one_commit_last_wins_and_delete_beats_upsert(store: SqlStore) -> None:
    memory = MemoryStore()
    changes = Changes(
        alerts_upsert=[alert(1, labels="first"), alert(2), alert(1, labels="second")],
        alerts_delete=[2, 2],
        groups_upsert=[group("g", receiver="a"), group("g", receiver="b")],
        nflog_upsert=[nflog("k", firing="[1]"), nflog("k", firing="[2]")],
        nflog_delete=["k"],
        silences_upsert=[silence("s", comment="one"), silence("s", comment="two")],
        outbox_insert=[outbox(1), outbox(1, payload="again")],
        outbox_update=[OutboxUpdate(1, "failed", 1, 5, "x"), OutboxUpdate(1, "pending", 2, 6, "y")],
    )
    await both(store, memory, changes)
    state = await store.load()
    assert [a.labels for a in state.alerts] == ["second"]
    assert state.groups[0].receiver == "b" and state.nflog == [] and state.silences[0].comment == "two"
    assert state.outbox_pending[0].payload == "again" and state.outbox_pending[0].attempts == 2


async def test_reinserting_an_outbox_id_replaces_the_row_as_memory_does(store: SqlStore) -> None:
    """The engine numbers outbox rows from the highest *pending* id after a restart, so an id of a
    delivered row can come again: the new row replaces the old one (see the report on State)."""
    memory = MemoryStore()
    await both(store, memory, Changes(outbox_insert=[outbox(1), outbox(2)]))
    await both(store, memory, Changes(outbox_update=[OutboxUpdate(1, "delivered", 1, 0, ""),
                                                     OutboxUpdate(2, "delivered", 1, 0, "")]))
    assert (await store.load()).outbox_pending == []
    await both(store, memory, Changes(outbox_insert=[outbox(1, payload="new flush")]))
    assert [(r.id, r.payload, r.status) for r in (await store.load()).outbox_pending] == [(1, "new flush", "pending")]


async def test_big_commit_in_one_transaction(store: SqlStore) -> None:
    n = PG_CHUNK * 2 + 17  # several unnest chunks on PostgreSQL; far above SQLite's parameter limit
    rows = [alert(i * 0x9E3779B97F4A7C15 % (1 << 64), i) for i in range(n)]
    await store.commit(Changes(alerts_upsert=rows, outbox_insert=[outbox(i + 1) for i in range(n)]))
    state = await store.load()
    assert sorted(state.alerts, key=lambda r: r.fingerprint) == sorted(rows, key=lambda r: r.fingerprint)
    assert len(state.outbox_pending) == n
    await store.commit(Changes(alerts_delete=[r.fingerprint for r in rows[: n // 2]],
                               outbox_update=[OutboxUpdate(i + 1, "delivered", 1, 0, "") for i in range(n - 5)]))
    state = await store.load()
    assert len(state.alerts) == n - n // 2 and [r.id for r in state.outbox_pending] == list(range(n - 4, n + 1))


async def test_random_change_sequences_match_memory_store(store: SqlStore) -> None:
    rng = random.Random(20261126)
    memory = MemoryStore()
    next_id = [1]
    for _ in range(40):
        await both(store, memory, random_changes(rng, next_id))
    final = await memory.load()
    assert final.alerts and final.groups and final.silences  # the sequence really did build up state


async def test_state_survives_close_and_reopen(database_url: str) -> None:
    first = SqlStore(database_url)
    await first.open()
    await first.open()  # a second open is a no-op
    changes = everything(3)
    await first.commit(changes)
    before = await first.load()
    await first.close()
    await first.close()
    second = SqlStore(database_url)
    await second.open()
    try:
        assert await second.load() == before
        assert await second.ping() >= 0
    finally:
        await second.close()


async def test_rows_are_copies(store: SqlStore) -> None:
    row = alert(1)
    await store.commit(Changes(alerts_upsert=[row]))
    row.labels = "mutated after commit"
    (loaded,) = (await store.load()).alerts
    assert loaded == dataclasses.replace(row, labels=alert(1).labels)


async def test_nul_in_a_receivers_error_text_cannot_block_commits(store: SqlStore) -> None:
    """PostgreSQL refuses U+0000 in TEXT; an error body quoted into last_error becomes U+FFFD."""
    await store.commit(Changes(outbox_insert=[outbox(1, last_error="a\x00b")]))
    await store.commit(Changes(outbox_update=[OutboxUpdate(1, "pending", 2, 0, "unexpected status code 500: \x00")]))
    (row,) = (await store.load()).outbox_pending
    assert row.last_error == "unexpected status code 500: \ufffd" and row.attempts == 2


async def test_kv_upserts_and_deletes_by_namespace_and_key(store: SqlStore) -> None:
    memory = MemoryStore()
    await both(store, memory, Changes(kv_upsert=[kv("slack", "g1"), kv("slack", "g2"), kv("ack", "g1")]))
    await both(store, memory, Changes(kv_upsert=[kv("slack", "g1", value='{"ts":"2"}', updated_at_ns=5)],
                                      kv_delete=[("ack", "g1"), ("ack", "g2"), ("nope", "g1")]))
    assert [(k.namespace, k.key, k.value) for k in (await store.load()).kv] == [
        ("slack", "g1", '{"ts":"2"}'), ("slack", "g2", kv("slack", "g2").value)]


async def test_audit_is_append_only_newest_first(store: SqlStore) -> None:
    memory = MemoryStore()
    for batch in range(3):
        await both(store, memory, Changes(audit_insert=[audit(f"g{i % 3}", action=f"{batch}.{i}", at_ns=batch)
                                                        for i in range(7)]))
    newest = await store.audit(limit=4)
    assert [(a.id, a.action) for a in newest] == [(21, "2.6"), (20, "2.5"), (19, "2.4"), (18, "2.3")]
    g1 = await store.audit(group_id="g1", limit=100)
    assert [a.action for a in g1] == ["2.4", "2.1", "1.4", "1.1", "0.4", "0.1"]
    assert g1 == await memory.audit(group_id="g1", limit=100)
    assert await store.audit(group_id="none") == []
    row = audit("g0")
    await store.commit(Changes(audit_insert=[row]))
    assert row.id == 0  # the caller's row is not touched; the stored one is numbered
    assert (await store.audit(limit=1))[0].id == 22


async def test_unknown_kinds_of_change_are_refused_not_dropped(store: SqlStore) -> None:
    @dataclasses.dataclass(slots=True)
    class MoreChanges(Changes):
        widgets_upsert: list[object] = dataclasses.field(default_factory=list)

    with pytest.raises(NotImplementedError, match="widgets_upsert"):
        await store.commit(MoreChanges(alerts_upsert=[alert(1)], widgets_upsert=[object()]))
    assert (await store.load()).alerts == []
    await store.commit(MoreChanges(alerts_upsert=[alert(1)]))  # empty unknown fields are fine
    assert len((await store.load()).alerts) == 1


async def test_outbox_maxima_count_delivered_rows(store: SqlStore) -> None:
    memory = MemoryStore()
    changes = everything(3)
    await both(store, memory, changes)
    ids = [r.id for r in changes.outbox_insert]
    done = Changes(outbox_update=[OutboxUpdate(i, "delivered", 1, 0, "") for i in ids])
    await both(store, memory, done)
    state = await store.load()
    assert state.outbox_pending == []
    assert state.outbox_max_id == max(ids) == (await memory.load()).outbox_max_id
    assert state.outbox_max_flush_id == max(r.flush_id for r in changes.outbox_insert)
