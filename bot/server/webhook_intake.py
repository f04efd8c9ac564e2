"""`POST /webhook`: what an Alertmanager sends to a `webhook_configs` receiver (version 4).

Each alert is ingested by its fingerprint: firing alerts are kept alive by the re-sends, a
resolved one ends. Duplicate deliveries (HA peers, retries) merge into the same alert, and
the notification log keeps them from being notified twice. When credentials are configured
the request must carry them (bearer token or basic auth, as Alertmanager's `http_config`
sends them), compared in constant time.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from aiohttp import web

from bot.engine.ingest import InvalidAlert, webhook_alerts
from bot.engine.timestamp import Timestamp
from bot.logging import get_logger
from bot.server.body import read_body
from bot.server.common import ready_engine, runtime
from bot.server.gocompat.gojson import EmptyBody, GoSyntaxError, decode_first
from bot.server.ingestion import store_alerts
from bot.server.middleware import client_address
from bot.server.openapi import ApiError
from bot.server.settings import WebhookAuth

log = get_logger("alertbot.webhook")


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def authorized(auth: WebhookAuth | None, header: str | None) -> bool:
    if auth is None or not auth.enabled:
        return True
    if not header:
        return False
    scheme, _, cred = header.strip().partition(" ")
    cred = cred.strip()
    ok = False
    if auth.bearer_token and scheme.lower() == "bearer":
        ok = _equal(cred, auth.bearer_token)
    if auth.username is not None and scheme.lower() == "basic":
        try:
            user, sep, password = base64.b64decode(cred, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return False
        # Both compared whatever the first gives, so the time does not tell which was wrong.
        ok = bool(sep) & _equal(user, auth.username) & _equal(password, auth.password or "")
    return ok


def _challenge(auth: WebhookAuth) -> str:
    return 'Basic realm="alertbot"' if auth.username is not None else 'Bearer realm="alertbot"'


async def post_webhook(request: web.Request) -> web.Response:
    rt = runtime(request)
    auth = rt.settings.webhook_auth
    if not authorized(auth, request.headers.get("Authorization")):
        log.warning("webhook refused: missing or wrong credentials", remote=client_address(request))
        assert auth is not None
        raise ApiError.payload(401, "unauthorized").with_headers({"WWW-Authenticate": _challenge(auth)})
    engine = ready_engine(rt)
    body = await read_body(request, rt.settings.max_body_bytes)
    try:
        payload = decode_first(body)
    except EmptyBody:
        raise ApiError.payload(400, "webhook body is empty") from None
    except GoSyntaxError as exc:
        raise ApiError.payload(400, f"parsing webhook body failed, because {exc}") from None
    config = rt.config
    try:
        alerts, errors = webhook_alerts(payload, Timestamp.now(), config.resolve_timeout, config.matchers_mode)
    except InvalidAlert as exc:
        raise ApiError.payload(400, str(exc)) from None
    await store_alerts(rt, engine, alerts, "webhook")
    if errors:
        rt.metrics.alerts_received.labels("webhook", "invalid").inc(len(errors))
        raise ApiError.payload(400, "\n".join(errors))
    return web.Response(status=200)
