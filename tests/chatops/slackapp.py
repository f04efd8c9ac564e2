"""Slack as a Slack app sees it, for the chatops tests: the fake Web API (tests/fakes/slack.py)
with the methods an interactive app also calls, the `response_url` endpoint, and a client that
sends what Slack sends to the app — signed exactly as Slack signs it.

    slack = FakeSlackApp(channels=["#alerts"], token="xoxb-test")
    await slack.start()
    slack.usergroups = {"S0MLTEAM1": ("ml-team", ["U0ALICE01"])}
    client = SlackClient(slack, bot_url, signing_secret)
    r = await client.command("ack 3fa9c2d1 on it", ALICE)   # r.status, r.body, r.seconds, r.response_id
    await slack.wait_response(r.response_id)                 # what the app posted to response_url

Web API methods added: views.open, views.update, chat.postEphemeral, files.getUploadURLExternal,
files.completeUploadExternal (+ the upload URL), usergroups.list, usergroups.users.list,
apps.connections.open (forwarded to a FakeSocketMode, with the app-level token); users.info is
the fake Web API's own (its directory, `slack.add_user`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from aiohttp import web

from tests.fakes.slack import TEAM_ID, FakeSlack, _read_args
from tests.fakes.socketmode import FakeSocketMode


@dataclass(frozen=True)
class Person:
    id: str
    name: str


ALICE = Person("U0ALICE01", "alice")
BOB = Person("U0BOB0001", "bob")
MALLORY = Person("U0MALLORY", "mallory")


def slack_sign(secret: str, body: str, ts: str) -> str:
    """Slack's v0 signature (docs.slack.dev, verifying requests from Slack)."""
    return "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()


class FakeSlackApp(FakeSlack):
    def __init__(self, *args: Any, socket_mode: FakeSocketMode | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.socket_mode = socket_mode
        self.responses: dict[str, list[dict[str, Any]]] = {}
        self.views: list[dict[str, Any]] = []
        self.ephemeral: list[dict[str, Any]] = []
        self.uploads: dict[str, dict[str, Any]] = {}
        self.usergroups: dict[str, tuple[str, list[str]]] = {}
        self._file_ids = itertools.count(1)
        self._response_ids = itertools.count(1)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/services/{team}/{bot}/{secret}", self._webhook)
        app.router.add_post("/response/{rid}", self._response)
        app.router.add_post("/upload/{fid}", self._upload)
        app.router.add_get("/", self._preview)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    # ------------------------------------------------------------------ response_url
    def new_response_url(self) -> tuple[str, str]:
        rid = f"R{next(self._response_ids):06d}"
        self.responses.setdefault(rid, [])
        return rid, f"http://127.0.0.1:{self.port}/response/{rid}"

    async def _response(self, request: web.Request) -> web.Response:
        rid = request.match_info["rid"]
        try:
            body = json.loads(await request.read())
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        body["_at"] = time.monotonic()
        self.responses.setdefault(rid, []).append(body)
        self._poke()
        return web.Response(text="ok")

    async def wait_response(self, rid: str, n: int = 1, timeout: float = 15.0) -> dict[str, Any]:
        await self.wait_until(lambda: len(self.responses.get(rid, [])) >= n, timeout, f"response {n} on {rid}")
        return self.responses[rid][n - 1]

    # ------------------------------------------------------------------ the methods an app calls
    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "apps.connections.open":
            args, _, _ = await _read_args(request)
            auth = request.headers.get("Authorization", "")
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else args.get("token")
            if self.socket_mode is None:
                return web.json_response({"ok": False, "error": "not_allowed_token_type"})
            return web.json_response(self.socket_mode.open_connection(token))
        return await super()._api(request)

    def _m_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not args.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        vid = f"V{len(self.views) + 1:08d}"
        view = dict(view, id=vid, hash=f"{time.time():.6f}", team_id=TEAM_ID, state={"values": {}})
        self.views.append({"trigger_id": args["trigger_id"], "view": view})
        return {"ok": True, "view": view}

    def _m_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "view": args.get("view")}

    def _m_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._target(args)
        if err is not None:
            return err
        blocks = args.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        self.ephemeral.append({"channel": cid, "user": args.get("user"), "text": args.get("text", ""),
                               "blocks": blocks})
        return {"ok": True, "message_ts": self._next_ts()}

    def _m_files_getUploadURLExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        if not args.get("filename") or not str(args.get("length", "")).isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        fid = f"F{next(self._file_ids):08d}"
        self.uploads[fid] = {"filename": args["filename"], "length": int(args["length"]), "data": None}
        return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{fid}", "file_id": fid}

    async def _upload(self, request: web.Request) -> web.Response:
        fid = request.match_info["fid"]
        if fid not in self.uploads:
            return web.Response(status=404, text="not found")
        self.uploads[fid]["data"] = await request.read()
        return web.Response(text=f"OK - {len(self.uploads[fid]['data'])}")

    def _m_files_completeUploadExternal(self, args: dict[str, Any]) -> dict[str, Any]:
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        cid = str(args.get("channel_id") or "")
        if cid and cid not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        out = []
        for f in files or []:
            up = self.uploads.get(f.get("id"))
            if up is None or up["data"] is None:
                return {"ok": False, "error": "file_not_found"}
            up.update(title=f.get("title"), channel_id=cid, thread_ts=args.get("thread_ts"),
                      initial_comment=args.get("initial_comment"))
            out.append({"id": f["id"], "title": f.get("title"), "name": up["filename"]})
        return {"ok": True, "files": out}

    def _m_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "usergroups": [{"id": gid, "handle": handle, "name": handle, "team_id": TEAM_ID}
                                           for gid, (handle, _) in self.usergroups.items()]}

    def _m_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        gid = str(args.get("usergroup", ""))
        if gid not in self.usergroups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(self.usergroups[gid][1])}


@dataclass
class Response:
    status: int
    body: Any
    seconds: float
    response_id: str = ""
    trigger_id: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        if isinstance(self.body, dict):
            return str(self.body.get("text", "")) + json.dumps(self.body.get("blocks", ""))
        return str(self.body or "")


class SlackClient:
    """Sends the app what Slack sends it: form-encoded, v0-signed, to POST /slack/events."""

    def __init__(self, slack: FakeSlackApp, bot_url: str, secret: str, *, team: str = TEAM_ID) -> None:
        self.slack = slack
        self.url = bot_url.rstrip("/") + "/slack/events"
        self.secret = secret
        self.team = team
        self._triggers = itertools.count(1)
        self.last_body = ""
        self.last_headers: dict[str, str] = {}

    def trigger(self) -> str:
        return f"{int(time.time())}.{next(self._triggers)}.fakeTrigger{next(self._triggers):04d}"

    async def post(self, body: str, *, ts: str | None = None, signature: str | None = None,
                   extra_headers: dict[str, str] | None = None, send_body: str | None = None) -> Response:
        ts = ts or str(int(time.time()))
        headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": signature or slack_sign(self.secret, body, ts),
                   "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)"}
        headers.update(extra_headers or {})
        self.last_body, self.last_headers = body, headers
        return await self.raw(send_body if send_body is not None else body, headers)

    async def raw(self, body: str, headers: dict[str, str]) -> Response:
        started = time.monotonic()
        async with aiohttp.ClientSession() as s, s.post(self.url, data=body.encode(), headers=headers) as r:
            raw = await r.read()
            seconds = time.monotonic() - started
            try:
                parsed: Any = json.loads(raw) if raw else ""
            except ValueError:
                parsed = raw.decode(errors="replace")
            return Response(r.status, parsed, seconds, headers=dict(r.headers))

    # ------------------------------------------------------------------ what Slack sends
    def command_payload(self, text: str, user: Person, *, channel_id: str = "", channel_name: str = "alerts",
                        command: str = "/oncall") -> tuple[dict[str, str], str]:
        rid, url = self.slack.new_response_url()
        fields = {
            "token": "deprecated-verification-token", "team_id": self.team, "team_domain": "fake",
            "channel_id": channel_id or self.slack.channel_id("#" + channel_name) or "C00000001",
            "channel_name": channel_name, "user_id": user.id, "user_name": user.name, "command": command,
            "text": text, "api_app_id": "A0FAKE0001", "is_enterprise_install": "false", "response_url": url,
            "trigger_id": self.trigger(),
        }
        return fields, rid

    async def command(self, text: str, user: Person, **kw: Any) -> Response:
        fields, rid = self.command_payload(text, user, **kw)
        r = await self.post(urlencode(fields, quote_via=quote))
        r.response_id, r.trigger_id = rid, fields["trigger_id"]
        return r

    def interaction_payload(self, action: dict[str, Any], user: Person, *, channel_id: str,
                            message: dict[str, Any] | None = None, message_ts: str = "",
                            ephemeral: bool = False) -> tuple[dict[str, Any], str]:
        rid, url = self.slack.new_response_url()
        payload = {
            "type": "block_actions", "user": {"id": user.id, "username": user.name, "name": user.name,
                                              "team_id": self.team},
            "api_app_id": "A0FAKE0001", "token": "deprecated-verification-token", "trigger_id": self.trigger(),
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id,
                          "is_ephemeral": ephemeral},
            "team": {"id": self.team, "domain": "fake"}, "enterprise": None, "is_enterprise_install": False,
            "channel": {"id": channel_id, "name": self.slack.channels.get(channel_id, "alerts")},
            "message": message or {"type": "message", "ts": message_ts, "text": ""},
            "state": {"values": {}}, "response_url": url,
            "actions": [dict(action, action_ts=f"{time.time():.6f}")],
        }
        return payload, rid

    async def interact(self, payload: dict[str, Any]) -> Response:
        r = await self.post("payload=" + quote(json.dumps(payload)))
        r.trigger_id = payload.get("trigger_id", "")
        return r

    async def click(self, action_id: str, value: str, user: Person, *, channel_id: str, message_ts: str,
                    message: dict[str, Any] | None = None, ephemeral: bool = False) -> Response:
        action = {"action_id": action_id, "block_id": "b1", "type": "button", "value": value,
                  "text": {"type": "plain_text", "text": action_id}}
        payload, rid = self.interaction_payload(action, user, channel_id=channel_id, message_ts=message_ts,
                                                message=message, ephemeral=ephemeral)
        r = await self.interact(payload)
        r.response_id = rid
        return r

    async def select(self, action_id: str, option_value: str, user: Person, *, channel_id: str,
                     message_ts: str) -> Response:
        action = {"action_id": action_id, "block_id": "b1", "type": "static_select",
                  "selected_option": {"text": {"type": "plain_text", "text": option_value}, "value": option_value},
                  "placeholder": {"type": "plain_text", "text": "Silence ▾"}}
        payload, rid = self.interaction_payload(action, user, channel_id=channel_id, message_ts=message_ts)
        r = await self.interact(payload)
        r.response_id = rid
        return r

    async def submit(self, view: dict[str, Any], values: dict[str, str], user: Person) -> Response:
        """A view_submission of `view` (as views.open received it) with `values` typed in by block id."""
        state = {block: {"value": {"type": "plain_text_input", "value": v}} for block, v in values.items()}
        payload = {
            "type": "view_submission", "team": {"id": self.team, "domain": "fake"},
            "user": {"id": user.id, "username": user.name, "name": user.name, "team_id": self.team},
            "api_app_id": "A0FAKE0001", "token": "deprecated-verification-token", "trigger_id": self.trigger(),
            "view": dict(view, state={"values": state}), "response_urls": [], "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self.interact(payload)


async def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)
