"""Stands in for an integration whose credentials are missing: logs plainly where each
notification would have gone, and counts it as delivered."""

from __future__ import annotations

import json
import logging

from bot.notify.base import Notification, Outcome

log = logging.getLogger("alertbot.notify")


class DryRunIntegration:
    bounded_by_flush = False

    def __init__(self, name: str, receiver: str, index: int, send_resolved: bool, target: str, why: str) -> None:
        self.name = name
        self.receiver = receiver
        self.index = index
        self.send_resolved = send_resolved
        self.target = target  # e.g. "Slack channel #mlops-alerts"
        self.why = why  # e.g. "SLACK_BOT_TOKEN is not set"

    def render(self, n: Notification) -> str:
        firing = sum(1 for a in n.alerts if not a.resolved_at(n.now))
        return json.dumps({"group": n.group_key, "status": n.status(), "reason": n.reason, "firing": firing,
                           "resolved": len(n.alerts) - firing,
                           "alertnames": sorted({a.labels.get("alertname", "") for a in n.alerts})})

    async def deliver(self, payload: str) -> Outcome:
        p = json.loads(payload)
        log.warning("not sent (%s): would have notified %s [receiver %s]: %s %s, %d firing, %d resolved (%s)",
                    self.why, self.target, self.receiver, p["status"].upper(), ",".join(p["alertnames"]),
                    p["firing"], p["resolved"], p["reason"])
        return Outcome.logged_only()
