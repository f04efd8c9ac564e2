"""`GET /api/v2/status` and `GET /api/v2/receivers` in Alertmanager's shapes.

`config.original` is the running file with its secrets masked (see configview): amtool's
`config show` prints it and `config routes` parses it with Alertmanager's own loader."""

from __future__ import annotations

import platform

from aiohttp import web

from bot import __version__
from bot.server import apijson
from bot.server.common import runtime
from bot.server.configview import redacted_text


async def get_status(request: web.Request) -> web.Response:
    rt = runtime(request)
    body = {
        "cluster": {"peers": [], "status": "disabled"},
        "config": {"original": redacted_text(rt.config)},
        "uptime": rt.started_at.rfc3339milli(),
        "versionInfo": {
            "branch": "",
            "buildDate": "",
            "buildUser": "",
            "goVersion": f"python{platform.python_version()}",
            "revision": "",
            "version": __version__,
        },
    }
    return web.Response(body=apijson.body(body), content_type="application/json")


async def get_receivers(request: web.Request) -> web.Response:
    rt = runtime(request)
    body = [{"name": name} for name in rt.config.receiver_names()]
    return web.Response(body=apijson.body(body), content_type="application/json")
