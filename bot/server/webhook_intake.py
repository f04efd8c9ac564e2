"""`POST /webhook`: what an Alertmanager sends to a `webhook_configs` receiver (version 4).

Each alert is ingested by its fingerprint: firing alerts are kept alive by the re-sends, a
resolved one ends. Duplicate deliveries (HA peers, retries) merge into the same alert, and
the notification log keeps them from being notified twice. Credentials, the Content-Type
(application/json only) and the body are checked in bot.server.webhook_payload.
"""

from __future__ import annotations

from aiohttp import web

from bot.engine.timestamp import Timestamp
from bot.server.body import read_body
from bot.server.common import ready_engine, runtime
from bot.server.ingestion import store_alerts
from bot.server.webhook_payload import check_content_type, check_credentials, refuse_invalid, webhook_body_alerts


async def post_webhook(request: web.Request) -> web.Response:
    rt = runtime(request)
    check_credentials(rt.settings.webhook_auth, request)
    check_content_type(request.headers.get("Content-Type"))
    engine = ready_engine(rt)
    body = await read_body(request, rt.settings.max_body_bytes)
    config = rt.config
    alerts, errors = webhook_body_alerts(body, Timestamp.now(), config.resolve_timeout, config.matchers_mode)
    await store_alerts(rt, engine, alerts, "webhook")
    if errors:
        rt.metrics.alerts_received.labels("webhook", "invalid").inc(len(errors))
        raise refuse_invalid(errors)
    return web.Response(status=200)
