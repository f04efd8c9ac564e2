"""Renders the Slack message of an alert group in its four states, as Slack receives it
(`docs/slack-<state>.json`: the chat.postMessage arguments the bot sends) and as a picture
(`docs/slack-<state>.png`: a mock of Slack's rendering drawn with matplotlib).

    .venv/bin/python docs/slack-render.py

The message comes from the bot's own builder (bot.notify.slack), for a group of three
`MetricIngestionBackpressure` alerts from the shipped rules, with the shipped runbook. The
picture draws Block Kit the way Slack lays it out (header, mrkdwn, fields in two columns,
context, buttons, a select); emoji are drawn as symbols of the state's colour because the
machine has no colour-emoji font, and date tokens show their UTC fallback.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import load_config_text  # noqa: E402
from bot.engine.alert import Alert  # noqa: E402
from bot.engine.timestamp import ZERO, Timestamp  # noqa: E402
from bot.notify.base import Notification  # noqa: E402
from bot.notify.slack.message import GroupStatus, build_message, check_limits  # noqa: E402
from bot.notify.slack.service import SlackService  # noqa: E402
from bot.notify.slack.settings import SlackSettings  # noqa: E402
from bot.notify.slack.view import build_view  # noqa: E402

NOW = Timestamp.parse("2026-06-01T09:42:00Z")
GROUP_ID = '{}/{severity="critical"}/0|4f1c2a9b7e3d5c61'
USERS = {"U0ALICE": "alice", "U0BOB": "bob"}
CONFIG = """
route:
  receiver: default
receivers:
  - name: default
    slack_configs:
      - channel: '#mlops-alerts'
        send_resolved: true
"""


def example_messages() -> dict[str, dict]:
    alerts = []
    for i, depth in ((1, "18.2k"), (2, "12.9k"), (3, "11.4k")):
        instance = f"tracking-{i}.mlops.svc:8080"
        alerts.append(Alert(
            {"alertname": "MetricIngestionBackpressure", "severity": "warning", "service": "tracking-server",
             "env": "prod", "instance": instance},
            {"summary": f"Metric write queue on {instance} holds {depth} batches",
             "description": f"The tracking server's metric write queue on {instance} has held more than 10,000 "
                            "pending writes for 5 minutes: metrics are accepted faster than they are stored.",
             "runbook_url": "https://git.example.com/mlops/alertbot/blob/main/runbooks/"
                            "metric-ingestion-backpressure.md"},
            NOW.add(-540 + i * 60), ZERO, "http://prometheus.mlops.svc:9090/graph?g0.expr=mlops_metric_write_queue_"
                                          "depth+%3E+10000", NOW))
    cfg = load_config_text(CONFIG)
    n = Notification("default", '{}:{alertname="MetricIngestionBackpressure", service="tracking-server"}',
                     {"alertname": "MetricIngestionBackpressure", "service": "tracking-server"}, alerts, NOW,
                     "first notification", "https://alertmanager.mlops.example", "{}", {"group_id": GROUP_ID})
    service = SlackService(SlackSettings(), None, runbooks_dir=str(ROOT / "runbooks"))
    # The silence links open the upstream Alertmanager's form (ALERTMANAGER_URL).
    view = build_view(n, cfg.model.receivers[0].slack_configs[0], cfg.templates, group_id=GROUP_ID,
                      runbook=service.runbook_info(alerts), silence_base="https://alertmanager.mlops.example")
    at = NOW.ns + 4 * 60 * 10**9
    states = {
        "firing": build_message(view, GroupStatus(), now_ns=NOW.ns),
        "acknowledged": build_message(view, GroupStatus(acknowledged_by="U0ALICE", acknowledged_at_ns=at,
                                                        ack_comment="queue drains after the batch import, watching"),
                                      now_ns=at),
        "silenced": build_message(view, GroupStatus(silenced_by="U0BOB", silenced_until_ns=at + 2 * 3600 * 10**9),
                                  now_ns=at),
        "resolved": build_message(view.all_resolved(at), GroupStatus(), now_ns=at),
    }
    for name, m in states.items():
        assert check_limits(m) == [], (name, check_limits(m))
    return states


# ------------------------------------------------------------------------------ drawing
W = 820
X0 = 72
WIDTH = W - X0 - 24
SYMBOLS = {"🔥": ("●", "#e01e5a"), "👀": ("◉", "#daa038"), "🔕": ("⊘", "#868686"), "✅": ("✔", "#2eb886"),
           "📖": ("▤", "#1264a3"), "🔎": ("»", "#1d1c1d"), "📟": ("☎", "#1d1c1d"), "♻️": ("↻", "#1d1c1d"),
           "🔁": ("↻", "#1d1c1d"), "🔔": ("♪", "#1d1c1d")}
FONT = {"normal": FontProperties(family="DejaVu Sans", size=10.5),
        "bold": FontProperties(family="DejaVu Sans", size=10.5, weight="bold"),
        "italic": FontProperties(family="DejaVu Sans", size=10.5, style="italic"),
        "code": FontProperties(family="DejaVu Sans Mono", size=9.5),
        "header": FontProperties(family="DejaVu Sans", size=14, weight="bold"),
        "small": FontProperties(family="DejaVu Sans", size=8.8),
        "smallcode": FontProperties(family="DejaVu Sans Mono", size=8.3),
        "button": FontProperties(family="DejaVu Sans", size=9.5, weight="bold")}
COLORS = {"normal": "#1d1c1d", "bold": "#1d1c1d", "italic": "#1d1c1d", "code": "#e01e5a", "link": "#1264a3",
          "mention": "#1264a3", "small": "#616061"}
_TOKEN = re.compile(r"<([^<>]*)>|`([^`\n]*)`")
_EMPH = re.compile(r"(?<![\w*])\*([^*\n]+?)\*(?![\w*])|(?<![\w_])_([^_\n]+?)_(?![\w_])")


def _unescape(s: str) -> str:
    return s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\u2060", "").replace("\u00ad", "")


def runs(mrkdwn: str, small: bool = False) -> list[tuple[str, str]]:
    """(text, style) runs of a mrkdwn string, as Slack would style them."""
    base = "small" if small else "normal"
    out: list[tuple[str, str]] = []

    def plain(text: str) -> None:
        pos = 0
        for m in _EMPH.finditer(text):
            if m.start() > pos:
                out.append((_unescape(text[pos:m.start()]), base))
            out.append((_unescape(m.group(1) or m.group(2)), "bold" if m.group(1) else "italic"))
            pos = m.end()
        if pos < len(text):
            out.append((_unescape(text[pos:]), base))

    pos = 0
    for m in _TOKEN.finditer(mrkdwn):
        plain(mrkdwn[pos:m.start()])
        if m.group(2) is not None:
            out.append((_unescape(m.group(2)), "smallcode" if small else "code"))
        else:
            inner = m.group(1)
            if inner.startswith("!date^"):
                out.append((_unescape(inner.rpartition("|")[2]), base))
            elif inner.startswith("@"):
                out.append(("@" + USERS.get(inner[1:], inner[1:]), "mention"))
            elif inner.startswith("http"):
                out.append((_unescape(inner.partition("|")[2] or inner), "link"))
            else:
                out.append((_unescape(inner), base))
        pos = m.end()
    plain(mrkdwn[pos:])
    return out


class Canvas:
    def __init__(self) -> None:
        self.fig = plt.figure(figsize=(W / 100, 10), dpi=100)
        self.renderer = self.fig.canvas.get_renderer()
        self.ops: list = []
        self.y = 16.0

    def width(self, text: str, style: str) -> float:
        prop = FONT.get(style, FONT["normal"])
        w, _, _ = self.renderer.get_text_width_height_descent(text, prop, ismath=False)
        return w

    def text(self, x: float, y: float, s: str, style: str, color: str | None = None) -> None:
        self.ops.append(("text", x, y, s, style, color or COLORS.get(style, "#1d1c1d")))

    def flow(self, parts: list[tuple[str, str]], x0: float, width: float, line_h: float = 19.0) -> None:
        """Lays runs out left to right, wrapping at word boundaries."""
        x = x0
        for text, style in parts:
            for i, line in enumerate(text.split("\n")):
                if i:
                    x, self.y = x0, self.y + line_h
                for word in re.findall(r"\S+\s*|\s+", line):
                    for ch, (sym, color) in SYMBOLS.items():
                        if word.startswith(ch):
                            self.text(x, self.y, sym, "bold", color)
                            x += self.width(sym + " ", "bold")
                            word = word[len(ch):].lstrip("\ufe0f")
                    if not word:
                        continue
                    w = self.width(word, style)
                    if x + w > x0 + width and x > x0:
                        x, self.y = x0, self.y + line_h
                        word = word.lstrip()
                        w = self.width(word, style)
                    if style in ("code", "smallcode"):
                        self.ops.append(("box", x - 1, self.y - 13, w + 2, 17, "#f8f8f8", "#dddddd"))
                    self.text(x, self.y, word, style)
                    x += w
        self.y += line_h

    def save(self, path: Path) -> None:
        height = self.y + 16
        fig = plt.figure(figsize=(W / 100, height / 100), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, W)
        ax.set_ylim(height, 0)
        ax.axis("off")
        fig.patch.set_facecolor("white")
        for op in self.ops:
            if op[0] == "text":
                _, x, y, s, style, color = op
                ax.text(x, y, s, fontproperties=FONT.get(style, FONT["normal"]), color=color, va="baseline")
            elif op[0] == "box":
                _, x, y, w, h, face, edge = op
                ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=3", facecolor=face,
                                            edgecolor=edge, linewidth=0.8))
            elif op[0] == "rect":
                _, x, y, w, h, face = op
                ax.add_patch(Rectangle((x, y), w, h, facecolor=face, edgecolor="none"))
        fig.savefig(path, dpi=100, facecolor="white")
        plt.close(fig)
        plt.close(self.fig)


def draw_blocks(c: Canvas, blocks: list[dict]) -> None:
    for b in blocks:
        t = b["type"]
        if t == "header":
            c.y += 8
            c.flow([(b["text"]["text"], "header")], X0, WIDTH, line_h=24)
        elif t == "section" and "text" in b:
            c.y += 6
            c.flow(runs(b["text"]["text"]), X0, WIDTH)
        elif t == "section":
            c.y += 6
            fields = b["fields"]
            for i in range(0, len(fields), 2):
                top = c.y
                bottoms = []
                for j, f in enumerate(fields[i:i + 2]):
                    c.y = top
                    c.flow(runs(f["text"]), X0 + j * (WIDTH / 2), WIDTH / 2 - 12)
                    bottoms.append(c.y)
                c.y = max(bottoms)
        elif t == "context":
            c.y += 4
            c.flow(runs(" ".join(e.get("text", "") for e in b["elements"]), small=True), X0, WIDTH, line_h=16)
        elif t == "actions":
            c.y += 8
            x = X0
            for e in b["elements"]:
                label = e["text"]["text"] if e["type"] == "button" else e["placeholder"]["text"]
                for ch, (sym, _) in SYMBOLS.items():
                    label = label.replace(ch, sym)
                w = c.width(label, "button") + 24
                if x + w > X0 + WIDTH:
                    x, c.y = X0, c.y + 36
                primary = e.get("style") == "primary"
                c.ops.append(("box", x, c.y - 4, w, 28, "#007a5a" if primary else "white",
                              "#007a5a" if primary else "#bbbbbb"))
                c.text(x + 12, c.y + 14, label, "button", "white" if primary else "#1d1c1d")
                x += w + 8
            c.y += 36


def render(message: dict, path: Path, replies: int) -> None:
    c = Canvas()
    c.ops.append(("box", 16, 16, 40, 40, "#4a154b", "#4a154b"))
    c.text(24, 42, "ab", "header", "white")
    c.text(X0, 30, "alertbot", "bold")
    x = X0 + c.width("alertbot ", "bold")
    c.ops.append(("box", x, 19, 30, 14, "#eeeeee", "#eeeeee"))
    c.text(x + 4, 30, "APP", "smallcode", "#616061")
    c.text(x + 38, 30, "9:42 AM", "small")
    c.y = 50
    draw_blocks(c, message["blocks"])
    for att in message.get("attachments", []):
        start = c.y
        draw_blocks(c, att.get("blocks", []))
        c.ops.append(("rect", X0 - 12, start, 4, c.y - start, att.get("color", "#dddddd")))
    if replies:
        c.y += 4
        words = f"{replies} repl{'y' if replies == 1 else 'ies'}"
        c.text(X0, c.y + 10, words, "bold", COLORS["link"])
        c.text(X0 + c.width(words + "  ", "bold"), c.y + 10, "Last reply today at 9:46 AM", "small")
        c.y += 22
    c.save(path)


def main() -> None:
    out = ROOT / "docs"
    replies = {"firing": 0, "acknowledged": 1, "silenced": 2, "resolved": 3}
    for state, message in example_messages().items():
        payload = {"channel": "#mlops-alerts", **message, "unfurl_links": False, "unfurl_media": False}
        (out / f"slack-{state}.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        render(message, out / f"slack-{state}.png", replies[state])
        print(f"docs/slack-{state}.json, docs/slack-{state}.png")


if __name__ == "__main__":
    main()
