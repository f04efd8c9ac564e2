"""Groups split over several engines (bot.engine.shards) notify exactly as one engine does.

The recordings of the real Alertmanager 0.25 (tests/replay/data) are replayed with their
groups split over 2, 3 and 5 engines, each engine given only what the split sends it: the
notifications must still be Alertmanager's, and the same as one engine's. The inhibition
recording only passes because inhibit sources reach every engine; a day of synthetic traffic
(routes with `continue`, `group_by: ['...']`, time intervals, an inhibit rule) checks the same
at a larger scale.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import load_config, load_config_text
from bot.engine.alert import Alert
from bot.engine.replay import read_events, replay
from bot.engine.shards import ShardPlan, group_ids, owner, shard_of
from bot.engine.timestamp import Timestamp
from tests.replay.synthetic import DAY_CONFIG, day_lines
from tests.replay.test_replay import RECORDINGS, compare_notes, from_replay, listing, load_recording

ROOT = Path(__file__).resolve().parents[2]


def _canonical(records: list[dict]) -> list[str]:
    """Notifications of different groups at one instant may come in any order."""
    return sorted(json.dumps(r, sort_keys=True) for r in records)


@pytest.mark.parametrize("shards", [2, 3, 5])
@pytest.mark.parametrize("name", RECORDINGS)
async def test_sharded_replay_matches_alertmanager_and_one_engine(name: str, shards: int) -> None:
    rec = load_recording(name)
    config = load_config(str(rec.dir / "config.yml"))
    events = read_events((rec.dir / "input.jsonl").read_text().splitlines(), str(rec.dir / "input.jsonl"))
    one = list(await replay(config, events, rec.end))
    split = list(await replay(config, events, rec.end, shards=shards))
    got = [from_replay(r, rec.start, rec.max_alerts) for r in split]
    problems = compare_notes(rec.expected, got, rec.posted)
    assert not problems, listing(rec.expected, got, problems, f"replay of {name} over {shards} engines")
    assert _canonical(split) == _canonical(one)


def test_the_recordings_really_spread_their_groups() -> None:
    """Otherwise the test above would prove nothing: the groups of the recordings with more than
    one group land on more than one engine, and in the inhibition recording a source and a
    target it mutes are grouped on different engines."""
    several = 0
    for name in RECORDINGS:
        rec = load_recording(name)
        config = load_config(str(rec.dir / "config.yml"))
        gids = set()
        for line in (rec.dir / "input.jsonl").read_text().splitlines():
            for a in json.loads(line)["alerts"]:
                gids.update(group_ids(config, Alert(a["labels"])))
        if len(gids) > 1:
            several += 1
            assert any(len({shard_of(g, n) for g in gids}) > 1 for n in (2, 3, 5)), name
    assert several >= 10, several
    rec = load_recording("inhibition")
    config = load_config(str(rec.dir / "config.yml"))
    (source,) = group_ids(config, Alert({"alertname": "Crit", "severity": "critical", "cluster": "c1"}))
    (target,) = group_ids(config, Alert({"alertname": "Warn", "severity": "warning", "cluster": "c1"}))
    apart = [n for n in (2, 3, 5) if shard_of(source, n) != shard_of(target, n)]
    assert apart, "the muting source and its target share an engine for every shard count tested"


async def test_a_sharded_day_equals_one_engine() -> None:
    config = load_config_text(DAY_CONFIG, "day.yml")
    events = read_events(day_lines(minutes=8 * 60), "day")
    end = events[-1].at.add(3600)
    one = list(await replay(config, events, end))
    split = list(await replay(config, events, end, shards=4))
    assert len(one) > 50
    assert _canonical(split) == _canonical(one)
    # the merge keeps time order
    times = [Timestamp.parse(r["at"]).ns for r in split]
    assert times == sorted(times)


def test_an_inhibit_source_goes_to_every_engine_and_other_alerts_to_their_groups_owners() -> None:
    config = load_config_text("""
route:
  receiver: a
  group_by: [alertname]
  routes:
  - matchers: [team="db"]
    receiver: db
    continue: true
  - matchers: [team="db"]
    receiver: b
    group_by: [instance]
receivers: [{name: a}, {name: b}, {name: db}]
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
""", "c.yml")
    plan = ShardPlan(config, 4)
    source = Alert({"alertname": "Down", "severity": "critical", "instance": "x"})
    assert plan.shards_of(source) == {0, 1, 2, 3}
    db = Alert({"alertname": "Slow", "severity": "warning", "team": "db", "instance": "y"})
    gids = group_ids(config, db)
    assert len(gids) == 2  # the `continue` route and the one after it
    assert plan.shards_of(db) == {shard_of(g, 4) for g in gids}
    plain = [Alert({"alertname": f"A{i}", "severity": "warning"}) for i in range(40)]
    parts = plan.split([source, db, *plain])
    assert all(p[0] is source for p in parts)
    for a in plain:
        (gid,) = group_ids(config, a)
        holders = [i for i, p in enumerate(parts) if a in p]
        assert holders == [shard_of(gid, 4)]
    assert len({shard_of(g, 4) for a in plain for g in group_ids(config, a)}) == 4
    assert ShardPlan(config, 1).split(plain) == [plain]


def test_every_group_has_exactly_one_owner() -> None:
    gids = [f"route{i % 7}|{i:016x}" for i in range(2000)]
    for n in (1, 2, 3, 8):
        tests = [owner(i, n) for i in range(n)]
        for g in gids:
            assert sum(t(g) for t in tests) == 1
    with pytest.raises(ValueError):
        owner(3, 3)


def test_ownership_is_the_same_in_every_process() -> None:
    """Engines in different processes must agree; Python's own hash() differs per process."""
    gids = [f"r|{i:016x}" for i in range(50)]
    code = ("import sys, json; from bot.engine.shards import shard_of; "
            "print(json.dumps([shard_of(g, 7) for g in json.loads(sys.argv[1])]))")
    outs = []
    for seed in ("1", "2"):
        proc = subprocess.run([sys.executable, "-c", code, json.dumps(gids)], cwd=ROOT, capture_output=True, text=True,
                              env=dict(os.environ, PYTHONHASHSEED=seed), timeout=60, check=True)
        outs.append(json.loads(proc.stdout))
    assert outs[0] == outs[1] == [shard_of(g, 7) for g in gids]
    assert len(set(outs[0])) == 7
