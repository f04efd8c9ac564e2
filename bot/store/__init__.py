"""Durable state: the `Store` interface, its row types, and the in-memory and SQL stores.

`SqlStore` is imported lazily so that replay and the CLI, which use `MemoryStore`, do not pay
for SQLAlchemy and the database drivers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.store.base import Store, StoreUnavailable
from bot.store.memory import MemoryStore
from bot.store.rows import AlertRow, Changes, GroupRow, NflogRow, OutboxRow, OutboxUpdate, SilenceRow, State

if TYPE_CHECKING:
    from bot.store.sql import SqlStore

__all__ = ["AlertRow", "Changes", "GroupRow", "MemoryStore", "NflogRow", "OutboxRow", "OutboxUpdate", "SilenceRow",
           "SqlStore", "State", "Store", "StoreUnavailable"]


def __getattr__(name: str) -> Any:
    if name == "SqlStore":
        from bot.store.sql import SqlStore

        return SqlStore
    raise AttributeError(f"module 'bot.store' has no attribute {name!r}")
