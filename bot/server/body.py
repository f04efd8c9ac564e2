"""Reading request bodies with a size limit that holds before the body is read whole.

A declared `Content-Length` over the limit is refused before a byte of the body is read; a
chunked body is refused as soon as what has arrived passes the limit. Either way the
connection is closed after the 413 rather than drained, so a client that keeps sending costs
nothing more.

Most routes take up to `--max-body-size`; those in ROUTE_BODY_LIMITS (Slack's and PagerDuty's)
have their own, and both the route's handler and a front process passing the request on read
them with it.
"""

from __future__ import annotations

from aiohttp import web

from bot.notify.pagerduty.webhooks import MAX_BODY_BYTES as PAGERDUTY_WEBHOOK_MAX_BODY
from bot.server import apijson

SLACK_EVENTS_MAX_BODY = 1024 * 1024  # Slack's payloads are far smaller; a bigger body is not Slack

# Routes with a limit of their own, by path (--max-body-size is every other route's).
ROUTE_BODY_LIMITS: dict[str, int] = {
    "/slack/events": SLACK_EVENTS_MAX_BODY,
    "/pagerduty/webhook": PAGERDUTY_WEBHOOK_MAX_BODY,
}


def body_limit(path: str, max_body_bytes: int) -> int:
    """The most a request to `path` may carry."""
    return ROUTE_BODY_LIMITS.get(path, max_body_bytes)


class BodyTooLarge(Exception):
    def __init__(self, limit: int, declared: int | None) -> None:
        super().__init__(limit, declared)
        self.limit = limit
        self.declared = declared


def too_large_response(exc: BodyTooLarge) -> web.Response:
    what = f"{exc.declared} bytes" if exc.declared is not None else "more"
    message = f"request body too large: {what}, the limit is {exc.limit} bytes"
    resp = web.Response(status=413, body=apijson.error_body(413, message), content_type="application/json")
    resp.force_close()
    return resp


async def read_body(request: web.Request, limit: int) -> bytes:
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit, declared)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit, None)
        chunks.append(chunk)
    return b"".join(chunks)
