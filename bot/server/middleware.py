"""Every request: a trace id bound to its logs, an access-log line, metrics, and no traceback
ever sent to the client (a 500 with a short message; the traceback goes to the log). A body too
large or too slow (413, 408) and a client gone before its body arrived (499, answered to nobody)
are the client's doing: the access line says so, and no traceback is logged."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from bot.logging import get_logger
from bot.server import apijson
from bot.server.body import BodyTimeout, BodyTooLarge, ClientGone, timeout_response, too_large_response
from bot.server.openapi import ApiError

log = get_logger("alertbot.http")

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_QUIET = frozenset(("healthy", "ready", "metrics"))

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def trace_id_from(header: str | None) -> str:
    """The trace id of a W3C `traceparent` header, or a new random one."""
    if header:
        m = _TRACEPARENT.match(header.strip().lower())
        if m and m.group(1) != "ff" and m.group(2) != "0" * 32 and m.group(3) != "0" * 16:
            return m.group(2)
    # Not secret, only unique: the OpenTelemetry SDK draws its ids from `random` too. (os.urandom
    # behind `secrets` was 3 % of a small request's time.)
    return f"{_random_bits(128):032x}"


_random_bits = random.Random().getrandbits  # its own generator, seeded from os.urandom


def traceparent(trace_id: str) -> str:
    """A W3C `traceparent` header that continues trace_id (with a new span id)."""
    return f"00-{trace_id}-{_random_bits(64) or 1:016x}-01"


def _api_not_found(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    """go-openapi's answers for unknown paths and methods under /api/v2."""
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = sorted(exc.allowed_methods - {"HEAD", "OPTIONS"}, key=lambda m: (m != "GET", m))
        body = apijson.error_body(405, f"method {request.method} is not allowed, but [{','.join(allowed)}] are")
        return web.Response(status=405, body=body, content_type="application/json",
                            headers={"Allow": ",".join(allowed)})
    body = apijson.error_body(404, f"path {request.path} was not found")
    return web.Response(status=404, body=body, content_type="application/json")


def client_address(request: web.Request) -> str | None:
    """The client's address. Over the engine's Unix socket (where only this server's own front
    processes connect) there is no peer address: the front's X-Forwarded-For says who it was.
    Over TCP the peer is always known, so a client cannot pass itself off with that header."""
    return request.remote or request.headers.get("X-Forwarded-For")


def make_middleware(metrics_for: Callable[[web.Request], object],
                    answered_elsewhere: Callable[[web.Request], bool] = lambda r: False) -> Callable:
    """`answered_elsewhere`: requests that get no access line and no count here (those a front
    passed on: the engine's process, which answered them, logs and counts them)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        trace_id = trace_id_from(request.headers.get("traceparent"))
        started = time.perf_counter()
        route = request.match_info.route
        name = route.name or "other"
        with structlog.contextvars.bound_contextvars(trace_id=trace_id):
            raised: web.HTTPException | None = None
            error: str | None = None
            try:
                response = await handler(request)
            except ApiError as exc:
                response = web.Response(status=exc.status, body=exc.body, headers=exc.headers)
                if exc.content_type:
                    response.content_type = exc.content_type
            except BodyTooLarge as exc:
                log.warning("request body refused: too large", path=request.path, limit=exc.limit,
                            declared=exc.declared)
                response = too_large_response(exc)
            except BodyTimeout as exc:
                response = timeout_response(exc)
                error = "request body not received in time"
            except ClientGone as exc:
                response = web.Response(status=499)  # nginx's "client closed request"; nobody reads it
                response.force_close()
                error = f"client went away before its body was read ({exc})"
            except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as exc:
                if request.path.startswith("/api/v2/"):
                    response = _api_not_found(request, exc)
                else:
                    raised = exc
            except web.HTTPException as exc:
                raised = exc
            except Exception:
                log.exception("request failed", method=request.method, path=request.path)
                response = web.Response(status=500, content_type="application/json",
                                        body=apijson.error_body(500, f"internal server error (trace id {trace_id})"))
            status = raised.status if raised is not None else response.status
            seconds = time.perf_counter() - started
            elsewhere = answered_elsewhere(request)
            metrics = None if elsewhere else metrics_for(request)
            if metrics is not None:
                metrics.http_requests.labels(name, request.method, str(status)).inc()  # type: ignore[attr-defined]
                metrics.http_duration.labels(name).observe(seconds)  # type: ignore[attr-defined]
            if not elsewhere:
                (log.debug if name in _QUIET and status < 400 else log.info)(
                    "request", method=request.method, path=request.path, status=status,
                    duration_ms=round(seconds * 1000, 2), remote=client_address(request), handler=name,
                    user_agent=request.headers.get("User-Agent", ""), **({"error": error} if error else {}))
        if raised is not None:
            raise raised
        return response

    return middleware
