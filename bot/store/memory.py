"""A Store that keeps rows in memory: for replay and for tests of the engine's logic."""

from __future__ import annotations

import copy

from bot.store.base import Lease
from bot.store.rows import Changes, InboxRow, State


class MemoryStore:
    def __init__(self) -> None:
        self.alerts: dict[int, object] = {}
        self.groups: dict[str, object] = {}
        self.nflog: dict[str, object] = {}
        self.silences: dict[str, object] = {}
        self.outbox: dict[int, object] = {}
        self.kv: dict[tuple[str, str], object] = {}
        self.audit_rows: list[object] = []
        self.inbox: dict[int, InboxRow] = {}
        self._inbox_next = 1
        self.commits = 0
        self.fail_next: Exception | None = None  # tests: make the next commit fail

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> float:
        return 0.0

    async def inbox_put(self, items: list[tuple[int, str, bytes]]) -> None:
        for received_ns, source, body in items:
            self.inbox[self._inbox_next] = InboxRow(self._inbox_next, received_ns, source, bytes(body))
            self._inbox_next += 1

    async def inbox_bounds(self) -> tuple[int, int] | None:
        return (min(self.inbox), max(self.inbox)) if self.inbox else None

    async def inbox_take(self, limit: int) -> list[InboxRow]:
        return [copy.copy(self.inbox[i]) for i in sorted(self.inbox)[:limit]]

    async def acquire_lease(self, holder: str, ttl_s: float) -> Lease:
        return Lease(holder, 1, 0, True)  # one process, one engine: nothing to share

    async def renew_lease(self) -> None:
        return None

    async def release_lease(self) -> None:
        return None

    async def load(self) -> State:
        return State(
            alerts=[copy.copy(r) for r in self.alerts.values()],  # type: ignore[misc]
            groups=[copy.copy(r) for r in self.groups.values()],  # type: ignore[misc]
            nflog=[copy.copy(r) for r in self.nflog.values()],  # type: ignore[misc]
            silences=[copy.copy(r) for r in self.silences.values()],  # type: ignore[misc]
            outbox_pending=[copy.copy(r) for r in self.outbox.values() if r.status == "pending"],  # type: ignore[attr-defined,misc]
            kv=[copy.copy(r) for r in self.kv.values()],  # type: ignore[misc]
            outbox_max_id=max(self.outbox, default=0),
            outbox_max_flush_id=max((r.flush_id for r in self.outbox.values()), default=0),  # type: ignore[attr-defined]
        )

    async def audit(self, group_id: str | None = None, limit: int = 100) -> list:
        rows = [r for r in self.audit_rows if group_id is None or r.group_id == group_id]  # type: ignore[attr-defined]
        return [copy.copy(r) for r in reversed(rows[-limit:])]

    async def commit(self, changes: Changes) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        for r in changes.alerts_upsert:
            self.alerts[r.fingerprint] = copy.copy(r)
        for fp in changes.alerts_delete:
            self.alerts.pop(fp, None)
        for g in changes.groups_upsert:
            self.groups[g.id] = copy.copy(g)
        for gid in changes.groups_delete:
            self.groups.pop(gid, None)
        for n in changes.nflog_upsert:
            self.nflog[n.key] = copy.copy(n)
        for k in changes.nflog_delete:
            self.nflog.pop(k, None)
        for s in changes.silences_upsert:
            self.silences[s.id] = copy.copy(s)
        for o in changes.outbox_insert:
            self.outbox[o.id] = copy.copy(o)
        for u in changes.outbox_update:
            row = self.outbox.get(u.id)
            if row is not None:
                row.status, row.attempts, row.not_before_ns, row.last_error = (  # type: ignore[attr-defined]
                    u.status, u.attempts, u.not_before_ns, u.last_error)
        for k in changes.kv_upsert:
            self.kv[(k.namespace, k.key)] = copy.copy(k)
        for ns_key in changes.kv_delete:
            self.kv.pop(ns_key, None)
        for i in changes.inbox_delete:
            self.inbox.pop(i, None)
        for a in changes.audit_insert:
            row = copy.copy(a)
            row.id = len(self.audit_rows) + 1  # type: ignore[attr-defined]
            self.audit_rows.append(row)
        self.commits += 1
