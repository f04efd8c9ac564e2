"""The notification-log and inhibition rules, on the tables of Alertmanager's own tests
(notify/notify_test.go TestDedupStageNeedsUpdate; inhibit/inhibit_test.go)."""

from __future__ import annotations

import pytest

from bot.config import InhibitRule
from bot.engine.alert import Alert
from bot.engine.inhibit import Inhibitor
from bot.engine.nflog import ALL_RESOLVED, FIRST, NEW_ALERTS, REPEAT, SOME_RESOLVED, Entry, needs_update
from bot.engine.timestamp import ZERO, Timestamp
from bot.routing.matchers import Matcher, Matchers, MatchType

NOW = Timestamp.parse("2026-06-01T12:00:00Z")
MIN = 60 * 10**9


def entry(firing: set[int], resolved: set[int], age_min: float | None) -> Entry:
    ts = 0 if age_min is None else NOW.ns - int(age_min * MIN)
    return Entry(frozenset(firing), frozenset(resolved), ts, NOW.ns + 10**12)


# (entry firing, entry resolved, entry age in minutes; None = zero timestamp), firing, resolved,
# send_resolved, expected (repeat interval 10m)
DEDUP = [
    (None, {2, 3, 4}, set(), False, FIRST),
    (None, set(), {2, 3, 4}, False, None),
    (({1, 2, 3}, set(), 5), {2, 3, 4}, set(), False, NEW_ALERTS),
    (({1, 2, 3}, set(), None), {1, 2, 3}, set(), False, REPEAT),
    (({1, 2, 3}, set(), 9), {1, 2, 3}, set(), False, None),
    (({1, 2, 3}, set(), 11), {1, 2, 3}, set(), False, REPEAT),
    ((set(), {1, 2, 3}, 11), set(), {3, 4, 5}, True, None),
    (({1, 2}, {3}, 9), {1}, {2, 3}, False, None),
    (({1, 2}, {3}, 9), {1}, {2, 3}, True, SOME_RESOLVED),
    (({1, 2}, {3}, 9), set(), {1, 2, 3}, False, ALL_RESOLVED),
    (({1, 2}, {3}, 9), set(), {1, 2, 3}, True, ALL_RESOLVED),
]


@pytest.mark.parametrize("ent,firing,resolved,send_resolved,expected", DEDUP)
def test_needs_update(ent, firing, resolved, send_resolved, expected) -> None:  # type: ignore[no-untyped-def]
    e = None if ent is None else entry(*ent)
    got = needs_update(e, frozenset(firing), frozenset(resolved), send_resolved, 600, NOW.ns)
    assert got == expected


def test_first_notification_when_log_had_no_firing_alerts() -> None:
    assert needs_update(entry(set(), {1}, 1), frozenset({2}), frozenset(), False, 600, NOW.ns) == FIRST


def eq(name: str, value: str) -> Matcher:
    return Matcher.new(MatchType.EQUAL, name, value)


def alert(labels: dict[str, str], resolved: bool = False) -> Alert:
    ends = NOW.add(-60) if resolved else ZERO
    return Alert(labels, {}, NOW.add(-600), ends)


def test_inhibit_rule_matches() -> None:
    # TestInhibitRuleMatches: rule1 s1=1 -> t1=1 equal e; rule2 s2=1 -> t2=1 equal e.
    ih = Inhibitor([InhibitRule(Matchers([eq("s1", "1")]), Matchers([eq("t1", "1")]), ("e",)),
                    InhibitRule(Matchers([eq("s2", "1")]), Matchers([eq("t2", "1")]), ("e",))])
    source1 = alert({"s1": "1", "t1": "2", "e": "1"})
    source2 = alert({"s2": "1", "t2": "1", "e": "1"})
    ih.observe(source1)
    ih.observe(source2)
    cases = [
        ({"t1": "1", "e": "1"}, True), ({"t2": "1", "e": "1"}, True), ({"t1": "1", "t3": "1", "e": "1"}, True),
        ({"t1": "1", "t2": "1", "e": "1"}, True), ({"t1": "0", "e": "1"}, False), ({"s1": "1", "t1": "1", "e": "1"}, True),
        ({"s2": "1", "t2": "1", "e": "1"}, False), ({"t1": "1", "e": "0"}, False),
    ]
    for labels, muted in cases:
        assert bool(ih.inhibited_by(labels, NOW)) is muted, labels


def test_inhibit_only_while_source_unresolved() -> None:
    rule = InhibitRule(Matchers([eq("severity", "critical")]), Matchers([eq("severity", "warning")]), ("cluster",))
    ih = Inhibitor([rule])
    src = alert({"alertname": "Down", "severity": "critical", "cluster": "c1"})
    ih.observe(src)
    assert ih.inhibited_by({"severity": "warning", "cluster": "c1"}, NOW) == [f"{src.fingerprint:016x}"]
    assert ih.inhibited_by({"severity": "warning", "cluster": "c2"}, NOW) == []
    assert ih.inhibited_by({"severity": "warning"}, NOW) == []  # missing cluster is "" and differs
    resolved = alert({"alertname": "Down", "severity": "critical", "cluster": "c1"}, resolved=True)
    ih.observe(resolved, src)
    assert ih.inhibited_by({"severity": "warning", "cluster": "c1"}, NOW) == []


def test_empty_equal_means_any_source_and_no_self_inhibition() -> None:
    rule = InhibitRule(Matchers([eq("a", "1")]), Matchers([eq("b", "1")]), ())
    ih = Inhibitor([rule])
    both = alert({"a": "1", "b": "1"})
    ih.observe(both)
    assert ih.inhibited_by(both.labels, NOW) == []  # matches both sides: never inhibits itself
    assert ih.inhibited_by({"b": "1", "x": "y"}, NOW) == [f"{both.fingerprint:016x}"]
