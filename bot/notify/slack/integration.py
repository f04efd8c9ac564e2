"""The `slack_configs` integrations: the Web API one (a living message per group) and the
incoming-webhook one Alertmanager configs may still carry (a new message per notification).

Both are retried by the outbox until delivered (`bounded_by_flush = False`): a Slack message
is not dropped because Slack was slow or said 429; its notification-log entry is written when
the flush enqueues it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING

import aiohttp

from bot import __version__
from bot.config.receivers import SlackConfig
from bot.notify.base import Notification, Outcome
from bot.notify.http import HttpClient, read_secret_file
from bot.notify.slack.api import SlackApi
from bot.notify.slack.message import build_message, check_limits, minimal_message
from bot.notify.slack.pacing import Pacer
from bot.notify.slack.state import PAYLOAD_MARK
from bot.notify.slack.view import build_view, template_data
from bot.templates import Templates, is_valid_slack_channel

if TYPE_CHECKING:
    from bot.notify.slack.service import SlackService

log = logging.getLogger("alertbot.slack")


class SlackIntegration:
    name = "slack"
    bounded_by_flush = False

    def __init__(self, service: SlackService, receiver: str, index: int, cfg: SlackConfig, api: SlackApi) -> None:
        self.service = service
        self.receiver = receiver
        self.index = index
        self.cfg = cfg
        self.send_resolved = cfg.send_resolved
        self.api = api
        self.target = f"Slack {cfg.channel or service.settings.default_channel} (Web API)"
        self.extension = service.notifier  # adopted by the engine: the messages' state

    def render(self, n: Notification) -> str:
        return self.service.notifier.render_flush(self, n)

    async def deliver(self, payload: str) -> Outcome:
        return await self.service.sender.deliver(self, payload)

    def channel_for(self, n: Notification) -> str:
        default = self.service.settings.default_channel
        text = self.cfg.channel
        if not text:
            log.warning("receiver %s slack_configs[%d] has no channel: posting to %s", self.receiver, self.index,
                        default)
            return default
        if "{{" not in text:
            if is_valid_slack_channel(text):
                return text
            log.warning("receiver %s slack_configs[%d]: %r is not a Slack channel; posting to %s", self.receiver,
                        self.index, text, default)
            return default
        templates: Templates = self.service.templates()
        return templates.render_channel(text, template_data(n), default_channel=default)


class IncomingWebhookIntegration:
    """Alertmanager's `api_url` (an incoming webhook): Block Kit, posted as a new message each
    time; no edits, no threads, no buttons that call back (webhooks cannot be edited)."""

    name = "slack"
    bounded_by_flush = False

    def __init__(self, service: SlackService, receiver: str, index: int, cfg: SlackConfig, url: str | None,
                 url_file: str | None, http: HttpClient | None, pacer: Pacer) -> None:
        self.service = service
        self.receiver = receiver
        self.index = index
        self.cfg = cfg
        self.send_resolved = cfg.send_resolved
        self._url = url
        self._url_file = url_file
        self.http = http
        self.pacer = pacer
        self.target = f"Slack incoming webhook{' (' + cfg.channel + ')' if cfg.channel else ''}"
        self.extension = service.notifier

    def render(self, n: Notification) -> str:
        gid = str(n.extra.get("group_id") or "")
        view = build_view(n, self.cfg, self.service.templates(), group_id=gid,
                          runbook=self.service.runbook_info(n.alerts), silence_base=self.service.settings.silence_base)
        message = build_message(view, None, now_ns=n.now.ns, max_alerts=self.service.settings.max_alerts,
                                interactive=False)
        if check_limits(message):
            message = minimal_message(view, None, now_ns=n.now.ns)
        body = dict(message)
        if self.cfg.channel and "{{" not in self.cfg.channel:
            body["channel"] = self.cfg.channel
        c = view.custom
        for k in ("username", "icon_emoji", "icon_url"):
            if getattr(c, k):
                body[k] = getattr(c, k)
        return json.dumps({PAYLOAD_MARK: 1, "kind": "webhook", "gid": gid, "body": body}, ensure_ascii=False)

    def url(self) -> str:
        if self._url is not None:
            return self._url
        assert self._url_file is not None
        return read_secret_file(self._url_file)

    async def deliver(self, payload: str) -> Outcome:
        if self.http is None:
            return Outcome.permanent("no HTTP client")
        try:
            url = self.url()
        except OSError as exc:
            return Outcome.retry(f"reading the webhook URL file: {exc.strerror or exc}")
        if not url:
            return Outcome.permanent("the Slack webhook URL is empty")
        key = "webhook:" + url.rsplit("/", 1)[-1][-8:]
        await self.pacer.acquire("incoming-webhook", key)
        body = json.loads(payload)["body"]
        headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": f"alertbot/{__version__}"}
        started = time.monotonic()
        try:
            async with self.http.session.post(url, data=json.dumps(body).encode(), headers=headers,
                                              timeout=self.http.timeout(self.cfg.timeout)) as resp:
                text = (await resp.text(errors="replace"))[:300]
                retry_after = resp.headers.get("Retry-After")
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return Outcome.retry(f"{type(exc).__name__}: {exc}")
        finally:
            self.service.metrics.webhook_seconds.observe(time.monotonic() - started)
        if 200 <= resp.status < 300:
            return Outcome.success()
        error = f"incoming webhook answered {resp.status}: {text}"
        if resp.status == 429:
            seconds = float(retry_after) if retry_after and retry_after.replace(".", "", 1).isdigit() else 1.0
            self.pacer.block("incoming-webhook", key, seconds)
            return Outcome.retry(error, retry_after=seconds)
        if resp.status >= 500:
            return Outcome.retry(error)
        self.service.report_failure(self.cfg.channel or "(webhook)", text or str(resp.status), "incoming webhook")
        return Outcome(False, False, error, effects={"error": text})
