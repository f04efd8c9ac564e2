"""Builds each receiver's integrations from the configuration (one module per integration).

Slack and PagerDuty integrations come from their services (`bot.notify.slack`,
`bot.notify.pagerduty`), passed in when their credentials are configured; without them each
such integration is a dry run that logs where the notification would have gone.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from bot.config import Config
from bot.engine.engine import IntegrationRegistry
from bot.notify.base import Integration
from bot.notify.dryrun import DryRunIntegration
from bot.notify.http import HttpClient
from bot.notify.webhook import WebhookIntegration

log = logging.getLogger("alertbot.notify")


class IntegrationFactory(Protocol):
    """A configured service (Slack, PagerDuty) that makes one integration per config entry."""

    def integration(self, receiver: str, index: int, cfg: Any) -> Integration: ...


def build_integrations(config: Config, http: HttpClient | None, *, slack: IntegrationFactory | None = None,
                       pagerduty: IntegrationFactory | None = None) -> IntegrationRegistry:
    if pagerduty is None and http is not None:
        from bot.notify.pagerduty import service_for

        pagerduty = service_for(config, http)
    elif pagerduty is not None and hasattr(pagerduty, "configure"):
        pagerduty.configure(config)
    if slack is None and http is not None:
        from bot.notify.slack import service_for as slack_service_for

        slack = slack_service_for(http)
    by_receiver: dict[str, list[Integration]] = {}
    for service in (slack, pagerduty):
        prepare = getattr(service, "prepare", None)
        if prepare is not None:  # a service that needs the whole configuration (globals, templates)
            prepare(config)
    for rcv in config.model.receivers:
        out: list[Integration] = []
        for i, wh in enumerate(rcv.webhook_configs):
            out.append(WebhookIntegration(rcv.name, i, wh, http))
        for i, sc in enumerate(rcv.slack_configs):
            if slack is not None:
                out.append(slack.integration(rcv.name, i, sc))
            else:
                out.append(DryRunIntegration("slack", rcv.name, i, sc.send_resolved,
                                             f"Slack channel {sc.channel or '(default)'}", "SLACK_BOT_TOKEN is not set"))
        for i, pd in enumerate(rcv.pagerduty_configs):
            missing = _missing_routing_key(pd)
            if pagerduty is not None and not missing:
                out.append(pagerduty.integration(rcv.name, i, pd))
            else:
                dry = DryRunIntegration("pagerduty", rcv.name, i, pd.send_resolved, "PagerDuty (Events API v2)",
                                        missing or "no HTTP client")
                # A dry run keeps the incident extension: escalation and acks are still tracked.
                dry.extension = getattr(pagerduty, "extension", None)  # type: ignore[attr-defined]
                out.append(dry)
        for key, count in rcv.unsupported():
            log.warning("receiver %r: %d %s not supported by alertbot; they will not be notified", rcv.name, count, key)
        by_receiver[rcv.name] = out
    return IntegrationRegistry(by_receiver)


def _missing_routing_key(pd: Any) -> str:
    """Why a `pagerduty_configs` entry cannot send (no routing key), or ""."""
    if pd.routing_key:
        if pd.routing_key.reveal():
            return ""
        return f"{pd.routing_key.env_name} is not set" if pd.routing_key.env_name else "the routing key is empty"
    if pd.routing_key_file:
        return ""  # read at each delivery: a missing file is retried, as a secret mount may come late
    if pd.service_key or pd.service_key_file:
        return "service_key (Events API v1) is not supported; use routing_key"
    return "no PagerDuty routing key is configured"
