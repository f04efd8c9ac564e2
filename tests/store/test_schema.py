"""Value conversions, and that rows, tables and the SQL stay in step."""

from __future__ import annotations

import dataclasses
import random

import pytest

from bot.engine.timestamp import ZERO_NS
from bot.store import rows, schema
from bot.store.schema import INT64_MAX, INT64_MIN, fp_from_db, fp_to_db, ns_from_db, ns_to_db
from bot.store.sql import _HANDLED, KINDS, _dec_audit, _enc_audit, _PostgresSql, _SqliteSql
from tests.store.factory import alert, audit, group, kv, nflog, outbox, silence


@pytest.mark.parametrize(("fp", "stored"), [
    (0, 0), (1, 1), (INT64_MAX, INT64_MAX), (1 << 63, INT64_MIN), ((1 << 63) + 1, INT64_MIN + 1),
    ((1 << 64) - 1, -1), (0xCBF29CE484222325, 0xCBF29CE484222325 - (1 << 64)),
])
def test_fingerprints_are_twos_complement(fp: int, stored: int) -> None:
    assert fp_to_db(fp) == stored
    assert fp_from_db(stored) == fp


def test_random_fingerprints_round_trip() -> None:
    rng = random.Random(1)
    for _ in range(10_000):
        fp = rng.getrandbits(64)
        assert INT64_MIN <= fp_to_db(fp) <= INT64_MAX and fp_from_db(fp_to_db(fp)) == fp


@pytest.mark.parametrize("bad", [-1, 1 << 64, 1 << 70])
def test_fingerprints_outside_64_bits_are_refused(bad: int) -> None:
    with pytest.raises(ValueError):
        fp_to_db(bad)


def test_times() -> None:
    assert ns_to_db(ZERO_NS) == INT64_MIN and ns_from_db(INT64_MIN) == ZERO_NS
    for ns in (0, 1, -1, INT64_MAX, INT64_MIN + 1, 1_764_000_000_123_456_789):
        assert ns_from_db(ns_to_db(ns)) == ns
    assert ns_to_db(INT64_MAX + 1) == INT64_MAX and ns_to_db(10**21) == INT64_MAX
    assert ns_to_db(INT64_MIN) == INT64_MIN + 1  # only Go's zero time may mean "unset"
    assert ns_to_db(ZERO_NS - 1) == INT64_MIN + 1 and ns_to_db(ZERO_NS + 1) == INT64_MIN + 1


ROW_TYPES = {"alerts": rows.AlertRow, "alert_groups": rows.GroupRow, "nflog": rows.NflogRow,
             "silences": rows.SilenceRow, "outbox": rows.OutboxRow, "kv": rows.KvRow, "audit": rows.AuditRow}
SAMPLES = {"alerts": alert((1 << 64) - 1, 3, timeout=True), "alert_groups": group("g", has_flushed=True),
           "nflog": nflog("k", state='{"ts":"1"}'), "silences": silence("s"), "outbox": outbox(9, attempts=4),
           "kv": kv("slack", "g1")}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.table.name)
def test_each_row_type_maps_onto_its_table_column_for_column(kind: object) -> None:
    table = kind.table  # type: ignore[attr-defined]
    fields = [f.name for f in dataclasses.fields(ROW_TYPES[table.name])]
    assert fields == [c.name for c in table.c]
    sample = SAMPLES[table.name]
    encoded = kind.encode(sample)  # type: ignore[attr-defined]
    assert len(encoded) == len(table.c)
    assert kind.decode(encoded) == sample  # type: ignore[attr-defined]
    as_sqlite_returns_it = tuple(int(v) if isinstance(v, bool) else v for v in encoded)
    assert kind.decode(as_sqlite_returns_it) == sample  # type: ignore[attr-defined]


def test_audit_rows_map_onto_their_table() -> None:
    assert [f.name for f in dataclasses.fields(rows.AuditRow)] == [c.name for c in schema.audit.c]
    row = audit("g", id=7)
    assert _dec_audit((*_enc_audit(row), 7)) == row


def test_every_field_of_changes_is_written() -> None:
    assert {f.name for f in dataclasses.fields(rows.Changes)} == _HANDLED
    assert {f.name for f in dataclasses.fields(rows.State)} == {"alerts", "groups", "nflog", "silences",
                                                                "outbox_pending", "kv", "outbox_max_id",
                                                                "outbox_max_flush_id"}


def test_every_table_has_its_statements() -> None:
    # audit is append-only; engine_lease and inbox have statements of their own (test_lease.py, test_inbox.py)
    names = {t.name for t in schema.metadata.sorted_tables} - {"audit", "engine_lease", "inbox"}
    assert names == {k.table.name for k in KINDS}
    for sql in (_SqliteSql(), _PostgresSql()):
        assert set(sql.upsert) == names and set(sql.delete) == names
    pg = _PostgresSql()
    assert pg.upsert["alerts"].startswith("INSERT INTO alerts (fingerprint, labels, annotations, ")
    assert "$10::BOOLEAN[]" in pg.upsert["alerts"] and "ON CONFLICT (fingerprint) DO UPDATE" in pg.upsert["alerts"]
