"""Reading requests: each request's head and body within a time limit, and its body within a
size limit that holds before the body is read whole.

A declared `Content-Length` over the limit is refused before a byte of the body is read; a
chunked body is refused as soon as what has arrived passes the limit. Either way the
connection is closed after the 413 rather than drained, so a client that keeps sending costs
nothing more.

Most routes take up to `--max-body-size`; those in ROUTE_BODY_LIMITS (Slack's and PagerDuty's)
have their own, and both the route's handler and a front process passing the request on read
them with it.

Slow clients (`--read-header-timeout`, `--read-body-timeout`). aiohttp has no header timeout:
its only timer before a request is the keep-alive one (an hour by default, and it must stay
long for Prometheus' and Alertmanager's kept-alive connections). `app_runner` builds the
server's connections from `Connection`, aiohttp's own connection handler (web_protocol.
RequestHandler of the pinned aiohttp) with one timer more: it starts when a connection opens
and when the first bytes of a further request arrive on an idle kept-alive connection, stops
when aiohttp has parsed the request's head, and closes the connection (one info line, no
answer) if it fires first. The body's time limit is `read_body`'s, from the handler's first
read to the body's last byte: 408 after it. A client that goes away while sending its body is
`ClientGone`, logged as one access line (status 499), not as a failure.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from bot.logging import get_logger
from bot.notify.pagerduty.webhooks import MAX_BODY_BYTES as PAGERDUTY_WEBHOOK_MAX_BODY
from bot.server import apijson

log = get_logger("alertbot.http")

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


class BodyTimeout(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


class ClientGone(Exception):
    """The client closed the connection (or broke its framing) before its body was read."""


def too_large_response(exc: BodyTooLarge) -> web.Response:
    what = f"{exc.declared} bytes" if exc.declared is not None else "more"
    message = f"request body too large: {what}, the limit is {exc.limit} bytes"
    resp = web.Response(status=413, body=apijson.error_body(413, message), content_type="application/json")
    resp.force_close()
    return resp


def timeout_response(exc: BodyTimeout) -> web.Response:
    message = f"request body not received within {_seconds(exc.seconds)}"
    resp = web.Response(status=408, body=apijson.error_body(408, message), content_type="application/json")
    resp.force_close()
    return resp


def _seconds(s: float) -> str:
    return f"{s:g}s"


async def read_body(request: web.Request, limit: int) -> bytes:
    declared = request.content_length
    if declared is not None and declared > limit:
        raise BodyTooLarge(limit, declared)
    seconds = getattr(request.protocol, "read_body_timeout", None)  # a Connection's (app_runner)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            while True:
                chunk = await request.content.readany()
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise BodyTooLarge(limit, None)
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTimeout(seconds or 0.0) from None
    except (ConnectionError, HttpProcessingError) as exc:
        # Connection lost, or a chunked body whose framing breaks off: nobody is left to answer.
        raise ClientGone(str(exc) or type(exc).__name__) from None
    return b"".join(chunks)


# ------------------------------------------------------------------------------ connections

class Connection(RequestHandler):
    """aiohttp's handler of one connection, with a time limit for each request's head (and the
    body's limit, for read_body). RequestHandler's private `_request_count` (requests parsed so
    far) and `_waiter` (set while it waits for the next request) are read, not changed; a test
    of slow clients against the real server checks them on every upgrade of the pin."""

    __slots__ = ("read_header_timeout", "read_body_timeout", "_head_timer")

    def __init__(self, manager: Any, *, read_header_timeout: float | None = None,
                 read_body_timeout: float | None = None, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.read_header_timeout = read_header_timeout or None  # 0: no limit
        self.read_body_timeout = read_body_timeout or None
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._start_head_timer()

    def data_received(self, data: bytes) -> None:
        parsed = self._request_count
        super().data_received(data)
        if self._request_count != parsed:  # a head is complete (or refused with 400)
            self._stop_head_timer()
        elif data and self._head_timer is None and self._waiter is not None and not self._waiter.done():
            self._start_head_timer()  # the first bytes of a further request on a kept-alive connection

    def connection_lost(self, exc: BaseException | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp logs a request it cannot parse (a bad request line, header or chunk: answered
        400) with a traceback; that is the client's doing, so it is one info line here."""
        exc = kw.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            peer = self.transport.get_extra_info("peername") if self.transport is not None else None
            log.info("malformed request refused: 400", remote=peer[0] if isinstance(peer, tuple) else None,
                     error=str(exc.message).strip().splitlines()[0] if exc.message else type(exc).__name__)
            return
        super().log_exception(*args, **kw)

    def _start_head_timer(self) -> None:
        if self.read_header_timeout is not None and self.transport is not None:
            self._head_timer = self._loop.call_later(self.read_header_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        log.info(f"connection closed: no complete request head within {_seconds(self.read_header_timeout or 0)}",
                 remote=peer[0] if isinstance(peer, tuple) else None)
        self.force_close()


class _Server(web.Server):
    def __call__(self) -> RequestHandler:
        return Connection(self, loop=self._loop, **self._kwargs)


# A request outside the route prefix is routed here instead (no route has it: a 404 that names
# the prefix, see middleware.not_found).
OUTSIDE_PREFIX = "/-/outside-route-prefix"


def under_prefix(message: Any, prefix: str) -> Any:
    """The request head as the routes see it: `prefix` taken off its path (Alertmanager's
    `--web.route-prefix`: every route is served under it), or moved under OUTSIDE_PREFIX."""
    url = message.url
    raw = url.raw_path
    if raw == prefix or raw.startswith(prefix + "/"):
        path = raw[len(prefix):] or "/"
    else:
        path = OUTSIDE_PREFIX + raw
    new = url.with_path(path, encoded=True, keep_query=True, keep_fragment=True)
    return message._replace(path=message.path.replace(raw, path, 1), url=new)


class _Runner(web.AppRunner):
    def __init__(self, app: web.Application, *, route_prefix: str = "", **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.route_prefix = route_prefix

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()  # starts the app and builds aiohttp's Server...
        server.__class__ = _Server  # ...which then makes Connections
        if self.route_prefix:
            make, prefix = server.request_factory, self.route_prefix
            server.request_factory = lambda message, *rest: make(under_prefix(message, prefix), *rest)
        return server


def app_runner(app: web.Application, read_header_timeout: float, read_body_timeout: float,
               route_prefix: str = "", **kwargs: Any) -> web.AppRunner:
    """An AppRunner whose connections are `Connection`s with these limits (0: none), serving
    every route under `route_prefix` ("" or a path such as "/alertmanager")."""
    return _Runner(app, read_header_timeout=read_header_timeout, read_body_timeout=read_body_timeout,
                   route_prefix=route_prefix, **kwargs)
