"""The aiohttp application: routes, middleware, and the runtime's start and stop.

    app = create_app(settings)            # loads the configuration (ConfigError if it is bad)
    web.run_app(app, ...)                 # or an AppRunner, as `alertbot serve` does

Handlers live one module per concern: api_alerts, api_silences, api_status, webhook_intake,
health, metrics.
"""

from __future__ import annotations

import asyncio
import signal

from aiohttp import web

from bot import chatops
from bot.config import Config, load_config
from bot.logging import get_logger
from bot.server import api_alerts, api_silences, api_status, health, pagerduty_webhook, webhook_intake
from bot.server.common import RUNTIME
from bot.server.middleware import make_middleware
from bot.server.runtime import ReloadError, Runtime
from bot.server.settings import Settings
from bot.store.base import Store

log = get_logger("alertbot.server")

_V1_GONE = (b'{"status":"deprecated","error":"The Alertmanager v1 API was deprecated in version 0.16.0 and is '
            b'removed as of version 0.27.0 - please use the equivalent route in the v2 API"}\n')


def create_app(settings: Settings, config: Config | None = None, store: Store | None = None,
               handle_signals: bool = False) -> web.Application:
    if config is None:
        config = load_config(settings.config_path, settings.matchers_mode or "fallback")
    rt = Runtime(settings, config, store)
    app = web.Application(middlewares=[make_middleware(lambda r: r.app[RUNTIME].metrics)],
                          client_max_size=settings.max_body_bytes)
    app[RUNTIME] = rt
    r = app.router
    r.add_route("POST", "/api/v2/alerts", api_alerts.post_alerts, name="alerts_post")
    r.add_route("GET", "/api/v2/alerts", api_alerts.get_alerts, name="alerts_get")
    r.add_route("GET", "/api/v2/alerts/groups", api_alerts.get_alert_groups, name="alert_groups")
    r.add_route("GET", "/api/v2/silences", api_silences.get_silences, name="silences_get")
    r.add_route("POST", "/api/v2/silences", api_silences.post_silences, name="silences_post")
    r.add_route("GET", "/api/v2/silence/{id}", api_silences.get_silence, name="silence_get")
    r.add_route("DELETE", "/api/v2/silence/{id}", api_silences.delete_silence, name="silence_delete")
    r.add_route("GET", "/api/v2/status", api_status.get_status, name="status")
    r.add_route("GET", "/api/v2/receivers", api_status.get_receivers, name="receivers")
    r.add_route("*", "/api/v1/{tail:.*}", _v1_gone, name="api_v1")
    r.add_route("POST", "/webhook", webhook_intake.post_webhook, name="webhook")
    pagerduty_webhook.register(app)
    r.add_route("*", "/-/healthy", health.healthy, name="healthy")
    r.add_route("*", "/-/ready", health.ready, name="ready")
    r.add_route("*", "/-/reload", health.reload, name="reload")
    r.add_route("GET", "/metrics", rt.metrics.handler(), name="metrics")
    app.on_response_prepare.append(_vary_origin)
    app.on_startup.append(_start)
    app.on_cleanup.append(_stop)
    chatops.register(app)  # POST /slack/events; after _start, so that the runtime starts first
    if handle_signals:
        app.on_startup.append(_install_sighup)
    return app


async def _v1_gone(request: web.Request) -> web.Response:
    return web.Response(status=410, body=_V1_GONE, content_type="application/json")


async def _vary_origin(request: web.Request, response: web.StreamResponse) -> None:
    if request.path.startswith("/api/v2/"):
        response.headers.setdefault("Vary", "Origin")


async def _start(app: web.Application) -> None:
    await app[RUNTIME].start()


async def _stop(app: web.Application) -> None:
    await app[RUNTIME].stop()


async def _install_sighup(app: web.Application) -> None:
    rt = app[RUNTIME]
    loop = asyncio.get_running_loop()

    async def reload() -> None:
        try:
            await rt.reload()
        except ReloadError:
            pass  # logged by the runtime; the running configuration stays
        except Exception:
            log.exception("reload on SIGHUP failed")

    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reload()))
