"""The real Alertmanager 0.25 and alertbot, side by side on the same timed scenarios: the
same notifications (receiver, status, group labels and key, alerts with status, labels,
annotations and times, truncatedAlerts) at the same moments, within the tolerance.

Each scenario starts its own Alertmanager, bot and recorders on free ports, so they run in
parallel (`-n 4`). Select them with `-m differential`; README.md says what is compared and why
the tolerance is what it is.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime

import pytest

from tests.differential.harness import BOT_ARGS, BOT_DATABASE_URL, compare, run_scenario, sequences, side_by_side
from tests.fixtures.postgres import postgres_cluster, postgres_databases, postgres_url  # noqa: F401  (fixtures)
from tests.differential.scenarios import SCENARIOS, Scenario, start_is_safe

pytestmark = [pytest.mark.differential, pytest.mark.peer, pytest.mark.slow]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
async def test_same_notifications_as_alertmanager(scenario: Scenario, tmp_path) -> None:
    while scenario.name == "time_intervals" and not start_is_safe():  # never across a day or month
        await asyncio.sleep(5)
    res = await run_scenario(scenario, tmp_path)
    # The scenario itself must be valid for Alertmanager, and must make it say something.
    assert not res.left.errors, f"Alertmanager refused the scenario's requests: {res.left.errors}\n{res.left.log}"
    assert res.left.requests, f"Alertmanager sent no notification at all in {scenario.name}\n{res.left.log}"
    _log_timing(scenario, res)
    problems = compare(res.left.requests, res.right.requests, scenario.tolerance, res.posted_times)
    problems += [f"{res.right.side} refused: {e}" for e in res.right.errors]
    assert not problems, side_by_side(res, f"{scenario.name} ({scenario.doc}) started {res.start:%H:%M:%S}", problems)


# The same comparison with the bot on a real PostgreSQL instead of SQLite (a representative
# subset, to keep the suite's time in bounds: timers, merges, silences, inhibition, retries).
ON_POSTGRESQL = ["grouping", "late_joiners", "continue", "repeats", "silences", "inhibition", "storm",
                 "receiver_5xx_retry", "expiry_ends_at", "max_alerts", "resolve_before_tick"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.name in ON_POSTGRESQL], ids=lambda s: s.name)
async def test_same_notifications_on_postgresql(scenario: Scenario, tmp_path, postgres_url: str) -> None:  # noqa: F811
    await same_notifications_with(scenario, tmp_path, BOT_DATABASE_URL, postgres_url, "on PostgreSQL")


async def same_notifications_with(scenario: Scenario, tmp_path, var, value, what: str) -> None:  # type: ignore[no-untyped-def]
    """The comparison with the bot started differently (`var` set to `value` for its start)."""
    token = var.set(value)
    try:
        res = await run_scenario(scenario, tmp_path)
    finally:
        var.reset(token)
    assert res.left.requests, f"Alertmanager sent no notification at all in {scenario.name}\n{res.left.log}"
    problems = compare(res.left.requests, res.right.requests, scenario.tolerance, res.posted_times)
    problems += [f"{res.right.side} refused: {e}" for e in res.right.errors]
    assert not problems, side_by_side(res, f"{scenario.name} {what}, started {res.start:%H:%M:%S}", problems)


# The bot's default runs a front process beside the engine's where it has more than one core
# (docs/inbox.md), so the tests above run with one on the 2-core machines the suite is made for:
# posts go through a front and the durable inbox, silences and queries are passed on to the
# engine's process. The same comparison with one process, as on one core or --ingest-workers 0:
ONE_PROCESS = ["grouping", "late_joiners", "continue", "old_alert", "inhibition", "expiry_ends_at", "storm",
               "repeats", "silences", "resends_merge", "odd_inputs", "merge_rules"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("scenario", [s for s in SCENARIOS if s.name in ONE_PROCESS], ids=lambda s: s.name)
async def test_same_notifications_in_one_process(scenario: Scenario, tmp_path) -> None:
    await same_notifications_with(scenario, tmp_path, BOT_ARGS, ("--ingest-workers", "0"), "with --ingest-workers 0")


def _log_timing(scenario: Scenario, res) -> None:  # type: ignore[no-untyped-def]
    """With ALERTBOT_DIFF_TIMINGS=FILE, appends how much of the tolerance each run used."""
    path = os.environ.get("ALERTBOT_DIFF_TIMINGS")
    if not path:
        return
    sl, sr = sequences(res.left.requests), sequences(res.right.requests)
    deltas = [b.t - a.t for k in sl for a, b in zip(sl[k], sr.get(k, []), strict=False)]
    with open(path, "a") as fh:
        fh.write(json.dumps({"scenario": scenario.name, "against": res.right.side, "pairs": len(deltas),
                             "max_abs_ms": round(max(map(abs, deltas), default=0) * 1000, 1),
                             "mean_ms": round(sum(deltas) / len(deltas) * 1000, 1) if deltas else 0}) + "\n")


def test_scenarios_are_distinct_and_enough() -> None:
    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names))
    assert len(names) >= 12
    assert start_is_safe(datetime(2026, 1, 1, 12, 1, tzinfo=UTC))
    assert not start_is_safe(datetime(2026, 1, 1, 23, 59, 30, tzinfo=UTC))
    assert not start_is_safe(datetime(2026, 3, 31, 22, 0, 10, tzinfo=UTC))
