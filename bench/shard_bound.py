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
import statistics
import tempfile
import time
from pathlib import Path

from ingest_bench import (ROOT, config_text, free_port, hook_recorder, load_to, proc_cpu_seconds, start_alertmanager,
                          start_bot, stop, wait_ready)
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


async def run_one(system: str, shards: int, n: int, groups: int, batch: int, timers: tuple[str, str]) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="shard-bench-"))
    async with hook_recorder(n) as (rec, hook_port):
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
            requests = [(urls[shard] + "/api/v2/alerts", body) for shard, body in shard_batches(n, groups, batch, now, plan)]
            t0 = time.monotonic()
            latencies, errors = await load_to(requests)
            elapsed = time.monotonic() - t0
            deadline = time.monotonic() + 120
            while rec.all_seen_at is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return {"system": system if shards == 1 else f"{system} × {shards} (groups split)", "rate": n / elapsed,
                    "p50": statistics.median(latencies) * 1000,
                    "notified": None if rec.all_seen_at is None else rec.all_seen_at - t0,
                    "cpu": sum(proc_cpu_seconds(p.pid) for p in procs) - cpu0, "errors": errors}
        finally:
            stop(procs)
            shutil.rmtree(tmp, ignore_errors=True)


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--shards", type=int, default=2)
    ap.add_argument("--quick", action="store_true", help="only the small loads")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    loads = [(20_000, 200, 100, ("2s", "5s")), (20_000, 200, 500, ("2s", "5s")), (100_000, 1000, 100, ("2s", "5s")),
             (100_000, 1000, 500, ("2s", "5s")), (100_000, 1000, 500, ("1s", "1s"))]
    if args.quick:
        loads = loads[:2]
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
