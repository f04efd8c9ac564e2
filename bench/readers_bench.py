"""Reads beside writes: three clients polling `GET /api/v2/alerts` over 50,000 active alerts
while an unrelated alert is posted every second, side by side with Alertmanager 0.25.

What an operator's dashboards (karma, Grafana's Alertmanager datasource, scripts) do to the
server: does the notification of an alert that has nothing to do with them still come
group_wait after it was posted? For each system: the time from posting a probe (its own group,
group_wait 1s) to its webhook notification (p50, max), the time to answer each read, and how
many reads were answered.

    .venv/bin/python bench/readers_bench.py [--alerts 50000] [--seconds 30] [--no-write]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from ingest_bench import (  # noqa: E402
    FRONTED,
    ONE_PROCESS,
    config_text,
    free_port,
    load,
    make_batches,
    proc_peak_mb,
    start_alertmanager,
    start_bot,
    stop,
    wait_ready,
)
from results import write_section  # noqa: E402

READERS = 3
GROUPS = 500

# One reader: GETs back to back until the time is up; prints each read's seconds.
READER = """
import json, sys, time, urllib.request
url, seconds, alerts = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
stop_at = time.monotonic() + seconds
while time.monotonic() < stop_at:
    t = time.monotonic()
    with urllib.request.urlopen(url + "/api/v2/alerts", timeout=600) as r:
        body = r.read()
    took = time.monotonic() - t
    assert len(json.loads(body)) >= alerts
    print(took, flush=True)
"""


class Probes:
    """Records when each probe's notification arrives."""

    def __init__(self) -> None:
        self.posted: dict[str, float] = {}
        self.notified: dict[str, float] = {}

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        now = time.monotonic()
        for a in body["alerts"]:
            name = a["labels"].get("probe")
            if name and name not in self.notified:
                self.notified[name] = now
        return web.Response(text="ok")


@dataclass
class Result:
    system: str
    reads: int
    read_p50_s: float
    read_max_s: float
    probes: int
    probe_p50_s: float
    probe_max_s: float
    missing: int
    peak_mb: float


async def run_one(system: str, alerts: int, seconds: float) -> Result:
    tmp = Path(tempfile.mkdtemp(prefix="bench-readers-"))
    probes = Probes()
    app = web.Application(client_max_size=1 << 30)
    app.router.add_post("/hook", probes.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    hook_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", hook_port).start()
    cfg = tmp / "config.yml"
    # One tick per group in a run (group_interval 5m): the probes' first notifications are measured.
    cfg.write_text(config_text(hook_port, "1s", "5m", "4h"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    if system == "alertmanager":
        proc = start_alertmanager(tmp, cfg, port)
    else:
        proc = start_bot(tmp, cfg, port, ("--ingest-workers", "1" if system == FRONTED else "0"))
    try:
        await wait_ready(url + "/-/ready")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        _, errors = await load(url + "/api/v2/alerts", make_batches(alerts, GROUPS, 1000, now))
        assert errors == 0, f"{system}: {errors} batches refused"
        await asyncio.sleep(3)  # the loaded groups' first notifications go out
        stop_at = time.monotonic() + seconds
        # Readers in processes of their own: decoding 25 MB of JSON here would hold up the probes.
        readers = [await asyncio.create_subprocess_exec(sys.executable, "-c", READER, url, str(seconds), str(alerts),
                                                        stdout=asyncio.subprocess.PIPE) for _ in range(READERS)]

        async def prober(session: aiohttp.ClientSession) -> None:
            i = 0
            while time.monotonic() < stop_at:
                name = f"p{i}"
                probes.posted[name] = time.monotonic()
                body = [{"labels": {"alertname": "Probe", "grp": name, "probe": name}}]
                async with session.post(url + "/api/v2/alerts", json=body) as r:
                    assert r.status == 200, r.status
                i += 1
                await asyncio.sleep(max(0.0, probes.posted[name] + 1.0 - time.monotonic()))

        async with aiohttp.ClientSession() as session:
            await prober(session)
        read_times = []
        for reader in readers:
            out, _ = await reader.communicate()
            read_times += [float(x) for x in out.split()]
        deadline = time.monotonic() + 60
        while len(probes.notified) < len(probes.posted) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        delays = sorted(probes.notified[n] - t for n, t in probes.posted.items() if n in probes.notified)
        return Result(system, len(read_times), statistics.median(read_times), max(read_times), len(probes.posted),
                      statistics.median(delays), max(delays), len(probes.posted) - len(delays),
                      proc_peak_mb(proc.pid))
    finally:
        stop([proc])
        await runner.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--alerts", type=int, default=50_000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    results = []
    for system in ("alertmanager", FRONTED, ONE_PROCESS):
        r = await run_one(system, args.alerts, args.seconds)
        print(r, flush=True)
        results.append(r)
    rows = "\n".join(
        f"| {r.system} | {r.reads} | {r.read_p50_s:.2f} / {r.read_max_s:.2f} | {r.probes} | "
        f"{r.probe_p50_s:.2f} / {r.probe_max_s:.2f} | {r.missing} | {r.peak_mb:.0f} |" for r in results)
    with open("/proc/loadavg") as fh:
        loadavg = ", ".join(fh.read().split()[:3])
    body = (f"Machine: 2 cores; Python {sys.version.split()[0]}; Alertmanager 0.25 (Debian). Load average when run: "
            f"{loadavg}.\n{args.alerts:,} active alerts in {GROUPS} groups, then for {args.seconds:g} s {READERS} "
            f"clients poll `GET /api/v2/alerts` back to back while a probe alert is posted every second (its own "
            f"group, group_wait 1s); probe delay is from its POST to its webhook notification.\n\n"
            f"| system | reads answered | read p50 / max (s) | probes | probe delay p50 / max (s) | probes never "
            f"notified | peak RSS (MB) |\n|---|---:|---:|---:|---:|---:|---:|\n{rows}\n\n"
            f"Command: `.venv/bin/python bench/readers_bench.py`\n")
    print(body)
    if not args.no_write:
        write_section(ROOT / "bench" / "RESULTS.md", "Reads beside writes", body)


if __name__ == "__main__":
    asyncio.run(main())
