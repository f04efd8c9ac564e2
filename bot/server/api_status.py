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

# The Alertmanager whose API this one answers as, checked against it and its amtool (the
# tests run both): `versionInfo.version`, which amtool compares with its own version (a
# difference is a warning on stderr before every command's output). alertbot's own version
# is in `versionInfo.branch` ("alertbot") and `revision`, and in /metrics (alertbot_build_info).
ALERTMANAGER_API_VERSION = "0.25.0"


async def get_status(request: web.Request) -> web.Response:
    rt = runtime(request)
    body = {
        "cluster": {"peers": [], "status": "disabled"},
        "config": {"original": redacted_text(rt.config)},
        "uptime": rt.started_at.rfc3339milli(),
        "versionInfo": {
            "branch": "alertbot",
            "buildDate": "",
            "buildUser": "",
            "goVersion": f"python{platform.python_version()}",
            "revision": f"alertbot {__version__}",
            "version": ALERTMANAGER_API_VERSION,
        },
    }
    return web.Response(body=apijson.body(body), content_type="application/json")


async def get_receivers(request: web.Request) -> web.Response:
    rt = runtime(request)
    body = [{"name": name} for name in rt.config.receiver_names()]
    return web.Response(body=apijson.body(body), content_type="application/json")
