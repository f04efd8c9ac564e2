"""Route keys, group keys, route options and fingerprints against Alertmanager's own code.

`keys/expected.json` was produced by `keys/gen` (a Go program built on Alertmanager 0.25's
`dispatch` and `config` packages) from the route trees and label sets of Alertmanager's own
tests (`keys/make_cases.py`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import load_config_text
from bot.routing.labels import fingerprint_hex

HERE = Path(__file__).parent / "keys"
CASES = {c["name"]: c for c in json.loads((HERE / "cases.json").read_text())}
EXPECTED = json.loads((HERE / "expected.json").read_text())

PARAMS = [
    pytest.param(group["name"], result, id=f"{group['name']}-{i}")
    for group in EXPECTED
    for i, result in enumerate(group["results"])
]


@pytest.mark.parametrize("name,expected", PARAMS)
def test_matches_alertmanager(name: str, expected: dict) -> None:
    cfg = load_config_text(CASES[name]["config"], f"{name}.yaml")
    labels = expected["labels"]
    assert fingerprint_hex(labels) == expected["fingerprint"]
    got = []
    for route in cfg.route.match(labels):
        group_labels = route.group_labels(labels)
        o = route.opts
        got.append({
            "receiver": o.receiver,
            "route_key": route.key,
            "group_by": sorted(o.group_by),
            "group_by_all": o.group_by_all,
            "group_wait": o.group_wait,
            "group_interval": o.group_interval,
            "repeat_interval": o.repeat_interval,
            "group_labels": group_labels,
            "group_key": route.group_key(group_labels),
        })
    assert got == expected["matches"]


def test_route_ids_follow_todays_alertmanager() -> None:
    # Route IDs are newer than 0.25 (>= 0.27); expectations from TestRouteID upstream.
    cfg = load_config_text(CASES["TestRouteMatchers"]["config"])
    ids = [r.id for r in cfg.route.walk()]
    assert ids[0] == "{}"
    assert ids[1] == '{}/{level!="critical",owner="team-A"}/0'
    assert ids[2] == '{}/{level!="critical",owner="team-A"}/0/{baz!~".*quux",env="testing"}/0'
    assert '{}/{owner=~"team-(B|C)"}/1' in ids
