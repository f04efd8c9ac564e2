"""Builds each receiver's integrations from the configuration (one module per integration)."""

from __future__ import annotations

import logging

from bot.config import Config
from bot.engine.engine import IntegrationRegistry
from bot.notify.base import Integration
from bot.notify.http import HttpClient
from bot.notify.webhook import WebhookIntegration

log = logging.getLogger("alertbot.notify")


def build_integrations(config: Config, http: HttpClient | None, **extras: object) -> IntegrationRegistry:
    """Webhook integrations always; Slack and PagerDuty ones when their modules provide
    `build(receiver, index, cfg, http, **extras)` (added by their own packages)."""
    by_receiver: dict[str, list[Integration]] = {}
    for rcv in config.model.receivers:
        out: list[Integration] = []
        for i, wh in enumerate(rcv.webhook_configs):
            out.append(WebhookIntegration(rcv.name, i, wh, http))
        for key, count in rcv.unsupported():
            log.warning("receiver %r: %d %s not supported by alertbot; they will not be notified", rcv.name, count, key)
        by_receiver[rcv.name] = out
    return IntegrationRegistry(by_receiver)
