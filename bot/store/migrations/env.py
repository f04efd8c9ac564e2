"""Alembic environment for alertbot's schema (`bot.store.schema.metadata`).

`SqlStore.open()` runs the migrations in-process on the connection it already holds
(`config.attributes["connection"]`, inside its own transaction): the async template's
`asyncio.run()` cannot run inside the server's event loop.

From a shell (e.g. to write a new revision against a scratch database):

    .venv/bin/alembic -c bot/store/migrations/alembic.ini -x url=sqlite+aiosqlite:///scratch.db upgrade head
    .venv/bin/alembic -c bot/store/migrations/alembic.ini -x url=sqlite+aiosqlite:///scratch.db \
        revision --autogenerate -m "what changes"

(`ALERTBOT_DATABASE` is used when `-x url=` is not given.)
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from bot.store.schema import metadata

config = context.config
target_metadata = metadata


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("ALERTBOT_DATABASE")
    if not url:
        raise SystemExit("give the database as -x url=sqlite+aiosqlite:///path.db (or set ALERTBOT_DATABASE)")
    return url


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things in place
        compare_type=True,
    )


def do_run_migrations(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_async_migrations() -> None:
    engine = create_async_engine(_url(), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(do_run_migrations)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        do_run_migrations(connection)  # in-process, on SqlStore's connection and transaction
    else:
        asyncio.run(run_async_migrations())


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
