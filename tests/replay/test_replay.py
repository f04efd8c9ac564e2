"""Replay against recordings of the real Alertmanager 0.25.

Each `data/NAME/` was recorded by `gen/record.py` (README in tests/differential): the alerts
posted to Alertmanager with the moment they were posted (`input.jsonl`) and the webhook
notifications it sent with their arrival times (`expected.jsonl`). Replaying the input on the
virtual clock must give the same notifications (per webhook and group key, in order: status,
group labels, the alerts with their status, labels and times) at the same moments, within the
differential suite's tolerance. Both the library (`bot.engine.replay`) and the command
(`alertbot replay`) are checked.

Replay renders its own record rather than the webhook body: annotations are not compared; the
alerts a webhook receives (the first `max_alerts`), their status and `truncatedAlerts` are.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_config, load_config_text
from bot.engine.replay import read_events, replay
from bot.engine.timestamp import Timestamp
from tests.differential.harness import ZERO_TIME, parse_time, time_diff
from tests.differential.scenarios import ROOT_1_2
from tests.replay.synthetic import DAY_CONFIG, day_lines

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parents[2]
TOLERANCE = 0.3  # seconds; the differential suite's, for the same reasons (tests/differential/README.md)
RECORDINGS = sorted(p.name for p in DATA.iterdir() if (p / "meta.json").exists()) if DATA.exists() else []


@dataclass
class Note:
    """One notification in a form both sides can be put in."""

    t: float
    webhook: str  # "<receiver>/<index>"
    group_key: str
    status: str
    group_labels: dict[str, str]
    alerts: list[dict[str, Any]]  # status, labels, startsAt, endsAt
    total: int  # alerts in the group's notification before max_alerts

    def summary(self) -> str:
        parts = []
        for a in self.alerts:
            own = ",".join(f"{k}={v}" for k, v in sorted(a["labels"].items()) if self.group_labels.get(k) != v) or "·"
            parts.append(f"{own}:{'F' if a['status'] == 'firing' else 'R'}")
        more = f" (+{self.total - len(self.alerts)})" if self.total > len(self.alerts) else ""
        return f"+{self.t:7.3f} {self.status:8} {' '.join(parts)}{more}"


def _seconds(at: str, start: datetime) -> float:
    t = parse_time(at)
    assert t is not None, at
    return (t - start).total_seconds()


def from_alertmanager(line: dict, start: datetime) -> Note:
    p = line["payload"]
    alerts = [{k: a[k] for k in ("status", "labels", "startsAt", "endsAt")} for a in p["alerts"]]
    return Note(_seconds(line["at"], start), line["webhook"], p["groupKey"], p["status"], p["groupLabels"], alerts,
                len(alerts) + p["truncatedAlerts"])


def from_replay(rec: dict, start: datetime, max_alerts: dict[str, int]) -> Note:
    """A replay record as a Note: it lists what the webhook receives (the first `max_alerts`,
    their status) and how many were left out, as Alertmanager's payload does."""
    index = rec["integration"].removeprefix("webhook[").rstrip("]")
    webhook = f"{rec['receiver']}/{index}"
    alerts = [{k: a[k] for k in ("status", "labels", "startsAt", "endsAt")} for a in rec["alerts"]]
    limit = max_alerts.get(webhook, 0)
    assert not limit or len(alerts) <= limit, f"a replay record lists more than max_alerts ({limit}): {rec}"
    return Note(_seconds(rec["at"], start), webhook, rec["groupKey"], rec["status"], rec["groupLabels"], alerts,
                len(alerts) + rec["truncatedAlerts"])


def compare_notes(expected: list[Note], got: list[Note], posted: set[str], tol: float = TOLERANCE) -> list[str]:
    def seqs(notes: list[Note]) -> dict[tuple[str, str], list[Note]]:
        out: dict[tuple[str, str], list[Note]] = {}
        for n in sorted(notes, key=lambda n: n.t):
            out.setdefault((n.webhook, n.group_key), []).append(n)
        return out

    problems = []
    se, sg = seqs(expected), seqs(got)
    for key in sorted(set(se) | set(sg)):
        a, b = se.get(key, []), sg.get(key, [])
        if len(a) != len(b):
            problems.append(f"{key[0]} {key[1]}: {len(a)} notifications vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            where = f"{key[0]} {key[1]} #{i + 1}"
            if abs(x.t - y.t) > tol:
                problems.append(f"{where}: at +{x.t:.3f}s vs +{y.t:.3f}s ({y.t - x.t:+.3f}s)")
            for field in ("status", "group_labels", "total"):
                if getattr(x, field) != getattr(y, field):
                    problems.append(f"{where}: {field} {getattr(x, field)!r} vs {getattr(y, field)!r}")
            if len(x.alerts) != len(y.alerts):
                problems.append(f"{where}: {len(x.alerts)} alerts vs {len(y.alerts)}")
            for j, (p, q) in enumerate(zip(x.alerts, y.alerts, strict=False)):
                for field in ("status", "labels"):
                    if p[field] != q[field]:
                        problems.append(f"{where} alerts[{j}].{field}: {p[field]!r} vs {q[field]!r}")
                for field in ("startsAt", "endsAt"):
                    d = time_diff(p[field], q[field], tol, posted)
                    if d:
                        problems.append(f"{where} alerts[{j}].{field}: {d}")
    return problems


def listing(expected: list[Note], got: list[Note], problems: list[str], title: str, width: int = 60) -> str:
    lines = [f"{title}: {len(problems)} difference(s)", f"{'':3}{'alertmanager 0.25 (recorded)':<{width}} | replay"]
    keys = sorted({(n.webhook, n.group_key) for n in expected + got})
    for key in keys:
        a = sorted((n for n in expected if (n.webhook, n.group_key) == key), key=lambda n: n.t)
        b = sorted((n for n in got if (n.webhook, n.group_key) == key), key=lambda n: n.t)
        lines.append(f"-- {key[0]}  {key[1]}")
        for i in range(max(len(a), len(b))):
            x = a[i].summary() if i < len(a) else "(none)"
            y = b[i].summary() if i < len(b) else "(none)"
            bad = any(p.startswith(f"{key[0]} {key[1]} #{i + 1}") for p in problems) or i >= min(len(a), len(b))
            lines.append(f"{'≠  ' if bad else '   '}{x[:width]:<{width}} | {y}")
    lines += ["differences:"] + [f"  - {p}" for p in problems[:60]]
    return "\n".join(lines)


@dataclass
class Recording:
    name: str
    dir: Path
    meta: dict
    start: datetime
    end: Timestamp
    expected: list[Note]
    posted: set[str]
    max_alerts: dict[str, int]


def load_recording(name: str) -> Recording:
    d = DATA / name
    meta = json.loads((d / "meta.json").read_text())
    start = parse_time(meta["start"])
    assert start is not None
    expected = [from_alertmanager(json.loads(line), start)
                for line in (d / "expected.jsonl").read_text().splitlines() if line.strip()]
    posted: set[str] = set()
    for line in (d / "input.jsonl").read_text().splitlines():
        for a in json.loads(line)["alerts"]:
            posted.update(v for k, v in a.items() if k in ("startsAt", "endsAt"))
    config = load_config(str(d / "config.yml"))
    max_alerts = {f"{r.name}/{i}": c.max_alerts for r in config.model.receivers
                  for i, c in enumerate(r.webhook_configs) if c.max_alerts}
    return Recording(name, d, meta, start, Timestamp.parse(meta["end"]), expected, posted, max_alerts)


def test_recordings_exist() -> None:
    """The data must be there (and came from the recorder, with its own notifications)."""
    assert len(RECORDINGS) >= 10, f"recordings missing in {DATA}: run tests/replay/gen/record.py"
    for name in RECORDINGS:
        meta = json.loads((DATA / name / "meta.json").read_text())
        assert meta["alertmanager"].startswith("alertmanager, version 0.25."), meta
        assert meta["notifications"] > 0, name


@pytest.mark.parametrize("name", RECORDINGS)
async def test_replay_matches_alertmanager(name: str) -> None:
    rec = load_recording(name)
    config = load_config(str(rec.dir / "config.yml"))
    events = read_events((rec.dir / "input.jsonl").read_text().splitlines(), str(rec.dir / "input.jsonl"))
    out = list(await replay(config, events, rec.end))
    got = [from_replay(r, rec.start, rec.max_alerts) for r in out]
    problems = compare_notes(rec.expected, got, rec.posted)
    assert not problems, listing(rec.expected, got, problems, f"replay of {name}")


@pytest.mark.parametrize("name", [n for n in ("grouping", "inhibition", "max_alerts", "long") if n in RECORDINGS])
def test_replay_command_matches_alertmanager(name: str) -> None:
    """`alertbot replay` as a user runs it: the clock runs on after the last input for --until."""
    rec = load_recording(name)
    last = max(json.loads(line)["at"] for line in (rec.dir / "input.jsonl").read_text().splitlines())
    until_ms = (rec.end.ns - Timestamp.parse(last).ns) // 1_000_000
    proc = subprocess.run([sys.executable, "-m", "bot.cli.main", "replay", "--config", str(rec.dir / "config.yml"),
                           "--until", f"{until_ms}ms", str(rec.dir / "input.jsonl")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = [from_replay(json.loads(line), rec.start, rec.max_alerts) for line in proc.stdout.splitlines()]
    problems = compare_notes(rec.expected, got, rec.posted)
    assert not problems, listing(rec.expected, got, problems, f"alertbot replay {name}")


async def _replay_day(lines: list[str]) -> tuple[list[dict], float]:
    config = load_config_text(DAY_CONFIG, "day.yml")
    events = read_events(lines, "day")
    started = time.perf_counter()
    out = list(await replay(config, events, events[-1].at.add(3600)))
    return out, time.perf_counter() - started


async def test_a_day_replays_in_seconds_and_deterministically() -> None:
    lines = day_lines()
    alerts = sum(len(json.loads(line)["alerts"]) for line in lines)
    first, took1 = await _replay_day(lines)
    second, took2 = await _replay_day(lines)
    print(f"a day: {len(lines)} posts, {alerts} alerts -> {len(first)} notifications in {took1:.2f}s / {took2:.2f}s")
    assert len(lines) > 1400 and alerts > 20_000  # the input really is a busy day
    assert first == second, "two replays of the same day differ"
    # A guard against pathological slowness, not a benchmark (bench/ measures speed).
    assert min(took1, took2) < 15, f"a day took {min(took1, took2):.1f}s to replay"
    # What the timer model guarantees whatever the alerts: two notifications of one group to
    # one integration are never closer than the smallest group_wait (10 s): group_interval
    # within a group's life, group_wait when an emptied group was destroyed and re-created.
    by_group: dict[tuple[str, str, str], list[datetime]] = {}
    for r in first:
        at = parse_time(r["at"])
        assert at is not None
        by_group.setdefault((r["receiver"], r["integration"], r["groupKey"]), []).append(at)
    assert len(by_group) > 30
    for key, times in by_group.items():
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert all(g >= 10 for g in gaps), (key, gaps)
    start = parse_time(json.loads(lines[0])["at"])
    assert all(parse_time(r["at"]) >= start for r in first)  # type: ignore[operator]
    # The muted routes really were muted: nothing for team db at night (UTC 00:00-06:00).
    for r in first:
        if r["receiver"] == "db":
            at = parse_time(r["at"])
            assert at is not None and at.hour >= 6, r["at"]
        if r["receiver"] == "web":  # office hours in Berlin (UTC+1 in January), Monday
            at = parse_time(r["at"])
            assert at is not None and at.weekday() == 0 and 7 <= at.hour < 17, r["at"]
    statuses = {a["status"] for r in first for a in r["alerts"]}
    assert statuses == {"firing", "resolved"}
    assert all(a["endsAt"] == ZERO_TIME for r in first for a in r["alerts"] if a["status"] == "firing")


def test_a_day_through_the_command_equals_the_library(tmp_path: Path) -> None:
    import asyncio

    lines = day_lines(minutes=6 * 60)
    (tmp_path / "day.jsonl").write_text("\n".join(lines) + "\n")
    (tmp_path / "day.yml").write_text(DAY_CONFIG)
    lib, _ = asyncio.run(_replay_day(lines))
    proc = subprocess.run([sys.executable, "-m", "bot.cli.main", "replay", "--config", str(tmp_path / "day.yml"),
                           "--until", "1h", str(tmp_path / "day.jsonl")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    cli = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lib) > 50
    assert cli == lib


TIES_CONFIG = ROOT_1_2 + """\
receivers:
- name: hook
  webhook_configs:
  - url: http://recorder.invalid/hook/0
  - url: http://recorder.invalid/hook/1
    max_alerts: 3
"""


def _line(at: float, *alerts: dict) -> str:
    t = Timestamp.parse("2026-06-01T12:00:00Z").add(at)
    return json.dumps({"at": t.rfc3339nano(), "alerts": list(alerts)})


def _a(inst: str, ends: float | None = None) -> dict:
    out: dict[str, Any] = {"labels": {"alertname": "T", "inst": inst}}
    if ends is not None:
        out["endsAt"] = Timestamp.parse("2026-06-01T12:00:00Z").add(ends).rfc3339nano()
    return out


async def test_alerts_at_a_tick_are_in_that_tick() -> None:
    """Alerts at T before timers at T (bot.engine.replay): a file with round times puts alerts
    on the ticks' very moments (1 s = group_wait, 3 s and 7 s = later ticks); each is in the
    tick of its moment, not a group_interval later, and so are two lines of the same moment."""
    lines = [_line(0, _a("a")), _line(1, _a("b")), _line(3, _a("c")), _line(3, _a("d")), _line(7, _a("a", ends=7))]
    out = list(await replay(load_config_text(TIES_CONFIG), read_events(lines), Timestamp.parse("2026-06-01T12:00:10Z")))
    got = [(r["at"][11:19], [(a["labels"]["inst"], a["status"][0]) for a in r["alerts"]])
           for r in out if r["integration"] == "webhook[0]"]
    assert got == [("12:00:01", [("a", "f"), ("b", "f")]),
                   ("12:00:03", [("a", "f"), ("b", "f"), ("c", "f"), ("d", "f")]),
                   ("12:00:07", [("a", "r"), ("b", "f"), ("c", "f"), ("d", "f")])], got


async def test_a_record_is_what_the_webhook_receives() -> None:
    """max_alerts 3 and 7 alerts: the record lists the first 3 (the webhook's order), their
    status, and truncatedAlerts 4, as the webhook body would; the other webhook gets all 7."""
    lines = [_line(0, *(_a(f"i{k}") for k in range(7)))]
    out = list(await replay(load_config_text(TIES_CONFIG), read_events(lines), Timestamp.parse("2026-06-01T12:00:02Z")))
    by = {r["integration"]: r for r in out}
    assert set(by) == {"webhook[0]", "webhook[1]"}
    assert [a["labels"]["inst"] for a in by["webhook[1]"]["alerts"]] == ["i0", "i1", "i2"]
    assert by["webhook[1]"]["truncatedAlerts"] == 4 and by["webhook[1]"]["status"] == "firing"
    assert len(by["webhook[0]"]["alerts"]) == 7 and by["webhook[0]"]["truncatedAlerts"] == 0
