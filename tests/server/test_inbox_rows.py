"""What the engine applies from an inbox row (bot.server.inbox.alerts_of): a front stores the
alerts it validated, and applying them must give exactly the alerts that validating the request
body in the engine gives (as earlier versions stored it, and as the one-process server takes it),
with `resolve_timeout` applied at the engine."""

from __future__ import annotations

import random

import orjson
import pytest

from bot.engine.alert import Alert
from bot.engine.codec import validated_to_bytes
from bot.engine.timestamp import Timestamp
from bot.server.inbox import alerts_of, source_of
from bot.server.openapi import postable_alerts, validated_postable_alerts
from bot.server.webhook_payload import webhook_body_alerts
from bot.store.rows import InboxRow

RECEIVED = Timestamp.parse("2026-11-27T12:00:00.123456789Z")


def fields(a: Alert) -> tuple:
    return (a.labels, list(a.labels), a.annotations, a.starts_at.ns, a.starts_at.offset, a.ends_at.ns,
            a.ends_at.offset, a.generator_url, a.updated_at.ns, a.timeout, a.fingerprint)


POSTED = [
    {"labels": {"alertname": "Plain"}},
    {"labels": {"alertname": "Zoned", "instance": "a:9090"}, "annotations": {"summary": "s"},
     "startsAt": "2026-11-27T13:59:58.5+02:00", "endsAt": "2026-11-27T15:00:00.000000001+03:00",
     "generatorURL": "http://prometheus/graph?g0.expr=up"},
    {"labels": {"alertname": "Resolved"}, "startsAt": "2026-11-27T10:00:00Z", "endsAt": "2026-11-27T11:00:00Z"},
    {"labels": {"alertname": "EndOnly"}, "endsAt": "2026-11-27T12:30:00Z"},
    {"labels": {"alertname": "Epoch"}, "startsAt": "1969-12-31T23:00:00Z", "endsAt": "1970-01-01T00:00:00Z"},
    {"labels": {"alertname": "Future"}, "startsAt": "2026-11-27T12:04:00Z"},  # within 5m, not within 1m
    {"labels": {"alertname": "Empty", "dropped": ""}, "annotations": {"runbook": ""}},
    {"labels": {"alertname": "Ünïcode ✓", "名前": "値"}, "annotations": {"description": "a \u2028 b \"q\""}},
    {"labels": {"job": "z", "b": "2", "a": "1"}},  # label order as sent is kept
    {"labels": {}},  # invalid: at least one label pair required
    {"labels": {"alertname": "Backwards"}, "startsAt": "2026-11-27T12:00:00Z", "endsAt": "2026-11-27T11:00:00Z"},
]


def webhook(alerts: list[dict]) -> bytes:
    return orjson.dumps({"version": "4", "status": "firing", "receiver": "r", "groupLabels": {}, "commonLabels": {},
                         "commonAnnotations": {}, "externalURL": "http://am", "groupKey": "{}:{}",
                         "truncatedAlerts": 0, "alerts": alerts})


HOOKED = [
    {"status": "firing", "labels": {"alertname": "Hooked"}, "annotations": {}, "startsAt": "2026-11-27T11:00:00Z",
     "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus/g", "fingerprint": "x"},
    {"status": "resolved", "labels": {"alertname": "Done"}, "annotations": {"a": "b"},
     "startsAt": "2026-11-27T11:00:00+01:00", "endsAt": "2026-11-27T11:30:00+01:00", "fingerprint": "y"},
    {"status": "firing", "labels": {"": "x"}, "startsAt": "2026-11-27T11:00:00Z"},  # invalid name
]


def applied(source: str, body: bytes, resolve_timeout: float) -> tuple[list[tuple], int]:
    got, invalid = alerts_of(InboxRow(1, RECEIVED.ns, source, body), resolve_timeout, "fallback")
    return [fields(a) for a in got], invalid


@pytest.mark.parametrize("front_timeout, engine_timeout", [(300.0, 300.0), (300.0, 60.0), (60.0, 300.0)])
def test_validated_rows_apply_as_the_body_would(front_timeout: float, engine_timeout: float) -> None:
    """The engine applies its own resolve_timeout (a reload between the front's answer and the
    apply counts, as in one process): an alert the front took and a shorter timeout makes end
    before it starts is refused there, as validating the body then would refuse it. An alert
    the front refused (400) is not stored at all."""
    body = orjson.dumps(POSTED)
    valid, errors = postable_alerts(body, RECEIVED, front_timeout)
    assert len(valid) + len(errors) == len(POSTED) and len(errors) == (3 if front_timeout < 300 else 2)
    taken = {a.fingerprint for a in valid}
    raw, _ = applied("api", body, engine_timeout)
    expected = [f for f in raw if f[-1] in taken]
    assert applied("api:validated", validated_to_bytes(valid), engine_timeout) == (expected, len(valid) - len(expected))
    names = [f[0].get("alertname") for f in expected]
    assert ("Future" in names) == (front_timeout == engine_timeout == 300.0)
    assert len(names) >= 7 and max(f[-1] for f in expected) >= 2**63, "a fingerprint above int64 kept"

    hooks = webhook(HOOKED)
    valid, errors = webhook_body_alerts(hooks, RECEIVED, front_timeout)
    assert len(valid) == 2 and len(errors) == 1
    raw, invalid = applied("webhook", hooks, engine_timeout)
    assert applied("webhook:validated", validated_to_bytes(valid), engine_timeout) == (raw, invalid - 1)
    assert [f[-2] for f in raw] == [True, False], "a firing webhook alert lives by resolve_timeout"


def test_the_way_in_is_counted_as_before() -> None:
    assert [source_of(InboxRow(1, 0, s, b"")) for s in ("api", "api:validated", "webhook", "webhook:validated")] \
        == ["api", "api", "webhook", "webhook"]


def _random_alert(rng: random.Random) -> object:
    """Mostly what Prometheus sends, with every kind of oddity now and then."""
    def text() -> str:
        return rng.choice(["a", "b", "x_1", "Ünï", "", "名", "a b", "\u2028", "0", "job"])

    def pairs() -> object:
        if rng.random() < 0.03:
            return rng.choice([None, [], "x", {"a": 1}, {"a": None}])
        return {text() if rng.random() < 0.2 else rng.choice(["alertname", "job", "instance", "sev"]):
                text() if rng.random() < 0.2 else rng.choice(["up", "db", "1", "critical"])
                for _ in range(rng.randint(0, 4))}

    def time() -> object:
        return rng.choice(["2026-11-27T11:00:00Z", "2026-11-27T12:30:00+02:00", "2026-11-27T11:59:59.5Z",
                           "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "2026-11-27T12:06:00Z", "", None,
                           "yesterday", 5, "2026-11-27 11:00:00Z"])

    alert: dict = {"labels": pairs()}
    for key, make in (("annotations", pairs), ("startsAt", time), ("endsAt", time),
                      ("generatorURL", lambda: rng.choice(["http://prometheus/graph?g0.expr=up", "", "not a uri",
                                                           "/relative", 7])),
                      ("status", lambda: "firing")):
        if rng.random() < (0.02 if key == "status" else 0.5):
            alert[key] = make()
    return alert if rng.random() > 0.01 else rng.choice([None, [], "alert"])


@pytest.mark.parametrize("mode", ["fallback", "utf8", "classic"])
def test_the_fronts_one_pass_agrees_with_the_exact_path(mode: str) -> None:
    """`validated_postable_alerts` answers only where every alert is valid, and then with what
    the exact path (postable_alerts, then validated_to_bytes) gives; most batches from
    Prometheus take it."""
    rng = random.Random(20261127)
    answered = 0
    for _ in range(3000):
        body = orjson.dumps([_random_alert(rng) for _ in range(rng.choice([1, 1, 2, 5]))])
        fast = validated_postable_alerts(body, RECEIVED, 300.0, mode)
        alerts, errors = postable_alerts(body, RECEIVED, 300.0, mode) if fast is not None else ([], [])
        if fast is not None:
            answered += 1
            assert errors == [] and fast == (validated_to_bytes(alerts), len(alerts)), body
    assert answered > 300 if mode != "classic" else answered == 0
    prometheus = orjson.dumps([{"labels": {"alertname": "Up", "instance": f"i{i}", "job": "j"},
                                "annotations": {"summary": "s"}, "startsAt": "2026-11-27T11:00:00.5+01:00",
                                "endsAt": "2026-11-27T12:04:00Z", "generatorURL": "http://prometheus/graph?g0.expr=up"}
                               for i in range(100)])
    assert (validated_postable_alerts(prometheus, RECEIVED, 300.0, mode) is None) == (mode == "classic")
