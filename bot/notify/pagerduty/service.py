"""The PagerDuty service: one per running bot. It makes the `pagerduty_configs` integrations
(the registry asks it), carries the engine extension that keeps incidents, and offers the
small API the chatops module calls.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from bot.config import Config
from bot.config.receivers import PagerdutyConfig
from bot.config.root import DEFAULT_PAGERDUTY_URL
from bot.engine.alert import Alert
from bot.engine.engine import Engine, Txn
from bot.logging import get_logger
from bot.notify.http import HttpClient
from bot.notify.pagerduty.extension import AckResult, PagerDutyExtension, UnknownGroup
from bot.notify.pagerduty.integration import PagerDutyIntegration
from bot.notify.pagerduty.oncall import OnCallAnswer, OnCallDirectory
from bot.notify.pagerduty.slack_seam import tell_slack
from bot.templates import Templates

log = get_logger("alertbot.pagerduty")


class PagerDutyNotConfigured(Exception):
    """No engine carries the PagerDuty extension (no pagerduty_configs receiver is configured)."""


class PagerDutyService:
    def __init__(self, http: HttpClient, *, oncall: OnCallDirectory | None = None,
                 runbooks: Any = "default") -> None:
        self.http = http
        self.extension = PagerDutyExtension(self)
        self.oncall = oncall or OnCallDirectory()
        self.templates: Templates = Templates.default()
        self.global_url = DEFAULT_PAGERDUTY_URL
        self._runbooks_setting = runbooks  # "default": $ALERTBOT_RUNBOOKS or ./runbooks; None: none; a Catalog
        self.catalog: Any = None

    # ------------------------------------------------------------------ the registry's side
    def configure(self, config: Config) -> None:
        """Takes a (re)loaded configuration: templates, the global URL, the runbook catalog."""
        self.templates = config.templates or Templates.default()
        self.global_url = config.model.global_config.pagerduty_url or DEFAULT_PAGERDUTY_URL
        if self._runbooks_setting == "default":
            try:
                from bot.runbooks import Catalog

                self.catalog = Catalog.load(templates=self.templates, matchers_mode=config.matchers_mode, quiet=True)
            except Exception as exc:  # a broken catalog must never stop paging
                log.error("pagerduty_runbooks_unavailable", error=str(exc))
                self.catalog = None
        else:
            self.catalog = self._runbooks_setting
        self._check_escalations(config)

    @staticmethod
    def _check_escalations(config: Config) -> None:
        """Says at start (and reload) when a route's escalation could page nobody."""
        for route in config.route.walk():
            esc = getattr(route.config, "escalation", None)
            if esc is None:
                continue
            rcv = config.model.receiver(esc.receiver)
            if rcv is None:
                log.error("escalation receiver does not exist: nobody will be paged", route=route.id,
                          receiver=esc.receiver)
            elif not rcv.pagerduty_configs:
                log.error("escalation receiver has no pagerduty_configs: nobody will be paged", route=route.id,
                          receiver=esc.receiver)

    def integration(self, receiver: str, index: int, cfg: PagerdutyConfig) -> PagerDutyIntegration:
        return PagerDutyIntegration(self, receiver, index, cfg, cfg.url or self.global_url, self.http)

    def runbook_for(self, alerts: Sequence[Alert]) -> tuple[list[dict[str, str]], dict[str, Any] | None]:
        """The group's runbook as Events API `links` and `custom_details.runbook` (none: [], None)."""
        if self.catalog is None or not alerts:
            return [], None
        try:
            from bot.runbooks import pagerduty_details, pagerduty_links, resolve_group, view

            chosen = resolve_group(self.catalog, alerts).runbook
            if chosen.source == "none":
                return [], None
            first = alerts[0]
            v = view(self.catalog, chosen, first.labels, first.annotations)
            return pagerduty_links(v), pagerduty_details(v)
        except Exception as exc:
            log.error("pagerduty_runbook_failed", error=str(exc))
            return [], None

    def tell_slack(self, txn: Txn, group_id: str, text: str | None, kind: str = "note") -> None:
        try:
            tell_slack(txn, group_id, text, kind)
        except Exception:
            log.exception("pagerduty_slack_note_failed", group_id=group_id)

    # ------------------------------------------------------------------ the chatops API
    @property
    def engine(self) -> Engine | None:
        return self.extension.engine

    def bind(self, engine: Engine) -> None:
        """For a caller that has the engine while no PagerDuty integration is configured."""
        if self.extension.engine is None:
            self.extension.attach(engine)

    def _engine(self) -> Engine:
        if self.extension.engine is None:
            raise PagerDutyNotConfigured("PagerDuty is not configured: no receiver has pagerduty_configs")
        return self.extension.engine

    async def who_is_on_call(self, service_or_policy: str) -> OnCallAnswer:
        """Who is on call for a PagerDuty service or escalation policy (id or name); cached for a
        minute. Raises OnCallUnavailable with a message fit for a Slack reply."""
        return await self.oncall.who_is_on_call(service_or_policy)

    async def acknowledge(self, group_id: str, actor: str, comment: str = "") -> AckResult:
        """A group acknowledged in Slack: PagerDuty gets `acknowledge` with the group's dedup_key
        (for each integration that triggered it), a pending Slack-first escalation is cancelled,
        repeats are held back. Returns once committed; the event is then in the outbox. Without
        any PagerDuty configured there is nothing to do: the result says nothing was sent."""
        if self.extension.engine is None:
            return AckResult(group_id, "", actor, False, (), False)
        engine = self.extension.engine
        return await engine.transact(lambda txn: self.extension.acknowledge(txn, group_id, actor, comment))

    async def trigger_manual(self, receiver: str, summary: str, actor: str, *, group_id: str = "",
                             severity: str = "critical", details: dict[str, Any] | None = None) -> str:
        """Pages `receiver`'s PagerDuty integrations now: for a group (its alerts, its dedup_key,
        resolved with it), or on its own (a new dedup_key "alertbot-…", never auto-resolved).
        Returns the dedup_key. Raises NotPageable / UnknownGroup."""
        engine = self._engine()
        return await engine.transact(lambda txn: self.extension.page(txn, receiver, summary, actor, group_id,
                                                                      severity, details))

    def incident(self, group_id: str) -> dict[str, Any] | None:
        """The group's PagerDuty incident as the bot knows it (None: none)."""
        return self.extension.incident_of(group_id)


_SERVICES: weakref.WeakKeyDictionary[HttpClient, PagerDutyService] = weakref.WeakKeyDictionary()


def service_for(config: Config | None, http: HttpClient) -> PagerDutyService:
    """The PagerDuty service of the bot that owns `http` (one per HTTP client, so one per
    running server), configured with `config` when given."""
    svc = _SERVICES.get(http)
    if svc is None:
        svc = PagerDutyService(http)
        _SERVICES[http] = svc
    if config is not None:
        svc.configure(config)
    return svc


__all__ = ["PagerDutyNotConfigured", "PagerDutyService", "UnknownGroup", "service_for"]
