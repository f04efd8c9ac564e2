"""Reading request bodies with a size limit that holds before the body is read whole.

A declared `Content-Length` over the limit is refused before a byte of the body is read; a
chunked body is refused as soon as what has arrived passes the limit. Either way the
connection is closed after the 413 rather than drained, so a client that keeps sending costs
nothing more.
"""

from __future__ import annotations

from aiohttp import web

from bot.server import apijson


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
