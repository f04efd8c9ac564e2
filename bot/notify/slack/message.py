"""A group's message in Block Kit: built from a `GroupView` and the group's `GroupStatus`,
within Slack's limits by construction.

Every text that came from an alert is escaped (`bot.notify.slack.mrkdwn`); the wording of a
migrated Alertmanager config (its `title`, `text`, `fields`…) is shown as that template
rendered it, with the alert values inside escaped. Each limit below is enforced where the
block is made — text is cut to fit before it is placed, blocks are counted against a budget
that keeps room for the blocks that must come last — and `check_limits` verifies a finished
message (the tests run it over hostile input; delivery runs it before every call).

Stable interactive ids (wired by bot.chatops):
    alertbot.ack / alertbot.unack          button, value = group ref (JSON {"g": group id})
    alertbot.silence                       static_select, option value = "<duration>|<short id>"
    alertbot.investigate.<n>               button per runbook query n, value = {"g", "rb", "q"}
    alertbot.runbook                       URL button to the runbook
    alertbot.action.<n>                    URL buttons from the config's `actions`
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from bot.notify.slack.mrkdwn import code, escape_code, fit, fit_text, plain, slen, truncate_mrkdwn
from bot.notify.slack.view import LABEL_PRIORITY, AlertView, GroupView

# Slack's documented limits (docs.slack.dev, Block Kit reference).
MAX_BLOCKS = 50
SECTION_TEXT = 3000
FIELD_TEXT = 2000
MAX_FIELDS = 10
HEADER_TEXT = 150
BUTTON_TEXT = 75
ACTION_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
CONTEXT_TEXT = 3000
BUTTON_VALUE = 2000
OPTION_VALUE = 150
URL_MAX = 3000
ID_MAX = 255
TOP_TEXT = 40_000
# Ours, below Slack's: a message whose blocks together carry more than this is cut. Slack
# answers `msg_blocks_too_long` well below the sum of the per-block limits (bolt-js#2509), and
# nobody reads 40 kB of alert in a channel.
MAX_TOTAL_TEXT = 12_000
FALLBACK_TEXT = 3000
MAX_ALERTS = 10  # alerts shown one by one (the rest: "+N more")
MAX_QUERY_BUTTONS = 5

EMOJI = {"firing": "🔥", "acknowledged": "👀", "silenced": "🔕", "resolved": "✅"}
WORD = {"firing": "FIRING", "acknowledged": "ACKNOWLEDGED", "silenced": "SILENCED", "resolved": "RESOLVED"}
# Alertmanager's colour names, and the bot's colours per state (used when the config sets none).
COLORS = {"good": "#2eb886", "warning": "#daa038", "danger": "#a30200"}
STATE_COLOR = {"firing": "#a30200", "acknowledged": "#daa038", "silenced": "#868686", "resolved": "#2eb886"}
SILENCE_CHOICES = (("1h", "1 hour"), ("4h", "4 hours"), ("24h", "24 hours"), ("custom", "Custom…"))
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(slots=True)
class GroupStatus:
    """What people and other systems did about the group (kept by the Slack extension;
    set through `SlackNotifier.refresh`)."""

    acknowledged_by: str = ""  # a Slack user id (U…) or a name
    acknowledged_at_ns: int = 0
    ack_comment: str = ""
    silenced_by: str = ""
    silenced_until_ns: int = 0
    silence_ids: tuple[str, ...] | list[str] = ()
    incident_url: str = ""
    incident_status: str = ""
    note: str = ""
    muted: str = ""  # "silenced" / "muted" (inhibited, mute time interval): seen at the last flush

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["silence_ids"] = list(self.silence_ids)
        return {k: v for k, v in d.items() if v not in ("", 0, [], ())}

    @classmethod
    def from_json(cls, d: dict[str, Any] | None) -> GroupStatus:
        if not d:
            return cls()
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "silence_ids" in known:
            known["silence_ids"] = tuple(known["silence_ids"])
        return cls(**known)


def state_of(view: GroupView, status: GroupStatus, now_ns: int) -> str:
    if view.status == "resolved":
        return "resolved"
    if status.silenced_until_ns > now_ns or (status.silenced_by and not status.silenced_until_ns) or status.muted:
        return "silenced"
    if status.acknowledged_by:
        return "acknowledged"
    return "firing"


def group_ref(view: GroupView) -> str:
    """A button value naming the group (the full id when it fits, else the short id)."""
    value = json.dumps({"g": view.group_id}, separators=(",", ":"), ensure_ascii=False)
    if slen(value) <= BUTTON_VALUE:
        return value
    return json.dumps({"s": view.short_id}, separators=(",", ":"))


class _Budget:
    def __init__(self, blocks: int, chars: int) -> None:
        self.blocks = blocks
        self.chars = chars

    def take(self, block: dict[str, Any], reserve_blocks: int = 0, reserve_chars: int = 0) -> bool:
        size = _text_size(block)
        if self.blocks - 1 < reserve_blocks or self.chars - size < reserve_chars:
            return False
        self.blocks -= 1
        self.chars -= size
        return True


def build_message(view: GroupView, status: GroupStatus | None = None, *, now_ns: int | None = None,
                  max_alerts: int = MAX_ALERTS, interactive: bool = True) -> dict[str, Any]:
    """`{"text", "blocks"[, "attachments"]}` for chat.postMessage / chat.update."""
    status = status or GroupStatus()
    now_ns = view.at_ns if now_ns is None else now_ns
    state = state_of(view, status, now_ns)
    tail = _tail_blocks(view, status, state, interactive)
    tail_chars = sum(_text_size(b) for b in tail)
    budget = _Budget(MAX_BLOCKS - len(tail), MAX_TOTAL_TEXT - tail_chars)
    head: list[dict[str, Any]] = [_header(view, state)]
    budget.take(head[0])
    body: list[dict[str, Any]] = []

    def add(block: dict[str, Any], reserve: int = 0) -> bool:
        if budget.take(block, reserve_blocks=reserve):
            body.append(block)
            return True
        return False

    c = view.custom
    if c.pretext:
        add(_section(truncate_mrkdwn(c.pretext, SECTION_TEXT)))
    add(_summary(view, status, state, now_ns))
    labels = _label_fields(view)
    if labels:
        add({"type": "section", "fields": labels})
    if c.text:
        _custom_text(c.text, add)
    else:
        _alert_sections(view, add, max_alerts)
    if c.fields:
        for chunk in _chunks(c.fields, MAX_FIELDS):
            fields = [_mrkdwn(truncate_mrkdwn(f"*{t}*\n{v}" if t else v, FIELD_TEXT)) for t, v, _ in chunk]
            if not add({"type": "section", "fields": fields}):
                break
    if view.runbook is not None:
        rb = _runbook_section(view)
        if rb is not None:
            add(rb)
    if c.image_url and c.image_url.startswith(("http://", "https://")) and len(c.image_url) <= URL_MAX:
        add({"type": "image", "image_url": c.image_url, "alt_text": "image"})
    blocks = head + body + tail
    message: dict[str, Any] = {"text": _fallback(view, state), "blocks": blocks}
    color = _color(view, state)
    if c.color is not None and color:
        # A configured colour: the body goes into one attachment, which is what draws the bar.
        message["blocks"] = head
        message["attachments"] = [{"color": color, "blocks": body + tail, "fallback": message["text"]}]
    return message


def minimal_message(view: GroupView, status: GroupStatus | None = None, *, now_ns: int | None = None) -> dict[str, Any]:
    """A message Slack cannot refuse for its blocks: header, one summary, the fallback text.
    Sent when Slack rejects the full one (invalid_blocks, msg_blocks_too_long), so the alert
    still arrives."""
    status = status or GroupStatus()
    now_ns = view.at_ns if now_ns is None else now_ns
    state = state_of(view, status, now_ns)
    text = _fallback(view, state)
    return {"text": text, "blocks": [_header(view, state), _section(fit_text(text, SECTION_TEXT))]}


# ---------------------------------------------------------------------------------- blocks
def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": _mrkdwn(text or " ")}


def _header(view: GroupView, state: str) -> dict[str, Any]:
    if view.custom.title:
        words = view.custom.title
    else:
        count = view.firing if state != "resolved" else view.resolved
        words = f"{WORD[state]} · {view.alertname} · {count} alert{'s' if count != 1 else ''}"
    return {"type": "header", "text": {"type": "plain_text", "text": plain(f"{EMOJI[state]} {words}", HEADER_TEXT),
                                       "emoji": True}}


def _summary(view: GroupView, status: GroupStatus, state: str, now_ns: int) -> dict[str, Any]:
    parts = []
    if view.firing:
        parts.append(f"*{view.firing} firing*")
    if view.resolved:
        parts.append(f"{view.resolved} resolved")
    if view.custom.title and view.custom.title_link:
        parts.append(link(view.custom.title_link, "details"))
    line = " · ".join(parts) or "no alerts"
    extra = []
    if state == "acknowledged" or status.acknowledged_by:
        who = person(status.acknowledged_by)
        when = f" at {date(status.acknowledged_at_ns, ago=True)}" if status.acknowledged_at_ns else ""
        comment = f": {fit_text(status.ack_comment, 500)}" if status.ack_comment else ""
        extra.append(f"👀 Acknowledged by {who}{when}{comment}")
    if state == "silenced":
        if status.silenced_by or status.silenced_until_ns:
            until = f" until {date(status.silenced_until_ns)}" if status.silenced_until_ns > now_ns else ""
            by = f" by {person(status.silenced_by)}" if status.silenced_by else ""
            extra.append(f"🔕 Silenced{by}{until}")
        elif status.muted == "silenced":
            ids = ", ".join(code(i, 40) for i in list(status.silence_ids)[:3])
            extra.append(f"🔕 Silenced in Alertmanager{' (' + ids + ')' if ids else ''}: no notifications while "
                         "the silence lasts")
        else:
            extra.append("🔕 Muted (inhibited by another alert, or in a mute time interval): no notifications "
                         "meanwhile")
    if status.incident_url:
        extra.append(f"📟 PagerDuty: {link(status.incident_url, status.incident_status or 'incident')}")
    if status.note:
        extra.append(fit_text(status.note, 500))
    text = "\n".join([line, *extra])
    return _section(truncate_mrkdwn(text, SECTION_TEXT))


def _label_fields(view: GroupView) -> list[dict[str, Any]]:
    labels = {k: v for k, v in view.common_labels.items() if k != "alertname"}
    order = [k for k in LABEL_PRIORITY if k in labels] + sorted(k for k in labels if k not in LABEL_PRIORITY)
    fields = []
    shown = order[:MAX_FIELDS] if len(order) <= MAX_FIELDS else order[:MAX_FIELDS - 1]
    for k in shown:
        fields.append(_mrkdwn(f"*{fit_text(k, 100)}*\n{code(labels[k], FIELD_TEXT - 110)}"))
    rest = order[len(shown):]
    if rest:
        more = " ".join(code(f"{k}={labels[k]}", 120) for k in rest[:12])
        fields.append(_mrkdwn(truncate_mrkdwn(f"*+{len(rest)} more labels*\n{more}", FIELD_TEXT)))
    return fields


def _alert_sections(view: GroupView, add: Any, max_alerts: int) -> None:
    shown = 0
    # Keep one block for the "+N more" line.
    for a in view.alerts[:max_alerts]:
        if not add(_alert_block(a, view), reserve=1):
            break
        shown += 1
    total = view.firing + view.resolved
    if shown < total:
        hidden_firing = max(view.firing - sum(1 for a in view.alerts[:shown] if a.status == "firing"), 0)
        hidden_resolved = max(total - shown - hidden_firing, 0)
        words = [f"{hidden_firing} firing"] if hidden_firing else []
        if hidden_resolved:
            words.append(f"{hidden_resolved} resolved")
        add({"type": "context", "elements": [_mrkdwn(f"+{total - shown} more alerts ({', '.join(words)})")]})


def _alert_block(a: AlertView, view: GroupView) -> dict[str, Any]:
    mark = "🔥" if a.status == "firing" else "✅"
    lines = []
    title = a.summary or a.name or "alert"
    lines.append(f"{mark} *{fit_text(title, 300)}*")
    if a.labels:
        lines.append(" ".join(code(f"{k}={v}", 160) for k, v in list(a.labels.items())[:8])
                     + (f" +{len(a.labels) - 8}" if len(a.labels) > 8 else ""))
    if a.description:
        lines.append(fit_text(a.description, 1200))
    links = []
    if a.generator_url:
        links.append(link(a.generator_url, "source"))
    if a.status == "firing" and view.silence_base:
        links.append(link(_alert_silence(view, a), "silence"))
    links = [x for x in links if x]
    meta = f"since {date(a.starts_ns)}" if a.starts_ns else ""
    if a.status == "resolved" and a.ends_ns:
        meta = f"resolved {date(a.ends_ns)}"
    tail = " · ".join(x for x in [meta, *links] if x)
    if tail:
        lines.append(tail)
    return _section(truncate_mrkdwn("\n".join(lines), SECTION_TEXT))


def _alert_silence(view: GroupView, a: AlertView) -> str:
    from bot.notify.slack.view import silence_url

    labels = dict(view.common_labels)
    labels.update(a.labels)
    return silence_url(view.silence_base, labels)


def _custom_text(text: str, add: Any) -> None:
    """A template's `text`: trusted mrkdwn, split into sections at line ends."""
    rest = text.strip("\n")
    pieces = 0
    while rest:
        if slen(rest) <= SECTION_TEXT:
            chunk, rest = rest, ""
        else:
            cut = rest.rfind("\n", 0, SECTION_TEXT // 2)
            if cut <= 0:
                cut = SECTION_TEXT // 2
            chunk, rest = rest[:cut], rest[cut:].lstrip("\n")
            chunk = truncate_mrkdwn(chunk, SECTION_TEXT)
        if not add(_section(chunk), reserve=1):
            add({"type": "context", "elements": [_mrkdwn("… (the rest of the text does not fit in one message)")]})
            return
        pieces += 1


def _runbook_section(view: GroupView) -> dict[str, Any] | None:
    rb = view.runbook
    assert rb is not None
    if not rb.found:
        return {"type": "context", "elements": [_mrkdwn(markdown_to_mrkdwn(rb.hint or "No runbook yet.", 1000))]}
    title = fit_text(rb.title, 200)
    head = f"📖 *Runbook:* {link(rb.url, title) if rb.url else title}"
    if rb.owner:
        head += f" · owner {code(rb.owner, 80)}"
    lines = [head]
    for i, step in enumerate(rb.steps, 1):
        lines.append(f"{i}. {markdown_to_mrkdwn(step, 700)}")
    if rb.more_steps:
        lines.append(f"_…and {rb.more_steps} more step{'s' if rb.more_steps != 1 else ''} in the runbook_")
    return _section(truncate_mrkdwn("\n".join(lines), SECTION_TEXT))


def _tail_blocks(view: GroupView, status: GroupStatus, state: str, interactive: bool) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [_context(view, status)]
    if interactive:
        blocks.extend(_actions(view, state))
    elif view.custom.actions:
        blocks.extend(_actions(view, state, only_links=True))
    return blocks


def _context(view: GroupView, status: GroupStatus) -> dict[str, Any]:
    bits = [f"Group {code(view.short_id, 20)}", f"started {date(view.started_ns)}",
            f"receiver {code(view.receiver, 120)}"]
    if view.silence_url and view.status != "resolved":
        bits.append(link(view.silence_url, "silence in Alertmanager"))
    if view.custom.footer:
        bits.append(truncate_mrkdwn(view.custom.footer, 600))
    elements = [_mrkdwn(truncate_mrkdwn(" · ".join(b for b in bits if b), CONTEXT_TEXT))]
    return {"type": "context", "elements": elements[:CONTEXT_ELEMENTS]}


def _actions(view: GroupView, state: str, only_links: bool = False) -> list[dict[str, Any]]:
    ref = group_ref(view)
    elements: list[dict[str, Any]] = []
    if not only_links and state != "resolved":
        if state == "acknowledged":
            elements.append(_button("Unacknowledge", "alertbot.unack", value=ref))
        else:
            elements.append(_button("Acknowledge", "alertbot.ack", value=ref, style="primary"))
        elements.append({
            "type": "static_select", "action_id": "alertbot.silence",
            "placeholder": {"type": "plain_text", "text": "Silence ▾", "emoji": True},
            "options": [{"text": {"type": "plain_text", "text": label, "emoji": True},
                         "value": f"{value}|{view.short_id}"} for value, label in SILENCE_CHOICES],
        })
    rb = view.runbook
    if rb is not None and rb.found and rb.url and _url_ok(rb.url):
        elements.append(_button("Runbook", "alertbot.runbook", url=rb.url))
    for i, act in enumerate(view.custom.actions):
        if _url_ok(act["url"]) and len(elements) < ACTION_ELEMENTS:
            elements.append(_button(act["text"], f"alertbot.action.{i}", url=act["url"],
                                    style=act.get("style") if act.get("style") in ("primary", "danger") else None))
    out = []
    if elements:
        out.append({"type": "actions", "block_id": f"alertbot.actions.{view.short_id}",
                    "elements": elements[:ACTION_ELEMENTS]})
    if not only_links and rb is not None and rb.found and rb.queries and state != "resolved":
        buttons = []
        for q in rb.queries[:MAX_QUERY_BUTTONS]:
            value = json.dumps({"g": view.group_id, "rb": rb.name, "q": q.index}, separators=(",", ":"),
                               ensure_ascii=False)
            if slen(value) > BUTTON_VALUE:
                value = json.dumps({"s": view.short_id, "rb": rb.name, "q": q.index}, separators=(",", ":"))
            buttons.append(_button(f"🔎 {q.name or f'query {q.index + 1}'}", f"alertbot.investigate.{q.index}",
                                   value=value))
        out.append({"type": "actions", "block_id": f"alertbot.investigate.{view.short_id}", "elements": buttons})
    return out


def _button(text: str, action_id: str, *, value: str | None = None, url: str | None = None,
            style: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": {"type": "plain_text", "text": plain(text, BUTTON_TEXT),
                                                    "emoji": True}, "action_id": action_id[:ID_MAX]}
    if value is not None:
        b["value"] = value if slen(value) <= BUTTON_VALUE else json.dumps({"error": "value too long"})
    if url is not None:
        b["url"] = url
    if style:
        b["style"] = style
    return b


def _fallback(view: GroupView, state: str) -> str:
    if view.custom.fallback:
        return truncate_mrkdwn(view.custom.fallback, FALLBACK_TEXT)
    labels = " ".join(f"{k}={v}" for k, v in sorted(view.group_labels.items()) if k != "alertname")
    count = view.firing if state != "resolved" else view.resolved
    raw = f"{WORD[state]}: {view.alertname} ({count} alert{'s' if count != 1 else ''}){' ' + labels if labels else ''}"
    return fit(raw, FALLBACK_TEXT, _fallback_pieces)


def _fallback_pieces(text: str) -> list[str]:
    from bot.notify.slack.mrkdwn import WORD_JOINER, _entity

    out = []
    for ch in text:
        out.append(_entity(ch) if ch != "@" else "@" + WORD_JOINER)
    return out


def _color(view: GroupView, state: str) -> str:
    c = (view.custom.color or "").strip()
    if not c:
        return STATE_COLOR[state]
    return COLORS.get(c, c)


# ---------------------------------------------------------------------------------- helpers
def link(url: str | None, label: str) -> str:
    """`<url|label>` for an http(s) URL (label: our own words); "" for anything else."""
    if not url or not _url_ok(url):
        return ""
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C").replace(" ", "%20")
    return f"<{safe}|{label}>"


def _url_ok(url: str) -> bool:
    return url.startswith(("http://", "https://")) and len(url) <= URL_MAX and not any(c.isspace() for c in url)


def person(who: str) -> str:
    if _USER_ID.match(who or ""):
        return f"<@{who}>"
    return fit_text(who or "someone", 100)


def date(ns: int, ago: bool = False) -> str:
    """A Slack date token: each reader sees their own time zone; the fallback is UTC. With
    `ago`, Slack also shows how long ago it was (an acknowledgement's age), kept current."""
    if not ns:
        return "?"
    seconds = ns // 1_000_000_000
    fallback = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{seconds}^{{date_short_pretty}} {{time}}{' ({ago})' if ago else ''}|{fallback}>"


_MD_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")
_MD_CODE = re.compile(r"`([^`]+)`")


def markdown_to_mrkdwn(text: str, limit: int) -> str:
    """A runbook step (Markdown from our repository) as mrkdwn: bold, code and links kept,
    everything else escaped."""
    out: list[str] = []
    pos = 0
    tokens = sorted([(m.start(), m.end(), "link", m) for m in _MD_LINK.finditer(text)]
                    + [(m.start(), m.end(), "bold", m) for m in _MD_BOLD.finditer(text)]
                    + [(m.start(), m.end(), "code", m) for m in _MD_CODE.finditer(text)], key=lambda t: t[0])
    for start, end, kind, m in tokens:
        if start < pos:
            continue
        out.append(fit_text(text[pos:start], 10_000))
        if kind == "link":
            out.append(link(m.group(2), fit_text(m.group(1), 200)) or fit_text(m.group(1), 200))
        elif kind == "bold":
            out.append(f"*{fit_text(m.group(1), 500)}*")
        else:
            out.append(f"`{escape_code(m.group(1))}`")
        pos = end
    out.append(fit_text(text[pos:], 10_000))
    return truncate_mrkdwn(" ".join("".join(out).split()), limit)


def _chunks(items: list[Any], n: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _text_size(obj: Any) -> int:
    """Characters of text a block carries (what Slack's size limits count)."""
    if isinstance(obj, dict):
        return sum(slen(v) if k in ("text", "alt_text") and isinstance(v, str) else _text_size(v)
                   for k, v in obj.items())
    if isinstance(obj, list):
        return sum(_text_size(x) for x in obj)
    return 0


# ---------------------------------------------------------------------------------- checking
def check_limits(message: dict[str, Any]) -> list[str]:
    """Every Block Kit limit the message breaks ([] when it is fine)."""
    problems: list[str] = []
    text = message.get("text", "")
    if slen(text) > TOP_TEXT:
        problems.append(f"text is {slen(text)} characters (max {TOP_TEXT})")
    groups = [("blocks", message.get("blocks", []))]
    for i, att in enumerate(message.get("attachments", [])):
        groups.append((f"attachments[{i}].blocks", att.get("blocks", [])))
    total_blocks = sum(len(b) for _, b in groups)
    if total_blocks > MAX_BLOCKS:
        problems.append(f"{total_blocks} blocks (max {MAX_BLOCKS})")
    total_chars = sum(_text_size(b) for _, b in groups)
    if total_chars > MAX_TOTAL_TEXT:
        problems.append(f"blocks carry {total_chars} characters (max {MAX_TOTAL_TEXT})")
    for where, blocks in groups:
        for j, b in enumerate(blocks):
            problems += [f"{where}[{j}]: {p}" for p in _check_block(b)]
    return problems


def _check_block(b: dict[str, Any]) -> list[str]:
    p: list[str] = []
    kind = b.get("type")
    if len(b.get("block_id", "")) > ID_MAX:
        p.append("block_id too long")
    if kind == "header":
        t = b["text"]
        if t.get("type") != "plain_text" or slen(t["text"]) > HEADER_TEXT or not t["text"]:
            p.append(f"header text {slen(t['text'])} characters (max {HEADER_TEXT}, plain_text)")
    elif kind == "section":
        if "text" in b and not 1 <= slen(b["text"]["text"]) <= SECTION_TEXT:
            p.append(f"section text {slen(b['text']['text'])} characters (max {SECTION_TEXT})")
        fields = b.get("fields", [])
        if len(fields) > MAX_FIELDS:
            p.append(f"{len(fields)} fields (max {MAX_FIELDS})")
        for f in fields:
            if not 1 <= slen(f["text"]) <= FIELD_TEXT:
                p.append(f"field {slen(f['text'])} characters (max {FIELD_TEXT})")
        if "text" not in b and not fields:
            p.append("section without text or fields")
    elif kind == "context":
        if not 1 <= len(b["elements"]) <= CONTEXT_ELEMENTS:
            p.append(f"context with {len(b['elements'])} elements (max {CONTEXT_ELEMENTS})")
        for e in b["elements"]:
            if slen(e.get("text", "")) > CONTEXT_TEXT:
                p.append("context text too long")
    elif kind == "actions":
        els = b["elements"]
        if not 1 <= len(els) <= ACTION_ELEMENTS:
            p.append(f"actions with {len(els)} elements (max {ACTION_ELEMENTS})")
        ids = [e.get("action_id") for e in els]
        if len(set(ids)) != len(ids):
            p.append("duplicate action_id in one block")
        for e in els:
            if len(e.get("action_id", "")) > ID_MAX:
                p.append("action_id too long")
            if e["type"] == "button":
                if slen(e["text"]["text"]) > BUTTON_TEXT:
                    p.append(f"button text {slen(e['text']['text'])} characters (max {BUTTON_TEXT})")
                if slen(e.get("value", "")) > BUTTON_VALUE:
                    p.append("button value too long")
                if len(e.get("url", "")) > URL_MAX:
                    p.append("button url too long")
            elif e["type"] == "static_select":
                for o in e["options"]:
                    if slen(o["value"]) > OPTION_VALUE or slen(o["text"]["text"]) > BUTTON_TEXT:
                        p.append("option too long")
    elif kind == "image":
        if len(b.get("image_url", "")) > URL_MAX:
            p.append("image_url too long")
    return p
