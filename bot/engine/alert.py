"""An alert as Alertmanager holds it: labels, annotations, activity range, merge rules.

Semantics from Alertmanager's `types.Alert` and `model.Alert`: resolved iff `endsAt` is set
and not after the given time; re-received alerts merge only when their activity ranges
overlap (`provider/mem`), the younger alert's fields win, the earliest start wins, and a
timeout-derived `endsAt` never extends a real one.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cmp_to_key

from bot.engine.timestamp import ZERO, ZERO_NS, Timestamp
from bot.routing.labels import fingerprint, go_quote


class Alert:
    __slots__ = ("labels", "annotations", "starts_at", "ends_at", "generator_url", "updated_at", "timeout",
                 "fingerprint", "_order", "cache")

    def __init__(self, labels: dict[str, str], annotations: dict[str, str] | None = None,
                 starts_at: Timestamp = ZERO, ends_at: Timestamp = ZERO, generator_url: str = "",
                 updated_at: Timestamp = ZERO, timeout: bool = False, fp: int | None = None) -> None:
        self.labels = labels
        self.annotations = annotations if annotations is not None else {}
        self.starts_at = starts_at
        self.ends_at = ends_at
        self.generator_url = generator_url
        self.updated_at = updated_at
        self.timeout = timeout
        self.fingerprint = fingerprint(labels) if fp is None else fp
        self._order: tuple | None = None
        # Renderings of this alert (e.g. its webhook JSON), shared with its copies. Labels,
        # annotations and the URL never change after creation; renderers key their entries
        # by the times and status they depend on.
        self.cache: dict | None = None

    def copy(self) -> Alert:
        c = Alert(self.labels, self.annotations, self.starts_at, self.ends_at, self.generator_url,
                  self.updated_at, self.timeout, self.fingerprint)
        c._order = self.order_key  # computed once per stored alert, shared by its copies
        if self.cache is None:
            self.cache = {}
        c.cache = self.cache
        return c

    @property
    def order_key(self) -> tuple:
        """The key of Alertmanager's notification order (see `order_key`), computed once."""
        if self._order is None:
            self._order = order_key(self.labels)
        return self._order

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    def resolved_at(self, now: Timestamp) -> bool:
        ends = self.ends_at.ns
        return ends != ZERO_NS and ends <= now.ns

    def as_notified(self, now: Timestamp) -> Alert:
        """The alert as a notification shows it at `now`: a firing one with the zero `endsAt`
        (a copy, made once and kept in the cache), a resolved one as it is."""
        if self.resolved_at(now):
            return self
        if self.cache is None:
            self.cache = {}
        c = self.cache.get("firing")
        if c is None:
            c = self.copy()
            c.ends_at = ZERO
            self.cache["firing"] = c
        return c

    def status_at(self, now: Timestamp) -> str:
        return "resolved" if self.resolved_at(now) else "firing"

    def merge(self, other: Alert, now: Timestamp) -> Alert:
        """`a.Merge(o)`: fields from the younger alert, the earliest start, the right end."""
        if other.updated_at.ns < self.updated_at.ns:
            return other.merge(self, now)
        res = other.copy()
        if self.starts_at.ns < other.starts_at.ns:
            res.starts_at = self.starts_at
        if other.resolved_at(now):
            if self.resolved_at(now) and self.ends_at.ns > other.ends_at.ns:
                res.ends_at = self.ends_at
        elif self.ends_at.ns > other.ends_at.ns and not self.timeout:
            res.ends_at = self.ends_at
        return res

    def overlaps(self, old: Alert) -> bool:
        """Whether this (new) alert's range overlaps the stored one, so that they merge."""
        return (old.starts_at.ns < self.ends_at.ns < old.ends_at.ns) or (
            old.starts_at.ns < self.starts_at.ns < old.ends_at.ns)

    def __repr__(self) -> str:
        return f"Alert({labels_repr(self.labels)}, {self.starts_at!r}..{self.ends_at!r})"


def labels_repr(labels: Mapping[str, str]) -> str:
    return "{" + ", ".join(f"{k}={go_quote(v)}" for k, v in sorted(labels.items())) + "}"


def merge_into_store(existing: Alert | None, incoming: Alert, now: Timestamp) -> Alert:
    """What the provider stores when `incoming` arrives and `existing` has the same fingerprint."""
    if existing is not None and incoming.overlaps(existing):
        return existing.merge(incoming, now)
    return incoming


def _less(a: Alert, b: Alert) -> bool:
    """`types.AlertSlice.Less`: alerts with a `job` label first, ordered by it, then the
    same for `instance`, then `LabelSet.Before`."""
    la, lb = a.labels, b.labels
    for key in ("job", "instance"):
        va, vb = la.get(key), lb.get(key)
        if va is None and vb is None:
            continue
        if va is None:
            return False
        if vb is None:
            return True
        if va != vb:
            return va < vb
    return label_set_before(la, lb)


def label_set_before(ls: Mapping[str, str], o: Mapping[str, str]) -> bool:
    """`model.LabelSet.Before`: fewer labels first; then, over the sorted names of both, a
    set missing a name comes first, else the smaller value."""
    if len(ls) != len(o):
        return len(ls) < len(o)
    for name in sorted([*ls, *o]):
        if name not in ls:
            return True
        if name not in o:
            return False
        if ls[name] != o[name]:
            return ls[name] < o[name]
    return False


def _cmp(a: Alert, b: Alert) -> int:
    if _less(a, b):
        return -1
    if _less(b, a):
        return 1
    return 0


def sorted_alerts(alerts: list[Alert]) -> list[Alert]:
    """Alerts in the order Alertmanager puts them in a notification (a stable sort)."""
    return sorted(alerts, key=_order_of)


def _order_of(a: Alert) -> tuple:
    return a.order_key


def sorted_alerts_by_comparison(alerts: list[Alert]) -> list[Alert]:
    """The same order through `AlertSlice.Less` itself (the reference the key is tested against)."""
    return sorted(alerts, key=cmp_to_key(_cmp))


class _Reversed(dict):
    """str.translate table mapping each code point c to 0x10FFFF - c, built as needed."""

    def __missing__(self, code: int) -> str:
        mapped = chr(0x10FFFF - code)
        self[code] = mapped
        return mapped


_REVERSED = _Reversed()
_TERMINATOR = "\U0010ffff"


def _descending(name: str) -> str:
    # Code points mirrored, then a terminator above every mirrored one (a NUL, mirrored to the
    # same value, is the one character this cannot order against a shorter name): the
    # strings compare in reverse order, a longer name before its prefix.
    d = _DESCENDING.get(name)
    if d is None:
        d = name.translate(_REVERSED) + _TERMINATOR
        if len(_DESCENDING) < _DESCENDING_MAX:  # label names are few; never grow without bound
            _DESCENDING[name] = d
    return d


_DESCENDING: dict[str, str] = {}
_DESCENDING_MAX = 10_000


def order_key(labels: Mapping[str, str]) -> tuple:
    """A sort key equal to `types.AlertSlice.Less`: `job` then `instance` (present first, then
    by value), then `LabelSet.Before` — fewer labels first; then, at the first position where the
    sorted label lists differ, the larger name first (the other set lacks the smaller one, and
    Go puts the set missing a name first) or, for the same name, the smaller value."""
    job = labels.get("job")
    inst = labels.get("instance")
    return (job is None, job or "", inst is None, inst or "", len(labels), _LabelsTail(labels))


class _LabelsTail:
    """The last part of `order_key`, built only when two keys tie on everything before it.

    Tuples compare element by element and stop at the first unequal one, so for alerts that
    differ in `job` or `instance` (the usual case) the sorted label list is never built."""

    __slots__ = ("labels", "_items")

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = labels
        self._items: tuple | None = None

    @property
    def items(self) -> tuple:
        if self._items is None:
            labels = self.labels
            self._items = tuple([(_descending(n), labels[n]) for n in sorted(labels)])
        return self._items

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _LabelsTail) and self.items == other.items

    def __lt__(self, other: _LabelsTail) -> bool:
        return self.items < other.items

    def __gt__(self, other: _LabelsTail) -> bool:
        return self.items > other.items

    __hash__ = None  # type: ignore[assignment]
