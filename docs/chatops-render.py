"""Renders what chatops answers, as Slack receives it (`docs/chatops-<name>.json`: the
response_url body or the views.open view the bot sends) and as a picture
(`docs/chatops-<name>.png`, drawn with the Block Kit mock of docs/slack-render.py):

    .venv/bin/python docs/chatops-render.py

- query:          `/oncall query queue_depth` — an instant query's table
- query-range:    `/oncall query queue_depth{queue="ingest"} range=2h` — min/max/last per series
- query-graph:    the graph that answer uploads (bot.prometheus.render_graph, unchanged)
- silence-preview `/oncall silence 2h alertname="MetricIngestionBackpressure" -- …` before Confirm
- silence-modal:  Silence ▾ → Custom… on an alert message

The answers come from the bot's own builders (bot.chatops) with the data of the query tests
(tests/chatops/test_query.py: ingest rises by one a minute to 120, train stays 5, score 2.5).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_spec = importlib.util.spec_from_file_location("slack_render", ROOT / "docs" / "slack-render.py")
assert _spec is not None and _spec.loader is not None
sr = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sr)

from bot.chatops.queries import matrix_summary, table_lines  # noqa: E402
from bot.chatops.render import (  # noqa: E402
    affected_lines,
    answer,
    code,
    date,
    esc,
    silence_modal,
    silence_preview_blocks,
)
from bot.prometheus import Matrix, Row, Series, Table, render_graph  # noqa: E402
from bot.routing.matchers import parse_matchers  # noqa: E402

END = 1780306920  # 2026-06-01 09:42 UTC, as the message renderings
sr.USERS.update({"U0ALICE": "alice"})
sr.SYMBOLS.update({"📈": ("↗", "#1d1c1d"), "🚫": ("⊘", "#e01e5a"), "⚠️": ("!", "#daa038"), "📜": ("▤", "#1d1c1d"),
                   "🤖": ("◆", "#4a154b"), "🚨": ("!", "#e01e5a")})
MONO = sr.FONT["code"]


def instant() -> dict[str, Any]:
    t = Table("queue_depth", END, "vector",
              tuple(Row({"__name__": "queue_depth", "queue": q}, v, END) for q, v in
                    (("ingest", 120.0), ("score", 2.5), ("train", 5.0))), ("__name__", "queue"))
    return answer(table_lines(t), f"🔎 {code('queue_depth', 300)} at {date(END * 10**9)} · datasource default"
                  ).payload()


def matrix() -> Matrix:
    start = END - 7200
    stamps = tuple(float(t) for t in range(start, END + 1, 60))
    series = (Series({"queue": "ingest"}, stamps, tuple(float(i) for i in range(len(stamps)))),
              Series({"queue": "train"}, stamps, tuple(5.0 for _ in stamps)))
    return Matrix('queue_depth{queue=~"ingest|train"}', start, END, 60.0, series, datasource="default",
                  points=2 * len(stamps))


def ranged() -> dict[str, Any]:
    m = matrix()
    return answer(matrix_summary(m), f"📈 {code(m.expr, 300)} over 2h · datasource default").payload()


def preview() -> dict[str, Any]:
    ms = parse_matchers('alertname="MetricIngestionBackpressure"')
    alerts = [("group 7c2e91d4", {"alertname": "MetricIngestionBackpressure", "instance": f"tracking-{i}.mlops.svc:8080",
                                  "service": "tracking-server"}) for i in (1, 2, 3)]
    return silence_preview_blocks(ms, 7200, "batch import until 11:45, queue drains by itself", affected_lines(alerts),
                                  len(alerts), {"m": [str(m) for m in ms], "d": 7200.0, "c": "…", "u": "U0ALICE"}
                                  ).payload()


def modal() -> dict[str, Any]:
    alerts = [("", {"alertname": "MetricIngestionBackpressure", "instance": f"tracking-{i}.mlops.svc:8080",
                                  "service": "tracking-server"}) for i in (1, 2, 3)]
    return silence_modal("7c2e91d4", "MetricIngestionBackpressure",
                         'alertname="MetricIngestionBackpressure", service="tracking-server"', "2h",
                         affected_lines(alerts, limit=8), 3, {"g": "…", "c": "C0ALERTS"})


# ------------------------------------------------------------------------------ drawing
def flow_section(c: Any, text: str) -> None:
    """A mrkdwn section, with ``` blocks drawn as Slack does (monospace on grey)."""
    parts = text.split("```")
    for i, part in enumerate(parts):
        if i % 2 == 0:
            part = part.strip("\n")
            if part:
                c.flow(sr.runs(part), sr.X0, sr.WIDTH)
            continue
        lines = sr._unescape(part.strip("\n")).split("\n")
        top = c.y - 4
        c.ops.append(("box", sr.X0, top - 10, sr.WIDTH, 18 * len(lines) + 12, "#f8f8f8", "#dddddd"))
        for line in lines:
            c.text(sr.X0 + 8, c.y + 2, line, "code", "#1d1c1d")
            c.y += 18
        c.y += 10


def draw(c: Any, blocks: list[dict[str, Any]]) -> None:
    for b in blocks:
        if b["type"] == "section" and "text" in b:
            c.y += 6
            flow_section(c, b["text"]["text"])
        elif b["type"] == "input":
            c.y += 10
            c.flow([(b["label"]["text"], "bold")], sr.X0, sr.WIDTH)
            value = b["element"].get("initial_value", "")
            lines = max(1, -(-len(value) // 70)) if b["element"].get("multiline") else 1
            height = 22 * lines + (14 if b["element"].get("multiline") else 8)
            c.ops.append(("box", sr.X0, c.y - 10, sr.WIDTH, height, "white", "#8d8d8d"))
            c.y += 6
            c.flow([(value, "normal")] if value else [("", "normal")], sr.X0 + 8, sr.WIDTH - 16)
            c.y += height - 26
            if "hint" in b:
                c.flow([(b["hint"]["text"], "small")], sr.X0, sr.WIDTH, line_h=16)
        else:
            sr.draw_blocks(c, [b])


def render_answer(payload: dict[str, Any], path: Path) -> None:
    c = sr.Canvas()
    c.ops.append(("box", 16, 16, 40, 40, "#4a154b", "#4a154b"))
    c.text(24, 42, "ab", "header", "white")
    c.text(sr.X0, 30, "alertbot", "bold")
    x = sr.X0 + c.width("alertbot ", "bold")
    c.ops.append(("box", x, 19, 30, 14, "#eeeeee", "#eeeeee"))
    c.text(x + 4, 30, "APP", "smallcode", "#616061")
    c.text(x + 38, 30, "9:42 AM  ·  Only visible to you", "small")
    c.y = 50
    draw(c, payload["blocks"])
    c.save(path)


def render_modal(view: dict[str, Any], path: Path) -> None:
    c = sr.Canvas()
    c.ops.append(("rect", 0, 0, sr.W, 56, "#f8f8f8"))
    c.text(sr.X0 - 48, 34, view["title"]["text"], "header")
    c.text(sr.W - 44, 34, "✕", "header", "#616061")
    c.y = 80
    saved = sr.X0, sr.WIDTH
    sr.X0, sr.WIDTH = 24, sr.W - 48  # a modal's body spans it
    try:
        draw(c, view["blocks"])
    finally:
        sr.X0, sr.WIDTH = saved
    c.y += 18
    right = sr.W - 24
    for label, primary in ((view["submit"]["text"], True), (view["close"]["text"], False)):
        w = c.width(label, "button") + 28
        right -= w
        c.ops.append(("box", right, c.y - 4, w, 30, "#007a5a" if primary else "white",
                      "#007a5a" if primary else "#bbbbbb"))
        c.text(right + 14, c.y + 15, label, "button", "white" if primary else "#1d1c1d")
        right -= 10
    c.y += 40
    c.save(path)


def main() -> None:
    out = ROOT / "docs"
    answers = {"query": instant(), "query-range": ranged(), "silence-preview": preview()}
    for name, payload in answers.items():
        (out / f"chatops-{name}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        render_answer(payload, out / f"chatops-{name}.png")
        print(f"docs/chatops-{name}.json, docs/chatops-{name}.png")
    view = modal()
    (out / "chatops-silence-modal.json").write_text(json.dumps({"view": view}, indent=2, ensure_ascii=False) + "\n")
    render_modal(view, out / "chatops-silence-modal.png")
    print("docs/chatops-silence-modal.json, docs/chatops-silence-modal.png")
    (out / "chatops-query-graph.png").write_bytes(render_graph(matrix(), title='queue_depth{queue=~"ingest|train"}'))
    print("docs/chatops-query-graph.png")
    _ = esc  # the builders escape; kept for readers adapting this script


if __name__ == "__main__":
    main()
