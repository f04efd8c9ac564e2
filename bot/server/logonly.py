"""Stand-ins for integrations the bot cannot deliver to yet: the notification is logged.

Slack and PagerDuty receivers whose integration module is not available (or not built into
this version) still get their notifications *decided* with Alertmanager's semantics; instead
of sending, the bot logs plainly where each would have gone. Once a real integration for the
same receiver and index is registered, the stand-in is not used.
"""

from __future__ import annotations

import json

from bot.config import Config
from bot.engine.engine import IntegrationRegistry
from bot.logging import get_logger
from bot.notify.base import Integration, Notification, Outcome
from bot.notify.http import HttpClient
from bot.notify.registry import build_integrations

log = get_logger("alertbot.notify")


class LogOnlyIntegration:
    bounded_by_flush = False
    log_only = True

    def __init__(self, receiver: str, name: str, index: int, send_resolved: bool, target: str) -> None:
        self.receiver = receiver
        self.name = name
        self.index = index
        self.send_resolved = send_resolved
        self.target = target

    def render(self, n: Notification) -> str:
        return json.dumps({
            "receiver": n.receiver, "integration": f"{self.name}[{self.index}]", "target": self.target,
            "groupKey": n.group_key, "status": n.status(), "reason": n.reason,
            "alerts": [{"alertname": a.labels.get("alertname", ""), "status": a.status_at(n.now),
                        "fingerprint": f"{a.fingerprint:016x}"} for a in n.alerts],
        }, ensure_ascii=False)

    async def deliver(self, payload: str) -> Outcome:
        info = json.loads(payload)
        log.info(f"notification not sent: the {self.name} integration is not available; it would have gone to "
                 f"{self.target}", receiver=info["receiver"], integration=info["integration"],
                 group_key=info["groupKey"], status=info["status"], reason=info["reason"],
                 alerts=[a["alertname"] for a in info["alerts"]])
        return Outcome.success()


def integrations_for(config: Config, http: HttpClient | None) -> IntegrationRegistry:
    """The registry's integrations, plus log-only stand-ins for what it could not build."""
    registry = build_integrations(config, http)
    by_receiver: dict[str, list[Integration]] = {}
    for rcv in config.model.receivers:
        built = list(registry.for_receiver(rcv.name))
        have = {(i.name, i.index) for i in built}
        for i, sc in enumerate(rcv.slack_configs):
            if ("slack", i) not in have:
                built.append(LogOnlyIntegration(rcv.name, "slack", i, sc.send_resolved,
                                                f"Slack {sc.channel or '(the webhook default channel)'}"))
        for i, pc in enumerate(rcv.pagerduty_configs):
            if ("pagerduty", i) not in have:
                built.append(LogOnlyIntegration(rcv.name, "pagerduty", i, pc.send_resolved,
                                                f"PagerDuty ({pc.severity or 'default'} severity)"))
        by_receiver[rcv.name] = built
    return IntegrationRegistry(by_receiver)
