"""What every handler needs: the runtime, and the 503 when the engine is not ready."""

from __future__ import annotations

from aiohttp import web

from bot.engine.engine import Engine
from bot.server.openapi import ApiError
from bot.server.runtime import Runtime

RUNTIME: web.AppKey[Runtime] = web.AppKey("alertbot_runtime", Runtime)
UNAVAILABLE_HEADERS = {"Retry-After": "1"}


def runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def ready_engine(rt: Runtime) -> Engine:
    """The engine, or a 503 (Alertmanager and Prometheus retry 5xx) while it is not ready."""
    engine = rt.engine
    if engine is None or not rt.ready:
        raise ApiError.payload(503, f"alertbot is not ready: {rt.not_ready_reason}").with_headers(UNAVAILABLE_HEADERS)
    return engine
