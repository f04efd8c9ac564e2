"""Runs scenarios side by side and prints both notification sequences, pass or fail:

    .venv/bin/python -m tests.differential.show [NAME...]          # alertbot vs Alertmanager
    ALERTBOT_DIFF_AGAINST=alertmanager .venv/bin/python -m tests.differential.show storm

Timing deltas (right minus left) are printed per notification, to see how much of the
tolerance a run used.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tests.differential.harness import compare, run_scenario, sequences, side_by_side
from tests.differential.scenarios import SCENARIOS


async def main(names: list[str]) -> int:
    chosen = [s for s in SCENARIOS if not names or s.name in names]
    failed = 0
    for s in chosen:
        with tempfile.TemporaryDirectory(prefix=f"diff-{s.name}-") as tmp:
            res = await run_scenario(s, Path(tmp))
        problems = compare(res.left.requests, res.right.requests, s.tolerance, res.posted_times)
        problems += [f"{res.right.side} refused: {e}" for e in res.right.errors]
        print(side_by_side(res, s.name, problems))
        sl, sr = sequences(res.left.requests), sequences(res.right.requests)
        deltas = [b.t - a.t for k in sl for a, b in zip(sl[k], sr.get(k, []), strict=False)]
        if deltas:
            print(f"timing: {len(deltas)} pairs, max |delta| {max(abs(d) for d in deltas) * 1000:.0f} ms, "
                  f"mean {sum(deltas) / len(deltas) * 1000:+.0f} ms\n")
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
