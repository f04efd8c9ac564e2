"""The Slack Web API as the bot uses it: slack-sdk's `AsyncWebClient` on the bot's one
long-lived aiohttp session, every call paced (`Pacer`) and answered as a `CallResult` that
says what happened in the terms delivery needs — done, retry (when), give up, or *maybe
done* (the request may have reached Slack: a timeout, a dropped connection, `fatal_error`).

No retries happen here: slack-sdk's retry handlers are switched off, and the outbox's one
retry policy decides (a 429's `Retry-After` is passed up, and blocks the method in that
channel meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.notify.slack.pacing import Pacer

log = logging.getLogger("alertbot.slack")

# ok:false errors that will not go away by trying again (Slack's method documentation).
PERMANENT = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "channel_is_archived", "invalid_auth", "not_authed",
    "account_inactive", "token_revoked", "token_expired", "no_permission", "missing_scope", "not_allowed_token_type",
    "restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel", "ekm_access_denied", "as_user_not_supported", "invalid_arguments",
    "invalid_arg_name", "invalid_blocks", "invalid_blocks_format", "invalid_attachments", "msg_too_long",
    "msg_blocks_too_long", "no_text", "too_many_attachments", "invalid_metadata_format", "invalid_metadata_schema",
    "metadata_too_large", "invalid_charset", "invalid_form_data", "invalid_post_type", "missing_post_type",
    "team_access_not_granted", "two_factor_setup_required", "cant_update_message", "message_not_found",
    "edit_window_closed", "update_failed", "thread_not_found", "invalid_ts_latest", "invalid_ts_oldest",
    "invalid_cursor", "invalid_limit", "method_deprecated", "deprecated_endpoint", "duplicate_channel_not_found",
    "duplicate_message_not_found", "cannot_reply_to_message", "not_authorized",
})
# ok:false errors worth another try (the outbox backs off).
RETRYABLE = frozenset({
    "ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout",
    "team_added_to_org", "org_login_required", "message_limit_exceeded", "timeout",
})
# ...of which these may have taken effect before Slack gave up.
MAYBE_DONE = frozenset({"fatal_error", "internal_error", "request_timeout", "timeout"})
# How a message that Slack refuses for its content is recovered: a simpler message.
CONTENT_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "invalid_attachments", "msg_too_long",
                            "msg_blocks_too_long", "invalid_metadata_format", "invalid_metadata_schema",
                            "metadata_too_large"})
# chat.update: the parent is gone or cannot be edited any more; post a new one.
GONE = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# Errors that mean the bot as a whole cannot talk to Slack (reported in its status).
AUTH_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
                         "missing_scope", "not_allowed_token_type"})
WRITES = frozenset({"chat.postMessage", "chat.update"})


@dataclass(slots=True)
class CallResult:
    method: str
    ok: bool
    kind: str  # ok | retry | permanent
    error: str = ""
    status: int = 0
    retry_after: float | None = None
    maybe_done: bool = False  # the call may have taken effect although it failed
    data: dict[str, Any] = field(default_factory=dict)
    waited: float = 0.0

    def describe(self) -> str:
        where = f"HTTP {self.status}" if self.status else "no response"
        return f"{self.method}: {self.error} ({where})"


def classify(method: str, error: str, status: int) -> tuple[str, bool]:
    """(kind, maybe_done) for a failed call."""
    if status == 429 or error in ("ratelimited", "rate_limited"):
        return "retry", False
    if status >= 500:
        return "retry", method in WRITES
    if error in PERMANENT:
        return "permanent", False
    if error in RETRYABLE:
        return "retry", error in MAYBE_DONE and method in WRITES
    # An error Slack added after this was written: try again, with backoff (the sender caps it).
    return "retry", False


def proxy_for(url: str, explicit: str | None) -> str | None:
    """The proxy to reach Slack through. slack-sdk reads HTTPS_PROXY itself but ignores
    NO_PROXY; we decide here and tell it."""
    if explicit is not None:
        return explicit or None
    host = urlsplit(url).hostname or ""
    if host in ("127.0.0.1", "localhost", "::1") or urllib.request.proxy_bypass(host):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(urlsplit(url).scheme) or None


class SlackApi:
    def __init__(self, token: str, base_url: str, session: aiohttp.ClientSession | None, pacer: Pacer, *,
                 timeout: float = 30.0, proxy: str | None = None, observer: Any = None) -> None:
        if not base_url.endswith("/"):
            base_url += "/"
        self.base_url = base_url
        self.client = AsyncWebClient(token=token, base_url=base_url, session=session, timeout=int(timeout),
                                     retry_handlers=[], logger=logging.getLogger("alertbot.slack.sdk"))
        # slack-sdk took HTTPS_PROXY from the environment without looking at NO_PROXY.
        self.client.proxy = proxy_for(base_url, proxy)
        self.pacer = pacer
        self.timeout = timeout
        self._observer = observer  # (CallResult, seconds) -> None

    async def call(self, method: str, *, paced: bool = True, before: Any = None, **args: Any) -> CallResult:
        """One call; `args` are the method's (its `channel` is also what the call is paced by).
        `before`, if given, is awaited once the call's turn has come, just before it is sent;
        if it returns a CallResult, that is the answer and nothing is sent."""
        channel = str(args.get("channel") or "")
        waited = await self.pacer.acquire(method, channel, paced=paced and method in WRITES)
        if before is not None:
            stop = await before()
            if isinstance(stop, CallResult):
                return stop
        started = time.monotonic()
        result = await self._call(method, args)
        result.waited = waited
        if result.status == 429 or result.error in ("ratelimited", "rate_limited"):
            self.pacer.block(method, channel, result.retry_after if result.retry_after is not None else 1.0)
        if self._observer is not None:
            self._observer(result, time.monotonic() - started)
        return result

    async def _call(self, method: str, args: dict[str, Any]) -> CallResult:
        fn = getattr(self.client, _python_name(method))
        try:
            resp = await asyncio.wait_for(fn(**args), timeout=self.timeout)
            return CallResult(method, True, "ok", status=resp.status_code, data=dict(resp.data))
        except SlackApiError as exc:
            r = exc.response
            status = int(getattr(r, "status_code", 0) or 0)
            data = r.data if isinstance(getattr(r, "data", None), dict) else {}
            error = str(data.get("error") or (f"http_{status}" if status else "unknown_error"))
            kind, maybe = classify(method, error, status)
            return CallResult(method, False, kind, error, status, _retry_after(getattr(r, "headers", {}) or {}),
                              maybe, data)
        except aiohttp.ClientConnectorError as exc:  # never reached Slack
            return CallResult(method, False, "retry", f"cannot connect: {exc.os_error or exc}")
        except (TimeoutError, asyncio.TimeoutError):
            return CallResult(method, False, "retry", f"no answer within {self.timeout:g}s",
                              maybe_done=method in WRITES)
        except (aiohttp.ClientError, OSError) as exc:
            return CallResult(method, False, "retry", f"{type(exc).__name__}: {exc}", maybe_done=method in WRITES)


def _python_name(method: str) -> str:
    return method.replace(".", "_")


def _retry_after(headers: Any) -> float | None:
    try:
        value = headers.get("Retry-After") or headers.get("retry-after")
    except AttributeError:
        return None
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except (TypeError, ValueError):
        return None


def env_proxy() -> str | None:
    """ALERTBOT_SLACK_PROXY: a proxy for Slack only ("" = none, even if HTTPS_PROXY is set)."""
    return os.environ.get("ALERTBOT_SLACK_PROXY")
