"""`webhook_configs`: Alertmanager's version-4 webhook payload, byte for byte.

Fields in Alertmanager's order (template.Data, then version, groupKey, truncatedAlerts),
Go's JSON encoding (HTML-escaped, sorted maps, trailing newline), firing alerts with the zero
`endsAt`, `max_alerts` truncation, and today's `notification_reason` and `routeLabels`.
Retries: 5xx and transport errors, until the flush deadline; anything else is final.
"""

from __future__ import annotations

import asyncio
import re

import aiohttp

from bot import __version__
from bot.config.receivers import WebhookConfig
from bot.engine.alert import Alert
from bot.notify import gojson
from bot.notify.base import Notification, Outcome
from bot.notify.http import HttpClient, hide_url, read_secret_file
from bot.routing.labels import common_pairs

_QUOTE_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def quote_meta(s: str) -> str:
    """Go's regexp.QuoteMeta (Alertmanager passes the receiver name through it)."""
    return _QUOTE_META.sub(r"\\\1", s)


def alert_json(a: Alert, now_status: str) -> dict:
    return {
        "status": now_status,
        "labels": gojson.gomap(a.labels),
        "annotations": gojson.gomap(a.annotations),
        "startsAt": a.starts_at.rfc3339nano(),
        "endsAt": a.ends_at.rfc3339nano(),
        "generatorURL": a.generator_url,
        "fingerprint": f"{a.fingerprint:016x}",
    }


def alert_fragment(a: Alert, status: str) -> str:
    """The alert's JSON in the payload, rendered once per (status, times) and cached on it."""
    cache = a.cache
    key = ("webhook", status, a.starts_at.ns, a.starts_at.offset, a.ends_at.ns, a.ends_at.offset)
    if cache is not None:
        hit = cache.get(key)
        if hit is not None:
            return hit
    text = gojson.fast_dumps(alert_json(a, status))
    if cache is not None:
        cache[key] = text
    return text


def payload(n: Notification, max_alerts: int = 0) -> str:
    alerts = n.alerts
    truncated = 0
    if max_alerts and len(alerts) > max_alerts:
        truncated = len(alerts) - max_alerts
        alerts = alerts[:max_alerts]
    now = n.now
    statuses = [a.status_at(now) for a in alerts]
    dumps = gojson.fast_dumps
    # Field by field in Alertmanager's order; the alerts are pre-rendered fragments.
    return "".join((
        '{"receiver":', dumps(quote_meta(n.receiver)),
        ',"status":', '"firing"' if "firing" in statuses else '"resolved"',
        ',"alerts":[', ",".join(alert_fragment(a, s) for a, s in zip(alerts, statuses, strict=True)),
        '],"notification_reason":', dumps(n.reason),
        ',"groupLabels":', dumps(gojson.gomap(n.group_labels)),
        ',"commonLabels":', dumps(gojson.gomap(common_pairs(a.labels for a in alerts))),
        ',"commonAnnotations":', dumps(gojson.gomap(common_pairs(a.annotations for a in alerts))),
        ',"routeLabels":{}',
        ',"externalURL":', dumps(n.external_url),
        ',"version":"4"',
        ',"groupKey":', dumps(n.group_key),
        ',"truncatedAlerts":', str(truncated),
        "}\n",
    ))


class WebhookIntegration:
    name = "webhook"
    bounded_by_flush = True

    def __init__(self, receiver: str, index: int, cfg: WebhookConfig, http: HttpClient | None) -> None:
        self.receiver = receiver
        self.index = index
        self.cfg = cfg
        self.send_resolved = cfg.send_resolved
        self.http = http

    def render(self, n: Notification) -> str:
        return payload(n, self.cfg.max_alerts)

    def url(self) -> str:
        if self.cfg.url:
            return self.cfg.url.reveal()
        return read_secret_file(self.cfg.url_file)

    async def deliver(self, body: str) -> Outcome:
        if self.http is None:
            return Outcome.permanent("no HTTP client")
        try:
            url = self.url()
        except OSError as exc:
            return Outcome.retry(f"reading url_file: {exc.strerror or exc}")
        if not url:
            return Outcome.permanent("webhook url is empty")
        headers = {"Content-Type": "application/json", "User-Agent": f"alertbot/{__version__}"}
        headers.update(self.http.auth_headers(self.cfg.http_config))
        try:
            async with self.http.session.post(url, data=body.encode(), headers=headers,
                                              timeout=self.http.timeout(self.cfg.timeout)) as resp:
                text = await resp.text(errors="replace")
                if 200 <= resp.status < 300:
                    return Outcome.success()
                error = f"unexpected status code {resp.status}: {text[:512]}"
                if 500 <= resp.status < 600:
                    return Outcome.retry(error)
                return Outcome.permanent(error)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            # aiohttp names the whole URL in some errors (InvalidURL, redirects): its path may be a token.
            return Outcome.retry(hide_url(f"{type(exc).__name__}: {exc}", url))
