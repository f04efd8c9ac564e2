"""The Events API v2 client: one POST to one endpoint, on the bot's aiohttp session.

Each call is one attempt; what happens next is the delivery worker's one retry policy
(bounded exponential backoff with jitter, a peer's Retry-After honoured), told through the
Outcome, as PagerDuty documents it:

    202 (any 2xx)     delivered
    400               never retried: the event is invalid; PagerDuty's `message: errors` in the error
    429               retried (rate limit, about 120 events a minute per integration key)
    5xx               retried
    network, timeout  retried
    anything else     not retried (Alertmanager's Retrier treats other 4xx the same way)
"""

from __future__ import annotations

import asyncio
import json

import aiohttp

from bot import __version__
from bot.notify.base import Outcome

USER_AGENT = f"alertbot/{__version__}"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: rare for PagerDuty; the policy's backoff applies
    return seconds if seconds >= 0 else None


def pagerduty_error(status: int, text: str) -> str:
    """Alertmanager's `errDetails` for a 400 (`message: error1,error2`), else the body's start."""
    if status == 400:
        try:
            doc = json.loads(text)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            errors = doc.get("errors") or []
            if not isinstance(errors, list):
                errors = [errors]
            return f"{doc.get('message', '')}: {','.join(str(e) for e in errors)}"
    return text[:512]


async def send(session: aiohttp.ClientSession, url: str, body: bytes, timeout: aiohttp.ClientTimeout,
               action: str = "") -> Outcome:
    """One attempt to POST an event. Never raises for transport problems."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    try:
        async with session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False) as resp:
            text = await resp.text(errors="replace")
            status = resp.status
            if 200 <= status < 300:
                key = ""
                try:
                    doc = json.loads(text)
                    if isinstance(doc, dict):
                        key = str(doc.get("dedup_key") or "")
                except ValueError:
                    pass
                return Outcome.success(status=status, action=action, dedup_key=key)
            detail = pagerduty_error(status, text)
            error = f"unexpected status code {status}: {detail}"
            if status == 429:
                return Outcome.retry(error, retry_after=_retry_after(resp.headers.get("Retry-After")))
            if 500 <= status < 600:
                return Outcome.retry(error)
            return Outcome(False, False, error, effects={"status": status, "action": action, "error": error})
    except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        return Outcome.retry(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
