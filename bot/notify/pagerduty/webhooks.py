"""PagerDuty V3 webhooks: the signature check and the envelope.

`X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]` — HMAC-SHA256 of the raw body with the
subscription's secret, Base16; several during a secret rotation. A delivery is genuine when
any v1 signature matches any configured secret, compared in constant time, and it is checked
on the raw bytes before anything parses them.

Secrets: PAGERDUTY_WEBHOOK_SECRET (several separated by commas or whitespace, for a
rotation), or a file named by PAGERDUTY_WEBHOOK_SECRET_FILE (one or more, same separators).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.notify.pagerduty.extension import occurred_at_ns

MAX_BODY_BYTES = 256 * 1024  # PagerDuty drops any webhook above 256 KB
_SEP = re.compile(r"[\s,]+")


class WebhookSecretsError(Exception):
    """The secret file cannot be read."""


def secrets_from_env(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    text = env.get("PAGERDUTY_WEBHOOK_SECRET", "")
    path = env.get("PAGERDUTY_WEBHOOK_SECRET_FILE", "")
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise WebhookSecretsError(f"cannot read PAGERDUTY_WEBHOOK_SECRET_FILE {path}: "
                                      f"{exc.strerror or exc}") from None
    return [s for s in _SEP.split(text) if s]


def sign(secret: str, body: bytes) -> str:
    """What PagerDuty puts in the header for one secret."""
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secrets: list[str], body: bytes, header: str | None) -> bool:
    if not header or not secrets:
        return False
    given = [s.strip() for s in header.split(",") if s.strip().startswith("v1=")]
    ok = False
    for secret in secrets:
        want = sign(secret, body).encode()
        for sig in given:
            # Every pair is compared, so the time does not tell which one matched.
            ok |= hmac.compare_digest(want, sig.encode("utf-8", "replace"))
    return ok


@dataclass(frozen=True)
class Envelope:
    webhook_id: str
    event: dict[str, Any]

    @property
    def event_type(self) -> str:
        return str(self.event.get("event_type", ""))


class BadWebhook(ValueError):
    """Verified, but not a V3 webhook we can read."""


def parse(body: bytes, webhook_id_header: str | None) -> Envelope:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadWebhook(f"body is not JSON: {exc}") from None
    event = doc.get("event") if isinstance(doc, dict) else None
    if not isinstance(event, dict) or not isinstance(event.get("event_type"), str):
        raise BadWebhook("not a PagerDuty V3 webhook: expected {\"event\": {\"event_type\": …}}")
    # Deliveries are told apart by the signed event.id (X-Webhook-Id is not signed: a captured
    # body may come back under any header), and their age by the signed occurred_at.
    event_id = event.get("id")
    if not isinstance(event_id, str) or not event_id.strip():
        raise BadWebhook("not a PagerDuty V3 webhook: the event has no id")
    if len(event_id) > 200:
        raise BadWebhook("event id is too long")
    if not isinstance(event.get("occurred_at"), str) or occurred_at_ns(event) is None:
        raise BadWebhook("not a PagerDuty V3 webhook: the event has no valid occurred_at")
    webhook_id = (webhook_id_header or "").strip() or event_id
    if len(webhook_id) > 200:
        raise BadWebhook("webhook id is too long")
    return Envelope(webhook_id, event)
