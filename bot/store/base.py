"""The one narrow interface between the engine and its database."""

from __future__ import annotations

from typing import Protocol

from bot.store.rows import AuditRow, Changes, State


class StoreUnavailable(Exception):
    """The database cannot be reached or refused the write. The change was not stored, or (a
    failure during COMMIT itself) its outcome is unknown: callers rebuild from the database."""


class Store(Protocol):
    async def open(self) -> None:
        """Connects and brings the schema up to date (migrations)."""

    async def close(self) -> None: ...

    async def load(self) -> State:
        """All alerts, groups, log entries, silences and undelivered outbox rows."""

    async def commit(self, changes: Changes) -> None:
        """Applies every change in one transaction, or none (raising StoreUnavailable)."""

    async def audit(self, group_id: str | None = None, limit: int = 100) -> list[AuditRow]:
        """The newest audit rows (all, or one group's), newest first."""

    async def ping(self) -> float:
        """Round-trip time of a trivial query, in seconds (raises StoreUnavailable)."""
