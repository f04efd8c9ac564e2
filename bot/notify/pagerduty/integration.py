"""One `pagerduty_configs` entry: renders Alertmanager's event at flush time, sends it when the
outbox delivers it.

Not bounded by the flush: an event PagerDuty has not accepted stays in the outbox and is
retried until it is (also across restarts), because a page that never arrives, or a resolve
that never does, is worse than a late one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config.receivers import PagerdutyConfig
from bot.notify.base import Notification, Outcome
from bot.notify.http import HttpClient, read_secret_file, url_origin
from bot.notify.pagerduty import events
from bot.notify.pagerduty.payload import encode, load, render_event, stored, template_data

if TYPE_CHECKING:
    from bot.notify.pagerduty.service import PagerDutyService


class PagerDutyIntegration:
    name = "pagerduty"
    bounded_by_flush = False

    def __init__(self, service: PagerDutyService, receiver: str, index: int, cfg: PagerdutyConfig, url: str,
                 http: HttpClient) -> None:
        self.service = service
        self.extension = service.extension  # adopted by the engine: incidents, acks, escalation
        self.receiver = receiver
        self.index = index
        self.cfg = cfg
        self.url = url
        self.http = http
        self.send_resolved = cfg.send_resolved
        self.target = f"PagerDuty Events API v2 at {url_origin(url)}"

    # ------------------------------------------------------------------ routing key
    def _key_text(self) -> str:
        """The configured routing key, before templating (raises OSError for an unreadable file)."""
        if self.cfg.routing_key:
            return self.cfg.routing_key.reveal()
        if self.cfg.routing_key_file:
            return read_secret_file(self.cfg.routing_key_file)
        return ""

    def routing_key_for_delivery(self, stored_key: str | None) -> str:
        return stored_key if stored_key is not None else self._key_text().strip()

    # ------------------------------------------------------------------ the Integration interface
    def render(self, n: Notification) -> str:
        links, details = self.service.runbook_for(n.alerts)
        event = render_event(n, self.cfg, self.service.templates, runbook_links=links, runbook_details=details)
        return stored(event, self._templated_key(n))

    def _templated_key(self, n: Notification) -> str | None:
        # Alertmanager renders the routing key as a template; only a key that *is* one is
        # kept in the outbox (it depends on the alerts). Plain keys are read when sent.
        try:
            text = self._key_text()
        except OSError:
            return None
        if "{{" not in text:
            return None
        return self.service.templates.render_safe(text, template_data(n), fallback="", field="pagerduty.routing_key")

    async def deliver(self, payload: str) -> Outcome:
        event, stored_key = load(payload)
        action = str(event.get("event_action", ""))
        try:
            key = self.routing_key_for_delivery(stored_key)
        except OSError as exc:
            return Outcome.retry(f"failed to read routing key from file: {exc.strerror or exc}")
        if not key:
            error = "routing key cannot be empty"
            return Outcome(False, False, error, effects={"action": action, "error": error})
        body = encode(event, key)
        return await events.send(self.http.session, self.url, body, self.http.timeout(self.cfg.timeout), action)
