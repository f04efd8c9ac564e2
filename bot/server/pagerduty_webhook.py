"""`POST /pagerduty/webhook`: PagerDuty's V3 webhooks (incident acknowledged, unacknowledged,
resolved, reopened, escalated, reassigned…) back into the group they are about.

Order of work, so that nothing unverified is ever parsed or stored:
1. read the raw body (at most 256 KiB, PagerDuty's own limit);
2. check `X-PagerDuty-Signature` against the configured secrets (any `v1=` signature, constant
   time): none configured, missing or wrong → 401;
3. parse the V3 envelope → 400 if it is not one;
4. in one engine cycle: refuse (400, nothing changes) an event already seen — by its signed
   `event.id`, or the delivery's `X-Webhook-Id` — and one whose signed `occurred_at` is outside
   the window (WEBHOOK_WINDOW_S, 30 minutes, either way); else record the id and apply the
   event to the incident and its group, unless the incident already had a newer event (then
   it is only recorded: "outdated"); answer 202 once committed.

PagerDuty retries 5xx and timeouts (not 4xx) for about 20 minutes, so a replay of a delivery
we answered is refused while a delivery we could not store (503) is tried again.
"""

from __future__ import annotations

from aiohttp import web

from bot.logging import get_logger
from bot.notify.pagerduty import service_for
from bot.notify.pagerduty.webhooks import (
    MAX_BODY_BYTES,
    BadWebhook,
    WebhookSecretsError,
    parse,
    secrets_from_env,
    verify,
)
from bot.server.body import read_body
from bot.server.common import ready_engine, runtime
from bot.server.middleware import client_address

log = get_logger("alertbot.pagerduty.webhook")

PATH = "/pagerduty/webhook"
REFUSED = {"duplicate": "already processed", "too_old": "older than the retry window",
           "from_the_future": "occurred_at is ahead of this bot's clock", "invalid": "not a usable V3 event"}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"status": "error", "message": message}, status=status)


async def post_pagerduty_webhook(request: web.Request) -> web.Response:
    rt = runtime(request)
    body = await read_body(request, MAX_BODY_BYTES)
    try:
        secrets = secrets_from_env()
    except WebhookSecretsError as exc:
        log.error("pagerduty webhook refused: its secret cannot be read", error=str(exc))
        return _error(401, "PagerDuty webhooks cannot be verified: the signing secret cannot be read")
    if not secrets:
        log.warning("pagerduty webhook refused: no signing secret is configured (PAGERDUTY_WEBHOOK_SECRET)")
        return _error(401, "PagerDuty webhooks are not accepted: no signing secret is configured")
    header = request.headers.get("X-PagerDuty-Signature")
    if not verify(secrets, body, header):
        log.warning("pagerduty webhook refused: signature missing or wrong", remote=client_address(request),
                    signature="missing" if not header else "wrong")
        return _error(401, "invalid or missing X-PagerDuty-Signature")
    try:
        envelope = parse(body, request.headers.get("X-Webhook-Id"))
    except BadWebhook as exc:
        return _error(400, str(exc))
    engine = ready_engine(rt)
    ext = engine.extension("pagerduty")
    if ext is None:  # no pagerduty_configs: webhooks are still de-duplicated and recorded
        svc = service_for(None, rt.http)  # type: ignore[arg-type]
        svc.bind(engine)
        ext = svc.extension
    result = await engine.transact(lambda txn: ext.apply_webhook(txn, envelope.webhook_id, envelope.event))  # type: ignore[attr-defined]
    if result.outcome in REFUSED:
        log.warning(f"pagerduty webhook refused: {REFUSED[result.outcome]}", webhook_id=envelope.webhook_id,
                    event_id=envelope.event.get("id"), occurred_at=envelope.event.get("occurred_at"),
                    detail=result.detail)
        return _error(400, result.detail)
    log.info("pagerduty webhook", webhook_id=envelope.webhook_id, event_type=envelope.event_type,
             outcome=result.outcome, detail=result.detail, group_id=result.group_id)
    return web.json_response({"status": "accepted", "outcome": result.outcome, "detail": result.detail},
                             status=202)


def register(app: web.Application) -> None:
    app.router.add_route("POST", PATH, post_pagerduty_webhook, name="pagerduty_webhook")
