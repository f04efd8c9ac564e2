"""A fake Slack Socket Mode endpoint: `apps.connections.open` and the websocket it hands out.

As Slack does it (docs.slack.dev, Socket Mode): the app calls `apps.connections.open` with its
app-level token (`Authorization: Bearer xapp-…`) and gets `{"ok": true, "url": "wss://…"}`;
on that websocket Slack first sends `{"type": "hello", …}`, then envelopes

    {"envelope_id": "…", "type": "slash_commands" | "interactive" | "events_api",
     "accepts_response_payload": bool, "retry_attempt": n, "retry_reason": "…", "payload": {…}}

which the app acknowledges by sending back `{"envelope_id": "…"[, "payload": {…}]}`. A wrong
or missing token gets `{"ok": false, "error": "invalid_auth"}` (or `not_authed`); a bot token
gets `not_allowed_token_type`.

    sm = FakeSocketMode(app_token="xapp-1-test")
    await sm.start()                      # sm.api_url: the Web API base for apps.connections.open
    await sm.wait_connected(timeout)
    ack, seconds = await sm.deliver("slash_commands", payload)   # waits for the app's ack
    sm.acks, sm.opened                    # what came back, and each apps.connections.open call

A fake Slack Web API can forward its own `apps.connections.open` here (`open_connection`).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web


@dataclass
class Ack:
    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float  # from the envelope being sent to its ack arriving


class FakeSocketMode:
    def __init__(self, app_token: str = "xapp-1-A0FAKE-1-test", app_id: str = "A0FAKE0001") -> None:
        self.app_token = app_token
        self.app_id = app_id
        self.port = 0
        self.opened: list[dict[str, Any]] = []
        self.acks: list[Ack] = []
        self.unknown: list[Any] = []  # messages from the app that are not acks
        self._ws: list[web.WebSocketResponse] = []
        self._waiting: dict[str, asyncio.Future[Ack]] = {}
        self._sent_at: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._connected = asyncio.Event()
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ server
    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/apps.connections.open", self._open_http)
        app.router.add_get("/link", self._link)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ws in list(self._ws):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def open_connection(self, token: str | None) -> dict[str, Any]:
        """`apps.connections.open` as Slack answers it for this token."""
        self.opened.append({"at": time.time(), "token_ok": token == self.app_token})
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token.startswith("xoxb-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        ticket = f"ticket-{next(self._ids)}"
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link?ticket={ticket}&app_id={self.app_id}"}

    async def _open_http(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        return web.json_response(self.open_connection(token))

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._ws.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(self._ws),
                                      "debug_info": {"host": "applink-fake", "build_number": 1,
                                                     "approximate_connection_time": 18060},
                                      "connection_info": {"app_id": self.app_id}}))
        self._connected.set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    doc = json.loads(msg.data)
                except ValueError:
                    self.unknown.append(msg.data)
                    continue
                eid = doc.get("envelope_id") if isinstance(doc, dict) else None
                if not eid:
                    self.unknown.append(doc)
                    continue
                ack = Ack(eid, doc.get("payload"), time.monotonic() - self._sent_at.get(eid, time.monotonic()))
                self.acks.append(ack)
                fut = self._waiting.pop(eid, None)
                if fut is not None and not fut.done():
                    fut.set_result(ack)
        finally:
            if ws in self._ws:
                self._ws.remove(ws)
            if not self._ws:
                self._connected.clear()
        return ws

    # ------------------------------------------------------------------ driving
    async def wait_connected(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def deliver(self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool = True,
                      retry_attempt: int = 0, envelope_id: str | None = None, timeout: float = 10.0) -> Ack:
        """Sends one envelope on the newest connection and waits for the app's acknowledgement."""
        if not self._ws:
            raise AssertionError("fake Socket Mode: no app is connected")
        eid = envelope_id or f"env-{next(self._ids)}-{int(time.time() * 1000)}"
        envelope = {"envelope_id": eid, "type": kind, "accepts_response_payload": accepts_response_payload,
                    "retry_attempt": retry_attempt, "retry_reason": "timeout" if retry_attempt else "",
                    "payload": payload}
        fut: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._waiting[eid] = fut
        self._sent_at[eid] = time.monotonic()
        await self._ws[-1].send_str(json.dumps(envelope))
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise AssertionError(f"fake Socket Mode: no ack for envelope {eid} within {timeout}s") from None
