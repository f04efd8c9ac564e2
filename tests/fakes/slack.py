"""A fake Slack Web API for tests and for looking at messages locally.

It speaks Slack's wire format: `POST https://…/api/<method>` with a form body
(`application/x-www-form-urlencoded`, JSON-valued fields such as `blocks` as strings) or a
JSON body (`application/json; charset=utf-8`), GET with a query string; the token in
`Authorization: Bearer xoxb-…` or a `token` field; HTTP 200 with `{"ok": true, …}` or
`{"ok": false, "error": "<code>"}`; HTTP 429 with `Retry-After: <seconds>` and
`{"ok": false, "error": "ratelimited"}`. Messages get Slack-style `ts` ("1700000000.000100"),
channels are addressed by name (`#alerts`, posts only) or id (`C…`), as Slack allows.

Methods: auth.test, chat.postMessage (threads, reply_broadcast, metadata, blocks checked
against Block Kit's limits → invalid_blocks), chat.update (message_not_found,
cant_update_message, channel ids only), chat.delete, conversations.history / .replies / .list
/ .info, users.info (a workspace directory: `slack.add_user(id, name)`; user_not_found
otherwise), and incoming webhooks at /services/T…/B…/<secret> (plain "ok" or an error word).

    slack = FakeSlack(channels=["#alerts", "#ops"], token="xoxb-test")
    await slack.start()                      # slack.api_url -> http://127.0.0.1:P/api/
    slack.rate_limit_every(5, retry_after=1) # every 5th call answers 429
    slack.fail_next("chat.postMessage", error="channel_not_found")     # scripted answers
    slack.hold_next("chat.postMessage")      # record and apply it, answer only on release()
    slack.delete(channel_id, ts)             # as a person deleting the bot's message
    slack.calls                              # every request: time, method, args, answer
    slack.parents("#alerts"), slack.thread(channel_id, ts)

Run it alone as a preview target (messages rendered at http://127.0.0.1:PORT/):

    python -m tests.fakes.slack --port 3001 --channel '#mlops-alerts' --channel '#ml-team-alerts'
    SLACK_BOT_TOKEN=xoxb-preview SLACK_API_URL=http://127.0.0.1:3001/api/ alertbot serve
"""

from __future__ import annotations

import argparse
import asyncio
import html
import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

JSON_FIELDS = ("blocks", "attachments", "metadata")
WRITE_METHODS = ("chat.postMessage", "chat.update", "chat.delete")
BOT_USER = "U0ALERTBOT"
BOT_ID = "B0ALERTBOT"
TEAM_ID = "T0FAKE001"

# Block Kit limits Slack enforces (invalid_blocks otherwise).
MAX_BLOCKS = 50
LIMITS = {"section": 3000, "field": 2000, "header": 150, "button": 75, "context": 3000, "value": 2000}


@dataclass
class Call:
    at: float  # time.monotonic() when the request arrived
    wall: float  # time.time()
    method: str
    args: dict[str, Any]
    http: str  # GET / form / json
    status: int = 0
    answer: dict[str, Any] = field(default_factory=dict)
    channel_id: str = ""  # the channel it addressed, resolved

    @property
    def ok(self) -> bool:
        return self.status == 200 and bool(self.answer.get("ok"))

    @property
    def error(self) -> str:
        return str(self.answer.get("error", ""))


@dataclass
class Message:
    channel: str  # id
    ts: str
    text: str
    blocks: list[Any]
    attachments: list[Any]
    thread_ts: str | None
    metadata: dict[str, Any] | None
    broadcast: bool = False
    edits: int = 0
    deleted: bool = False
    by_bot: bool = True
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions (text, blocks)

    def as_slack(self, with_metadata: bool) -> dict[str, Any]:
        m: dict[str, Any] = {"type": "message", "subtype": "bot_message" if self.by_bot else None, "ts": self.ts,
                             "text": self.text, "bot_id": BOT_ID if self.by_bot else None,
                             "user": BOT_USER if self.by_bot else "U0PERSON1", "team": TEAM_ID}
        if self.blocks:
            m["blocks"] = self.blocks
        if self.attachments:
            m["attachments"] = self.attachments
        if self.thread_ts:
            m["thread_ts"] = self.thread_ts
        if self.edits:
            m["edited"] = {"user": BOT_USER, "ts": self.ts}
        if with_metadata and self.metadata:
            m["metadata"] = self.metadata
        return {k: v for k, v in m.items() if v is not None}


@dataclass
class _Script:
    method: str | None
    status: int
    error: str
    retry_after: float | None
    channel: str | None
    apply: bool  # do the work, then answer with the error (Slack's fatal_error, a lost answer)


class FakeSlack:
    def __init__(self, channels: Iterable[str] = ("#alerts",), token: str = "xoxb-test", *,
                 not_member: Iterable[str] = (), archived: Iterable[str] = ()) -> None:
        self.token = token
        self.channels: dict[str, str] = {}  # id -> name (without '#')
        self._ids = itertools.count(1)
        for name in channels:
            self.add_channel(name)
        self.not_member = {self.channel_id(c) or c for c in not_member}
        self.archived = {self.channel_id(c) or c for c in archived}
        self.messages: dict[str, list[Message]] = {cid: [] for cid in self.channels}
        self.calls: list[Call] = []
        self.webhook_posts: list[tuple[float, str, dict[str, Any]]] = []
        self._scripts: deque[_Script] = deque()
        self._holds: list[tuple[str, asyncio.Event]] = []
        self._held: list[asyncio.Event] = []
        self._every = 0
        self._every_retry_after = 1.0
        self._every_methods: tuple[str, ...] | None = None
        self._counted = 0
        self._ts_seq = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.users: dict[str, dict[str, Any]] = {}  # id -> Slack's user object (users.info)

    # ------------------------------------------------------------------ setup
    def add_channel(self, name: str) -> str:
        name = name.lstrip("#")
        for cid, n in self.channels.items():
            if n == name:
                return cid
        cid = f"C{next(self._ids):08d}"
        self.channels[cid] = name
        if hasattr(self, "messages"):
            self.messages[cid] = []
        return cid

    def add_user(self, uid: str, name: str, *, display_name: str | None = None, deleted: bool = False,
                 is_bot: bool = False) -> dict[str, Any]:
        """A workspace member as users.info returns it: `name` is the username (what `@name`
        means), `profile.display_name` what the person chose to show (anyone may choose any)."""
        shown = name if display_name is None else display_name
        user = {"id": uid, "team_id": TEAM_ID, "name": name, "deleted": deleted, "color": "9f69e7",
                "real_name": shown, "tz": "Europe/Berlin", "tz_label": "Central European Time", "tz_offset": 3600,
                "profile": {"real_name": shown, "real_name_normalized": shown, "display_name": shown,
                            "display_name_normalized": shown, "avatar_hash": "g0000000000f", "status_text": "",
                            "status_emoji": "", "image_24": "https://a.slack-edge.com/avatar-24.png",
                            "image_48": "https://a.slack-edge.com/avatar-48.png", "team": TEAM_ID},
                "is_admin": False, "is_owner": False, "is_primary_owner": False, "is_restricted": False,
                "is_ultra_restricted": False, "is_bot": is_bot, "is_app_user": False, "updated": 1700000000,
                "has_2fa": False}
        self.users[uid] = user
        return user

    def channel_id(self, channel: str) -> str | None:
        if channel in self.channels:
            return channel
        name = channel.lstrip("#")
        return next((cid for cid, n in self.channels.items() if n == name), None)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def webhook_url(self, channel: str = "#alerts") -> str:
        cid = self.channel_id(channel) or "C00000000"
        return f"http://127.0.0.1:{self.port}/services/{TEAM_ID}/B0HOOK/{cid}secret"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/services/{team}/{bot}/{secret}", self._webhook)
        app.router.add_get("/", self._preview)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        for ev in self._held:
            ev.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # ------------------------------------------------------------------ scripting
    def rate_limit_every(self, n: int, retry_after: float = 1.0, methods: Iterable[str] | None = None) -> None:
        """Every n-th call (of `methods`, default all but auth.test) answers 429 with Retry-After."""
        self._every = n
        self._every_retry_after = retry_after
        self._every_methods = tuple(methods) if methods is not None else None

    def fail_next(self, method: str | None = None, *, error: str = "internal_error", status: int = 200,
                  times: int = 1, retry_after: float | None = None, channel: str | None = None,
                  apply: bool = False) -> None:
        """The next `times` calls of `method` (any, if None) in `channel` (any) answer this error.
        With `apply`, the call takes effect first (Slack's fatal_error "may have succeeded")."""
        for _ in range(times):
            self._scripts.append(_Script(method, status, error, retry_after, channel, apply))

    def hold_next(self, method: str) -> asyncio.Event:
        """The next call of `method` is applied and recorded, but answered only when the returned
        event is set (a bot killed meanwhile never learns it succeeded)."""
        ev = asyncio.Event()
        self._holds.append((method, ev))
        return ev

    def delete(self, channel: str, ts: str) -> None:
        """A person deletes a message."""
        cid = self.channel_id(channel) or channel
        for m in self.messages.get(cid, []):
            if m.ts == ts:
                m.deleted = True
        self._poke()

    # ------------------------------------------------------------------ reading
    def parents(self, channel: str) -> list[Message]:
        cid = self.channel_id(channel) or channel
        return [m for m in self.messages.get(cid, []) if not m.thread_ts and not m.deleted]

    def thread(self, channel: str, ts: str) -> list[Message]:
        cid = self.channel_id(channel) or channel
        return [m for m in self.messages.get(cid, []) if m.thread_ts == ts and m.ts != ts and not m.deleted]

    def all_messages(self) -> list[Message]:
        return [m for ms in self.messages.values() for m in ms]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"fake Slack: timed out after {timeout}s waiting for {what or predicate}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))
            except TimeoutError:
                pass

    def pace_violations(self, rate: float, burst: int, methods: Iterable[str] = WRITE_METHODS) -> list[str]:
        """Channels whose accepted writes ever exceeded `burst` + `rate` per second over any
        window (a token bucket replayed over the recorded arrival times, 50 ms tolerance)."""
        methods = tuple(methods)
        by_channel: dict[str, list[float]] = {}
        for c in self.calls:
            if c.method in methods and c.ok and c.channel_id:
                by_channel.setdefault(c.channel_id, []).append(c.at)
        out = []
        for cid, times in by_channel.items():
            tokens, last = float(burst), times[0]
            for i, t in enumerate(times):
                tokens = min(float(burst), tokens + (t - last) * rate + 0.05 * rate)
                last = t
                tokens -= 1
                if tokens < -1e-6:
                    out.append(f"{cid} (#{self.channels.get(cid)}): write {i + 1} at +{t - times[0]:.3f}s is over "
                               f"{rate:g}/s with bursts of {burst}")
                    break
        return out

    # ------------------------------------------------------------------ the API
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args, kind, bad = await _read_args(request)
        call = Call(time.monotonic(), time.time(), method, args, kind)
        self.calls.append(call)
        try:
            status, answer, headers = self._answer(method, args, bad, call, request)
            hold = next((h for h in self._holds if h[0] == method), None)
            if hold is not None and status == 200:
                self._holds.remove(hold)
                self._held.append(hold[1])
                self._poke()
                await hold[1].wait()
        finally:
            self._poke()
        call.status, call.answer = status, answer
        return web.json_response(answer, status=status, headers=headers)

    def _answer(self, method: str, args: dict[str, Any], bad: str, call: Call,
                request: web.Request) -> tuple[int, dict[str, Any], dict[str, str]]:
        if bad:
            return 200, {"ok": False, "error": bad}, {}
        token = args.pop("token", None)
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer "):]
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        channel = str(args.get("channel", ""))
        call.channel_id = self.channel_id(channel) or ""
        if self._every and method != "auth.test" and (self._every_methods is None or method in self._every_methods):
            self._counted += 1
            if self._counted % self._every == 0:
                return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": _num(self._every_retry_after)}
        script = self._script_for(method, channel)
        if script is not None:
            if script.apply:
                handler(args)
            headers = {"Retry-After": _num(script.retry_after)} if script.retry_after is not None else {}
            if script.status != 200:
                body = {"ok": False, "error": script.error or "ratelimited"}
                return script.status, body, headers
            return 200, {"ok": False, "error": script.error}, headers
        answer = handler(args)
        if call.http == "json" and "charset" not in request.headers.get("Content-Type", ""):
            answer.setdefault("warning", "missing_charset")
        return 200, answer, {}

    def _script_for(self, method: str, channel: str) -> _Script | None:
        for s in self._scripts:
            if (s.method is None or s.method == method) and (s.channel is None or
                                                             self.channel_id(s.channel) == self.channel_id(channel)):
                self._scripts.remove(s)
                return s
        return None

    def _m_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": "https://fake-workspace.slack.com/", "team": "Fake Workspace",
                "user": "alertbot", "team_id": TEAM_ID, "user_id": BOT_USER, "bot_id": BOT_ID,
                "is_enterprise_install": False}

    def _target(self, args: dict[str, Any], ids_only: bool = False) -> tuple[str | None, dict[str, Any] | None]:
        channel = str(args.get("channel", ""))
        if not channel:
            return None, {"ok": False, "error": "channel_not_found"}
        if ids_only and channel not in self.channels:
            return None, {"ok": False, "error": "channel_not_found"}
        cid = self.channel_id(channel)
        if cid is None:
            return None, {"ok": False, "error": "channel_not_found"}
        if cid in self.archived:
            return None, {"ok": False, "error": "is_archived"}
        if cid in self.not_member:
            return None, {"ok": False, "error": "not_in_channel"}
        return cid, None

    def _m_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._target(args)
        if err is not None:
            return err
        assert cid is not None
        text = str(args.get("text") or "")
        blocks = args.get("blocks") or []
        attachments = args.get("attachments") or []
        if not text and not blocks and not attachments:
            return {"ok": False, "error": "no_text"}
        problems = block_problems(blocks) + [p for a in attachments for p in block_problems(a.get("blocks", []))]
        if problems:
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": problems}}
        if len(text) > 40_000:
            return {"ok": False, "error": "msg_too_long"}
        thread_ts = args.get("thread_ts") or None
        metadata = args.get("metadata")
        if metadata is not None and (not isinstance(metadata, dict) or "event_type" not in metadata):
            return {"ok": False, "error": "invalid_metadata_format"}
        m = Message(cid, self._next_ts(), text, blocks, attachments, str(thread_ts) if thread_ts else None, metadata,
                    broadcast=_truthy(args.get("reply_broadcast")))
        self.messages[cid].append(m)
        return {"ok": True, "channel": cid, "ts": m.ts, "message": m.as_slack(False)}

    def _m_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._target(args, ids_only=True)
        if err is not None:
            return err
        ts = str(args.get("ts", ""))
        m = next((x for x in self.messages[cid] if x.ts == ts), None)
        if m is None or m.deleted:
            return {"ok": False, "error": "message_not_found"}
        if not m.by_bot:
            return {"ok": False, "error": "cant_update_message"}
        blocks = args.get("blocks")
        attachments = args.get("attachments")
        problems = block_problems(blocks or []) + [p for a in (attachments or []) for p in block_problems(a.get("blocks", []))]
        if problems:
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": problems}}
        m.history.append({"text": m.text, "blocks": m.blocks, "attachments": m.attachments})
        if "text" in args:
            m.text = str(args["text"])
        if blocks is not None:
            m.blocks = blocks
        if attachments is not None:
            m.attachments = attachments
        if args.get("metadata") is not None:
            m.metadata = args["metadata"]
        m.edits += 1
        return {"ok": True, "channel": cid, "ts": ts, "text": m.text, "message": m.as_slack(False)}

    def _m_chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        cid, err = self._target(args, ids_only=True)
        if err is not None:
            return err
        ts = str(args.get("ts", ""))
        m = next((x for x in self.messages[cid] if x.ts == ts and not x.deleted), None)
        if m is None:
            return {"ok": False, "error": "message_not_found"}
        m.deleted = True
        return {"ok": True, "channel": cid, "ts": ts}

    def _m_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = str(args.get("channel", ""))
        if cid not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        if cid in self.not_member:
            return {"ok": False, "error": "not_in_channel"}
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or 1e12)
        limit = min(int(args.get("limit") or 100), 999)
        meta = _truthy(args.get("include_all_metadata"))
        visible = [m for m in self.messages[cid] if not m.deleted and (not m.thread_ts or m.broadcast)
                   and oldest < float(m.ts) < latest]
        visible.sort(key=lambda m: float(m.ts), reverse=True)
        start = int(args.get("cursor") or 0)
        page = visible[start:start + limit]
        more = start + limit < len(visible)
        return {"ok": True, "messages": [m.as_slack(meta) for m in page], "has_more": more,
                "pin_count": 0, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _m_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = str(args.get("channel", ""))
        if cid not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        ts = str(args.get("ts", ""))
        parent = next((m for m in self.messages[cid] if m.ts == ts and not m.deleted), None)
        if parent is None:
            return {"ok": False, "error": "thread_not_found"}
        meta = _truthy(args.get("include_all_metadata"))
        msgs = [parent] + sorted(self.thread(cid, ts), key=lambda m: float(m.ts))
        limit = min(int(args.get("limit") or 1000), 1000)
        start = int(args.get("cursor") or 0)
        page = msgs[start:start + limit]
        more = start + limit < len(msgs)
        return {"ok": True, "messages": [m.as_slack(meta) for m in page], "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _m_conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        chans = [{"id": cid, "name": name, "is_channel": True, "is_private": False,
                  "is_archived": cid in self.archived, "is_member": cid not in self.not_member}
                 for cid, name in sorted(self.channels.items())]
        if _truthy(args.get("exclude_archived")):
            chans = [c for c in chans if not c["is_archived"]]
        limit = min(int(args.get("limit") or 100), 1000)
        start = int(args.get("cursor") or 0)
        page = chans[start:start + limit]
        more = start + limit < len(chans)
        return {"ok": True, "channels": page, "response_metadata": {"next_cursor": str(start + limit) if more else ""}}

    def _m_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        cid = str(args.get("channel", ""))
        if cid not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        return {"ok": True, "channel": {"id": cid, "name": self.channels[cid], "is_channel": True,
                                        "is_member": cid not in self.not_member}}

    def _m_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        uid = str(args.get("user", ""))
        if not uid:
            return {"ok": False, "error": "invalid_arguments"}
        if uid not in self.users:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": json.loads(json.dumps(self.users[uid]))}

    async def _webhook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            return web.Response(status=400, text="invalid_payload")
        secret = request.match_info["secret"]
        self.webhook_posts.append((time.monotonic(), secret, body))
        self._poke()
        script = self._script_for("incoming-webhook", "")
        if script is not None:
            headers = {"Retry-After": _num(script.retry_after)} if script.retry_after is not None else {}
            return web.Response(status=script.status, text=script.error, headers=headers)
        if not (body.get("text") or body.get("blocks") or body.get("attachments")):
            return web.Response(status=400, text="no_text")
        if block_problems(body.get("blocks") or []):
            return web.Response(status=400, text="invalid_blocks")
        return web.Response(text="ok")

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts_seq):06d}"

    def _poke(self) -> None:
        self._changed.set()

    # ------------------------------------------------------------------ preview
    async def _preview(self, request: web.Request) -> web.Response:
        out = ["<!doctype html><meta charset=utf-8><title>fake Slack</title>",
               "<style>body{font:14px sans-serif;max-width:60em;margin:2em auto}"
               ".msg{border:1px solid #ddd;border-radius:6px;padding:.6em;margin:.6em 0}"
               ".thread{margin-left:2em;color:#444}.hdr{font-weight:bold;font-size:1.1em}"
               ".ctx{color:#777;font-size:12px}.btn{display:inline-block;border:1px solid #aaa;border-radius:4px;"
               "padding:0 .5em;margin:.2em}</style>", "<h1>fake Slack</h1>"]
        for cid, name in sorted(self.channels.items(), key=lambda x: x[1]):
            out.append(f"<h2>#{html.escape(name)} <small>{cid}</small></h2>")
            for m in self.parents(cid):
                out.append(f"<div class=msg><div class=ctx>ts {m.ts} · {m.edits} edits</div>{_render(m)}")
                for r in self.thread(cid, m.ts):
                    out.append(f"<div class=thread>↳ {html.escape(r.text)}</div>")
                out.append("</div>")
        return web.Response(text="\n".join(out), content_type="text/html")


def _render(m: Message) -> str:
    parts = []
    for b in list(m.blocks) + [b for a in m.attachments for b in a.get("blocks", [])]:
        t = b.get("type")
        if t == "header":
            parts.append(f"<div class=hdr>{html.escape(b['text']['text'])}</div>")
        elif t == "section":
            if "text" in b:
                parts.append(f"<div>{html.escape(b['text']['text']).replace(chr(10), '<br>')}</div>")
            for f in b.get("fields", []):
                parts.append(f"<div>{html.escape(f['text']).replace(chr(10), ': ')}</div>")
        elif t == "context":
            parts.append("<div class=ctx>" + " ".join(html.escape(e.get("text", "")) for e in b["elements"]) + "</div>")
        elif t == "actions":
            labels = [e.get("text", {}).get("text") or e.get("placeholder", {}).get("text", "") for e in b["elements"]]
            parts.append("<div>" + "".join(f"<span class=btn>{html.escape(x)}</span>" for x in labels) + "</div>")
    return "\n".join(parts) or html.escape(m.text)


def _u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def block_problems(blocks: Any) -> list[str]:
    """Block Kit limits, reported as Slack does ("[ERROR] … [json-pointer:/blocks/0/text/text]").
    Lengths are counted in UTF-16 code units, the stricter reading of "characters"."""
    if not isinstance(blocks, list):
        return ["[ERROR] expected an array [json-pointer:/blocks]"]
    out = []
    if len(blocks) > MAX_BLOCKS:
        out.append(f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    for i, b in enumerate(blocks):
        t = b.get("type")
        where = f"/blocks/{i}"
        if t == "header" and (b["text"].get("type") != "plain_text" or _u16(b["text"]["text"]) > LIMITS["header"]):
            out.append(f"[ERROR] must be less than {LIMITS['header'] + 1} characters [json-pointer:{where}/text/text]")
        elif t == "section":
            if "text" in b and not 0 < _u16(b["text"]["text"]) <= LIMITS["section"]:
                out.append(f"[ERROR] must be less than {LIMITS['section'] + 1} characters "
                           f"[json-pointer:{where}/text/text]")
            if len(b.get("fields", [])) > 10:
                out.append(f"[ERROR] no more than 10 items allowed [json-pointer:{where}/fields]")
            for j, f in enumerate(b.get("fields", [])):
                if not 0 < _u16(f["text"]) <= LIMITS["field"]:
                    out.append(f"[ERROR] must be less than {LIMITS['field'] + 1} characters "
                               f"[json-pointer:{where}/fields/{j}/text]")
        elif t == "context":
            if not 0 < len(b.get("elements", [])) <= 10:
                out.append(f"[ERROR] no more than 10 items allowed [json-pointer:{where}/elements]")
        elif t == "actions":
            els = b.get("elements", [])
            if not 0 < len(els) <= 25:
                out.append(f"[ERROR] no more than 25 items allowed [json-pointer:{where}/elements]")
            for j, e in enumerate(els):
                if e.get("type") == "button" and _u16(e["text"]["text"]) > LIMITS["button"]:
                    out.append(f"[ERROR] must be less than {LIMITS['button'] + 1} characters "
                               f"[json-pointer:{where}/elements/{j}/text/text]")
                if _u16(e.get("value", "")) > LIMITS["value"]:
                    out.append(f"[ERROR] must be less than {LIMITS['value'] + 1} characters "
                               f"[json-pointer:{where}/elements/{j}/value]")
    return out


async def _read_args(request: web.Request) -> tuple[dict[str, Any], str, str]:
    """The call's arguments as Slack reads them, the body kind, and an error code if unreadable."""
    args: dict[str, Any] = dict(request.query)
    if request.method == "GET":
        return _decode_json_fields(args), "GET", ""
    ctype = request.headers.get("Content-Type", "")
    raw = await request.read()
    if not raw:
        return args, "empty", ""
    if ctype.startswith("application/json"):
        try:
            body = json.loads(raw)
        except ValueError:
            return args, "json", "invalid_json"
        if not isinstance(body, dict):
            return args, "json", "invalid_json"
        args.update(body)
        return args, "json", ""
    if ctype.startswith("application/x-www-form-urlencoded"):
        try:
            args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            return args, "form", "invalid_charset"
        return _decode_json_fields(args), "form", ""
    if not ctype:
        return args, "none", "missing_post_type"
    return args, "other", "invalid_post_type"


def _decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    for k in JSON_FIELDS:
        if isinstance(args.get(k), str) and args[k]:
            try:
                args[k] = json.loads(args[k])
            except ValueError:
                args[k] = None if k == "metadata" else [{"type": "invalid"}]
    return args


def _truthy(v: Any) -> bool:
    return v is True or str(v).lower() in ("1", "true")


def _num(v: float | None) -> str:
    if v is None:
        return "1"
    return str(int(v)) if float(v).is_integer() else str(v)


async def _main() -> None:
    p = argparse.ArgumentParser(description="A fake Slack Web API to point alertbot at (SLACK_API_URL); "
                                            "open http://HOST:PORT/ to see the messages.")
    p.add_argument("--port", type=int, default=3001)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--token", default="xoxb-preview")
    p.add_argument("--channel", action="append", default=[])
    args = p.parse_args()
    slack = FakeSlack(args.channel or ["#mlops-alerts", "#ml-team-alerts", "#data-team-alerts", "#alerts"],
                      token=args.token)
    await slack.start(args.host, args.port)
    print(f"fake Slack on http://{args.host}:{slack.port}/  —  SLACK_API_URL=http://{args.host}:{slack.port}/api/ "
          f"SLACK_BOT_TOKEN={args.token}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(_main())
    except KeyboardInterrupt:
        pass
