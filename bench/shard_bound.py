"""What splitting the aggregation groups over several engine processes can gain, at most.

Side by side in one run, on `bench/ingest_bench.py`'s loads: Alertmanager 0.25, one
`alertbot serve`, and N independent `alertbot serve` processes (each its own SQLite file)
where each is sent only the alerts of its share of the groups (bot.engine.shards decides the
share, as the engines would). No process forwards anything to another, so this is the upper
bound of sharding on this machine: a sharded server adds the forwarding of each alert to the
engine that owns its groups. The load client interleaves the shards' batches over the same 8
connections. Results are printed and written to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from ingest_bench import (CLIENTS, ROOT, Recorder, config_text, free_port, proc_cpu_seconds, start_alertmanager,
                          start_bot, wait_ready)
from results import write_section

from bot.config import load_config_text
from bot.engine.alert import Alert
from bot.engine.shards import ShardPlan


def shard_batches(n: int, groups: int, batch: int, now: str, plan: ShardPlan) -> list[tuple[int, bytes]]:
    """The load of ingest_bench.make_batches, each shard's alerts batched apart and the shards'
    batches interleaved."""
    per: list[list[dict]] = [[] for _ in range(plan.shards)]
    for i in range(n):
        a = {"labels": {"alertname": "Bench", "grp": f"g{i % groups}", "instance": f"i{i}", "job": "bench"},
             "annotations": {"summary": f"alert {i}"}, "startsAt": now, "generatorURL": "http://prometheus/graph"}
        (shard,) = plan.shards_of(Alert(a["labels"]))
        per[shard].append(a)
    batches = [[json.dumps(alerts[k:k + batch]).encode() for k in range(0, len(alerts), batch)] for alerts in per]
    out = []
    for k in range(max(len(b) for b in batches)):
        out += [(s, b[k]) for s, b in enumerate(batches) if k < len(b)]
    return out


async def load(urls: list[str], batches: list[tuple[int, bytes]]) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(batches))

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while queue:
            shard, body = queue.pop()
            t = time.perf_counter()
            async with session.post(urls[shard], data=body, headers={"Content-Type": "application/json"}) as r:
                await r.read()
                errors += r.status != 200
            latencies.append(time.perf_counter() - t)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CLIENTS)) as session:
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
    return latencies, errors


async def run_one(system: str, shards: int, n: int, groups: int, batch: int, timers: tuple[str, str]) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="shard-bench-"))
    rec = Recorder()
    rec.expected = n
    app = web.Application(client_max_size=1 << 30)
    app.router.add_post("/hook", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    hook_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", hook_port).start()
    text = config_text(hook_port, *timers)
    cfg = tmp / "config.yml"
    cfg.write_text(text)
    plan = ShardPlan(load_config_text(text, str(cfg)), shards)
    procs, urls = [], []
    try:
        for s in range(shards):
            port = free_port()
            (tmp / f"s{s}").mkdir()
            procs.append((start_alertmanager if system == "alertmanager" else start_bot)(tmp / f"s{s}", cfg, port))
            urls.append(f"http://127.0.0.1:{port}")
        for u in urls:
            await wait_ready(u + "/-/ready")
        cpu0 = sum(proc_cpu_seconds(p.pid) for p in procs)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        batches = shard_batches(n, groups, batch, now, plan)
        t0 = time.monotonic()
        latencies, errors = await load([u + "/api/v2/alerts" for u in urls], batches)
        elapsed = time.monotonic() - t0
        deadline = time.monotonic() + 120
        while rec.all_seen_at is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        latencies.sort()
        return {"system": system if shards == 1 else f"{system} × {shards} (groups split)", "rate": n / elapsed,
                "p50": statistics.median(latencies) * 1000,
                "notified": None if rec.all_seen_at is None else rec.all_seen_at - t0,
                "cpu": sum(proc_cpu_seconds(p.pid) for p in procs) - cpu0, "errors": errors}
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        await runner.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    loads = [(20_000, 200, 100, ("2s", "5s")), (20_000, 200, 500, ("2s", "5s")), (100_000, 1000, 100, ("2s", "5s")),
             (100_000, 1000, 500, ("2s", "5s")), (100_000, 1000, 500, ("1s", "1s"))]
    systems = [("alertmanager", 1), ("alertbot", 1), ("alertbot", args.shards)]
    lines = ["Machine: 2 cores. Loads as in Ingestion (8 clients); each load ran "
             f"{args.runs} times per system, alternating; the run with the median rate is shown, with the range. "
             f"`alertbot × {args.shards}`: {args.shards} independent servers, each sent only its share of the groups "
             "(no forwarding between them: the upper bound of a sharded engine).", "",
             "| load (alerts / groups / batch / timers) | system | alerts/s | range | vs Alertmanager | p50 ms "
             "| all notified after | CPU s (all processes) | errors |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for n, groups, batch, timers in loads:
        runs: dict[tuple[str, int], list[dict]] = {s: [] for s in systems}
        for _ in range(args.runs):
            for system, shards in systems:
                r = await run_one(system, shards, n, groups, batch, timers)
                runs[(system, shards)].append(r)
                print(f"{r['system']:32} {n}/{groups}/{batch}/{'/'.join(timers)}: {r['rate']:>8,.0f}/s "
                      f"p50 {r['p50']:.1f} ms notified {r['notified']} cpu {r['cpu']:.1f} s errors {r['errors']}",
                      flush=True)
        medians = {}
        for key, rs in runs.items():
            rs.sort(key=lambda r: r["rate"])
            medians[key] = (rs[len(rs) // 2], rs[0]["rate"], rs[-1]["rate"])
        am = medians[("alertmanager", 1)][0]["rate"]
        for key in systems:
            m, lo, hi = medians[key]
            notified = "-" if m["notified"] is None else f"{m['notified']:.1f} s"
            lines.append(f"| {n:,} / {groups:,} / {batch} / {'/'.join(timers)} | {m['system']} | {m['rate']:,.0f} | "
                         f"{lo:,.0f}–{hi:,.0f} | {m['rate'] / am:.2f} | {m['p50']:.1f} | {notified} | {m['cpu']:.1f} | "
                         f"{m['errors']} |")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        write_section(ROOT / "bench" / "RESULTS.md", "Ingestion over shards (upper bound)",
                      table + "\n\nCommand: `.venv/bin/python bench/shard_bound.py`\n")


if __name__ == "__main__":
    asyncio.run(main())
