"""The migrated schema is exactly `bot.store.schema.metadata`, on SQLite and on PostgreSQL, and
the migrations ship inside the package."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store import schema
from bot.store.sql import MIGRATIONS_DIR, SqlStore
from tests.store.factory import everything

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(connection: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def schema_diff(connection: object) -> list[object]:
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
    return compare_metadata(ctx, schema.metadata)


def describe(connection: object) -> dict[str, object]:
    """Tables, columns with types and nullability, primary keys and indexes, as the database reports them."""
    insp = inspect(connection)
    out: dict[str, object] = {}
    for table in sorted(insp.get_table_names()):
        out[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in insp.get_columns(table)],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted((i["name"], tuple(i["column_names"])) for i in insp.get_indexes(table)),
        }
    return out


async def test_migrated_schema_equals_metadata(database_url: str) -> None:
    store = SqlStore(database_url)
    await store.open()
    await store.close()
    engine = create_async_engine(store.url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(schema_diff) == []
            tables = await conn.run_sync(describe)
            version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        await engine.dispose()
    assert version == ScriptDirectory.from_config(alembic_config(None)).get_current_head()
    assert set(tables) == {t.name for t in schema.metadata.sorted_tables} | {"alembic_version"}
    assert ("ix_outbox_status_not_before_ns", ("status", "not_before_ns")) in tables["outbox"]["indexes"]  # type: ignore[index]
    assert tables["alerts"]["pk"] == ["fingerprint"]  # type: ignore[index]


async def test_metadata_create_all_is_what_the_migrations_build(database_url: str, tmp_path: Path) -> None:
    """The other direction: a schema made straight from metadata reads back the same as the migrated one."""
    migrated = SqlStore(database_url)
    await migrated.open()
    await migrated.close()
    engine = create_async_engine(migrated.url)
    try:
        async with engine.connect() as conn:
            from_migrations = await conn.run_sync(describe)
    finally:
        await engine.dispose()
    if migrated.dialect == "sqlite":
        other_url = f"sqlite+aiosqlite:///{tmp_path}/from_metadata.db"
        engine = create_async_engine(other_url)
    else:
        engine = create_async_engine(migrated.url)  # same database, another schema
    try:
        async with engine.begin() as conn:
            if migrated.dialect == "postgresql":
                await conn.exec_driver_sql("CREATE SCHEMA fresh")
                await conn.exec_driver_sql("SET search_path TO fresh")
            await conn.run_sync(schema.metadata.create_all)
            from_metadata = await conn.run_sync(describe)
    finally:
        await engine.dispose()
    from_migrations.pop("alembic_version")
    assert from_metadata == from_migrations


async def test_downgrade_to_nothing_and_up_again(database_url: str) -> None:
    store = SqlStore(database_url)
    await store.open()
    await store.commit(everything(2))
    await store.close()
    engine = create_async_engine(store.url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
            left = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert set(left) <= {"alembic_version"}
    finally:
        await engine.dispose()
    again = SqlStore(database_url)
    await again.open()  # open() migrates back up
    try:
        assert (await again.load()).alerts == []
        await again.commit(everything(2))
        assert len((await again.load()).alerts) == 2
    finally:
        await again.close()


def test_migrations_ship_in_the_package(tmp_path: Path) -> None:
    """Builds the package's files with the project's own setuptools configuration."""
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "pyproject.toml", src)
    for name in ("README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src)
    shutil.copytree(ROOT / "bot", src / "bot", ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path / "lib"
    proc = subprocess.run([sys.executable, "-c", "from setuptools import setup; setup()", "-q", "build_py",
                           "--build-lib", str(out)], cwd=src, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    shipped = {p.relative_to(out / "bot/store/migrations").as_posix()
               for p in (out / "bot/store/migrations").rglob("*") if p.is_file()}
    expected = {p.relative_to(MIGRATIONS_DIR).as_posix() for p in MIGRATIONS_DIR.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts}
    assert {"env.py", "script.py.mako", "alembic.ini", "versions/0001_initial.py"} <= expected
    assert shipped == expected


async def test_upgrade_keeps_the_data_of_earlier_revisions(database_url: str) -> None:
    """A database made by an earlier revision (0002: before alerts.fingerprint became BIGINT on
    SQLite, a table rebuild there) is brought to head by open() with every row kept."""
    old = SqlStore(database_url)
    old._engine = old._create_engine()  # noqa: SLF001 - the store's engine, migrated only to 0002
    async with old._engine.begin() as conn:  # noqa: SLF001
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0002"))
    changes = everything(4)
    changes.alerts_upsert.append(dataclasses.replace(changes.alerts_upsert[0], fingerprint=(1 << 64) - 1))
    await old.commit(changes)
    await old.close()
    store = SqlStore(database_url)
    await store.open()
    try:
        state = await store.load()
        assert sorted(a.fingerprint for a in state.alerts) == sorted(a.fingerprint for a in changes.alerts_upsert)
        assert len(state.groups) == 4 and len(state.outbox_pending) == 4 and len(state.kv) == 8
        await store.commit(everything(6))
    finally:
        await store.close()
    engine = create_async_engine(store.url)
    try:
        async with engine.connect() as conn:
            assert await conn.run_sync(schema_diff) == []
    finally:
        await engine.dispose()
