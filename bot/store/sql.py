"""The engine's state in SQLite (embedded, the default) or PostgreSQL, through SQLAlchemy 2 asyncio.

    store = SqlStore("sqlite+aiosqlite:///var/lib/alertbot/alertbot.db")   # or postgresql+asyncpg://…
    await store.open()             # connects, creates the file and its directory, runs migrations
    state = await store.load()
    await store.commit(changes)    # one transaction: everything or nothing
    await store.close()

The hot path is `commit`: each kind of change is one prepared statement over the whole batch,
never one round trip per row and never the ORM. SQLite gets an `executemany` of
`INSERT … ON CONFLICT DO UPDATE` (one thread hop, one prepared statement reused per row);
PostgreSQL gets one `INSERT … SELECT FROM unnest($1::bigint[], …) ON CONFLICT DO UPDATE` per
table: a single statement whatever the batch size, and no parameter limit to chunk under.
Rows are deduplicated (last wins, as in `MemoryStore`) and sorted by key, so that two replicas
upserting overlapping batches take their row locks in the same order and never deadlock.

SQLite runs in WAL mode with `synchronous=NORMAL`: a committed transaction survives the process
being killed (not a power cut: that would need `synchronous=FULL`), writers take the lock up
front with `BEGIN IMMEDIATE`, and commits in one process are serialised by an asyncio lock so
they queue in memory instead of in SQLite's sleeping busy handler.

Every database failure surfaces as `StoreUnavailable` naming the database (without its password).
When a failure happens during COMMIT itself the outcome is unknown to the client (the server may
have committed): the engine's answer to any failure, reloading its state from the database, is
what makes that safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.store import schema as S
from bot.store.base import Lease, LeaseLost, StoreUnavailable
from bot.store.rows import (AlertRow, AuditRow, Changes, GroupRow, InboxRow, KvRow, NflogRow, OutboxRow, OutboxUpdate,
                            SilenceRow, State)

log = logging.getLogger("alertbot.store")

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
DEFAULT_RETENTION_S = 24 * 3600
PG_CHUNK = 10_000  # rows per unnest statement: bounds the message size of a huge commit
PURGE_BATCH = 5_000  # outbox rows deleted per purge transaction
_MIGRATION_LOCK = 0x616C_6572_7462_6F74  # pg_advisory_xact_lock key ("alertbot"): replicas migrate one at a time

# What a database failure can look like from here: SQLAlchemy wraps DBAPI errors, but connecting
# and timeouts can surface as the driver's or the OS's own exceptions.
_DB_ERRORS: tuple[type[BaseException], ...] = (
    SQLAlchemyError, OSError, asyncio.TimeoutError, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)

# Plain scheme names mean the asyncio driver we ship.
_DRIVERS = {"sqlite": "sqlite+aiosqlite", "sqlite+aiosqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg",
            "postgres": "postgresql+asyncpg", "postgresql+asyncpg": "postgresql+asyncpg"}

_ns = S.ns_to_db
_ns_back = S.ns_from_db


def _diagnostic(text: str) -> str:
    """PostgreSQL's TEXT cannot hold U+0000. `last_error` carries receivers' response bodies, so a
    NUL there must not make every later commit fail: it becomes U+FFFD (on SQLite too, alike)."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


# -- rows <-> database tuples (column order of the schema's tables; a test checks they agree)

def _enc_alert(r: AlertRow) -> tuple:
    return (S.fp_to_db(r.fingerprint), r.labels, r.annotations, _ns(r.starts_at_ns), r.starts_at_offset,
            _ns(r.ends_at_ns), r.ends_at_offset, r.generator_url, _ns(r.updated_at_ns), r.timeout)


def _dec_alert(t: Sequence) -> AlertRow:
    return AlertRow(S.fp_from_db(t[0]), t[1], t[2], _ns_back(t[3]), t[4], _ns_back(t[5]), t[6], t[7],
                    _ns_back(t[8]), bool(t[9]))


def _enc_group(g: GroupRow) -> tuple:
    return (g.id, g.group_key, g.route_id, g.receiver, g.labels, _ns(g.created_at_ns), _ns(g.next_flush_ns),
            g.has_flushed)


def _dec_group(t: Sequence) -> GroupRow:
    return GroupRow(t[0], t[1], t[2], t[3], t[4], _ns_back(t[5]), _ns_back(t[6]), bool(t[7]))


def _enc_nflog(n: NflogRow) -> tuple:
    return (n.key, n.firing, n.resolved, _ns(n.timestamp_ns), _ns(n.expires_at_ns), n.state)


def _dec_nflog(t: Sequence) -> NflogRow:
    return NflogRow(t[0], t[1], t[2], _ns_back(t[3]), _ns_back(t[4]), t[5])


def _enc_silence(s: SilenceRow) -> tuple:
    return (s.id, s.matchers, _ns(s.starts_at_ns), _ns(s.ends_at_ns), _ns(s.updated_at_ns), s.created_by, s.comment)


def _dec_silence(t: Sequence) -> SilenceRow:
    return SilenceRow(t[0], t[1], _ns_back(t[2]), _ns_back(t[3]), _ns_back(t[4]), t[5], t[6])


def _enc_outbox(o: OutboxRow) -> tuple:
    return (o.id, o.group_id, o.flush_id, o.receiver, o.integration, o.integration_index, o.nflog_key, o.payload,
            o.nflog_firing, o.nflog_resolved, _ns(o.nflog_expires_ns), _ns(o.created_at_ns), _ns(o.not_before_ns),
            _ns(o.deadline_ns), o.attempts, o.status, _diagnostic(o.last_error), o.ordering_key)


def _dec_outbox(t: Sequence) -> OutboxRow:
    return OutboxRow(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], _ns_back(t[10]), _ns_back(t[11]),
                     _ns_back(t[12]), _ns_back(t[13]), t[14], t[15], t[16], t[17])


def _enc_outbox_update(u: OutboxUpdate) -> tuple:
    return (u.id, u.status, u.attempts, _ns(u.not_before_ns), _diagnostic(u.last_error))


def _enc_kv(k: KvRow) -> tuple:
    return (k.namespace, k.key, k.value, _ns(k.updated_at_ns))


def _dec_kv(t: Sequence) -> KvRow:
    return KvRow(t[0], t[1], t[2], _ns_back(t[3]))


def _enc_audit(a: AuditRow) -> tuple:
    """Without the id: the database numbers audit rows in insert order."""
    return (_ns(a.at_ns), a.actor, a.action, a.group_id, a.details)


def _dec_audit(t: Sequence) -> AuditRow:
    return AuditRow(_ns_back(t[0]), t[1], t[2], t[3], t[4], t[5])


@dataclass(frozen=True)
class _Kind:
    """A table whose rows are upserted by primary key (the leading columns)."""

    table: Table
    encode: Callable[[Any], tuple]
    decode: Callable[[Sequence], Any]

    @property
    def keys(self) -> list[str]:
        names = [c.name for c in self.table.primary_key.columns]
        assert names == [c.name for c in self.table.c][: len(names)], f"{self.table.name}: key columns come first"
        return names

    def dedup(self, rows: Iterable[tuple]) -> list[tuple]:
        """Last row per key, in key order."""
        n = len(self.keys)
        if n == 1:
            return sorted({t[0]: t for t in rows}.values(), key=lambda t: t[0])
        return sorted({t[:n]: t for t in rows}.values(), key=lambda t: t[:n])


ALERTS = _Kind(S.alerts, _enc_alert, _dec_alert)
GROUPS = _Kind(S.alert_groups, _enc_group, _dec_group)
NFLOG = _Kind(S.nflog, _enc_nflog, _dec_nflog)
SILENCES = _Kind(S.silences, _enc_silence, _dec_silence)
OUTBOX = _Kind(S.outbox, _enc_outbox, _dec_outbox)
KV = _Kind(S.kv, _enc_kv, _dec_kv)
KINDS = (ALERTS, GROUPS, NFLOG, SILENCES, OUTBOX, KV)
_UPDATE_COLS = ("status", "attempts", "not_before_ns", "last_error")  # OutboxUpdate after its id
_AUDIT_COLS = [c.name for c in S.audit.c if c.name != "id"]
# Every field of Changes that _plan writes: a field added to the contract and not here fails loudly.
_HANDLED = frozenset({"alerts_upsert", "alerts_delete", "groups_upsert", "groups_delete", "nflog_upsert",
                      "nflog_delete", "silences_upsert", "outbox_insert", "outbox_update", "kv_upsert", "kv_delete",
                      "audit_insert", "inbox_delete"})


def _key_tuples(keys: Iterable[Any]) -> list[tuple]:
    """Distinct keys as tuples, in order: (k,) for one-column keys, as they are for composite ones."""
    return sorted({k if isinstance(k, tuple) else (k,) for k in keys})


# -- the SQL each dialect runs: (sql, parameters, executemany?) per step

# The lease's one row, created by whichever replica asks first (same SQL on both dialects).
_LEASE_INSERT = ("INSERT INTO engine_lease (name, holder, epoch, expires_at_ns) "
                 "VALUES ('engine', '', 0, 0) ON CONFLICT (name) DO NOTHING")


class _SqliteSql:
    """executemany of one prepared statement: one thread hop per statement, no parameter limit."""

    def __init__(self) -> None:
        dialect = sqlite.dialect()
        self.upsert = {}
        for kind in KINDS:
            t = kind.table
            stmt = sqlite.insert(t)
            stmt = stmt.on_conflict_do_update(index_elements=kind.keys,
                                              set_={c.name: stmt.excluded[c.name] for c in t.c if not c.primary_key})
            compiled = stmt.compile(dialect=dialect)
            assert list(compiled.positiontup or []) == [c.name for c in t.c], compiled.positiontup
            self.upsert[kind.table.name] = str(compiled)
        self.delete = {k.table.name: f"DELETE FROM {k.table.name} WHERE " + " AND ".join(f"{c} = ?" for c in k.keys)
                       for k in KINDS}
        self.outbox_update = ("UPDATE outbox SET " + ", ".join(f"{c} = ?" for c in _UPDATE_COLS) + " WHERE id = ?")
        self.audit_insert = (f"INSERT INTO audit ({', '.join(_AUDIT_COLS)}) "
                             f"VALUES ({', '.join('?' for _ in _AUDIT_COLS)})")
        self.purge = ("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status <> 'pending' "
                      "AND created_at_ns < ? LIMIT ?)")
        self.inbox_delete = "DELETE FROM inbox WHERE id = ?"
        self.inbox_insert = "INSERT INTO inbox (received_ns, source, body) VALUES (?, ?, ?)"
        self.pending_outbox = "WHERE status = 'pending'"
        cols = ", ".join(c.name for c in S.audit.c)
        self.audit_all = f"SELECT {cols} FROM audit ORDER BY id DESC LIMIT ?"
        self.audit_group = f"SELECT {cols} FROM audit WHERE group_id = ? ORDER BY id DESC LIMIT ?"
        # One machine, one clock: lease times come from the caller (the Python clock).
        self.lease_insert = _LEASE_INSERT
        self.lease_select = "SELECT holder, epoch, expires_at_ns, ? FROM engine_lease WHERE name = 'engine'"
        self.lease_peek = self.lease_select
        self.lease_take = "UPDATE engine_lease SET holder = ?, epoch = ?, expires_at_ns = ? + ? WHERE name = 'engine'"
        self.lease_release = "UPDATE engine_lease SET expires_at_ns = 0 WHERE name = 'engine' AND holder = ? AND epoch = ?"
        self.lease_fence = ("UPDATE engine_lease SET expires_at_ns = ? + ? "
                            "WHERE name = 'engine' AND holder = ? AND epoch = ?")

    @staticmethod
    def lease_now(clock: Callable[[], int]) -> tuple[int, ...]:
        return (clock(),)

    @staticmethod
    def lease_fence_params(clock: Callable[[], int], ttl_ns: int, holder: str, epoch: int) -> tuple:
        return (clock(), ttl_ns, holder, epoch)

    def upsert_steps(self, kind: _Kind, rows: list[tuple]) -> list[tuple[str, Any]]:
        return [(self.upsert[kind.table.name], rows)]

    def delete_steps(self, kind: _Kind, keys: list[tuple]) -> list[tuple[str, Any]]:
        return [(self.delete[kind.table.name], keys)]

    def outbox_update_steps(self, rows: list[tuple]) -> list[tuple[str, Any]]:
        return [(self.outbox_update, [(*t[1:], t[0]) for t in rows])]

    def audit_steps(self, rows: list[tuple]) -> list[tuple[str, Any]]:
        return [(self.audit_insert, rows)]

    def inbox_delete_step(self, ids: list[int]) -> tuple[str, Any]:
        return (self.inbox_delete, [(i,) for i in ids])

    @staticmethod
    def inbox_rows(items: list[tuple[int, str, bytes]]) -> Any:
        return items


class _PostgresSql:
    """One statement per table and commit: arrays in, `unnest` to rows, ON CONFLICT for the upsert."""

    def __init__(self) -> None:
        dialect = postgresql.dialect()
        self.types = {k.table.name: [c.type.compile(dialect=dialect) for c in k.table.c] for k in KINDS}
        self.upsert = {}
        self.delete = {}
        for kind in KINDS:
            t = kind.table
            cols = [c.name for c in t.c]
            keys = kind.keys
            arrays = ", ".join(f"${i}::{ty}[]" for i, ty in enumerate(self.types[t.name], 1))
            sets = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in keys)
            self.upsert[t.name] = (f"INSERT INTO {t.name} ({', '.join(cols)}) SELECT * FROM unnest({arrays}) "
                                   f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}")
            if len(keys) == 1:
                self.delete[t.name] = f"DELETE FROM {t.name} WHERE {keys[0]} = ANY($1::{self.types[t.name][0]}[])"
            else:
                key_arrays = ", ".join(f"${i}::{ty}[]" for i, ty in enumerate(self.types[t.name][: len(keys)], 1))
                self.delete[t.name] = (f"DELETE FROM {t.name} USING unnest({key_arrays}) AS d({', '.join(keys)}) "
                                       "WHERE " + " AND ".join(f"{t.name}.{k} = d.{k}" for k in keys))
        ocols = [c.name for c in S.outbox.c]
        otypes = dict(zip(ocols, self.types["outbox"]))
        names = ("id", *_UPDATE_COLS)
        self.outbox_update = (
            "UPDATE outbox AS o SET " + ", ".join(f"{c} = u.{c}" for c in _UPDATE_COLS)
            + " FROM unnest(" + ", ".join(f"${i}::{otypes[c]}[]" for i, c in enumerate(names, 1)) + ")"
            + f" AS u({', '.join(names)}) WHERE o.id = u.id")
        audit_types = [c.type.compile(dialect=dialect) for c in S.audit.c if c.name != "id"]
        self.audit_insert = (f"INSERT INTO audit ({', '.join(_AUDIT_COLS)}) SELECT {', '.join(_AUDIT_COLS)} FROM unnest("
                             + ", ".join(f"${i}::{ty}[]" for i, ty in enumerate(audit_types, 1)) + ")"
                             + " WITH ORDINALITY AS u(" + ", ".join(_AUDIT_COLS) + ", n) ORDER BY n")
        self.purge = ("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status <> 'pending' "
                      "AND created_at_ns < $1 LIMIT $2)")
        self.inbox_delete = "DELETE FROM inbox WHERE id = ANY($1::bigint[])"
        self.inbox_insert = ("INSERT INTO inbox (received_ns, source, body) "
                             "SELECT r, s, b FROM unnest($1::bigint[], $2::text[], $3::bytea[]) WITH ORDINALITY AS u(r, s, b, n) "
                             "ORDER BY n")
        self.pending_outbox = "WHERE status = 'pending'"
        cols = ", ".join(c.name for c in S.audit.c)
        self.audit_all = f"SELECT {cols} FROM audit ORDER BY id DESC LIMIT $1"
        self.audit_group = f"SELECT {cols} FROM audit WHERE group_id = $1 ORDER BY id DESC LIMIT $2"
        # Replicas on several machines: every lease time is the database server's clock.
        now = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000000000)::bigint"
        self.lease_insert = _LEASE_INSERT
        self.lease_peek = f"SELECT holder, epoch, expires_at_ns, {now} FROM engine_lease WHERE name = 'engine'"
        self.lease_select = self.lease_peek + " FOR UPDATE"
        self.lease_take = ("UPDATE engine_lease SET holder = $1, epoch = $2::bigint, expires_at_ns = $3::bigint + $4::bigint "
                           "WHERE name = 'engine'")
        self.lease_release = ("UPDATE engine_lease SET expires_at_ns = 0 "
                              "WHERE name = 'engine' AND holder = $1 AND epoch = $2::bigint")
        self.lease_fence = (f"UPDATE engine_lease SET expires_at_ns = {now} + $1::bigint "
                            "WHERE name = 'engine' AND holder = $2 AND epoch = $3::bigint")

    @staticmethod
    def lease_now(clock: Callable[[], int]) -> tuple[int, ...]:
        return ()

    @staticmethod
    def lease_fence_params(clock: Callable[[], int], ttl_ns: int, holder: str, epoch: int) -> tuple:
        return (ttl_ns, holder, epoch)

    @staticmethod
    def _columns(rows: list[tuple]) -> tuple[list[Any], ...]:
        return tuple(list(col) for col in zip(*rows))

    def upsert_steps(self, kind: _Kind, rows: list[tuple]) -> list[tuple[str, Any]]:
        sql = self.upsert[kind.table.name]
        return [(sql, self._columns(rows[i:i + PG_CHUNK])) for i in range(0, len(rows), PG_CHUNK)]

    def delete_steps(self, kind: _Kind, keys: list[tuple]) -> list[tuple[str, Any]]:
        sql = self.delete[kind.table.name]
        return [(sql, self._columns(keys[i:i + PG_CHUNK])) for i in range(0, len(keys), PG_CHUNK)]

    def outbox_update_steps(self, rows: list[tuple]) -> list[tuple[str, Any]]:
        return [(self.outbox_update, self._columns(rows[i:i + PG_CHUNK])) for i in range(0, len(rows), PG_CHUNK)]

    def audit_steps(self, rows: list[tuple]) -> list[tuple[str, Any]]:
        return [(self.audit_insert, self._columns(rows[i:i + PG_CHUNK])) for i in range(0, len(rows), PG_CHUNK)]

    def inbox_delete_step(self, ids: list[int]) -> tuple[str, Any]:
        return (self.inbox_delete, (ids,))  # one array parameter: no limit on how many

    def inbox_rows(self, items: list[tuple[int, str, bytes]]) -> Any:
        return self._columns(items)  # one statement, ids in the order of the list


def sqlite_busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock this one needs: worth trying again."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _enable_wal(cur: Any, *, deadline: float, pause: Callable[[], object]) -> None:
    """Switch the file to WAL, waiting out another connection that is switching it too.

    The switch needs an exclusive lock and SQLite does not call the busy handler for it: two
    replicas (or a replica and a tool) opening a fresh file at once would otherwise fail with
    "database is locked" at once. WAL is persistent, so once any of them has switched, the
    others find it set and take no lock. `pause` waits a little without blocking the event loop.
    """
    while True:
        try:
            cur.execute("PRAGMA journal_mode")
            if cur.fetchone()[0] == "wal":
                return
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if not sqlite_busy(exc) or time.monotonic() >= deadline:
                raise
            pause()


class SqlStore:
    """A `Store` on SQLite (`sqlite+aiosqlite:///path`) or PostgreSQL (`postgresql+asyncpg://…`)."""

    def __init__(self, url: str, *, outbox_retention_s: float = DEFAULT_RETENTION_S,
                 purge_interval_s: float = 600.0, busy_timeout_s: float = 5.0, pool_size: int = 5,
                 connect_timeout_s: float = 10.0, statement_timeout_s: float = 30.0,
                 pool_pre_ping: bool = True, clock: Callable[[], int] = time.time_ns) -> None:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreUnavailable(f"invalid database URL: {exc}") from None
        driver = _DRIVERS.get(parsed.drivername)
        if driver is None:
            raise StoreUnavailable(f"database {parsed.render_as_string(hide_password=True)}: unsupported "
                                   f"(use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db)")
        self.url: URL = parsed.set(drivername=driver)
        self.dialect = self.url.get_backend_name()
        # How the database is named in errors and logs: never with its password.
        self.name = (f"{driver}:///{self.url.database or ':memory:'}" if self.dialect == "sqlite"
                     else self.url.render_as_string(hide_password=True))
        self._sql: _SqliteSql | _PostgresSql = _SqliteSql() if self.dialect == "sqlite" else _PostgresSql()
        # The inbox INSERT in this dialect, for a writer outside SQLAlchemy (bot.server.front).
        self.inbox_insert_sql = self._sql.inbox_insert
        self.retention_ns = int(outbox_retention_s * 1e9)
        self.purge_interval_s = purge_interval_s
        self._busy_timeout_s = busy_timeout_s
        self._pool_size = pool_size
        self._connect_timeout_s = connect_timeout_s
        self._statement_timeout_s = statement_timeout_s
        self._pool_pre_ping = pool_pre_ping
        self._clock = clock
        self._engine: AsyncEngine | None = None
        self._write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        self._purge_task: asyncio.Task[None] | None = None
        self._next_purge = 0.0
        # The engine lease this store fences its commits with: (holder, epoch, ttl ns), once
        # acquired. A store that never acquires one (tools, tests) commits unfenced.
        self._lease: tuple[str, int, int] | None = None
        self._lease_lost = ""
        self.on_lease_lost: Callable[[str], None] | None = None

    def __repr__(self) -> str:
        return f"SqlStore({self.name!r})"

    # ------------------------------------------------------------------ lifecycle
    async def open(self, migrate: bool = True) -> None:
        """Connects, and with `migrate` brings the schema to the newest version first (the
        engine's process does; a front process only writes to the schema it left)."""
        if self._engine is not None:
            return
        try:
            self._engine = self._create_engine()
        except (SQLAlchemyError, OSError, ValueError) as exc:  # e.g. a directory that cannot be created
            raise self._unavailable(exc) from exc
        if not migrate:
            return
        try:
            async with self._engine.begin() as conn:
                if self.dialect == "postgresql":
                    await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
                await conn.run_sync(_upgrade_to_head)
        except _DB_ERRORS as exc:
            await self._dispose()
            raise self._unavailable(exc) from exc
        self._next_purge = time.monotonic() + min(60.0, self.purge_interval_s)

    async def close(self) -> None:
        task, self._purge_task = self._purge_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._dispose()

    async def _dispose(self) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            with contextlib.suppress(*_DB_ERRORS):
                await engine.dispose()

    def _create_engine(self) -> AsyncEngine:
        if self.dialect == "sqlite":
            return self._create_sqlite_engine()
        return create_async_engine(
            self.url, pool_size=self._pool_size, max_overflow=self._pool_size, pool_pre_ping=self._pool_pre_ping,
            pool_timeout=self._connect_timeout_s,
            connect_args={"timeout": self._connect_timeout_s, "command_timeout": self._statement_timeout_s,
                          "server_settings": {"application_name": "alertbot"}})

    def _create_sqlite_engine(self) -> AsyncEngine:
        database = self.url.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        busy_ms = int(self._busy_timeout_s * 1000)
        engine = create_async_engine(self.url, connect_args={"timeout": self._busy_timeout_s})

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # no implicit BEGIN from sqlite3: we issue our own
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA busy_timeout={busy_ms}")
            _enable_wal(cur, deadline=time.monotonic() + busy_ms / 1000,
                        pause=lambda: dbapi_conn.run_async(lambda _driver: asyncio.sleep(0.01)))
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin(conn: Any) -> None:
            # Writers take the write lock up front: a deferred BEGIN that later writes fails with
            # SQLITE_BUSY at once, whatever the busy timeout.
            conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("alertbot_read") else "BEGIN IMMEDIATE")

        return engine

    def _require_engine(self) -> AsyncEngine:
        if self._engine is None:
            raise StoreUnavailable(f"database {self.name}: not open")
        return self._engine

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[AsyncConnection]:
        """A read transaction with one snapshot for everything read in it."""
        async with self._require_engine().connect() as conn:
            if self.dialect == "sqlite":
                conn = await conn.execution_options(alertbot_read=True)
            else:
                conn = await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            async with conn.begin():
                yield conn

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncConnection]:
        async with self._write_lock or contextlib.nullcontext():
            engine = self._require_engine()
            try:
                async with engine.begin() as conn:
                    yield conn
            except _DB_ERRORS:
                if self.dialect == "sqlite":
                    # A connection SQLite opened while the file could not be written (read-only,
                    # immutable, a full disk) stays read-only for good: the pool is replaced, so
                    # the next write opens the file afresh and works once it can be written.
                    with contextlib.suppress(*_DB_ERRORS):
                        await engine.dispose()
                raise

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"database {self.name}: {_reason(exc, self.url.password)}")

    # ------------------------------------------------------------------ the Store protocol
    async def ping(self) -> float:
        started = time.perf_counter()
        try:
            async with self._reading() as conn:
                await conn.exec_driver_sql("SELECT 1")
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc
        return time.perf_counter() - started

    async def load(self) -> State:
        try:
            async with self._reading() as conn:
                if self.dialect == "postgresql":
                    # Starts the REPEATABLE READ transaction (the adapter begins lazily) that the
                    # driver-level fetches in _select then run in: one snapshot for all tables.
                    await conn.exec_driver_sql("SELECT 1")
                return State(
                    alerts=await self._select(conn, ALERTS),
                    groups=await self._select(conn, GROUPS),
                    nflog=await self._select(conn, NFLOG),
                    silences=await self._select(conn, SILENCES),
                    outbox_pending=await self._select(conn, OUTBOX, self._sql.pending_outbox),
                    kv=await self._select(conn, KV),
                    **await self._outbox_max(conn),
                )
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def _outbox_max(self, conn: AsyncConnection) -> dict[str, int]:
        """The highest ids ever used (delivered rows included), so that new ones never collide."""
        result = await conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0), COALESCE(MAX(flush_id), 0) FROM outbox")
        max_id, max_flush = result.fetchone()  # type: ignore[misc]
        return {"outbox_max_id": int(max_id), "outbox_max_flush_id": int(max_flush)}

    async def _select(self, conn: AsyncConnection, kind: _Kind, where: str = "") -> list[Any]:
        t = kind.table
        sql = f"SELECT {', '.join(c.name for c in t.c)} FROM {t.name} {where} ORDER BY {', '.join(kind.keys)}"
        decode = kind.decode
        if self.dialect == "postgresql":
            # asyncpg's own fetch: a third of the time of the same rows through SQLAlchemy's
            # cursor adapter (0.15 s against 0.5 s for 100,000 alerts).
            raw = await conn.get_raw_connection()
            return [decode(r) for r in await raw.driver_connection.fetch(sql)]  # type: ignore[union-attr]
        result = await conn.exec_driver_sql(sql)
        return [decode(r) for r in result.fetchall()]

    async def audit(self, group_id: str | None = None, limit: int = 100) -> list[AuditRow]:
        """The newest audit rows (all, or one group's), newest first."""
        sql = self._sql
        query, params = (sql.audit_all, (limit,)) if group_id is None else (sql.audit_group, (group_id, limit))
        try:
            async with self._reading() as conn:
                result = await conn.exec_driver_sql(query, params)
                return [_dec_audit(r) for r in result.fetchall()]
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def inbox_put(self, items: list[tuple[int, str, bytes]]) -> None:
        if not items:
            return
        try:
            async with self._writing() as conn:
                await conn.exec_driver_sql(self._sql.inbox_insert, self._sql.inbox_rows(items))
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def inbox_bounds(self) -> tuple[int, int] | None:
        try:
            async with self._reading() as conn:
                # Two subqueries: each is one step down the primary key, where min() and max() in one
                # SELECT would read the whole table.
                lo, hi = (await conn.exec_driver_sql(
                    "SELECT (SELECT min(id) FROM inbox), (SELECT max(id) FROM inbox)")).one()
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc
        return None if lo is None else (int(lo), int(hi))

    async def inbox_take(self, limit: int) -> list[InboxRow]:
        t = S.inbox
        query = t.select().order_by(t.c.id).limit(limit)
        try:
            async with self._reading() as conn:
                result = await conn.execute(query)
                return [InboxRow(r.id, r.received_ns, r.source, bytes(r.body)) for r in result]
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def commit(self, changes: Changes) -> None:
        steps = self._plan(changes)  # encoded before the transaction: the lock is held for SQL only
        if not steps:
            return
        self._check_lease()
        try:
            async with self._writing() as conn:
                await self._fence(conn)
                for sql, params in steps:
                    await conn.exec_driver_sql(sql, params)
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc
        if time.monotonic() >= self._next_purge:
            self._schedule_purge()

    def _plan(self, c: Changes) -> list[tuple[str, Any]]:
        """The statements of one commit, in MemoryStore's order (upserts of a kind before its deletes)."""
        unknown = [f.name for f in dataclasses.fields(c) if f.name not in _HANDLED and getattr(c, f.name)]
        if unknown:
            raise NotImplementedError(f"SqlStore cannot store Changes.{', Changes.'.join(unknown)} yet")
        sql = self._sql
        steps: list[tuple[str, Any]] = []

        def upsert(kind: _Kind, rows: list[Any]) -> None:
            if rows:
                enc = kind.encode
                steps.extend(sql.upsert_steps(kind, kind.dedup(enc(r) for r in rows)))

        def delete(kind: _Kind, keys: Iterable[Any]) -> None:
            key_tuples = _key_tuples(keys)
            if key_tuples:
                steps.extend(sql.delete_steps(kind, key_tuples))

        upsert(ALERTS, c.alerts_upsert)
        delete(ALERTS, (S.fp_to_db(fp) for fp in c.alerts_delete))
        upsert(GROUPS, c.groups_upsert)
        delete(GROUPS, c.groups_delete)
        upsert(NFLOG, c.nflog_upsert)
        delete(NFLOG, c.nflog_delete)
        upsert(SILENCES, c.silences_upsert)
        upsert(OUTBOX, c.outbox_insert)
        if c.outbox_update:
            steps.extend(sql.outbox_update_steps(OUTBOX.dedup(_enc_outbox_update(u) for u in c.outbox_update)))
        upsert(KV, c.kv_upsert)
        delete(KV, c.kv_delete)
        if c.audit_insert:
            steps.extend(sql.audit_steps([_enc_audit(a) for a in c.audit_insert]))
        if c.inbox_delete:
            steps.append(sql.inbox_delete_step(sorted(set(c.inbox_delete))))
        return steps

    # ------------------------------------------------------------------ the engine lease
    async def acquire_lease(self, holder: str, ttl_s: float) -> Lease:
        if not holder:
            raise ValueError("a lease holder needs a name")
        ttl_ns = int(ttl_s * 1e9)
        sql = self._sql
        try:
            # A standby asks every second: a read answers "held by someone else" without taking
            # SQLite's write lock from the holder's commits.
            async with self._reading() as conn:
                row = (await conn.exec_driver_sql(sql.lease_peek, sql.lease_now(self._clock))).fetchone()
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc
        if row is not None and row[0] and row[0] != holder and row[2] > row[3]:
            return Lease(row[0], row[1], row[2], False)
        try:
            async with self._writing() as conn:
                await conn.exec_driver_sql(sql.lease_insert)
                result = await conn.exec_driver_sql(sql.lease_select, sql.lease_now(self._clock))
                current, epoch, expires_ns, now_ns = result.fetchone()  # type: ignore[misc]
                if current and current != holder and expires_ns > now_ns:
                    return Lease(current, epoch, expires_ns, False)
                # Free, expired, or ours from before a restart: a new epoch fences out whoever
                # held it, including an earlier run of this very instance that is still alive.
                epoch += 1
                await conn.exec_driver_sql(sql.lease_take, (holder, epoch, now_ns, ttl_ns))
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc
        self._lease = (holder, epoch, ttl_ns)
        self._lease_lost = ""
        if current and current != holder:
            log.warning("took over the engine lease from %s (it expired or was released)", current)
        return Lease(holder, epoch, now_ns + ttl_ns, True)

    async def renew_lease(self) -> None:
        self._check_lease()
        if self._lease is None:
            return
        try:
            async with self._writing() as conn:
                await self._fence(conn)
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc

    async def release_lease(self) -> None:
        """Gives the lease up at a clean shutdown, so that a standby takes over at once."""
        lease, self._lease = self._lease, None
        if lease is None or self._lease_lost:
            return
        holder, epoch, _ = lease
        try:
            async with self._writing() as conn:
                await conn.exec_driver_sql(self._sql.lease_release, (holder, epoch))
        except _DB_ERRORS as exc:
            raise self._unavailable(exc) from exc

    def _check_lease(self) -> None:
        if self._lease_lost:
            raise LeaseLost(self._lease_lost)

    async def _fence(self, conn: AsyncConnection) -> None:
        """Inside a write transaction: renews the lease, or fails it when another replica took
        the lease over (the transaction then writes nothing)."""
        if self._lease is None:
            return
        holder, epoch, ttl_ns = self._lease
        result = await conn.exec_driver_sql(self._sql.lease_fence,
                                            self._sql.lease_fence_params(self._clock, ttl_ns, holder, epoch))
        if result.rowcount != 1:
            self._lease = None
            self._lease_lost = (f"database {self.name}: the engine lease (epoch {epoch}) was taken over by "
                                "another replica; this one stops flushing and delivering")
            if self.on_lease_lost is not None:
                self.on_lease_lost(self._lease_lost)
            raise LeaseLost(self._lease_lost)

    # ------------------------------------------------------------------ outbox retention
    def _schedule_purge(self) -> None:
        self._next_purge = time.monotonic() + self.purge_interval_s
        if self._purge_task is None or self._purge_task.done():
            self._purge_task = asyncio.get_running_loop().create_task(self._purge_quietly())

    async def _purge_quietly(self) -> None:
        try:
            n = await self.purge_outbox()
            if n:
                log.info("purged %d finished outbox rows older than %.0f h", n, self.retention_ns / 3.6e12)
        except StoreUnavailable as exc:
            log.warning("outbox purge failed (will retry): %s", exc)

    async def purge_outbox(self, now_ns: int | None = None) -> int:
        """Deletes delivered/failed/abandoned outbox rows created more than the retention ago.

        Runs in small transactions so that commits are never held up for long.
        """
        cutoff = _ns((self._clock() if now_ns is None else now_ns) - self.retention_ns)
        total = 0
        while True:
            try:
                async with self._writing() as conn:
                    result = await conn.exec_driver_sql(self._sql.purge, (cutoff, PURGE_BATCH))
            except _DB_ERRORS as exc:
                raise self._unavailable(exc) from exc
            total += result.rowcount
            if result.rowcount < PURGE_BATCH:
                return total
            await asyncio.sleep(0)


def _upgrade_to_head(connection: Any) -> None:
    """Alembic's `upgrade head` on a connection we already hold (inside our transaction)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.attributes["connection"] = connection
    before = MigrationContext.configure(connection).get_current_revision()
    command.upgrade(cfg, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    if after != before:
        logging.getLogger("alertbot.store").info("database schema %s: revision %s",
                                                 "created" if before is None else f"upgraded from {before}", after)


def _reason(exc: BaseException, password: str | None) -> str:
    """A one-line reason from the driver's error, without SQLAlchemy's SQL and parameter dump."""
    inner: BaseException = exc
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        inner = orig
        if isinstance(inner.__cause__, BaseException):  # asyncpg errors wrapped by SQLAlchemy's adapter
            inner = inner.__cause__
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else ""
    if isinstance(inner, (asyncio.TimeoutError, TimeoutError)) and not text:
        text = "timed out"
    kind = type(inner).__name__
    reason = f"{kind}: {text}" if text else kind
    if password:
        reason = reason.replace(password, "***")
    return reason[:300]
