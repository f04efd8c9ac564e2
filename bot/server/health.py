"""`/-/healthy`, `/-/ready` and `/-/reload`, answering as Alertmanager's do.

Ready means the database is open and the state loaded (Alertmanager is always ready); healthy
means the process is not stuck unready (below).
Reload validates the file first and keeps the running configuration when it is refused:
500 `failed to reload config: …`, as Alertmanager says it.
"""

from __future__ import annotations

from aiohttp import web

from bot.server.common import runtime
from bot.server.runtime import ReloadError

TEXT = "text/plain"


def _text(status: int, text: str, headers: dict[str, str] | None = None) -> web.Response:
    resp = web.Response(status=status, text=text, content_type=TEXT, charset="utf-8", headers=headers)
    return resp


def _not_allowed(allow: str) -> web.Response:
    # Go's http.Error: the status text and a newline.
    return _text(405, "Method Not Allowed\n", {"Allow": allow, "X-Content-Type-Options": "nosniff"})


async def healthy(request: web.Request) -> web.Response:
    """200 while the process works: it runs its engine, or is getting there, or stands by for
    the replica that holds the lease. 503 once it has not been able to run its engine for
    `--max-unready-duration` (default 2 minutes: a database it cannot reach or recover from, a
    cycle stuck that long), so that an orchestrator restarts it instead of leaving it unready."""
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD, OPTIONS")
    problem = runtime(request).liveness_problem()
    if problem is not None:
        return web.Response(status=503) if request.method == "HEAD" else _text(503, f"Unhealthy: {problem}\n")
    if request.method == "HEAD":
        return web.Response(status=200)
    return _text(200, "OK")


async def ready(request: web.Request) -> web.Response:
    if request.method not in ("GET", "HEAD"):
        return _not_allowed("GET, HEAD, OPTIONS")
    rt = runtime(request)
    if rt.ready:
        return web.Response(status=200) if request.method == "HEAD" else _text(200, "OK")
    why = rt.not_ready_reason
    return _text(503, f"Service Unavailable: {why}\n", {"Retry-After": "1"})


async def reload(request: web.Request) -> web.Response:
    if request.method != "POST":
        return _not_allowed("OPTIONS, POST")
    rt = runtime(request)
    try:
        await rt.reload()
    except ReloadError as exc:
        return _text(500, f"failed to reload config: {exc}\n", {"X-Content-Type-Options": "nosniff"})
    return web.Response(status=200)
