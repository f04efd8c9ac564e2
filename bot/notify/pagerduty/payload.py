"""Events API v2 events exactly as Alertmanager 0.25's notifier builds them
(`notify/pagerduty/pagerduty.go`, `notifyV2`), plus the bot's acknowledge and the runbook.

- `dedup_key` = lower-case hex SHA-256 of the group key (`notify.Key.Hash`), so a team that
  moves from Alertmanager's own integration keeps its incidents;
- `trigger` while any alert of the batch fires, `resolve` once all are resolved;
- `summary` = the `description` template, cut to 1024 runes with `…`; `source` defaults to
  the `client` template; `severity` to "error";
- `custom_details` = the `details` templates with Alertmanager's four defaults for missing
  keys, all strings (0.25 renders `firing`/`resolved` with `pagerduty.default.instances`);
- `images`/`links` keep only entries whose `src`/`href` renders non-empty;
- Go's JSON (HTML-escaped, sorted maps, trailing newline); an event over 512000 bytes has its
  `custom_details` replaced by Alertmanager's note.

The event is stored in the outbox without its routing key (a secret, read when it is sent);
`encode()` puts the key in front, as Go's struct order has it, and applies the size rule.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from bot.config.receivers import PagerdutyConfig
from bot.logging import get_logger
from bot.notify import gojson
from bot.notify.base import Notification
from bot.templates import AlertSnapshot, TemplateData, Templates

log = get_logger("alertbot.pagerduty")

MAX_EVENT_BYTES = 512000
MAX_SUMMARY_RUNES = 1024
TRUNCATION_MARKER = "…"
# units.MetricBytes(512000).String() is "512KB".
CUSTOM_DETAILS_REMOVED = ("Custom details have been removed because the original event exceeds the maximum size "
                          "of 512KB")
DEFAULT_SEVERITY = "error"
DEFAULT_DETAILS = {
    "firing": '{{ template "pagerduty.default.instances" .Alerts.Firing }}',
    "resolved": '{{ template "pagerduty.default.instances" .Alerts.Resolved }}',
    "num_firing": "{{ .Alerts.Firing | len }}",
    "num_resolved": "{{ .Alerts.Resolved | len }}",
}
DEFAULT_DESCRIPTION = '{{ template "pagerduty.default.description" .}}'
DEFAULT_CLIENT = '{{ template "pagerduty.default.client" . }}'
DEFAULT_CLIENT_URL = '{{ template "pagerduty.default.clientURL" . }}'

TRIGGER, ACKNOWLEDGE, RESOLVE = "trigger", "acknowledge", "resolve"


def dedup_key(group_key: str) -> str:
    """Alertmanager's `notify.Key.Hash()`: sha256 of the group key, lower-case hex."""
    return hashlib.sha256(group_key.encode("utf-8", "surrogateescape")).hexdigest()


def truncate_runes(s: str, n: int) -> tuple[str, bool]:
    """Go's `notify.TruncateInRunes`: at most n runes, the last one `…` when cut."""
    if len(s) <= n:
        return s, False
    if n <= 3:
        return s[:n], True
    return s[: n - 1] + TRUNCATION_MARKER, True


def template_data(n: Notification) -> TemplateData:
    """The `template.Data` Alertmanager's notifiers render with, from a notification."""
    alerts = [
        AlertSnapshot(labels=a.labels, annotations=a.annotations, starts_at=a.starts_at.rfc3339nano(),
                      ends_at=a.ends_at.rfc3339nano(), generator_url=a.generator_url,
                      fingerprint=f"{a.fingerprint:016x}", status=a.status_at(n.now))
        for a in n.alerts
    ]
    return TemplateData.build(receiver=n.receiver, alerts=alerts, group_labels=n.group_labels,
                              external_url=n.external_url)


def render_event(n: Notification, cfg: PagerdutyConfig, templates: Templates, *,
                 runbook_links: list[dict[str, str]] | None = None,
                 runbook_details: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The event for a flush (or an escalation), without `routing_key`, in Go's field order."""
    data = template_data(n)
    action = TRIGGER if n.status() == "firing" else RESOLVE

    def tmpl(text: str, fallback: str = "", field: str = "") -> str:
        if not text:
            return ""
        return templates.render_safe(text, data, fallback=fallback, field=f"pagerduty.{field}")

    summary, cut = truncate_runes(tmpl(cfg.description, DEFAULT_DESCRIPTION, "description"), MAX_SUMMARY_RUNES)
    if cut:
        log.warning("pagerduty_summary_truncated", group_key=n.group_key, max_runes=MAX_SUMMARY_RUNES)
    details_text = dict(cfg.details)
    for k, v in DEFAULT_DETAILS.items():
        details_text.setdefault(k, v)
    details: dict[str, Any] = {k: tmpl(v, DEFAULT_DETAILS.get(k, ""), f"details.{k}") for k, v in details_text.items()}
    if runbook_details:
        details["runbook"] = dict(runbook_details)
    payload: dict[str, Any] = {
        "summary": summary,
        "source": tmpl(cfg.source or cfg.client, DEFAULT_CLIENT, "source"),
        "severity": tmpl(cfg.severity or DEFAULT_SEVERITY, DEFAULT_SEVERITY, "severity"),
    }
    for key, text in (("class", cfg.class_), ("component", cfg.component), ("group", cfg.group)):
        value = tmpl(text, "", key)
        if value:
            payload[key] = value
    if details:
        payload["custom_details"] = gojson.gomap(details)
    event: dict[str, Any] = {"dedup_key": dedup_key(n.group_key), "event_action": action, "payload": payload}
    client = tmpl(cfg.client, DEFAULT_CLIENT, "client")
    if client:
        event["client"] = client
    client_url = tmpl(cfg.client_url, DEFAULT_CLIENT_URL, "client_url")
    if client_url:
        event["client_url"] = client_url
    images = []
    for i, img in enumerate(cfg.images):
        item = {"src": tmpl(img.src, "", f"images[{i}].src"), "alt": tmpl(img.alt, "", f"images[{i}].alt"),
                "href": tmpl(img.href, "", f"images[{i}].href")}
        if item["src"]:
            images.append(item)
    if images:
        event["images"] = images
    links = []
    for i, link in enumerate(cfg.links):
        item = {"href": tmpl(link.href, "", f"links[{i}].href"), "text": tmpl(link.text, "", f"links[{i}].text")}
        if item["href"]:
            links.append(item)
    for link in runbook_links or []:
        if link.get("href") and all(x["href"] != link["href"] for x in links):
            links.append({"href": link["href"], "text": link.get("text", "")})
    if links:
        event["links"] = links
    return event


def follow_up_event(key: str, action: str) -> dict[str, Any]:
    """An `acknowledge` or `resolve` outside a flush: only what the Events API needs."""
    return {"dedup_key": key, "event_action": action}


def encode(event: Mapping[str, Any], routing_key: str) -> bytes:
    """The request body: routing key first (Go's field order), Go's JSON, 512000-byte rule."""
    msg = {"routing_key": routing_key, **event}
    body = gojson.encode(msg).encode("utf-8", "surrogateescape")
    if len(body) > MAX_EVENT_BYTES and isinstance(msg.get("payload"), Mapping):
        log.warning("pagerduty_custom_details_removed", size=len(body), limit=MAX_EVENT_BYTES,
                    dedup_key=msg.get("dedup_key", ""))
        payload = dict(msg["payload"])
        payload["custom_details"] = {"error": CUSTOM_DETAILS_REMOVED}
        msg["payload"] = payload
        body = gojson.encode(msg).encode("utf-8", "surrogateescape")
    return body


def stored(event: Mapping[str, Any], routing_key: str | None = None) -> str:
    """The outbox payload: the event, and the routing key only when it was a template
    (rendered with the alerts, so it cannot be read again at delivery)."""
    doc: dict[str, Any] = {"event": event}
    if routing_key is not None:
        doc["routing_key"] = routing_key
    return json.dumps(doc, ensure_ascii=False)


def load(payload: str) -> tuple[dict[str, Any], str | None]:
    """(event, stored routing key or None) from an outbox payload."""
    doc = json.loads(payload)
    return doc["event"], doc.get("routing_key")
