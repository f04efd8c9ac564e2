"""Alert ingestion, side by side with the real Alertmanager 0.25, on the same machine and load.

    .venv/bin/python bench/ingest_bench.py [--quick]

For each load (alerts, groups, batch size; 8 concurrent clients posting to
`POST /api/v2/alerts`) the servers are started fresh — Alertmanager (Debian
prometheus-alertmanager), `alertbot serve` on a new SQLite database (every alert stored
durably before the 200), and `alertbot serve --ingest-workers 1` (a front process takes the
alerts into the durable inbox, the engine applies it in its own process: docs/inbox.md) —
with the same config: one webhook receiver pointing at a local
recorder, group_by [alertname, grp], group_wait 2s, group_interval 5s (and, as a stress case,
1s and 1s: every group notifies every second while alerts keep joining; and one load with a
group per alert, where every alert is a notification of its own). Measured:
alerts/s through the API, request latency p50/p99, the time from the first request until
every alert has appeared in a notification, the server's CPU seconds and peak memory
(VmHWM). Results are printed and written to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from results import write_section  # noqa: E402

CLIENTS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def config_text(hook_port: int, group_wait: str = "2s", group_interval: str = "5s",
                repeat_interval: str = "1h") -> str:
    return f"""route:
  receiver: hook
  group_by: [alertname, grp]
  group_wait: {group_wait}
  group_interval: {group_interval}
  repeat_interval: {repeat_interval}
receivers:
- name: hook
  webhook_configs:
  - url: http://127.0.0.1:{hook_port}/hook
"""


class Recorder:
    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.all_seen_at: float | None = None
        self.expected = 0
        self.requests = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests += 1
        for a in body["alerts"]:
            self.seen.add(a["labels"]["instance"])
        if self.all_seen_at is None and self.expected and len(self.seen) >= self.expected:
            self.all_seen_at = time.monotonic()
        return web.Response(text="ok")


@dataclass
class Result:
    system: str
    timers: str
    alerts: int
    groups: int
    batch: int
    seconds: float
    rate: float
    p50_ms: float
    p99_ms: float
    notified_s: float | None
    cpu_s: float
    peak_mb: float
    errors: int


def tree_pids(pid: int) -> list[int]:
    """The process and its children (the front processes of `--ingest-workers`)."""
    out = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def proc_cpu_seconds(pid: int) -> float:
    """CPU seconds of the process and its children."""
    total = 0.0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def proc_peak_mb(pid: int) -> float:
    """Peak resident memory of the process and its children, summed (an upper bound)."""
    total = 0.0
    for p in tree_pids(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


async def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as s:
        while time.monotonic() < deadline:
            try:
                async with s.get(url) as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} not ready")


def start_alertmanager(tmp: Path, cfg: Path, port: int) -> subprocess.Popen:
    binary = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
    return subprocess.Popen([binary, f"--config.file={cfg}", f"--storage.path={tmp / 'am'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The server's default on a machine with more than one core is one front process (docs/inbox.md);
# both are named explicitly here, so the table says what ran whatever the machine.
FRONTED = "alertbot --ingest-workers 1"
ONE_PROCESS = "alertbot --ingest-workers 0"


def start_bot(tmp: Path, cfg: Path, port: int, args: tuple[str, ...] = ()) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).with_name("alertbot")), "serve", "--config", str(cfg),
                             "--listen", f"127.0.0.1:{port}", "--database", f"sqlite+aiosqlite:///{tmp / 'bot.db'}",
                             "--external-url", f"http://127.0.0.1:{port}", *args],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, ALERTBOT_LOG_LEVEL="warning"))


def make_batches(n: int, groups: int, batch: int, now: str) -> list[bytes]:
    out = []
    for start in range(0, n, batch):
        alerts = [{"labels": {"alertname": "Bench", "grp": f"g{i % groups}", "instance": f"i{i}", "job": "bench"},
                   "annotations": {"summary": f"alert {i}"}, "startsAt": now,
                   "generatorURL": "http://prometheus/graph"} for i in range(start, min(n, start + batch))]
        out.append(json.dumps(alerts).encode())
    return out


async def load(url: str, batches: list[bytes]) -> tuple[list[float], int]:
    return await load_to([(url, body) for body in batches])


async def load_to(requests: list[tuple[str, bytes]]) -> tuple[list[float], int]:
    """Posts each (url, body) in order over CLIENTS connections; latencies and non-200 count."""
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(requests))

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while queue:
            url, body = queue.pop()
            t = time.perf_counter()
            async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
                await r.read()
                if r.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - t)

    conn = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=conn) as session:
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
    return latencies, errors


@contextlib.asynccontextmanager
async def hook_recorder(expected: int) -> AsyncIterator[tuple[Recorder, int]]:
    """The webhook receiver both systems notify, on a free port: (recorder, port)."""
    rec = Recorder()
    rec.expected = expected
    app = web.Application(client_max_size=1 << 30)
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield rec, port
    finally:
        await runner.cleanup()


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def run_one(system: str, n: int, groups: int, batch: int, timers: tuple[str, str] = ("2s", "5s")) -> Result:
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    async with hook_recorder(n) as (rec, hook_port):
        cfg = tmp / "config.yml"
        cfg.write_text(config_text(hook_port, *timers))
        port = free_port()
        if system == "alertmanager":
            proc = start_alertmanager(tmp, cfg, port)
        else:
            proc = start_bot(tmp, cfg, port, ("--ingest-workers", "1" if system == FRONTED else "0"))
        try:
            await wait_ready(f"http://127.0.0.1:{port}/-/ready")
            cpu0 = proc_cpu_seconds(proc.pid)
            now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            batches = make_batches(n, groups, batch, now)
            t0 = time.monotonic()
            latencies, errors = await load(f"http://127.0.0.1:{port}/api/v2/alerts", batches)
            elapsed = time.monotonic() - t0
            deadline = time.monotonic() + 600  # Alertmanager needs about two minutes for 100,000 groups
            while rec.all_seen_at is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            notified = None if rec.all_seen_at is None else rec.all_seen_at - t0
            cpu = proc_cpu_seconds(proc.pid) - cpu0
            peak = proc_peak_mb(proc.pid)
            latencies.sort()
            return Result(system, "/".join(timers), n, groups, batch, elapsed, n / elapsed,
                          statistics.median(latencies) * 1000,
                          latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, notified, cpu, peak,
                          errors)
        finally:
            stop([proc])
            shutil.rmtree(tmp, ignore_errors=True)


def raise_open_files_limit() -> int:
    """As high as this process may (root may raise the hard limit, where the container lets it);
    returns the limit. Both servers inherit it, and the webhook receiver here needs it: in one
    run Alertmanager flushing 100,000 groups opened over 20,000 connections to it at once and
    accept() failed with EMFILE (that run took 111.9 s; runs without the errors took 44-119 s,
    so they were not what made it slow, but a receiver that refuses connections is not a fair
    one). The figure is written beside the results."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    for limit in (max(hard, 1 << 20), hard):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
            return limit
        except (ValueError, OSError):
            continue
    return soft


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="only the small loads")
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs per load and system, alternating; the run with the median rate is reported")
    args = ap.parse_args()
    open_files = raise_open_files_limit()
    loads = [(20_000, 200, 100, ("2s", "5s")), (20_000, 200, 500, ("2s", "5s")), (100_000, 1000, 100, ("2s", "5s")),
             (100_000, 1000, 500, ("2s", "5s")), (100_000, 1000, 500, ("1s", "1s")),
             # one alert per group, as `group_by: ['...']` or per-instance grouping give: every
             # alert is its own notification
             (100_000, 100_000, 100, ("2s", "5s"))]
    if args.quick:
        loads = loads[:2]
    # A shared 2-core machine is noisy (the same server varies by up to 2x between runs), so
    # each load runs several times with the two systems alternating, and the median run of each
    # is reported beside the range of its rates.
    results = []
    spread: dict[tuple, tuple[float, float]] = {}
    for n, groups, batch, timers in loads:
        runs: dict[str, list[Result]] = {"alertmanager": [], FRONTED: [], ONE_PROCESS: []}
        for _ in range(max(1, args.runs)):
            for system in runs:
                r = await run_one(system, n, groups, batch, timers)
                runs[system].append(r)
                print(f"{system:28} {n:>7} alerts {groups:>5} groups batch {batch:>4} {'/'.join(timers)}: "
                      f"{r.rate:>8,.0f}/s p50 {r.p50_ms:.1f} ms p99 {r.p99_ms:.1f} ms notified {r.notified_s} s "
                      f"cpu {r.cpu_s:.1f} s peak {r.peak_mb:.0f} MB errors {r.errors}", flush=True)
        for system, rs in runs.items():
            rs.sort(key=lambda r: r.rate)
            median = rs[len(rs) // 2]
            results.append(median)
            spread[(system, n, groups, batch, median.timers)] = (rs[0].rate, rs[-1].rate)
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        model = "unknown CPU"
    runs = max(1, args.runs)
    lines = [f"Machine: {model}, {os.cpu_count()} cores. {CLIENTS} concurrent clients; Alertmanager 0.25 "
             "(Debian) in memory; alertbot storing every alert in SQLite (WAL) before answering, with one "
             f"front process (`{FRONTED}`, its default on more than one core; docs/inbox.md; CPU and memory "
             f"of both processes) and as one process (`{ONE_PROCESS}`). "
             f"Each load ran {runs} time{'s' if runs > 1 else ''} per system, alternating; each row is the "
             "run with the median rate, and the range column gives the slowest and fastest run. "
             f"Open files allowed to each server and to the webhook receiver: {open_files:,}.", "",
             "| load (alerts / groups / batch / group_wait/interval) | system | alerts/s | range alerts/s | p50 ms | p99 ms | all notified after | server CPU s | peak MB | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by_load: dict[tuple, dict[str, Result]] = {}
    for r in results:
        by_load.setdefault((r.alerts, r.groups, r.batch, r.timers), {})[r.system] = r
        notified = "-" if r.notified_s is None else f"{r.notified_s:.1f} s"
        lo, hi = spread[(r.system, r.alerts, r.groups, r.batch, r.timers)]
        lines.append(f"| {r.alerts:,} / {r.groups:,} / {r.batch} / {r.timers} | {r.system} | {r.rate:,.0f} | "
                     f"{lo:,.0f}–{hi:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {notified} | {r.cpu_s:.1f} | {r.peak_mb:.0f} | {r.errors} |")
    lines += ["", "| load | alertbot | alerts/s, alertbot/Alertmanager | all notified, alertbot/Alertmanager |",
              "|---|---|---:|---:|"]
    for (n, g, b, t), pair in by_load.items():
        for system in (FRONTED, ONE_PROCESS):
            if "alertmanager" in pair and system in pair:
                a, m = pair[system], pair["alertmanager"]
                ratio = "-" if a.notified_s is None or m.notified_s is None else f"{a.notified_s / m.notified_s:.2f}"
                lines.append(f"| {n:,} / {g:,} / {b} / {t} | {system.removeprefix('alertbot').strip()} "
                             f"| {a.rate / m.rate:.2f} | {ratio} |")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        write_section(ROOT / "bench" / "RESULTS.md", "Ingestion",
                      table + "\n\nCommand: `.venv/bin/python bench/ingest_bench.py`\n")


if __name__ == "__main__":
    asyncio.run(main())
