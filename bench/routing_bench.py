"""Routing speed: label sets routed per second on one core, beside Alertmanager's own Go routing.

    .venv/bin/python bench/routing_bench.py [--seconds 3]

Measures `Route.match` (the same call the dispatcher makes for every alert) on:
  - the shipped routes.yaml with label sets shaped like the MLOps platform's alerts;
  - a generated 1,000-route tree (three levels, a mix of =, !=, =~, !~ and legacy
    match/match_re) with label sets that reach every depth.
When Go and Alertmanager's source (Debian golang-go, golang-github-prometheus-alertmanager-dev)
are present, the same configs and label sets are timed through Alertmanager 0.25's
dispatch.Route.Match in the same run. Results are printed and written to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config_text  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from results import write_section  # noqa: E402

ALERTS = ["APIHighErrorRate", "APIHighLatency", "PipelineHighFailureRate", "MetricIngestionBackpressure",
          "DatabaseHighConnections", "ArtifactStorageHighLatency", "ModelFeatureDrift", "SchedulerLeaderLost"]
SERVICES = ["tracking-server", "model-registry", "pipeline-scheduler", "api-gateway", "artifact-store"]


def shipped_label_sets(rng: random.Random, n: int) -> list[dict[str, str]]:
    out = []
    for _ in range(n):
        ls = {"alertname": rng.choice(ALERTS), "service": rng.choice(SERVICES),
              "severity": rng.choice(["critical", "warning", "warning", "info"]),
              "instance": f"10.0.{rng.randrange(256)}.{rng.randrange(256)}:9100", "job": "mlops", "env": "prod"}
        if ls["alertname"] == "ModelFeatureDrift":
            ls["model"] = f"model-{rng.randrange(50)}"
            ls["feature"] = f"f{rng.randrange(200)}"
        out.append(ls)
    return out


def big_tree(rng: random.Random) -> str:
    """About 1,000 routes: 10 teams x 10 services x 9 alert routes, plus the nodes above them."""
    lines = ["route:", "  receiver: default", "  group_by: [alertname]", "  routes:"]
    receivers = {"default"}
    count = 1
    for t in range(10):
        lines += [f"  - matchers: ['team=\"team-{t}\"']", f"    receiver: team-{t}", "    routes:"]
        receivers.add(f"team-{t}")
        count += 1
        for s in range(10):
            if s % 3 == 0:
                lines += ["    - match_re:", f"        service: 'svc-{t}-{s}|svc-{t}-{s}-canary'"]
            else:
                lines += [f"    - matchers: ['service=~\"svc-{t}-{s}(-canary)?\"', 'env!=\"dev\"']"]
            lines += [f"      receiver: team-{t}-svc-{s}", "      routes:"]
            receivers.add(f"team-{t}-svc-{s}")
            count += 1
            for a in range(9):
                kind = a % 4
                rcv = f"team-{t}-svc-{s}-a{a}"
                receivers.add(rcv)
                if kind == 0:
                    lines += [f"      - matchers: ['alertname=\"Alert{a}\"', 'severity=~\"critical|page\"']"]
                elif kind == 1:
                    lines += ["      - match:", f"          alertname: Alert{a}"]
                elif kind == 2:
                    lines += [f"      - matchers: ['alertname=~\"Alert{a}.*\"', 'instance!~\"10\\\\.0\\\\.0\\\\..*\"']"]
                else:
                    lines += [f"      - matchers: ['alertname=\"Alert{a}\"', 'region!=\"eu\"']", "        continue: true"]
                lines += [f"        receiver: {rcv}"]
                count += 1
    lines.append("receivers:")
    lines += [f"- name: {r}" for r in sorted(receivers)]
    assert count >= 1000, count
    return "\n".join(lines) + "\n"


def big_label_sets(rng: random.Random, n: int) -> list[dict[str, str]]:
    out = []
    for _ in range(n):
        t, s, a = rng.randrange(12), rng.randrange(10), rng.randrange(10)
        out.append({"team": f"team-{t}", "service": f"svc-{t}-{s}" + rng.choice(["", "-canary"]),
                    "alertname": f"Alert{a}", "severity": rng.choice(["critical", "warning"]),
                    "instance": f"10.0.{rng.randrange(3)}.{rng.randrange(256)}:9100", "env": rng.choice(["prod", "dev"]),
                    "region": rng.choice(["eu", "us"])})
    return out


def time_python(config_text: str, label_sets: list[dict[str, str]], seconds: float) -> tuple[float, float]:
    route = load_config_text(config_text).route
    n = matched = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for ls in label_sets:
            matched += len(route.match(ls))
        n += len(label_sets)
    return n / (time.perf_counter() - start), matched / n


def time_go(cases: list[dict]) -> dict | None:
    go = shutil.which("go")
    if go is None or not Path("/usr/share/gocode/src/github.com/prometheus/alertmanager").is_dir():
        return None
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="")
    proc = subprocess.run([go, "run", "./bench/go/routing"], input=json.dumps(cases), capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=600)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return None
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rng = random.Random(7)
    shipped = (ROOT / "routes.yaml").read_text()
    cases = [
        {"name": "shipped routes.yaml", "config": shipped, "label_sets": shipped_label_sets(rng, 2000)},
        {"name": "1,000-route tree", "config": big_tree(rng), "label_sets": big_label_sets(rng, 2000)},
    ]
    for c in cases:
        c["seconds"] = args.seconds
    go = time_go(cases)
    rows = []
    for c in cases:
        py_rate, per_set = time_python(c["config"], c["label_sets"], args.seconds)
        g = (go or {}).get(c["name"])
        rows.append((c["name"], py_rate, per_set, g["per_second"] if g else None))
    cpu = platform.processor() or platform.machine()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = cpu
    lines = [f"Machine: {model}, {os.cpu_count()} cores; Python {platform.python_version()}; one core, "
             f"{args.seconds:.0f} s per measurement, 2,000 distinct label sets per case.", "",
             "| tree | alertbot label sets/s | µs per set | Alertmanager 0.25 (Go) label sets/s | Go/alertbot | receivers per set |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, py_rate, per_set, go_rate in rows:
        go_col = f"{go_rate:,.0f}" if go_rate else "not measured"
        ratio = f"{go_rate / py_rate:.1f}x" if go_rate else "-"
        lines.append(f"| {name} | {py_rate:,.0f} | {1e6 / py_rate:.2f} | {go_col} | {ratio} | {per_set:.2f} |")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        write_section(ROOT / "bench" / "RESULTS.md", "Routing", table + "\n\nCommand: `.venv/bin/python bench/routing_bench.py`\n")


if __name__ == "__main__":
    main()
