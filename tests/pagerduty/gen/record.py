"""Records what the real Alertmanager 0.25 sends to PagerDuty: run by hand, never by the tests.

    .venv/bin/python -m tests.pagerduty.gen.record

It starts the Debian `prometheus-alertmanager` (HA off, own storage, free loopback port,
external URL http://alertbot.test) with `CONFIG`, whose `pagerduty_configs` post to the fake
PagerDuty's Events API in this process (tests/fakes/pagerduty.py), posts `STEPS` at their
moments, and writes to tests/pagerduty/data/alertmanager-0.25/:

    config.yml     the configuration (the URL written as http://pagerduty.invalid/v2/enqueue)
    input.json     what was posted and when: [{"t": seconds, "alerts": [{labels, annotations, status}]}]
    events.jsonl   every event body exactly as Alertmanager sent it: {"t": seconds, "raw": "<body>"}
    meta.json      the Alertmanager version, the external URL, when

The cases: a plain group (trigger, then resolve: the dedup_key check), a templated receiver
whose group gains and loses alerts, a summary over 1024 runes, an event over 512 KB, and
label values Go's JSON escapes. tests/pagerduty/test_alertmanager_events.py replays the
input through alertbot and compares byte for byte.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from tests.fakes.pagerduty import FakePagerDuty
from tests.fixtures.alertmanager import Alertmanager
from tests.peers import peer

OUT = Path(__file__).resolve().parents[1] / "data" / "alertmanager-0.25"
EXTERNAL_URL = "http://alertbot.test"
PLACEHOLDER_URL = "http://pagerduty.invalid/v2/enqueue"
ROUTING_KEY = "0123456789abcdef0123456789abcdef"

CONFIG = """\
route:
  receiver: pd-basic
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
  - matchers: [alertname="PDBasic"]
    receiver: pd-basic
  - matchers: [alertname="PDRich"]
    receiver: pd-rich
    group_by: [alertname, cluster]
  - matchers: [alertname="PDLong"]
    receiver: pd-long
  - matchers: [alertname="PDHuge"]
    receiver: pd-basic
  - matchers: [alertname="PDEscape"]
    receiver: pd-escape
receivers:
- name: pd-basic
  pagerduty_configs:
  - routing_key: '@ROUTING_KEY@'
    url: '@PD_URL@'
- name: pd-rich
  pagerduty_configs:
  - routing_key: '@ROUTING_KEY@'
    url: '@PD_URL@'
    severity: '{{ .CommonLabels.severity }}'
    class: '{{ .CommonLabels.alertname }} class'
    component: '{{ .CommonLabels.component }}'
    group: '{{ .GroupLabels.cluster }}'
    client: 'alertbot test client'
    client_url: '{{ .ExternalURL }}/client'
    details:
      cluster: '{{ .CommonLabels.cluster }}'
      firing: '{{ range .Alerts.Firing }}{{ .Labels.instance }} {{ end }}'
    images:
    - src: 'https://grafana.example/render/{{ .CommonLabels.cluster }}.png'
      alt: 'graph of {{ .CommonLabels.cluster }}'
      href: 'https://grafana.example/d/{{ .CommonLabels.cluster }}'
    - src: '{{ .CommonAnnotations.nothing }}'
      alt: 'dropped: empty src'
    links:
    - href: '{{ .CommonAnnotations.runbook_url }}'
      text: 'runbook'
    - href: ''
      text: 'dropped: empty href'
- name: pd-long
  pagerduty_configs:
  - routing_key: '@ROUTING_KEY@'
    url: '@PD_URL@'
    description: '{{ range .Alerts }}{{ .Annotations.long }}{{ end }}'
    severity: warning
- name: pd-escape
  pagerduty_configs:
  - routing_key: '@ROUTING_KEY@'
    url: '@PD_URL@'
    source: '{{ .CommonLabels.instance }} <src> & "q"'
"""

LONG = ("é日本-" * 300)[:1100]  # 1100 runes, multi-byte: cut to 1023 + "…"
HUGE = "x" * 520_000  # the event exceeds 512000 bytes: custom_details replaced


def _a(labels: dict[str, str], annotations: dict[str, str] | None = None, status: str = "firing") -> dict:
    return {"labels": labels, "annotations": annotations or {}, "status": status}


RICH1 = {"alertname": "PDRich", "cluster": "eu-1", "instance": "a", "severity": "critical", "component": "db"}
RICH2 = {"alertname": "PDRich", "cluster": "eu-1", "instance": "b", "severity": "critical", "component": "db"}
RICH_ANN = {"summary": "rich one", "runbook_url": "https://runbooks.example/PDRich"}
BASIC = {"alertname": "PDBasic", "instance": "i1", "severity": "critical"}

STEPS: list[tuple[float, list[dict]]] = [
    (0.0, [
        _a(BASIC, {"summary": "basic alert", "description": "it broke"}),
        _a(RICH1, RICH_ANN),
        _a({"alertname": "PDLong", "instance": "l1"}, {"long": LONG}),
        _a({"alertname": "PDHuge", "instance": "h1"}, {"huge": HUGE}),
        _a({"alertname": "PDEscape", "instance": "<b>&\"x\"", "team": "ünïcødé ✓"},
           {"summary": "a <script> & \u2028 line"}),
    ]),
    (2.5, [_a(RICH2, RICH_ANN)]),
    (4.5, [_a(BASIC, {"summary": "basic alert", "description": "it broke"}, "resolved"),
           _a(RICH1, RICH_ANN, "resolved")]),
    (6.5, [_a(RICH2, RICH_ANN, "resolved")]),
]
DURATION = 10.0


def postable(a: dict, now: datetime, starts: datetime) -> dict:
    ends = now if a["status"] == "resolved" else now + timedelta(hours=1)
    return {"labels": a["labels"], "annotations": a["annotations"],
            "startsAt": starts.isoformat().replace("+00:00", "Z"), "endsAt": ends.isoformat().replace("+00:00", "Z")}


async def record() -> int:
    fake = FakePagerDuty()
    await fake.start()
    am = None
    try:
        with tempfile.TemporaryDirectory(prefix="record-pagerduty-") as tmp:
            config = CONFIG.replace("@PD_URL@", fake.events_url).replace("@ROUTING_KEY@", ROUTING_KEY)
            am = await asyncio.to_thread(Alertmanager.start, config, Path(tmp),
                                         [f"--web.external-url={EXTERNAL_URL}"])
            await asyncio.sleep(1.0)
            starts: dict[str, datetime] = {}
            async with aiohttp.ClientSession() as session:
                t0 = time.monotonic()
                fake.t0 = t0  # type: ignore[attr-defined]
                for at, alerts in STEPS:
                    delay = t0 + at - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    now = datetime.now(UTC)
                    body = []
                    for a in alerts:
                        key = json.dumps(a["labels"], sort_keys=True)
                        starts.setdefault(key, now)
                        body.append(postable(a, now, starts[key]))
                    async with session.post(f"{am.url}/api/v2/alerts", json=body) as resp:
                        if resp.status != 200:
                            raise RuntimeError(f"Alertmanager refused a post: {resp.status} {await resp.text()}")
                delay = t0 + DURATION - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            am.stop()
            am = None
    finally:
        if am is not None:
            am.stop()
        await fake.stop()
    bad = [r for r in fake.received if r.status != 202]
    if bad:
        raise RuntimeError(f"the fake refused {len(bad)} of Alertmanager's events: {bad[0].raw[:300]!r}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "config.yml").write_text(CONFIG.replace("@PD_URL@", PLACEHOLDER_URL).replace("@ROUTING_KEY@", ROUTING_KEY))
    steps = [{"t": at, "alerts": alerts} for at, alerts in STEPS]
    (OUT / "input.json").write_text(json.dumps(steps, ensure_ascii=False) + "\n")
    lines = [json.dumps({"t": round(r.at - t0, 3), "raw": r.raw.decode("utf-8")}, ensure_ascii=False)
             for r in fake.received]
    (OUT / "events.jsonl").write_text("\n".join(lines) + "\n")
    version = subprocess.run([peer("prometheus-alertmanager"), "--version"], capture_output=True, text=True)
    meta = {"alertmanager": (version.stdout or version.stderr).splitlines()[0].strip(), "external_url": EXTERNAL_URL,
            "routing_key": ROUTING_KEY, "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "events": len(lines), "recorded_by": "tests/pagerduty/gen/record.py"}
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return len(lines)


if __name__ == "__main__":
    n = asyncio.run(record())
    print(f"recorded {n} events into {OUT}")
    sys.exit(0)
