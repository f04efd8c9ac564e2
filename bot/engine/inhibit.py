"""Inhibition (`inhibit_rules`) with Alertmanager's semantics (`inhibit/inhibit.go`).

Every stored alert that matches a rule's source side is cached for that rule, resolved
ones included; a target is muted while an unresolved cached source has the same values for
the rule's `equal` labels (a missing label is the empty string). When the target matches
the source side too, sources that also match the target side are ignored, so an alert
never inhibits itself and two alerts matching both sides never inhibit each other.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.config import InhibitRule
from bot.engine.alert import Alert
from bot.engine.timestamp import Timestamp


class _Rule:
    __slots__ = ("rule", "sources")

    def __init__(self, rule: InhibitRule) -> None:
        self.rule = rule
        self.sources: dict[tuple[str, ...], dict[int, Alert]] = {}

    def equal_key(self, labels: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(labels.get(n, "") for n in self.rule.equal)


class Inhibitor:
    def __init__(self, rules: list[InhibitRule]) -> None:
        self.rules = [_Rule(r) for r in rules]

    def observe(self, alert: Alert, previous: Alert | None = None) -> None:
        """Records a stored alert (and forgets the version it replaces)."""
        for r in self.rules:
            if previous is not None:
                bucket = r.sources.get(r.equal_key(previous.labels))
                if bucket is not None:
                    bucket.pop(previous.fingerprint, None)
            if r.rule.source.matches(alert.labels):
                r.sources.setdefault(r.equal_key(alert.labels), {})[alert.fingerprint] = alert

    def forget(self, alert: Alert) -> None:
        for r in self.rules:
            bucket = r.sources.get(r.equal_key(alert.labels))
            if bucket is not None:
                bucket.pop(alert.fingerprint, None)
                if not bucket:
                    del r.sources[r.equal_key(alert.labels)]

    def inhibited_by(self, labels: Mapping[str, str], now: Timestamp) -> list[str]:
        """The fingerprint (hex) of the source that mutes these labels, or [] if none does."""
        for r in self.rules:
            if not r.rule.target.matches(labels):
                continue
            two_sided = r.rule.source.matches(labels)
            bucket = r.sources.get(r.equal_key(labels))
            if not bucket:
                continue
            for fp in sorted(bucket):
                src = bucket[fp]
                if src.resolved_at(now):
                    continue
                if two_sided and r.rule.target.matches(src.labels):
                    continue
                return [f"{fp:016x}"]
        return []
