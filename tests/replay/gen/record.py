"""Records replay data from the real Alertmanager 0.25: run by hand, never by the tests.

    .venv/bin/python -m tests.replay.gen.record                 # every scenario (about 4 minutes)
    .venv/bin/python -m tests.replay.gen.record grouping long   # some of them

For each scenario it starts the Debian `prometheus-alertmanager` (HA off, own storage, free
loopback port) with the scenario's configuration, whose webhooks point at a recorder in this
process, posts the scenario's alerts at their moments and writes to `tests/replay/data/NAME/`:

    config.yml      the configuration, webhook URLs rewritten to http://recorder.invalid/…
    input.jsonl     what was posted and when: {"at": RFC3339 (wall clock just before the POST), "alerts": [...]}
    expected.jsonl  what Alertmanager sent: {"t": seconds after the first post, "at": RFC3339 arrival,
                    "webhook": "<receiver>/<index>", "payload": <the webhook body as received>}
    meta.json       start and end of the recording (end = how long the recorder listened), versions

The scenarios are the differential suite's (tests/differential/scenarios.py) that need only
alerts (replay input has no silences, and replay deliveries never fail), plus `long`: two and
a half minutes of Prometheus-style traffic (re-sends every second, flapping instances,
inhibition, repeats) over 6 groups — about 75 ticks per group.
"""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from tests.differential.harness import (AlertmanagerSide, AlertSpec, Post, Recorder, Scenario, alert, postable,
                                        rfc3339)
from tests.differential.scenarios import SCENARIOS, hooks
from tests.peers import peer

DATA = Path(__file__).resolve().parents[1] / "data"
RECORDER_URL = "http://recorder.invalid"


def long_scenario(seed: int = 20260101, duration: float = 150.0) -> Scenario:
    """Prometheus-like traffic: every group keeps an anchor alert firing (so no group ever
    empties: 0.25 and today's Alertmanager differ there); 4 instances per group flap at
    random; firing alerts are re-sent every second with endsAt = now + 4 s, resolved ones
    are sent with endsAt = now and re-sent for 3 s. All posts after the first happen at
    x.5 s, half-way between the groups' ticks (which are at odd seconds), so no post races a
    flush; repeat intervals (5 s, 7 s) are not multiples of group_interval (2 s)."""
    rng = random.Random(seed)
    names, clusters, instances = ["L0", "L1", "L2"], ["a", "b"], ["i0", "i1", "i2", "i3"]
    config = """\
route:
  receiver: hook
  group_by: [alertname, cluster]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 5s
  routes:
  - matchers: [alertname="L0"]
    receiver: l0-pager
    repeat_interval: 7s
    continue: true
inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [alertname="L1"]
  equal: [cluster]
""" + hooks("hook", ("l0-pager", ["send_resolved: false"]))

    def labels(n: str, c: str, i: str) -> dict[str, str]:
        sev = "critical" if (n == "L2" and i != "anchor") else "warning"
        return {"alertname": n, "cluster": c, "instance": i, "severity": sev}

    firing: dict[tuple[str, str, str], float] = {}  # -> startsAt
    resolved: dict[tuple[str, str, str], tuple[float, float]] = {}  # -> (startsAt, endsAt)
    steps: list[tuple[float, Post]] = []
    first = [alert(labels(n, c, "anchor"), starts=0.0, ends=4.0) for n in names for c in clusters]
    for n in names:
        for c in clusters:
            firing[(n, c, "anchor")] = 0.0
    steps.append((0.0, Post(tuple(first))))
    t = 1.5
    while t < duration - 4:
        for n in names:
            for c in clusters:
                for i in instances:
                    k = (n, c, i)
                    if rng.random() < 0.08:
                        if k in firing:
                            resolved[k] = (firing.pop(k), t)
                        else:
                            resolved.pop(k, None)
                            firing[k] = t
        batch: list[AlertSpec] = []
        for (n, c, i), s in sorted(firing.items()):
            batch.append(alert(labels(n, c, i), starts=s, ends=t + 4.0, summary=f"{n} {i} on {c}"))
        for (n, c, i), (s, e) in sorted(resolved.items()):
            if t - e <= 3.0:
                batch.append(alert(labels(n, c, i), starts=s, ends=e, summary=f"{n} {i} on {c}"))
        steps.append((t, Post(tuple(batch))))
        t += 1.0
    return Scenario("long", long_scenario.__doc__ or "", config, steps, duration)


def recordable() -> list[Scenario]:
    from tests.differential.harness import AddSilence, ExpireSilence

    out = [s for s in SCENARIOS
           if s.respond is None and not any(isinstance(st, (AddSilence, ExpireSilence)) for _, st in s.steps)]
    return [long_scenario()] + out  # the long one first: it sets the wall time


async def record(s: Scenario, out_dir: Path) -> int:
    rec = Recorder()
    await rec.start()
    am = None
    try:
        with tempfile.TemporaryDirectory(prefix=f"record-{s.name}-") as tmp:
            start_guess = datetime.now(UTC)
            config = s.config_text(start_guess, rec.url)
            am = await asyncio.to_thread(AlertmanagerSide.start, config, Path(tmp))
            await asyncio.sleep(1.0)  # let a freshly started Alertmanager settle (README)
            inputs: list[str] = []
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
                t0 = time.monotonic()
                start = datetime.now(UTC)
                rec.t0 = t0
                for at, step in sorted(s.steps, key=lambda x: x[0]):
                    delay = t0 + at - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    assert isinstance(step, Post)
                    body = [postable(a, start) for a in step.alerts]
                    sent = start + timedelta(seconds=time.monotonic() - t0)
                    async with session.post(f"{am.url}/api/v2/alerts", json=body) as resp:
                        if resp.status != 200:
                            raise RuntimeError(f"{s.name}: Alertmanager refused a post: {resp.status} {await resp.text()}")
                    inputs.append(json.dumps({"at": rfc3339(sent), "alerts": body}, ensure_ascii=False))
                delay = t0 + s.duration - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            requests = list(rec.requests)
            am.stop()
            am = None
    finally:
        if am is not None:
            am.stop()
        await rec.stop()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.yml").write_text(s.config_text(start_guess, RECORDER_URL))
    (out_dir / "input.jsonl").write_text("\n".join(inputs) + "\n")
    lines = [json.dumps({"t": round(r.t, 4), "at": rfc3339(start + timedelta(seconds=r.t)), "webhook": r.slot,
                         "payload": r.body}, ensure_ascii=False) for r in sorted(requests, key=lambda r: r.t)]
    (out_dir / "expected.jsonl").write_text("\n".join(lines) + ("\n" if lines else ""))
    meta = {"scenario": s.name, "doc": s.doc, "start": rfc3339(start),
            "end": rfc3339(start + timedelta(seconds=s.duration)), "duration_s": s.duration,
            "posts": len(inputs), "notifications": len(requests), "alertmanager": alertmanager_version(),
            "recorded_by": "tests/replay/gen/record.py"}
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return len(requests)


def alertmanager_version() -> str:
    out = subprocess.run([peer("prometheus-alertmanager"), "--version"], capture_output=True, text=True)
    return (out.stdout or out.stderr).splitlines()[0].strip()


async def main(names: list[str]) -> int:
    chosen = [s for s in recordable() if not names or s.name in names]
    unknown = set(names) - {s.name for s in chosen}
    if unknown:
        print(f"unknown scenario(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2

    async def one(s: Scenario) -> None:
        n = await record(s, DATA / s.name)
        print(f"{s.name}: {n} notifications over {s.duration:g}s", flush=True)

    # A few at a time: they mostly sleep, but each runs an Alertmanager.
    sem = asyncio.Semaphore(4)

    async def limited(s: Scenario) -> None:
        async with sem:
            await one(s)

    await asyncio.gather(*(limited(s) for s in chosen))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
