"""Alertmanager's webhook (version 4) as a request: its credentials and its body, checked the
same way by the server's handler (bot.server.webhook_intake), a front process and the engine
applying the inbox.

When credentials are configured the request must carry them (bearer token or basic auth, as
Alertmanager's `http_config` sends them), compared in constant time. The body must be declared
`application/json`, as Alertmanager sends it: a web page can make a browser post a text/plain,
form or multipart body to any address it can reach, without asking first (no CORS preflight),
but not a JSON one.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from aiohttp import web

from bot.engine.alert import Alert
from bot.engine.ingest import InvalidAlert, webhook_alerts
from bot.engine.timestamp import Timestamp
from bot.logging import get_logger
from bot.routing.labels import go_quote
from bot.server.gocompat.gojson import EmptyBody, GoSyntaxError, decode_first
from bot.server.gocompat.gomime import MimeError, parse_media_type
from bot.server.middleware import client_address
from bot.server.openapi import JSON, ApiError
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


def check_credentials(auth: WebhookAuth | None, request: web.Request) -> None:
    """A 401 with the challenge unless the request carries the configured credentials."""
    if not authorized(auth, request.headers.get("Authorization")):
        log.warning("webhook refused: missing or wrong credentials", remote=client_address(request))
        assert auth is not None
        raise ApiError.payload(401, "unauthorized").with_headers({"WWW-Authenticate": _challenge(auth)})


def check_content_type(header: str | None) -> None:
    """415 (400 when it cannot be parsed) unless the Content-Type is application/json, in
    /api/v2/alerts' words (in the webhook's own shape: a JSON string)."""
    ct = header if header else "application/octet-stream"
    try:
        mediatype, _ = parse_media_type(ct)
    except MimeError as exc:
        raise ApiError.payload(400, f"parsing Content-Type header from {go_quote(ct)} failed, because {exc}") from None
    if mediatype.lower() != JSON:
        raise ApiError.payload(415, f"unsupported media type {go_quote(mediatype)}, only [{JSON}] are allowed")


def webhook_body_alerts(body: bytes, now: Timestamp, resolve_timeout: float,
                        mode: str = "fallback") -> tuple[list[Alert], list[str]]:
    """The valid alerts of a webhook body, and the messages of the invalid ones (an ApiError
    when the body itself is refused). The server's handler, a front process and the engine
    applying the inbox all take webhook bodies through this."""
    try:
        payload = decode_first(body)
    except EmptyBody:
        raise ApiError.payload(400, "webhook body is empty") from None
    except GoSyntaxError as exc:
        raise ApiError.payload(400, f"parsing webhook body failed, because {exc}") from None
    try:
        return webhook_alerts(payload, now, resolve_timeout, mode)
    except InvalidAlert as exc:
        raise ApiError.payload(400, str(exc)) from None


def refuse_invalid(errors: list[str]) -> ApiError:
    return ApiError.payload(400, "\n".join(errors))
