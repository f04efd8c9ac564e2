"""The one narrow interface between the engine and its database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.store.rows import AuditRow, Changes, InboxRow, State


class StoreUnavailable(Exception):
    """The database cannot be reached or refused the write. The change was not stored, or (a
    failure during COMMIT itself) its outcome is unknown: callers rebuild from the database."""


class LeaseLost(StoreUnavailable):
    """Another replica took the engine lease: this one must stop flushing and delivering. Every
    later commit of the store fails with it until the lease is acquired again."""


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds the engine lease after an `acquire_lease` call, and until when (the database's
    clock, nanoseconds); `acquired` says whether the caller is now that holder."""

    holder: str
    epoch: int
    expires_at_ns: int
    acquired: bool


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

    async def inbox_put(self, items: list[tuple[int, str, bytes]]) -> None:
        """Stores (received_ns, source, body) request bodies in one transaction of their own. Not
        fenced by the engine lease: any replica's front may take alerts in."""

    async def inbox_take(self, limit: int) -> list[InboxRow]:
        """The oldest `limit` bodies not yet applied, in commit order. They stay until a commit
        lists their ids in `Changes.inbox_delete`."""

    async def inbox_bounds(self) -> tuple[int, int] | None:
        """The lowest and highest id in the inbox, or None when it is empty (both from the primary
        key: cheap enough for every overload check and every query that must see applied alerts)."""

    async def ping(self) -> float:
        """Round-trip time of a trivial query, in seconds (raises StoreUnavailable)."""

    async def acquire_lease(self, holder: str, ttl_s: float) -> Lease:
        """Takes the engine lease when it is free, expired or already `holder`'s (a restart),
        and from then on fences every commit with it; otherwise says who holds it."""

    async def renew_lease(self) -> None:
        """Extends the lease held (raises LeaseLost when another replica took it over)."""

    async def release_lease(self) -> None:
        """Gives the lease up (clean shutdown): a standby replica takes over without waiting."""
