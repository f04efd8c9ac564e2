"""The routing tree: which routes an alert reaches, with what options, under which keys.

Semantics are Alertmanager's `dispatch/route.go`: a depth-first walk in config order that
returns the deepest matching routes, continuing past a matching child only when that child
has `continue: true`; options inherited from the parent and overridden where set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from bot.routing.labels import label_set_string
from bot.routing.matchers import Matcher, Matchers

DEFAULT_GROUP_WAIT = 30.0
DEFAULT_GROUP_INTERVAL = 300.0
DEFAULT_REPEAT_INTERVAL = 4 * 3600.0


class RouteConfig(Protocol):
    """What the route builder reads from a configured route (see `bot.config`)."""

    receiver: str | None
    group_by: list[str] | None  # None: inherit; [] overrides to "no grouping labels"
    group_by_all: bool
    group_wait: float | None
    group_interval: float | None
    repeat_interval: float | None
    continue_: bool
    mute_time_intervals: list[str]
    active_time_intervals: list[str]

    def all_matchers(self) -> list[Matcher]: ...

    @property
    def child_routes(self) -> Sequence[RouteConfig]: ...


@dataclass(frozen=True, slots=True)
class RouteOpts:
    receiver: str = ""
    group_by: tuple[str, ...] = ()
    group_by_all: bool = False
    group_wait: float = DEFAULT_GROUP_WAIT
    group_interval: float = DEFAULT_GROUP_INTERVAL
    repeat_interval: float = DEFAULT_REPEAT_INTERVAL
    mute_time_intervals: tuple[str, ...] = ()
    active_time_intervals: tuple[str, ...] = ()


class Route:
    __slots__ = ("parent", "opts", "matchers", "continue_", "routes", "index", "key", "id", "config")

    def __init__(self, cfg: RouteConfig, parent: Route | None = None, index: int = 0) -> None:
        opts = parent.opts if parent is not None else RouteOpts()
        changes: dict[str, object] = {}
        if cfg.receiver:
            changes["receiver"] = cfg.receiver
        if cfg.group_by is not None:
            changes["group_by"] = tuple(sorted(set(cfg.group_by)))
            changes["group_by_all"] = False
        elif cfg.group_by_all:
            changes["group_by_all"] = True
        if cfg.group_wait is not None:
            changes["group_wait"] = cfg.group_wait
        if cfg.group_interval is not None:
            changes["group_interval"] = cfg.group_interval
        if cfg.repeat_interval is not None:
            changes["repeat_interval"] = cfg.repeat_interval
        # Time intervals are never inherited: each route uses exactly its own lists.
        changes["mute_time_intervals"] = tuple(cfg.mute_time_intervals)
        changes["active_time_intervals"] = tuple(cfg.active_time_intervals)
        self.opts = replace(opts, **changes)  # type: ignore[arg-type]
        self.parent = parent
        self.index = index
        self.config = cfg
        self.matchers = Matchers(cfg.all_matchers()).sorted()
        self.continue_ = cfg.continue_
        self.key = (parent.key + "/" if parent is not None else "") + str(self.matchers)
        self.id = (parent.id + "/" if parent is not None else "") + str(self.matchers)
        if parent is not None:
            self.id += f"/{index}"
        self.routes = [Route(child, self, i) for i, child in enumerate(cfg.child_routes)]

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The deepest matching routes, in tree order, duplicates kept."""
        if not self.matchers.matches(labels):
            return []
        found: list[Route] = []
        for child in self.routes:
            matches = child.match(labels)
            found.extend(matches)
            if matches and not child.continue_:
                break
        if not found:
            found.append(self)
        return found

    def walk(self) -> Iterator[Route]:
        yield self
        for child in self.routes:
            yield from child.walk()

    @property
    def receiver(self) -> str:
        return self.opts.receiver

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.opts.group_by_all:
            return dict(labels)
        return {n: labels[n] for n in self.opts.group_by if n in labels}

    def group_key(self, group_labels: Mapping[str, str]) -> str:
        """`routeKey:{name="value", ...}` byte for byte as Alertmanager prints it."""
        return f"{self.key}:{label_set_string(group_labels)}"

    def __repr__(self) -> str:
        return f"Route({self.id!r}, receiver={self.receiver!r})"
