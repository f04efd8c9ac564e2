"""Aggregation groups: the alerts of one route with the same group labels, and their timer."""

from __future__ import annotations

import orjson

from bot.engine.alert import Alert
from bot.routing.labels import fingerprint
from bot.routing.route import Route
from bot.store.rows import GroupRow


def group_id(route: Route, group_labels: dict[str, str]) -> str:
    """Unique per aggregation group (Alertmanager: route node + group-label fingerprint)."""
    return f"{route.id}|{fingerprint(group_labels):016x}"


class AggrGroup:
    __slots__ = ("id", "route", "labels", "key", "alerts", "created_ns", "next_flush_ns", "has_flushed", "flushing",
                 "held_back")

    def __init__(self, route: Route, labels: dict[str, str], created_ns: int, next_flush_ns: int,
                 has_flushed: bool = False, gid: str | None = None) -> None:
        self.route = route
        self.labels = labels
        self.id = gid or group_id(route, labels)
        self.key = route.group_key(labels)
        self.alerts: dict[int, Alert] = {}
        self.created_ns = created_ns
        self.next_flush_ns = next_flush_ns
        self.has_flushed = has_flushed
        self.flushing: int | None = None  # the flush id whose deliveries are still under way
        self.held_back = False  # its timer expired while a flush was still under way

    @property
    def receiver(self) -> str:
        return self.route.receiver

    def to_row(self) -> GroupRow:
        return GroupRow(self.id, self.key, self.route.id, self.route.receiver, orjson.dumps(self.labels).decode(),
                        self.created_ns, self.next_flush_ns, self.has_flushed)

    def __repr__(self) -> str:
        return f"AggrGroup({self.key!r}, {len(self.alerts)} alerts)"
