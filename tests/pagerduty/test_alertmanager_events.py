"""alertbot's PagerDuty events equal, byte for byte, what the real Alertmanager 0.25 sent for the
same alerts (recorded once by tests/pagerduty/gen/record.py into data/alertmanager-0.25/):
the dedup_key (sha256 of the group key), trigger/resolve, the default and templated fields,
images/links without empty entries, the 1024-rune summary, the 512 KB rule, Go's escaping."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from bot.notify.http import HttpClient
from bot.notify.pagerduty import dedup_key
from tests.fakes.pagerduty import FakePagerDuty
from tests.pagerduty.harness import PDHarness

DATA = Path(__file__).parent / "data" / "alertmanager-0.25"
PLACEHOLDER_URL = "http://pagerduty.invalid/v2/enqueue"


def recorded() -> list[dict]:
    return [json.loads(line) for line in (DATA / "events.jsonl").read_text().splitlines() if line.strip()]


def by_key(raws: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for raw in raws:
        out.setdefault(json.loads(raw)["dedup_key"], []).append(raw)
    return out


def test_dedup_key_is_the_one_alertmanager_computed() -> None:
    # The plain group: route {}/{alertname="PDBasic"}, grouped by alertname.
    group_key = '{}/{alertname="PDBasic"}:{alertname="PDBasic"}'
    keys = {json.loads(e["raw"])["dedup_key"] for e in recorded()}
    assert dedup_key(group_key) in keys
    assert dedup_key(group_key) == hashlib.sha256(group_key.encode()).hexdigest()
    rich = '{}/{alertname="PDRich"}:{alertname="PDRich", cluster="eu-1"}'
    assert dedup_key(rich) in keys


async def test_events_equal_alertmanagers_byte_for_byte() -> None:
    meta = json.loads((DATA / "meta.json").read_text())
    assert meta["alertmanager"].startswith("alertmanager, version 0.25")
    fake = FakePagerDuty()
    await fake.start()
    http = await HttpClient.create()
    try:
        config = (DATA / "config.yml").read_text().replace(PLACEHOLDER_URL, fake.events_url)
        h = PDHarness(config, http)
        h.engine.external_url = meta["external_url"]
        await h.start()
        starts: dict[str, float] = {}
        for step in json.loads((DATA / "input.json").read_text()):
            await h.at(step["t"])
            posted = []
            for a in step["alerts"]:
                key = json.dumps(a["labels"], sort_keys=True)
                starts.setdefault(key, step["t"])
                end = step["t"] if a["status"] == "resolved" else step["t"] + 3600
                posted.append({"labels": a["labels"], "annotations": a["annotations"], "startsAt": starts[key],
                               "endsAt": end})
            await h.post(*posted)
            await h.deliver()
        await h.at(10)
        await h.deliver()
        ours = by_key([r.raw.decode() for r in fake.received])
        theirs = by_key([e["raw"] for e in recorded()])
        assert sorted(ours) == sorted(theirs)
        assert len(fake.received) == len(recorded()) == 9
        for key, events in theirs.items():
            assert ours[key] == events, key
        assert all(r.status == 202 for r in fake.received)
        # The summary cut at 1024 runes, and the 512 KB rule, are in the recording:
        summaries = [json.loads(r.raw)["payload"]["summary"] for r in fake.received]
        assert any(len(s) == 1024 and s.endswith("…") for s in summaries)
        assert any("custom_details" in r.raw.decode() and "512KB" in r.raw.decode() for r in fake.received)
    finally:
        await http.close()
        await fake.stop()
