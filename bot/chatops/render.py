"""Answers as Slack shows them: text and Block Kit, within Slack's limits, every piece of
outside text (labels, annotations, comments, PromQL results) escaped.

    Reply(text, blocks)                 one answer (blocks optional; text is the fallback)
    answer(lines, title=None)           lines of trusted mrkdwn → sections of ≤ 3000 characters
    table(headers, rows)                a fixed-width table in a code block
    silence_preview_blocks(...)         the preview with Confirm / Cancel
    silence_modal(...)                  the custom silence modal
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.config.durations import format_duration
from bot.notify.slack.message import date, link
from bot.notify.slack.mrkdwn import code, escape_text, fit_text, plain, truncate_mrkdwn

SECTION = 2900  # under Slack's 3000, for the code fences and a cut mark
MAX_BLOCKS = 45
MAX_TEXT = 3000
BUTTON_VALUE = 2000

ACTION_CONFIRM = "alertbot.silence.confirm"
ACTION_CANCEL = "alertbot.silence.cancel"
MODAL_SILENCE = "alertbot.silence.modal"
BLOCK_MATCHERS, BLOCK_DURATION, BLOCK_COMMENT = "silence_matchers", "silence_duration", "silence_comment"
INPUT = "value"


@dataclass


class Reply:
    text: str
    blocks: list[dict[str, Any]] | None = None
    public: bool = False  # in_channel instead of ephemeral
    files: list[tuple[str, bytes, str]] = field(default_factory=list)  # (filename, PNG, title) to upload
    group_id: str = ""  # an answer for this group's thread

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"text": self.text[:MAX_TEXT] or " ",
                                "response_type": "in_channel" if self.public else "ephemeral"}
        if self.blocks:
            body["blocks"] = self.blocks
        return body


def esc(text: object) -> str:
    return escape_text(str(text))


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate_mrkdwn(text or " ", 3000),
                                        "verbatim": True}}


def context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate_mrkdwn(text, 3000),
                                             "verbatim": True}]}


def chunk_lines(lines: Iterable[str], size: int = SECTION) -> list[str]:
    chunks: list[str] = []
    cur = ""
    for line in lines:
        line = truncate_mrkdwn(line, size)
        if cur and len(cur) + 1 + len(line) > size:
            chunks.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        chunks.append(cur)
    return chunks


def answer(lines: Sequence[str], title: str | None = None, *, fallback: str | None = None,
           extra: Sequence[dict[str, Any]] = ()) -> Reply:
    """Lines of trusted mrkdwn as an answer (cut, with a note, when Slack could not show all)."""
    blocks: list[dict[str, Any]] = []
    if title:
        blocks.append(section(title))
    chunks = chunk_lines(lines)
    room = MAX_BLOCKS - len(blocks) - len(extra) - 1
    for c in chunks[:room]:
        blocks.append(section(c))
    if len(chunks) > room:
        blocks.append(context(f"… {len(chunks) - room} more part(s) left out (Slack shows at most "
                              f"{MAX_BLOCKS} blocks)"))
    blocks.extend(extra)
    text = fallback or "\n".join([title or "", *lines]).strip()
    return Reply(text=text[:MAX_TEXT], blocks=blocks)


def simple(text: str) -> Reply:
    return Reply(text=text, blocks=[section(text)])


def refusal(text: str) -> Reply:
    return simple(f"🚫 {text}")


def problem(text: str) -> Reply:
    return simple(f"⚠️ {text}")


# ---------------------------------------------------------------------------------- values


def fmt_value(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return format(v, ".6g")


def fmt_age(seconds: float) -> str:
    s = int(max(seconds, 0))
    if s < 60:
        return f"{s}s"
    d, rem = divmod(s, 86400)
    h, rem = divmod(rem, 3600)
    m = rem // 60
    if d:
        return f"{d}d {h}h" if h else f"{d}d"
    if h:
        return f"{h}h {m}m" if m else f"{h}h"
    return f"{m}m"


def fmt_duration(seconds: float) -> str:
    return format_duration(seconds)


def block_text(text: str) -> str:
    """Text for inside a ``` block: entities escaped, no closing fence."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("```", "``\u02cb"))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, max_width: int = 60) -> str:
    """A fixed-width table in a code block (cells cut to `max_width`)."""
    def cut(s: str) -> str:
        s = " ".join(str(s).split())
        return s if len(s) <= max_width else s[:max_width - 1] + "…"

    cells = [[cut(h) for h in headers]] + [[cut(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in cells]
    return "```\n" + block_text("\n".join(lines)) + "\n```"


def labels_text(labels: dict[str, str], skip: Iterable[str] = (), limit: int = 8) -> str:
    items = [(k, v) for k, v in sorted(labels.items()) if k not in set(skip)]
    shown = " ".join(code(f"{k}={v}", 120) for k, v in items[:limit])
    return shown + (f" +{len(items) - limit}" if len(items) > limit else "")


# ---------------------------------------------------------------------------------- silences


def matchers_text(matchers: Iterable[Any]) -> str:
    return code("{" + ", ".join(str(m) for m in matchers) + "}", 400)


def affected_lines(alerts: Sequence[tuple[str, dict[str, str]]], limit: int = 10) -> list[str]:
    """`(where, labels)` of affected alerts as bullet lines."""
    out = []
    for where, labels in alerts[:limit]:
        name = labels.get("alertname", "")
        out.append(f"• *{esc(name) or 'alert'}* {labels_text(labels, skip=('alertname',), limit=6)}"
                   + (f" _({where})_" if where else ""))
    if len(alerts) > limit:
        out.append(f"• … and {len(alerts) - limit} more")
    return out


def silence_preview_blocks(matchers: Sequence[Any], duration_s: float, comment: str, affected: list[str],
                           count: int, request: dict[str, Any], notes: Sequence[str] = ()) -> Reply:
    head = (f"🔕 *Silence preview* — {matchers_text(matchers)} for *{fmt_duration(duration_s)}*"
            + (f"\nComment: {esc(comment)}" if comment else "\n_No comment (add one after `--`)._"))
    if count:
        what = f"This silences *{count} firing alert{'s' if count != 1 else ''}* now:"
    else:
        what = "This silences *no firing alert* now (it will mute matching alerts that start while it lasts)."
    lines = [what, *affected, *notes]
    value = json.dumps(request, separators=(",", ":"), ensure_ascii=False)
    buttons = {"type": "actions", "block_id": "alertbot.silence.preview", "elements": [
        {"type": "button", "action_id": ACTION_CONFIRM, "style": "primary", "value": value,
         "text": {"type": "plain_text", "text": "Confirm silence", "emoji": True}},
        {"type": "button", "action_id": ACTION_CANCEL, "value": "cancel",
         "text": {"type": "plain_text", "text": "Cancel", "emoji": True}},
    ]}
    fallback = f"Silence preview: {count} firing alerts would be silenced for {fmt_duration(duration_s)}"
    return answer(lines, head, fallback=fallback, extra=[buttons])


def silence_modal(group_short: str, alertname: str, matchers_line: str, duration: str, preview: list[str],
                  count: int, metadata: dict[str, Any]) -> dict[str, Any]:
    what = (f"This silences *{count} firing alert{'s' if count != 1 else ''}* of group {code(group_short, 20)} "
            f"now (with these matchers):" if count else "These matchers select *no firing alert* now.")
    return {
        "type": "modal",
        "callback_id": MODAL_SILENCE,
        "private_metadata": json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)[:3000],
        "title": {"type": "plain_text", "text": "Silence alerts"},
        "submit": {"type": "plain_text", "text": "Silence"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            section(f"🔕 *{esc(plain(alertname, 200))}* — group {code(group_short, 20)}"),
            {"type": "input", "block_id": BLOCK_MATCHERS,
             "label": {"type": "plain_text", "text": "Matchers"},
             "hint": {"type": "plain_text", "text": "Alertmanager syntax, comma-separated: name=\"value\", "
                                                   "name=~\"regex\", name!=\"value\""},
             "element": {"type": "plain_text_input", "action_id": INPUT, "multiline": True,
                         "initial_value": matchers_line[:3000]}},
            {"type": "input", "block_id": BLOCK_DURATION,
             "label": {"type": "plain_text", "text": "Duration"},
             "hint": {"type": "plain_text", "text": "e.g. 30m, 2h, 1d, 1h30m"},
             "element": {"type": "plain_text_input", "action_id": INPUT, "initial_value": duration}},
            {"type": "input", "block_id": BLOCK_COMMENT, "optional": True,
             "label": {"type": "plain_text", "text": "Comment"},
             "element": {"type": "plain_text_input", "action_id": INPUT, "max_length": 500}},
            section("\n".join([what, *preview])),
            context("Recounted when you submit. The silence is created in alertbot and, when configured, in "
                    "the upstream Alertmanager."),
        ],
    }


def who_mention(by: str, name: str) -> str:
    if by.startswith(("U", "W")) and by.isalnum() and by.isupper():
        return f"<@{by}>"
    return esc(name or by or "someone")


__all__ = ["Reply", "answer", "code", "context", "date", "esc", "fit_text", "fmt_age", "fmt_value", "link",
           "section", "table", "who_mention"]
