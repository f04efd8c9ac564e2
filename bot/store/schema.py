"""The database schema (SQLAlchemy Core), shared by SQLite and PostgreSQL, and the value conversions.

Migrations under `bot/store/migrations/` build exactly this schema; a test compares them.

Encodings:
- Fingerprints are unsigned 64-bit in Python and signed BIGINT in the database (two's
  complement), so the order of rows by fingerprint in the database is not numeric order.
- Times are BIGINT nanoseconds since the Unix epoch. Go's zero time (0001-01-01, which the
  engine uses for "unset") lies outside BIGINT's range (about 1677-09-21 to 2262-04-11), so it is
  stored as the smallest BIGINT. Any other time outside that range is saturated to the nearest
  representable instant: Go's own `UnixNano` is undefined there, and refusing it would fail a
  whole batch for one alert with a far-future `endsAt`.
- JSON documents (labels, matchers, payloads) are TEXT, stored and returned byte for byte.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, CheckConstraint, Column, Index, Integer, LargeBinary, MetaData, Table,
                        Text, text)

from bot.engine.timestamp import ZERO_NS

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
_U64 = 1 << 64

OUTBOX_STATUSES = ("pending", "delivered", "failed", "abandoned")

# On SQLite an INTEGER primary key is the rowid itself: no second index to maintain. Right for
# keys that grow (outbox and audit ids), wrong for fingerprints: hashes would make every insert a
# write to a random page of the table. Alerts keep a BIGINT key (an index beside an implicit rowid
# in arrival order), which measured 4x faster for inserts and updates (bench/store_bench.py).
Int64Key = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "pk": "pk_%(table_name)s",
})

alerts = Table(
    "alerts", metadata,
    Column("fingerprint", BigInteger, primary_key=True, autoincrement=False),
    Column("labels", Text, nullable=False),
    Column("annotations", Text, nullable=False),
    Column("starts_at_ns", BigInteger, nullable=False),
    Column("starts_at_offset", Integer, nullable=False),
    Column("ends_at_ns", BigInteger, nullable=False),
    Column("ends_at_offset", Integer, nullable=False),
    Column("generator_url", Text, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    Column("timeout", Boolean, nullable=False),
)

alert_groups = Table(
    "alert_groups", metadata,
    Column("id", Text, primary_key=True),
    Column("group_key", Text, nullable=False),
    Column("route_id", Text, nullable=False),
    Column("receiver", Text, nullable=False),
    Column("labels", Text, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("next_flush_ns", BigInteger, nullable=False),
    Column("has_flushed", Boolean, nullable=False),
    Index(None, "next_flush_ns"),  # which groups are due (a flushing replica's claim query)
)

nflog = Table(
    "nflog", metadata,
    Column("key", Text, primary_key=True),
    Column("firing", Text, nullable=False),
    Column("resolved", Text, nullable=False),
    Column("timestamp_ns", BigInteger, nullable=False),
    Column("expires_at_ns", BigInteger, nullable=False),
    Column("state", Text, nullable=False, server_default=text("'{}'")),
)

silences = Table(
    "silences", metadata,
    Column("id", Text, primary_key=True),
    Column("matchers", Text, nullable=False),
    Column("starts_at_ns", BigInteger, nullable=False),
    Column("ends_at_ns", BigInteger, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("comment", Text, nullable=False),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Int64Key, primary_key=True, autoincrement=False),
    Column("group_id", Text, nullable=False),
    Column("flush_id", BigInteger, nullable=False),
    Column("receiver", Text, nullable=False),
    Column("integration", Text, nullable=False),
    Column("integration_index", Integer, nullable=False),
    Column("nflog_key", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("nflog_firing", Text, nullable=False),
    Column("nflog_resolved", Text, nullable=False),
    Column("nflog_expires_ns", BigInteger, nullable=False),
    Column("created_at_ns", BigInteger, nullable=False),
    Column("not_before_ns", BigInteger, nullable=False),
    Column("deadline_ns", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("ordering_key", Text, nullable=False),
    CheckConstraint("status IN (" + ", ".join(f"'{s}'" for s in OUTBOX_STATUSES) + ")", name="status"),
    Index(None, "status", "not_before_ns"),  # what is due: pending rows by time
)

kv = Table(
    "kv", metadata,
    Column("namespace", Text, primary_key=True),
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at_ns", BigInteger, nullable=False),
)

# Which replica runs the engine (flushes groups, delivers): the holder of this one row's lease.
# A takeover bumps the epoch; every commit of the holder checks holder and epoch in its own
# transaction, so a replica that lost the lease can never write again (fencing).
engine_lease = Table(
    "engine_lease", metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("expires_at_ns", BigInteger, nullable=False),
)

audit = Table(
    "audit", metadata,
    Column("at_ns", BigInteger, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("group_id", Text, nullable=False),
    Column("details", Text, nullable=False),
    Column("id", Int64Key, primary_key=True, autoincrement=True),  # assigned by the database, in insert order
    Index(None, "group_id", "id"),  # one group's history, newest first
)

# Request bodies taken by a front process and not yet applied by the engine (docs/inbox.md):
# ids grow in commit order and are never reused (AUTOINCREMENT on SQLite: a plain rowid would
# give a new row the id of the newest row just applied and deleted); the engine deletes a row in
# the transaction that applies it.
inbox = Table(
    "inbox", metadata,
    Column("id", Int64Key, primary_key=True, autoincrement=True),
    Column("received_ns", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    sqlite_autoincrement=True,
)


# -- value conversions, both ways

def fp_to_db(fp: int) -> int:
    """Unsigned 64-bit fingerprint -> signed BIGINT (two's complement)."""
    if not 0 <= fp < _U64:
        raise ValueError(f"fingerprint {fp} is not an unsigned 64-bit integer")
    return fp - _U64 if fp > INT64_MAX else fp


def fp_from_db(v: int) -> int:
    return v + _U64 if v < 0 else v


def ns_to_db(ns: int) -> int:
    if INT64_MIN < ns <= INT64_MAX:
        return ns
    if ns == ZERO_NS:
        return INT64_MIN
    return INT64_MAX if ns > 0 else INT64_MIN + 1


def ns_from_db(v: int) -> int:
    return ZERO_NS if v == INT64_MIN else v
