"""Notifications and views made by hand, for the message builder's tests."""

from __future__ import annotations

from typing import Any

from bot.config import load_config_text
from bot.engine.alert import Alert
from bot.engine.timestamp import ZERO, Timestamp
from bot.notify.base import Notification
from bot.notify.slack.view import GroupView, RunbookInfo, build_view

NOW = Timestamp.parse("2026-06-01T12:00:00Z")

PLAIN = """
route:
  receiver: team
receivers:
  - name: team
    slack_configs:
      - channel: '#alerts'
"""


def make_alert(labels: dict[str, str], annotations: dict[str, str] | None = None, *, resolved: bool = False,
               started: float = -600, url: str = "http://prometheus:9090/graph?g0.expr=up") -> Alert:
    return Alert(dict(labels), dict(annotations or {}), NOW.add(started), NOW.add(-1) if resolved else ZERO, url,
                 NOW)


def notification(alerts: list[Alert], group_labels: dict[str, str] | None = None, reason: str = "first notification",
                 receiver: str = "team", external_url: str = "http://alertmanager.example:9093") -> Notification:
    return Notification(receiver, '{}:{alertname="X"}', group_labels or {"alertname": "X"}, alerts, NOW, reason,
                        external_url, "{}", {"group_id": "{}|00000000000000aa"})


def view_of(alerts: list[Alert], config: str = PLAIN, runbook: RunbookInfo | None = None, silence_base: str = "",
            **kw: Any) -> GroupView:
    cfg = load_config_text(config)
    sc = cfg.model.receivers[0].slack_configs[0]
    return build_view(notification(alerts, **kw), sc, cfg.templates, group_id="{}|00000000000000aa", runbook=runbook,
                      silence_base=silence_base)


def texts(obj: Any) -> list[str]:
    """Every text string of a message (mrkdwn and plain), for looking through it."""
    out: list[str] = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "text" and isinstance(v, str):
                out.append(v)
            else:
                out.extend(texts(v))
    elif isinstance(obj, list):
        for x in obj:
            out.extend(texts(x))
    return out
