"""Handing validated alerts to the engine: 2xx only once they are durably stored."""

from __future__ import annotations

import asyncio

from bot.engine.alert import Alert
from bot.engine.engine import Engine, Overloaded
from bot.logging import get_logger
from bot.server.common import UNAVAILABLE_HEADERS
from bot.server.openapi import ApiError
from bot.server.runtime import Runtime
from bot.store.base import StoreUnavailable

log = get_logger("alertbot.ingest")

# An answer is owed even if the engine never gets to commit (a bug, a hung database): after
# this long the client gets a 503 and retries; a retry of stored alerts merges harmlessly.
STORE_TIMEOUT_S = 30.0


def not_stored(source: str, alerts: int, exc: StoreUnavailable) -> ApiError:
    """What a client is told when the database did not take its alerts (logged here)."""
    log.error("alerts not stored: database unavailable", source=source, alerts=alerts, error=str(exc))
    return ApiError.payload(503, "alerts not stored: the database is unavailable; retry later").with_headers(
        UNAVAILABLE_HEADERS)


async def store_alerts(rt: Runtime, engine: Engine, alerts: list[Alert], source: str) -> None:
    """Returns once the alerts are committed; raises a 503 ApiError when they were not stored."""
    if not alerts:
        return
    counter = rt.metrics.alerts_received
    try:
        future = engine.enqueue_alerts(alerts)
    except Overloaded as exc:
        counter.labels(source, "unavailable").inc(len(alerts))
        log.warning("alerts refused: overloaded", source=source, alerts=len(alerts), reason=str(exc))
        raise ApiError.payload(503, f"alertbot is overloaded ({exc}); retry later").with_headers(
            UNAVAILABLE_HEADERS) from None
    try:
        await asyncio.wait_for(asyncio.shield(future), timeout=STORE_TIMEOUT_S)
    except TimeoutError:
        counter.labels(source, "unavailable").inc(len(alerts))
        log.error("alerts not confirmed as stored in time", source=source, alerts=len(alerts),
                  timeout_seconds=STORE_TIMEOUT_S)
        raise ApiError.payload(503, "alerts not confirmed as stored in time; retry later").with_headers(
            UNAVAILABLE_HEADERS) from None
    except StoreUnavailable as exc:
        counter.labels(source, "unavailable").inc(len(alerts))
        raise not_stored(source, len(alerts), exc) from None
    counter.labels(source, "accepted").inc(len(alerts))
