"""Slack delivery latency: the time from a group's flush to the Slack call that carries it
leaving the bot, alone and under a storm of 300 groups.

    .venv/bin/python bench/slack_bench.py [--rate 1] [--burst 3] [--quick]

`alertbot serve` (a fresh SQLite database, every notification through the durable outbox)
posts to the fake Slack Web API of the tests (tests/fakes/slack.py) on loopback, paced as
configured — by default Slack's own limit, about one message per second per channel with
bursts of 3. The flush time is the one the bot stamps into each message's metadata
(`flush_ns`); the call's time is when the fake received it (same machine, same clock).

- idle: 20 groups, one after the other into one channel: flush → chat.postMessage.
- storm: 300 groups firing at once into 3 channels, the fake answering 429 (Retry-After: 1)
  to every fifth call: flush → the accepted chat.postMessage of each group, p50/p99/max, and
  the time until all 300 parents are posted, next to the least the pace and the 429s allow
  (the busiest channel's requests, 429s included, at the pace).

Results are printed and written to the `## Slack` section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from results import write_section  # noqa: E402

from tests.fakes.slack import WRITE_METHODS, FakeSlack  # noqa: E402

TEAMS = ("team-a", "team-b", "team-c")
CONFIG = """
route:
  receiver: teams
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: teams
    slack_configs:
      - channel: '#{{ .CommonLabels.team }}'
        send_resolved: true
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_bot(tmp: Path, slack: FakeSlack, port: int, rate: float, burst: int) -> subprocess.Popen:
    (tmp / "routes.yaml").write_text(CONFIG)
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(SLACK_BOT_TOKEN=slack.token, SLACK_API_URL=slack.api_url, ALERTBOT_LOG_LEVEL="warning",
               ALERTBOT_SLACK_CHANNEL_RATE=str(rate), ALERTBOT_SLACK_CHANNEL_BURST=str(burst),
               PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "bot.cli.main", "serve", "--config", str(tmp / "routes.yaml"),
                             "--listen", f"127.0.0.1:{port}", "--database", f"sqlite+aiosqlite:///{tmp / 'bot.db'}"],
                            cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=open(tmp / "bot.log", "wb"))


async def wait_ready(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("alertbot serve exited at start")
        try:
            status = await asyncio.to_thread(lambda: urllib.request.urlopen(
                f"http://127.0.0.1:{port}/-/ready", timeout=1).status)
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("alertbot serve was not ready in 60s")


def alert(i: int, team: str) -> dict:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {"labels": {"alertname": "Storm", "service": f"svc-{i:03d}", "team": team, "instance": "1"},
            "annotations": {"summary": f"service {i} is down"}, "startsAt": now}


async def post(port: int, alerts: list[dict]) -> None:
    async with aiohttp.ClientSession() as s, s.post(f"http://127.0.0.1:{port}/api/v2/alerts", json=alerts) as r:
        assert r.status == 200, await r.text()


def latencies(slack: FakeSlack) -> dict[str, float]:
    """Group id -> seconds from its flush to its accepted parent post."""
    out = {}
    for c in slack.calls:
        if c.method == "chat.postMessage" and c.ok and "thread_ts" not in c.args:
            p = c.args["metadata"]["event_payload"]
            out[p["group_id"]] = c.wall - int(p["flush_ns"]) / 1e9
    return out


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


async def run_idle(tmp: Path, rate: float, burst: int, n: int) -> list[float]:
    slack = FakeSlack(["#team-a", "#team-b", "#team-c"])
    await slack.start()
    port = free_port()
    (tmp / "idle").mkdir()
    proc = start_bot(tmp / "idle", slack, port, rate, burst)
    try:
        await wait_ready(port, proc)
        for i in range(n):
            await post(port, [alert(i, "team-a")])
            await slack.wait_until(lambda i=i: len(latencies(slack)) == i + 1, 30, "the post")
            await asyncio.sleep(1.0 / rate)  # not to measure the pace
        return list(latencies(slack).values())
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        await slack.stop()


async def run_storm(tmp: Path, rate: float, burst: int, groups: int) -> dict:
    slack = FakeSlack([f"#{t}" for t in TEAMS])
    await slack.start()
    slack.rate_limit_every(5, retry_after=1)
    port = free_port()
    (tmp / "storm").mkdir()
    proc = start_bot(tmp / "storm", slack, port, rate, burst)
    try:
        await wait_ready(port, proc)
        await slack.wait_until(lambda: slack.calls_of("auth.test"), 10, "the token check")
        started = time.monotonic()
        await post(port, [alert(i, TEAMS[i % 3]) for i in range(groups)])
        await slack.wait_until(lambda: len(latencies(slack)) == groups, 3600, "every parent")
        total = time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
        await slack.stop()
    lat = list(latencies(slack).values())
    bound = 0.0
    for cid in slack.channels:
        # Every request counts against the pace, the ones Slack answers 429 too.
        calls = [c for c in slack.calls if c.channel_id == cid and c.method in WRITE_METHODS]
        blocked = max((sum(1 for c in calls if c.status == 429 and c.method == m) for m in WRITE_METHODS), default=0)
        bound = max(bound, (len(calls) - burst) / rate, float(blocked))
    parents = [m for t in TEAMS for m in slack.parents(f"#{t}")]
    per_channel = {f"#{name}": (sum(1 for c in slack.calls if c.channel_id == cid and c.method in WRITE_METHODS),
                                sum(1 for c in slack.calls if c.channel_id == cid and c.status == 429))
                   for cid, name in slack.channels.items()}
    return {"lat": lat, "total": total, "bound": bound, "calls": len(slack.calls), "per_channel": per_channel,
            "r429": sum(1 for c in slack.calls if c.status == 429), "parents": len(parents),
            "distinct": len({m.metadata["event_payload"]["group_id"] for m in parents}),
            "violations": slack.pace_violations(rate, burst)}


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=1.0, help="messages per second per channel (Slack: about 1)")
    ap.add_argument("--burst", type=int, default=3)
    ap.add_argument("--groups", type=int, default=300)
    ap.add_argument("--quick", action="store_true", help="10 messages/s and 60 groups: a smoke run, not recorded")
    args = ap.parse_args()
    if args.quick:
        args.rate, args.groups = 10.0, 60
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        idle = await run_idle(tmp, args.rate, args.burst, 20)
        print(f"idle: flush -> post p50 {statistics.median(idle) * 1000:.0f} ms, p99 {pct(idle, .99) * 1000:.0f} ms")
        storm = await run_storm(tmp, args.rate, args.burst, args.groups)
    lat = storm["lat"]
    print(f"storm: {storm['parents']} parents for {storm['distinct']} groups in {storm['total']:.1f}s "
          f"(least possible {storm['bound']:.1f}s); flush -> post p50 {statistics.median(lat):.1f}s, "
          f"p99 {pct(lat, .99):.1f}s, max {max(lat):.1f}s; {storm['calls']} calls, {storm['r429']} answered 429; "
          f"pace violations: {storm['violations'] or 'none'}; requests (429s) per channel: "
          + ", ".join(f"{k} {n} ({r})" for k, (n, r) in storm["per_channel"].items()))
    if args.quick:
        return
    cpu = platform.processor() or platform.machine()
    body = (
        f"Machine: {os.cpu_count()} cores ({cpu}); Python {platform.python_version()}; `alertbot serve` on SQLite, "
        f"the fake Slack Web API on loopback; pace {args.rate:g} message/s per channel, bursts of {args.burst} "
        "(Slack's chat.postMessage limit).\n\n"
        "| case | groups | flush → Slack call p50 | p99 | max | all parents posted after | least the pace and 429s allow |\n"
        "|---|---:|---:|---:|---:|---:|---:|\n"
        f"| idle (one group at a time) | {len(idle)} | {statistics.median(idle) * 1000:.0f} ms | "
        f"{pct(idle, .99) * 1000:.0f} ms | {max(idle) * 1000:.0f} ms | – | – |\n"
        f"| storm: 3 channels, 429 (Retry-After: 1) on every 5th call | {storm['distinct']} | "
        f"{statistics.median(lat):.1f} s | {pct(lat, .99):.1f} s | {max(lat):.1f} s | {storm['total']:.1f} s | "
        f"{storm['bound']:.1f} s |\n\n"
        f"Storm: {storm['calls']} calls, {storm['r429']} answered 429 (requests per channel, 429s in brackets: "
        + ", ".join(f"{k} {n} ({r})" for k, (n, r) in storm["per_channel"].items())
        + f"); exactly one parent per group "
        f"({storm['parents']} parents, {storm['distinct']} groups); pace violations: "
        f"{'none' if not storm['violations'] else len(storm['violations'])}. Under the storm the latency is the "
        "queue: a channel takes one message a second, so the hundredth group of a channel waits about 100 s, "
        "plus a second for each 429 in its channel. The least possible time is, for the busiest channel, the "
        "longer of its requests (the ones answered 429 count too) at the pace and its 429 waits back to back.\n\n"
        "Command: `.venv/bin/python bench/slack_bench.py`\n")
    write_section(ROOT / "bench" / "RESULTS.md", "Slack", body)


if __name__ == "__main__":
    asyncio.run(main())
