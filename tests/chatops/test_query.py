"""Queries from Slack against a real Prometheus 2.42 loaded with known data (promtool
backfill of the last two hours): an instant query answers with a table whose numbers are
the data's, a range query with a graph uploaded to Slack and its min/max/last, the runbook's
queries of a group run into its thread, and a query over the series cap is refused."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.chatops.conftest import World, alert, world
from tests.chatops.slackapp import ALICE, BOB, wait_for
from tests.fixtures.prometheus import Prometheus

pytestmark = pytest.mark.peer
PNG = b"\x89PNG\r\n\x1a\n"


def openmetrics(end: int) -> str:
    """queue_depth: ingest rises by 1 a minute to 120 at `end`; train stays 5, score 2.5.
    cap_series: ten series (for the series cap)."""
    start = end - 120 * 60
    lines = ["# TYPE queue_depth gauge"]
    for queue, value in (("ingest", None), ("score", 2.5), ("train", 5)):
        for i, t in enumerate(range(start, end + 1, 60)):
            v = i if value is None else value
            lines.append(f'queue_depth{{queue="{queue}"}} {v} {t}')
    lines.append("# TYPE cap_series gauge")
    for n in range(10):
        for t in range(end - 600, end + 1, 60):
            lines.append(f'cap_series{{i="{n}"}} 1 {t}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture
def data_end() -> int:
    """The time of the data's last sample: the last whole minute but one."""
    return int(time.time()) // 60 * 60 - 60


@pytest.fixture
def prom(tmp_path: Path, data_end: int) -> Iterator[Prometheus]:
    p = Prometheus.start(openmetrics(data_end), tmp_path / "prometheus")
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
async def qw(tmp_path: Path, prom: Prometheus) -> AsyncIterator[World]:
    async with world(tmp_path, prometheus_url=prom.url, upstream=False,
                     env={"PROMETHEUS_MAX_SERIES": "5"}) as the_world:
        yield the_world


def table_rows(text: str) -> dict[str, str]:
    """{first cell: last cell} of the code-block tables in an answer."""
    out = {}
    for block in text.split("```")[1::2]:
        for line in block.strip().splitlines()[1:]:
            cells = line.split()
            if cells:
                out[cells[0]] = cells[-1]
    return out


def answer_text(a: dict) -> str:
    return "\n".join(b["text"]["text"] for b in a.get("blocks", []) if b.get("type") == "section")


async def test_instant_query_answers_with_the_numbers(qw: World) -> None:
    r = await qw.client.command("query queue_depth", ALICE)
    assert r.status == 200 and r.seconds < 3
    a = await qw.slack.wait_response(r.response_id)
    text = answer_text(a)
    assert table_rows(text) == {"ingest": "120", "score": "2.5", "train": "5"}, text
    r = await qw.client.command("query sum(queue_depth)", ALICE)
    text = answer_text(await qw.slack.wait_response(r.response_id))
    assert table_rows(text) == {"127.5": "127.5"} or "127.5" in text, text
    row = next(d for a_, b, _, d in qw.audit() if b == "query")
    assert row["expr"] == "queue_depth" and row["series"] == 3 and row["datasource"] == "default"


async def test_range_query_uploads_a_graph_and_gives_min_max_last(qw: World, data_end: int) -> None:
    asked = time.time()
    r = await qw.client.command('query queue_depth{queue="ingest"} range=1h step=10m', ALICE,
                                channel_name="ops")
    assert r.status == 200 and r.seconds < 3
    a = await qw.slack.wait_response(r.response_id)
    text = answer_text(a)
    assert "over 1h" in text and "step 10m" in text
    cells = [line.split() for block in text.split("```")[1::2] for line in block.strip().splitlines()]
    assert cells[0] == ["min", "max", "last"] and cells[1][1:] == ["120", "120"], cells
    # the window is the hour before the query (unaligned): its first point holds the sample
    # at or before now - 1h, which is 60 plus the whole minutes from data_end to now
    answered = time.time()
    lowest, highest = (60 + int(t - data_end) // 60 for t in (asked, answered))
    assert lowest <= int(cells[1][0]) <= highest, (cells, asked - data_end, answered - data_end)
    upload = await wait_for(lambda: [u for u in qw.slack.uploads.values() if u.get("channel_id")], 10,
                            "the graph upload")
    assert upload[0]["data"].startswith(PNG) and upload[0]["channel_id"] == qw.slack.channel_id("#ops")
    assert upload[0]["thread_ts"] in (None, "")


async def test_query_over_the_series_cap_is_refused(qw: World) -> None:
    r = await qw.client.command("query cap_series", BOB)
    assert r.status == 200 and r.seconds < 3
    a = await qw.slack.wait_response(r.response_id)
    assert "too_many_series" in a["text"], a
    assert "query" not in [b for _, b, _, _ in qw.audit()] and not qw.slack.uploads
    rec = next(x for x in qw.log_records() if x.get("message") == "chatops request refused")
    assert rec["why"] == "query" and "too_many_series" in rec["reason"]


async def test_investigate_runs_the_runbook_queries_into_the_thread(qw: World) -> None:
    await qw.post_alerts(alert("QueueBacklog", queue="ingest"))
    p = await qw.parent("QueueBacklog")
    assert "alertbot.investigate.1" in p.blocks_text(qw.slack)
    r = await qw.client.command(f"investigate {p.short}", ALICE)
    assert r.status == 200 and r.seconds < 3
    a = await qw.slack.wait_response(r.response_id)
    assert "posted in the thread" in a["text"], a
    line = await qw.wait_thread(p, "Investigation")
    assert "Queue depth" in line and "Total depth" in line
    rows = table_rows(line)
    assert "120" in rows.values() and "127.5" in rows.values(), line
    graphs = await wait_for(lambda: [u for u in qw.slack.uploads.values() if u.get("thread_ts") == p.ts], 15,
                            "graphs in the thread")
    assert len(graphs) == 2 and all(g["data"].startswith(PNG) for g in graphs)
    # the button for one query runs only that one
    value = json.dumps({"g": p.group_id, "rb": "queue-backlog", "q": 1})
    r = await qw.client.click("alertbot.investigate.1", value, BOB, channel_id=p.channel_id, message_ts=p.ts)
    assert r.status == 200 and r.seconds < 3
    await wait_for(lambda: len([t for t in qw.thread(p) if "Investigation" in t]) == 2, 15, "a second answer")
    second = [t for t in qw.thread(p) if "Investigation" in t][-1]
    assert "Total depth" in second and "Queue depth" not in second and "127.5" in second
    assert [b for a_, b, g, _ in qw.audit(p.group_id)].count("query") == 2


async def test_a_query_that_finds_nothing_names_the_labels_the_alert_lacked(qw: World) -> None:
    """The runbook's first query selects `queue="{{ .Labels.queue }}"`; an alert without a
    `queue` label renders `queue=""`, which selects series without one: no data, and the answer
    says why instead of only "no data"."""
    await qw.post_alerts(alert("QueueBacklog"))
    p = await qw.parent("QueueBacklog")
    r = await qw.client.command(f"investigate {p.short}", ALICE)
    assert r.status == 200
    line = await qw.wait_thread(p, "Investigation")
    assert "_no data_" in line and "the alert has no `queue` label" in line, line
    assert line.count("the alert has no") == 1, line  # the other query uses no label, and has data


async def test_query_into_a_groups_thread(qw: World) -> None:
    await qw.post_alerts(alert("QueueBacklog", queue="train"))
    p = await qw.parent("QueueBacklog")
    r = await qw.client.command(f'query queue_depth{{queue="train"}} range=30m in={p.short}', ALICE)
    a = await qw.slack.wait_response(r.response_id)
    assert "Posted in the thread" in a["text"], a
    line = await qw.wait_thread(p, "queue_depth")
    assert "min" in line and "5" in line
    await wait_for(lambda: [u for u in qw.slack.uploads.values() if u.get("thread_ts") == p.ts], 10,
                   "the graph in the thread")
    await asyncio.sleep(0)
