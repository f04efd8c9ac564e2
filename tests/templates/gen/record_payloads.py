"""Record webhook payloads from the real Alertmanager 0.25 for the template conformance corpus.

Starts Debian's `prometheus-alertmanager` with one webhook receiver per scenario,
posts each scenario's alerts to `/api/v2/alerts`, and writes every payload
Alertmanager sends to tests/templates/corpus/datasets/recorded-<scenario>.json.
Run it from the repository root when the scenarios change (it is never needed to
run the tests):

    python3 tests/templates/gen/record_payloads.py
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

OUT_DIR = Path("tests/templates/corpus/datasets")
EXTERNAL_URL = "http://alerts.example.com:9093/am"

# scenario -> (receiver name, group_by or None, alerts)
SCENARIOS: dict[str, tuple[str, list[str] | None, list[dict]]] = {
    "single": (
        "team-a",
        ["alertname"],
        [
            {
                "labels": {"alertname": "DiskFull", "instance": "db-1:9100", "severity": "critical"},
                "annotations": {"summary": "Disk / on db-1 is 97% full", "runbook_url": "https://runbooks.example.com/DiskFull"},
                "startsAt": "2026-11-26T10:00:00.123456789Z",
                "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=disk_used%3E0.95&g0.tab=1",
            }
        ],
    ),
    "grouped": (
        "team.x+y",
        ["alertname", "job"],
        [
            {
                "labels": {"alertname": "HighLatency", "job": "api", "severity": "warning", "instance": f"api-{i}:8080",
                           "region": "eu-west-1" if i % 2 else "us-east-1"},
                "annotations": {"summary": "API latency above 500ms", "description": f"p99 latency is {400 + 37 * i}ms on api-{i}"},
                "startsAt": f"2026-11-26T09:5{i}:00+02:00",
                "generatorURL": f"http://prometheus.example.com:9090/graph?g0.expr=latency&i={i}",
            }
            for i in range(5)
        ],
    ),
    "resolved": (
        "ops",
        ["alertname"],
        [
            {
                "labels": {"alertname": "TargetDown", "job": "node", "instance": f"node-{i}:9100"},
                "annotations": {"summary": "Target is down"},
                "startsAt": "2026-11-26T08:00:00Z",
                "endsAt": "2026-11-26T08:30:00.5Z",
            }
            for i in range(3)
        ],
    ),
    "mixed": (
        "mlops-oncall",
        ["cluster"],
        [
            {
                "labels": {"alertname": "ModelServingErrors", "cluster": "prod", "model": "churn", "severity": "critical"},
                "annotations": {"summary": "5xx rate above 5%", "dashboard": "https://grafana.example.com/d/serving"},
                "startsAt": "2026-11-26T11:00:00Z",
            },
            {
                "labels": {"alertname": "ModelServingErrors", "cluster": "prod", "model": "fraud", "severity": "critical"},
                "annotations": {"summary": "5xx rate above 5%", "dashboard": "https://grafana.example.com/d/serving"},
                "startsAt": "2026-11-26T11:01:00Z",
            },
            {
                "labels": {"alertname": "PipelineStuck", "cluster": "prod", "pipeline": "nightly-train", "severity": "warning"},
                "annotations": {"summary": "No progress for 2h"},
                "startsAt": "2026-11-26T07:00:00Z",
                "endsAt": "2026-11-26T09:00:00Z",
            },
            {
                "labels": {"alertname": "RegistryLag", "cluster": "prod", "severity": "info"},
                "annotations": {},
                "startsAt": "2026-11-26T06:00:00Z",
                "endsAt": "2026-11-26T06:10:00Z",
            },
        ],
    ),
    "special": (
        "Slack #alerts & <ops>",
        ["alertname"],
        [
            {
                "labels": {"alertname": "Weird<Chars>", "team": "Ünïcødé & \"quotes\"", "path": "/var/log/%s",
                           "severity": "page", "zone": "日本"},
                "annotations": {
                    "summary": "Tags: <b>bold</b> & 'single' \"double\"",
                    "description": "line one\nline two\ttabbed\n\nthird paragraph with a $dollar and 100% sure",
                    "url": "https://example.com/search?q=a b&x=1",
                },
                "startsAt": "2026-11-26T06:00:00.000000001-05:30",
                "generatorURL": "http://prometheus/graph?g0.expr=up%7Bjob%3D%22x%22%7D",
            },
            {
                "labels": {"alertname": "Weird<Chars>", "team": "second", "severity": "page"},
                "annotations": {"summary": "Tags: <b>bold</b> & 'single' \"double\""},
                "startsAt": "2026-11-26T12:00:01Z",
            },
        ],
    ),
    "nogroup": (
        "default",
        None,
        [
            {
                "labels": {"alertname": "Watchdog", "severity": "none"},
                "annotations": {"description": "This alert is always firing."},
                "startsAt": "2026-11-26T00:00:00Z",
            },
            {
                "labels": {"alertname": "InfoInhibitor", "severity": "none", "namespace": "kube-system"},
                "annotations": {},
                "startsAt": "2026-11-26T00:00:00Z",
            },
        ],
    ),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink(BaseHTTPRequestHandler):
    received: list[tuple[str, dict]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.lock:
            Sink.received.append((self.path.strip("/"), json.loads(body)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> int:
    binary = shutil.which("prometheus-alertmanager")
    if binary is None:
        print("needs Alertmanager: apt-get install -y prometheus-alertmanager", file=sys.stderr)
        return 1
    sink_port, am_port, = free_port(), free_port()
    server = HTTPServer(("127.0.0.1", sink_port), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    routes = []
    receivers = []
    for name, (receiver, group_by, _) in SCENARIOS.items():
        route = {"receiver": receiver, "matchers": [f'scenario="{name}"'], "group_interval": "2s"}
        if group_by is not None:
            route["group_by"] = group_by
        routes.append(route)
        receivers.append({"name": receiver, "webhook_configs": [{"url": f"http://127.0.0.1:{sink_port}/{name}"}]})
    receivers.append({"name": "root"})
    config = {
        "route": {"receiver": "root", "group_wait": "1s", "group_interval": "1m", "repeat_interval": "4h",
                  "routes": routes},
        "receivers": receivers,
    }
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp, "alertmanager.yml")
        cfg.write_text(json.dumps(config))  # JSON is YAML
        proc = subprocess.Popen(
            [binary, f"--config.file={cfg}", f"--storage.path={tmp}", f"--web.listen-address=127.0.0.1:{am_port}",
             "--cluster.listen-address=", f"--web.external-url={EXTERNAL_URL}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "TZ": "UTC"},
        )
        try:
            base = f"http://127.0.0.1:{am_port}/am"
            for _ in range(100):
                try:
                    urllib.request.urlopen(base + "/-/ready", timeout=1)
                    break
                except OSError:
                    time.sleep(0.1)
            def post(name: str, alerts: list[dict], resolve: bool) -> None:
                batch = []
                for alert in alerts:
                    alert = json.loads(json.dumps(alert))
                    alert["labels"]["scenario"] = name
                    if alert.get("endsAt") and not resolve and all(a.get("endsAt") for a in alerts):
                        del alert["endsAt"]  # first fire them: Alertmanager never opens with a resolved-only message
                    batch.append(alert)
                req = urllib.request.Request(base + "/api/v2/alerts", json.dumps(batch).encode(),
                                             {"Content-Type": "application/json"})
                try:
                    urllib.request.urlopen(req, timeout=5)
                except urllib.error.HTTPError as exc:
                    raise SystemExit(f"{name}: Alertmanager said {exc.code}: {exc.read().decode()}") from None

            def wait_for(condition) -> None:
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not condition():
                    time.sleep(0.2)

            for name, (_, _, alerts) in SCENARIOS.items():
                post(name, alerts, resolve=False)
            wait_for(lambda: len({p for p, _ in Sink.received}) >= len(SCENARIOS))
            resolved_only = [n for n, (_, _, alerts) in SCENARIOS.items() if all(a.get("endsAt") for a in alerts)]
            for name in resolved_only:
                post(name, SCENARIOS[name][2], resolve=True)
            wait_for(lambda: all(any(p == n and d["status"] == "resolved" for p, d in Sink.received)
                                 for n in resolved_only))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    server.shutdown()
    got = {}
    for path, payload in Sink.received:
        got[path] = payload  # the last one: for resolved-only scenarios, the resolving message
    missing = set(SCENARIOS) - set(got)
    if missing:
        print(f"no payload for {sorted(missing)}", file=sys.stderr)
        return 1
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for name, payload in sorted(got.items()):
        doc = {"comment": f"Recorded from Alertmanager 0.25 by tests/templates/gen/record_payloads.py ({name}).",
               "payload": payload}
        (OUT_DIR / f"recorded-{name}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
        print(f"recorded-{name}.json: {len(payload['alerts'])} alerts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
