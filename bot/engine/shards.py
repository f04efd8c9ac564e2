"""Aggregation groups split over several engines: which engine owns a group, and which
engines an alert must reach.

A group is owned by exactly one engine, chosen by a stable hash of its id, so that one
engine holds every alert of the group and alone times, flushes and logs it. An alert goes
to every engine that owns one of its groups (with `continue`, an alert can be in groups of
several engines; each stores and merges it the same way). Inhibition is the one thing that
looks across groups: a source alert mutes targets wherever they are grouped, so an alert
that matches the source side of any inhibit rule goes to every engine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.config import Config
from bot.engine.alert import Alert
from bot.engine.groups import group_id
from bot.routing.labels import fnv1a_64


def shard_of(gid: str, shards: int) -> int:
    """The engine that owns group `gid`, the same in every process (Python's hash() is not)."""
    if shards <= 1:
        return 0
    return fnv1a_64(gid.encode()) % shards


def owner(index: int, shards: int) -> Callable[[str], bool]:
    """The ownership test of engine `index` of `shards`."""
    if not 0 <= index < shards:
        raise ValueError(f"shard {index} out of range 0..{shards - 1}")
    return lambda gid: shard_of(gid, shards) == index


class ShardPlan:
    """Splits batches of alerts between `shards` engines running `config`."""

    def __init__(self, config: Config, shards: int) -> None:
        if shards < 1:
            raise ValueError("at least one shard")
        self.config = config
        self.shards = shards
        self._sources = [r.source for r in config.inhibit_rules]

    def shards_of(self, alert: Alert) -> set[int]:
        if any(m.matches(alert.labels) for m in self._sources):
            return set(range(self.shards))
        return {shard_of(gid, self.shards) for gid in group_ids(self.config, alert)}

    def split(self, alerts: Sequence[Alert]) -> list[list[Alert]]:
        """Per engine, the alerts it must receive, in their original order."""
        out: list[list[Alert]] = [[] for _ in range(self.shards)]
        if self.shards == 1:
            out[0] = list(alerts)
            return out
        for a in alerts:
            for i in sorted(self.shards_of(a)):
                out[i].append(a)
        return out


def group_ids(config: Config, alert: Alert) -> list[str]:
    """The ids of the groups `alert` joins (the engine's `_group_of`, uncached)."""
    return [group_id(route, route.group_labels(alert.labels)) for route in config.route.match(alert.labels)]
