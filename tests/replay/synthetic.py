"""A synthetic day of Prometheus traffic, for replay's speed and determinism (it has no
expected output: nothing recorded it).

Prometheus evaluates every minute and sends every active alert with endsAt = now + 4 min
(its ValidUntil for a 1 min interval), and every resolved alert with its resolve time for
15 minutes after it resolved. 300 possible alerts (10 names x 3 clusters x 10 instances)
flip between firing and resolved at random, seeded, so the same call gives the same lines.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

DAY_CONFIG = """\
global:
  resolve_timeout: 5m
route:
  receiver: default
  group_by: [alertname, cluster]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
  routes:
  - matchers: [severity="critical"]
    receiver: pager
    group_by: [alertname]
    group_wait: 10s
    repeat_interval: 1h
    continue: true
  - matchers: [team="db"]
    receiver: db
    group_by: ['...']
    mute_time_intervals: [nights]
  - matchers: [team="web"]
    receiver: web
    active_time_intervals: [office]
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster]
time_intervals:
- name: nights
  time_intervals:
  - times: [{start_time: '00:00', end_time: '06:00'}]
- name: office
  time_intervals:
  - weekdays: ['monday:friday']
    times: [{start_time: '08:00', end_time: '18:00'}]
    location: Europe/Berlin
receivers:
- name: default
  webhook_configs: [{url: 'http://recorder.invalid/default'}]
- name: pager
  webhook_configs: [{url: 'http://recorder.invalid/pager', send_resolved: false}]
- name: db
  webhook_configs: [{url: 'http://recorder.invalid/db', max_alerts: 5}]
- name: web
  webhook_configs: [{url: 'http://recorder.invalid/web'}]
"""

START = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)  # a Monday


def _ts(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def day_lines(seed: int = 7, minutes: int = 24 * 60, p_fire: float = 0.004, p_resolve: float = 0.06) -> list[str]:
    rng = random.Random(seed)
    names = [f"Alert{i}" for i in range(10)]
    teams = ["db", "web", "ml", "db", "web", "ml", "platform", "db", "web", "ml"]
    keys = [(n, c, f"host-{i}") for n in names for c in ("eu", "us", "ap") for i in range(10)]
    firing: dict[tuple[str, str, str], datetime] = {}
    resolved: dict[tuple[str, str, str], tuple[datetime, datetime]] = {}
    lines = []
    for minute in range(minutes):
        now = START + timedelta(minutes=minute, seconds=rng.random() * 0.5)
        for k in keys:
            if k in firing:
                if rng.random() < p_resolve:
                    resolved[k] = (firing.pop(k), now)
            elif rng.random() < p_fire:
                resolved.pop(k, None)
                firing[k] = now
        alerts = []
        for k in sorted(firing):
            alerts.append(_alert(k, teams, firing[k], now + timedelta(minutes=4)))
        for k in sorted(resolved):
            s, e = resolved[k]
            if now - e <= timedelta(minutes=15):
                alerts.append(_alert(k, teams, s, e))
        if alerts:
            lines.append(json.dumps({"at": _ts(now), "alerts": alerts}))
    return lines


def _alert(k: tuple[str, str, str], teams: list[str], starts: datetime, ends: datetime) -> dict:
    name, cluster, instance = k
    idx = int(name.removeprefix("Alert"))
    severity = "critical" if idx in (0, 5) else "warning"
    return {"labels": {"alertname": name, "cluster": cluster, "instance": instance, "severity": severity,
                       "team": teams[idx], "job": "node"},
            "annotations": {"summary": f"{name} on {instance} ({cluster})", "runbook_url": f"https://runbooks/{name}"},
            "startsAt": _ts(starts), "endsAt": _ts(ends), "generatorURL": f"http://prometheus:9090/graph?g0.expr={name}"}
