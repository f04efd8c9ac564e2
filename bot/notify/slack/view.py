"""What a group's Slack message shows, as plain data: built once per flush from the
`Notification`, kept with the message (so an acknowledgement can redraw it later without the
flush), and turned into Block Kit by `bot.notify.slack.message`.

Everything here is raw text as the alerts carry it; escaping happens when blocks are built.
The parts a migrated Alertmanager `slack_configs` entry customises (title, text, fields,
colour…) are rendered here with Alertmanager's templates and kept as the user wrote them.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import quote

from bot.config.receivers import SlackConfig
from bot.engine.alert import Alert
from bot.notify.base import Notification
from bot.routing.labels import common_pairs
from bot.templates import AlertSnapshot, TemplateData, Templates

log = logging.getLogger("alertbot.slack")

KEEP_ALERTS = 50  # alerts kept in the view (the message shows fewer; see message.MAX_ALERTS)
KEEP_FINGERPRINTS = 5000  # for the thread's "added/resolved" story
RUNBOOK_SAMPLE = 100  # alerts looked at to choose the group's runbook

# Common labels worth a field of their own, in this order; the others follow alphabetically.
LABEL_PRIORITY = ("severity", "service", "env", "environment", "cluster", "namespace", "team", "job", "instance")

# Fields of a slack_configs entry that are Alertmanager templates rendered into the message.
CUSTOM_TEXT_FIELDS = ("title", "title_link", "pretext", "text", "footer", "fallback", "color", "image_url",
                      "thumb_url", "username", "icon_emoji", "icon_url", "message_text")
# Rendered with the raw (unescaped) data: they are URLs, colours or API parameters, not mrkdwn.
RAW_FIELDS = frozenset(("title_link", "color", "image_url", "thumb_url", "username", "icon_emoji", "icon_url"))


@dataclass(slots=True)
class AlertView:
    fp: str
    status: str  # firing | resolved
    name: str
    labels: dict[str, str]  # the labels the group does not share
    summary: str
    description: str
    starts_ns: int
    ends_ns: int
    generator_url: str


@dataclass(slots=True)
class QueryRef:
    index: int
    name: str


@dataclass(slots=True)
class RunbookInfo:
    found: bool
    title: str
    url: str | None
    name: str | None
    owner: str | None
    steps: list[str]
    more_steps: int
    queries: list[QueryRef]
    hint: str


@dataclass(slots=True)
class CustomParts:
    """Alertmanager slack_configs fields the user set (None: not set, the bot's own layout)."""

    title: str | None = None
    title_link: str | None = None
    pretext: str | None = None
    text: str | None = None
    footer: str | None = None
    fallback: str | None = None
    color: str | None = None
    image_url: str | None = None
    thumb_url: str | None = None
    username: str | None = None
    icon_emoji: str | None = None
    icon_url: str | None = None
    message_text: str | None = None
    fields: list[list[Any]] = field(default_factory=list)  # [title, value, short]
    actions: list[dict[str, str]] = field(default_factory=list)  # URL buttons: text, url, style


@dataclass(slots=True)
class GroupView:
    group_id: str
    short_id: str
    receiver: str
    group_key: str
    status: str  # firing | resolved (Alertmanager's)
    reason: str
    alertname: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    alerts: list[AlertView]
    firing: int
    resolved: int
    fps_firing: list[str]
    fps_resolved: list[str]
    started_ns: int
    at_ns: int
    external_url: str
    silence_url: str
    runbook: RunbookInfo | None = None
    custom: CustomParts = field(default_factory=CustomParts)
    silence_base: str = ""  # the upstream Alertmanager whose silence form the links open ("": none)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> GroupView:
        d = dict(d)
        d["alerts"] = [AlertView(**a) for a in d.get("alerts", [])]
        rb = d.get("runbook")
        if rb is not None:
            rb = dict(rb)
            rb["queries"] = [QueryRef(**q) for q in rb.get("queries", [])]
            d["runbook"] = RunbookInfo(**rb)
        d["custom"] = CustomParts(**d.get("custom", {}))
        return cls(**d)

    def all_resolved(self, at_ns: int | None = None) -> GroupView:
        """The same view with every alert resolved (a group that closed without a resolved
        notification: silenced, or send_resolved off); alerts without an end end `at_ns`."""
        v = GroupView.from_json(self.to_json())
        if at_ns is not None:
            v.at_ns = at_ns
        for a in v.alerts:
            a.status = "resolved"
            a.ends_ns = a.ends_ns or v.at_ns
        v.status = "resolved"
        v.fps_resolved = sorted(set(v.fps_resolved) | set(v.fps_firing))
        v.fps_firing = []
        v.resolved += v.firing
        v.firing = 0
        return v


def short_id(group_id: str) -> str:
    """8 hex characters that name a group to people (in the message and in commands)."""
    return hashlib.sha256(group_id.encode("utf-8", "surrogateescape")).hexdigest()[:8]


def common_labels(alerts: Sequence[Alert]) -> dict[str, str]:
    return common_pairs(a.labels for a in alerts)


def template_data(n: Notification) -> TemplateData:
    """Alertmanager's template data for this notification, as the alerts carry it (for fields
    that are not mrkdwn: URLs, colours, the channel, API parameters)."""
    alerts = [AlertSnapshot(labels=a.labels, annotations=a.annotations, starts_at=a.starts_at.rfc3339nano(),
                            ends_at=a.ends_at.rfc3339nano(), generator_url=a.generator_url,
                            fingerprint=f"{a.fingerprint:016x}", status=a.status_at(n.now)) for a in n.alerts]
    return TemplateData.build(receiver=n.receiver, alerts=alerts, group_labels=n.group_labels,
                              external_url=n.external_url)


def mrkdwn_template_data(n: Notification) -> TemplateData:
    """The data for fields that become mrkdwn: every piece of text an alert supplied passes
    `alert_text` (the one rule), so a template's own mrkdwn works while alert text stays text
    and can never become a mention or a link wherever the template puts it."""
    from bot.notify.slack.mrkdwn import alert_text

    return template_data(n).escaped(alert_text)


def silence_url(base: str, labels: Mapping[str, str]) -> str:
    """An Alertmanager UI's silence form at `base`, pre-filled with these labels (as its default
    template links); "" without one."""
    if not base:
        return ""
    matchers = ",".join(f'{k}="{_matcher_value(v)}"' for k, v in sorted(labels.items()))
    return f"{base}/#/silences/new?filter={quote('{' + matchers + '}', safe='')}"


def _matcher_value(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def customised(cfg: SlackConfig) -> set[str]:
    """The fields the user wrote in the config (the others keep Alertmanager's defaults, which
    the bot's own layout replaces)."""
    return set(cfg.model_fields_set)


def build_view(n: Notification, cfg: SlackConfig, templates: Templates, *, group_id: str,
               runbook: RunbookInfo | None = None, silence_base: str = "") -> GroupView:
    """`silence_base`: the upstream Alertmanager whose silence form the links open (the bot's
    own URL has no such page)."""
    firing_alerts = [a for a in n.alerts if not a.resolved_at(n.now)]
    resolved_alerts = [a for a in n.alerts if a.resolved_at(n.now)]
    common = common_labels(n.alerts)
    names = sorted({a.name for a in n.alerts if a.name})
    alertname = common.get("alertname") or (names[0] if len(names) == 1 else f"{len(names)} alert names")
    kept = [_alert_view(a, n, common) for a in (firing_alerts + resolved_alerts)[:KEEP_ALERTS]]
    started = min((a.starts_at.ns for a in (firing_alerts or n.alerts) if not a.starts_at.is_zero), default=n.now.ns)
    view = GroupView(
        group_id=group_id, short_id=short_id(group_id), receiver=n.receiver, group_key=n.group_key,
        status=n.status(), reason=n.reason, alertname=alertname, group_labels=dict(n.group_labels),
        common_labels=common, alerts=kept, firing=len(firing_alerts), resolved=len(resolved_alerts),
        fps_firing=sorted(f"{a.fingerprint:016x}" for a in firing_alerts)[:KEEP_FINGERPRINTS],
        fps_resolved=sorted(f"{a.fingerprint:016x}" for a in resolved_alerts)[:KEEP_FINGERPRINTS],
        started_ns=started, at_ns=n.now.ns, external_url=n.external_url,
        silence_url=silence_url(silence_base, common or n.group_labels), runbook=runbook,
        silence_base=silence_base)
    view.custom = _custom(n, cfg, templates)
    return view


def _alert_view(a: Alert, n: Notification, common: Mapping[str, str]) -> AlertView:
    own = {k: v for k, v in sorted(a.labels.items()) if common.get(k) != v}
    return AlertView(fp=f"{a.fingerprint:016x}", status=a.status_at(n.now), name=a.name, labels=own,
                     summary=a.annotations.get("summary", "") or a.annotations.get("message", ""),
                     description=a.annotations.get("description", ""), starts_ns=a.starts_at.ns,
                     ends_ns=0 if a.ends_at.is_zero else a.ends_at.ns, generator_url=a.generator_url)


def _custom(n: Notification, cfg: SlackConfig, templates: Templates) -> CustomParts:
    mine = customised(cfg)
    out = CustomParts()
    wanted = [f for f in CUSTOM_TEXT_FIELDS if f in mine and getattr(cfg, f)]
    if not wanted and not cfg.fields and not cfg.actions:
        return out
    raw = template_data(n)
    safe = mrkdwn_template_data(n)
    for f in wanted:
        data = raw if f in RAW_FIELDS else safe
        value = templates.render_safe(getattr(cfg, f), data, fallback="", field=f"slack.{f}")
        setattr(out, f, value)
    for fld in cfg.fields:
        title = templates.render_safe(fld.title, safe, fallback="", field="slack.fields.title")
        value = templates.render_safe(fld.value, safe, fallback="", field="slack.fields.value")
        short = fld.short if fld.short is not None else cfg.short_fields
        if title or value:
            out.fields.append([title, value, bool(short)])
    for act in cfg.actions:
        url = templates.render_safe(act.url, raw, fallback="", field="slack.actions.url")
        text = templates.render_safe(act.text, raw, fallback="", field="slack.actions.text")
        if url and text:
            out.actions.append({"text": text, "url": url, "style": act.style})
    return out
