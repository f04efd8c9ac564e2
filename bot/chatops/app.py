"""The Slack app: slack-bolt's `AsyncApp` behind one route of the bot's own aiohttp
application (`POST /slack/events`, for slash commands, interactivity and events), and Socket
Mode (`SLACK_APP_TOKEN`) as the other way in, to the same listeners.

Before anything is parsed, an HTTP request (at most 1 MiB, refused while it is read) must carry
a valid Slack v0 signature (`SLACK_SIGNING_SECRET`) made within the last five minutes and not
more than a minute ahead of this machine's clock, and must not be one already received (the
same timestamp and signature: a replay; remembered for as long as it could be accepted). A
signed body that is not a Slack payload (not JSON, or not shaped as Slack's where Bolt reads
it) is refused with 400. Bolt then verifies it again and runs
the listeners, which acknowledge at once (Slack allows three seconds) and finish afterwards.
A delivery Slack sends again (`X-Slack-Retry-Num`, a Socket Mode retry: the same event id,
trigger id or action) is acknowledged and not run twice. Every refusal is answered with
401 and a reason, counted (`alertbot_chatops_requests`) and logged — never with the
signature or the secret.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import hmac
import json
import logging
import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web
from prometheus_client import Counter, Histogram

from bot.chatops.access import Access, GroupMembers, User
from bot.chatops.acks import AckExtension
from bot.chatops.handlers import Listeners
from bot.chatops.operations import Operations
from bot.chatops.settings import ChatopsSettings, from_env, reload_if_changed
from bot.chatops.upkeep import Upkeep
from bot.chatops.upstream import Upstream
from bot.logging import get_logger
from bot.server.body import ROUTE_BODY_LIMITS, BodyTooLarge, read_body
from bot.server.common import RUNTIME
from bot.server.middleware import client_address
from bot.server.runtime import Runtime

log = get_logger("alertbot.chatops")

ROUTE = "/slack/events"
MAX_BODY = ROUTE_BODY_LIMITS[ROUTE]  # 1 MiB: a front passing requests on reads the same table
WINDOW_S = 300  # Slack's replay window: a request signed longer ago than this is refused
FUTURE_SKEW_S = 60  # ...and one signed further ahead of this machine's clock than this (clock skew)
# A signature is accepted while the clock is between its timestamp - FUTURE_SKEW_S and + WINDOW_S:
# it is remembered for that long after it was first seen, so no replay can outlive the memory.
REPLAY_MEMORY_S = WINDOW_S + FUTURE_SKEW_S
TRANSPORT: contextvars.ContextVar[str] = contextvars.ContextVar("alertbot_chatops_transport", default="http")
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5)


class ChatopsMetrics:
    def __init__(self, registry: Any) -> None:
        self.requests = Counter(
            "alertbot_chatops_requests", "Requests from Slack, by transport (http, socket_mode) and outcome "
            "(handled; duplicate: a retry acknowledged without running again; refused_*: not verified).",
            ["transport", "outcome"], registry=registry)
        self.ack_seconds = Histogram(
            "alertbot_chatops_ack_seconds", "Time from a request's arrival to its acknowledgement (Slack allows 3 s), "
            "by transport and kind.", ["transport", "kind"], buckets=ACK_BUCKETS, registry=registry)
        self.refusals = Counter(
            "alertbot_chatops_refusals", "Chat requests refused, by action and why (access, unsafe_input, query).",
            ["action", "reason"], registry=registry)
        self.audit = Counter(
            "alertbot_audit_actions", "Audit log rows written (every human and automatic action), by action.",
            ["action"], registry=registry)


class _Seen:
    """Keys seen within the last `ttl` seconds of `clock` (the wall clock that signatures' times
    are checked against, so that the two windows are measured alike)."""

    def __init__(self, ttl: float, limit: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        self._items: OrderedDict[str, float] = OrderedDict()

    def check_and_add(self, key: str) -> bool:
        """True when the key was seen already; records it otherwise."""
        now = self.clock()
        while self._items:
            k, at = next(iter(self._items.items()))
            if now - at <= self.ttl and len(self._items) <= self.limit:
                break
            self._items.popitem(last=False)
        if key in self._items:
            return True
        self._items[key] = now
        return False


class CountingStore:
    """The engine's store, counting the audit rows of each commit once it succeeded."""

    def __init__(self, inner: Any, counter: Counter) -> None:
        self.inner = inner
        self._counter = counter

    async def commit(self, changes: Any) -> None:
        await self.inner.commit(changes)
        for row in changes.audit_insert:
            self._counter.labels(row.action).inc()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def delivery_key(body: dict[str, Any]) -> str | None:
    """What makes a delivery the same delivery when Slack sends it again."""
    if body.get("type") == "event_callback" and body.get("event_id"):
        return "event:" + str(body["event_id"])
    if "command" in body and body.get("trigger_id"):
        return "command:" + str(body["trigger_id"])
    if body.get("type") == "block_actions":
        actions = body.get("actions") or [{}]
        return f"action:{body.get('trigger_id')}:{actions[0].get('action_id')}:{actions[0].get('action_ts')}"
    if body.get("type") == "view_submission":
        v = body.get("view") or {}
        return f"view:{v.get('id')}:{v.get('hash')}:{body.get('trigger_id')}"
    return None


class Chatops:
    def __init__(self, runtime: Runtime, clock: Callable[[], float] = time.time) -> None:
        self.runtime = runtime
        self.clock = clock  # the wall clock, for signatures' times and the replay memory
        self.settings: ChatopsSettings = from_env()
        self.metrics = ChatopsMetrics(runtime.metrics.registry)
        self.acks = AckExtension(self.settings.chatops.ack_silence_duration)
        self.errors: deque[tuple[float, str]] = deque(maxlen=20)
        self.replays = _Seen(REPLAY_MEMORY_S, clock=clock)
        self.handled = _Seen(3600)
        self.session: aiohttp.ClientSession | None = None
        self.web: Any = None
        self.bolt: Any = None
        self.socket: Any = None
        self.socket_error = ""
        self.upstream: Upstream | None = None
        self.datasources: Any = None
        self.access = Access(lambda: self.settings.access, GroupMembers(self._group_handles, self._group_members))
        self.ops = Operations(self)
        self.upkeep = Upkeep(self)
        self.listeners = Listeners(self)
        self._attach_task: asyncio.Task[None] | None = None
        self._socket_task: asyncio.Task[None] | None = None
        for p in self.settings.problems:
            log.error(f"chatops: {p}")

    # ------------------------------------------------------------------ wiring
    def attach_engine(self, engine: Any) -> None:
        """The runtime built its engine: acknowledgements join it before it starts."""
        if engine.extension(self.acks.name) is not self.acks:
            engine.extensions = [e for e in engine.extensions if e.name != self.acks.name] + [self.acks]
        self.acks.attach(engine)
        if not isinstance(engine.store, CountingStore):
            engine.store = CountingStore(engine.store, self.metrics.audit)

    async def on_startup(self, app: web.Application) -> None:
        from slack_bolt.async_app import AsyncApp
        from slack_bolt.authorization import AuthorizeResult
        from slack_sdk.http_retry.builtin_async_handlers import (
            AsyncConnectionErrorRetryHandler,
            AsyncRateLimitErrorRetryHandler,
            AsyncServerErrorRetryHandler,
        )
        from slack_sdk.web.async_client import AsyncWebClient

        from bot.notify.slack.api import env_proxy, proxy_for

        s = self.settings
        self.session = aiohttp.ClientSession(trust_env=False)
        proxy = proxy_for(s.api_url, env_proxy())
        self.web = AsyncWebClient(token=s.bot_token or None, base_url=s.api_url, session=self.session,
                                  logger=logging.getLogger("alertbot.chatops.sdk"),
                                  retry_handlers=[AsyncConnectionErrorRetryHandler(),
                                                  AsyncRateLimitErrorRetryHandler(max_retry_count=2),
                                                  AsyncServerErrorRetryHandler(max_retry_count=1)])
        self.web.proxy = proxy
        if s.alertmanager_url:
            self.upstream = Upstream(s.alertmanager_url, self.session)
            log.info("chatops: silences are mirrored to the upstream Alertmanager", url=self.upstream.where)
        try:
            from bot.prometheus import Datasources

            ds = Datasources.from_env(session=self.session)
            self.datasources = ds if len(ds) else None
        except Exception as exc:
            log.error(f"chatops: Prometheus datasources refused: {exc}")

        async def authorize(enterprise_id: str | None = None, team_id: str | None = None, **_: Any) -> Any:
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=s.bot_token or None,
                                   bot_user_id=self._bot_user_id())

        # Without a signing secret HTTP requests are refused before Bolt sees them; Bolt still
        # needs one to be built (Socket Mode does not verify signatures).
        bolt_log = logging.getLogger("alertbot.chatops.bolt")
        quiet = _DropTokenWarnings()
        bolt_log.addFilter(quiet)  # Bolt reads SLACK_BOT_TOKEN itself and warns that `client` wins: it does
        try:
            self.bolt = AsyncApp(client=self.web, signing_secret=s.signing_secret or "unset-" + _random(),
                                 authorize=authorize, logger=bolt_log, process_before_response=False,
                                 ignoring_self_events_enabled=False)
        finally:
            bolt_log.removeFilter(quiet)
        self.listeners.register(self.bolt)
        configured = bool(s.signing_secret or s.app_token or s.bot_token)
        if not configured:
            log.info("chatops off: no Slack app is configured (SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET, or "
                     "SLACK_APP_TOKEN for Socket Mode); POST /slack/events refuses every request")
        else:
            if not s.signing_secret:
                (log.info if s.app_token else log.error)(
                    "chatops: SLACK_SIGNING_SECRET is not set: every request to POST /slack/events is refused"
                    + (" (Socket Mode answers)" if s.app_token else ""))
            if not s.bot_token:
                log.warning("chatops: SLACK_BOT_TOKEN is not set: commands answer, but nothing can be posted, "
                            "uploaded or opened in Slack")
        if getattr(self.runtime, "engine_hooks", None) is None:
            self._attach_task = asyncio.get_running_loop().create_task(self._attach_when_ready())
        self.upkeep.start()
        if s.app_token:
            self._socket_task = asyncio.get_running_loop().create_task(self._socket_mode(),
                                                                        name="alertbot-socket-mode")
        if configured:
            log.info("chatops ready", command=s.chatops.command, route=ROUTE, socket_mode=bool(s.app_token),
                     settings_file=s.path or "none (defaults)", access_rules=len(s.access.rules))

    async def _attach_when_ready(self) -> None:
        while self.runtime.engine is None:
            await asyncio.sleep(0.01)
        self.attach_engine(self.runtime.engine)

    async def on_cleanup(self, app: web.Application) -> None:
        await self.upkeep.stop()
        for task in (self._attach_task, self._socket_task):
            if task is not None and not task.done():
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        if self.socket is not None:
            try:
                await self.socket.close_async()
            except Exception:
                log.exception("closing the Socket Mode connection failed")
        if self.session is not None:
            await self.session.close()

    # ------------------------------------------------------------------ HTTP
    async def http_endpoint(self, request: web.Request) -> web.Response:
        from slack_bolt.adapter.aiohttp import to_aiohttp_response

        started = time.monotonic()
        TRANSPORT.set("http")
        try:  # within the limit while reading, before anything is checked (413 from the middleware)
            body = await read_body(request, MAX_BODY)
        except BodyTooLarge:
            self.metrics.requests.labels("http", "refused_too_large").inc()
            raise
        if not self.settings.signing_secret:
            return self._refuse(request, 503, "refused_unconfigured",
                                "Slack requests cannot be verified: SLACK_SIGNING_SECRET is not set")
        reason = verify(self.settings.signing_secret, body, request.headers.get("X-Slack-Request-Timestamp"),
                        request.headers.get("X-Slack-Signature"), self.clock())
        if reason is not None:
            return self._refuse(request, 401, reason[0], reason[1])
        if not getattr(self.runtime, "lease_held", True):
            # Another replica runs the engine; Slack retries a 5xx and a load balancer that
            # checks /-/ready sends it to the holder.
            why = getattr(self.runtime, "boot_error", "") or "another replica runs the engine"
            return self._refuse(request, 503, "refused_standby", f"this replica is not serving: {why}")
        retry = request.headers.get("X-Slack-Retry-Num")
        if self.replays.check_and_add(str(request.headers.get("X-Slack-Signature"))):
            if retry:
                self.metrics.requests.labels("http", "duplicate").inc()
                log.info("slack retry of a request already handled: acknowledged, not run again", retry=retry)
                return web.Response(status=200)
            return self._refuse(request, 401, "refused_replay",
                                "replayed request: this exact signed request was already received")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return self._refuse(request, 400, "refused_bad_body", "the body is not UTF-8")
        if self.bolt is None:
            return self._refuse(request, 503, "refused_starting", "alertbot is starting")
        bolt_req = self._bolt_request(request, text)
        if isinstance(bolt_req, web.Response):
            return bolt_req
        bolt_resp = await self.bolt.async_dispatch(bolt_req)
        outcome = "handled" if bolt_resp.status == 200 else f"status_{bolt_resp.status}"
        self.metrics.requests.labels("http", outcome).inc()
        if bolt_resp.status == 401:
            log.warning("slack request refused by bolt's verification", status=bolt_resp.status)
        self.metrics.ack_seconds.labels("http", "any").observe(time.monotonic() - started)
        return await to_aiohttp_response(bolt_resp)

    def _bolt_request(self, request: web.Request, text: str) -> Any:
        """Bolt's request for a verified body, or the 400 when the body is not a Slack payload:
        parsed as Bolt parses it (a form, its `payload=` or JSON) and checked where Bolt and the
        listeners read it, so that Bolt never fails on it."""
        from slack_bolt.request.async_request import AsyncBoltRequest
        from slack_bolt.request.internals import build_normalized_headers, extract_content_type, parse_body

        def refuse(why: str) -> web.Response:
            return self._refuse(request, 400, "refused_bad_body", f"the body is not a Slack request: {why}")

        headers = request.headers
        try:
            parsed = parse_body(text, extract_content_type(build_normalized_headers(headers)))  # type: ignore[arg-type]
        except json.JSONDecodeError as exc:
            return refuse(f"not JSON ({exc})")
        except (ValueError, RecursionError):  # a number of more digits than Python converts, or deep nesting
            return refuse("its JSON has a number too long or nesting too deep to read")
        problem = payload_problem(parsed)
        if problem is not None:
            return refuse(problem)
        try:
            return AsyncBoltRequest(body=text, query=request.query_string, headers=headers)  # type: ignore[arg-type]
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
            return refuse("its JSON is not shaped as Slack's payloads")

    def _refuse(self, request: web.Request, status: int, outcome: str, reason: str) -> web.Response:
        self.metrics.requests.labels("http", outcome).inc()
        log.warning("slack request refused", reason=reason, status=status, remote=client_address(request),
                    retry=request.headers.get("X-Slack-Retry-Num"))
        return web.json_response({"error": reason}, status=status)

    async def dedupe_middleware(self, body: dict[str, Any], next: Any) -> Any:
        """A delivery Slack sends again is acknowledged without running twice."""
        from slack_bolt.response import BoltResponse

        key = delivery_key(body) if isinstance(body, dict) else None
        if key is not None and self.handled.check_and_add(key):
            self.metrics.requests.labels(TRANSPORT.get(), "duplicate").inc()
            log.info("slack delivery already handled: acknowledged, not run again", key=key.split(":")[0])
            return BoltResponse(status=200, body="")
        return await next()

    # ------------------------------------------------------------------ Socket Mode
    async def _socket_mode(self) -> None:
        from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

        chatops = self

        class Handler(AsyncSocketModeHandler):  # type: ignore[misc]
            async def handle(self, client: Any, req: Any) -> None:
                TRANSPORT.set("socket_mode")
                started = time.monotonic()
                await super().handle(client, req)
                chatops.metrics.requests.labels("socket_mode", "handled").inc()
                chatops.metrics.ack_seconds.labels("socket_mode", "any").observe(time.monotonic() - started)

        # slack-sdk retries a failed connection by itself, logging why: that reason is kept for
        # `status`.
        logging.getLogger("alertbot.chatops.bolt").addFilter(_SocketErrors(self))
        # Slack hands each event to one of the app's open connections: only the replica that runs
        # the engine connects, and a replica that stands by (or falls back to it) disconnects.
        while True:
            await self._until_lease_held(True)
            await self._connect_socket(Handler)
            await self._until_lease_held(False)
            log.info("chatops: Socket Mode closed: this replica stands by")
            socket, self.socket = self.socket, None
            if socket is not None:
                try:
                    await socket.close_async()
                except Exception:
                    pass

    async def _until_lease_held(self, held: bool) -> None:
        while bool(getattr(self.runtime, "lease_held", True)) != held:
            await asyncio.sleep(0.5)

    async def _connect_socket(self, Handler: Any) -> None:  # noqa: N803
        delay = 1.0
        while True:
            try:
                self.socket = Handler(self.bolt, app_token=self.settings.app_token, web_client=self.web)
                await self.socket.connect_async()
                self.socket_error = ""
                log.info("chatops: Socket Mode connected")
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                data = getattr(getattr(exc, "response", None), "data", None)
                why = data.get("error") if isinstance(data, dict) else type(exc).__name__
                self.socket_error = str(why)
                self.note_error(f"Socket Mode: {why}")
                log.error("chatops: Socket Mode connection failed; retrying", error=str(why),
                          retry_in_seconds=delay)
                if self.socket is not None:
                    try:
                        await self.socket.close_async()
                    except Exception:
                        pass
                    self.socket = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    # ------------------------------------------------------------------ shared
    def transport_of(self, body: Any) -> str:
        return TRANSPORT.get()

    def refused(self, user: User, action: str, reason: str, kind: str) -> None:
        self.metrics.refusals.labels(action, kind).inc()
        log.warning("chatops request refused", user=user.id, user_name=user.name, action=action, reason=reason,
                    why=kind)

    def note_error(self, text: str) -> None:
        self.errors.append((time.time(), text))

    def settings_changed(self) -> None:
        problem = reload_if_changed(self.settings)
        if problem:
            log.error(f"chatops: {problem}")
            self.note_error(problem)

    def _bot_user_id(self) -> str | None:
        try:
            from bot.notify.slack import service_for as slack_service_for

            if self.runtime.http is not None:
                return slack_service_for(self.runtime.http).auth.get("user_id")
        except Exception:
            return None
        return None

    def transport_status(self) -> str:
        s = self.settings
        parts = [f"HTTP {ROUTE} " + ("on" if s.signing_secret else "⚠️ off (SLACK_SIGNING_SECRET not set)")]
        if s.app_token:
            session = getattr(getattr(self.socket, "client", None), "current_session", None)
            if session is not None and not session.closed:
                parts.append("Socket Mode connected")
            else:
                parts.append(f"Socket Mode ⚠️ not connected ({self.socket_error or 'connecting'})")
        parts.append("bot token " + ("set" if s.bot_token else "⚠️ not set"))
        return " · ".join(parts)

    async def _group_handles(self) -> dict[str, str]:
        if self.web is None or not self.settings.bot_token:
            raise LookupError("no SLACK_BOT_TOKEN to read user groups with")
        resp = await self.web.usergroups_list(include_disabled=False)
        return {str(g.get("handle", "")).lower(): str(g.get("id")) for g in resp.get("usergroups", [])}

    async def _group_members(self, group_id: str) -> list[str]:
        if self.web is None or not self.settings.bot_token:
            raise LookupError("no SLACK_BOT_TOKEN to read user groups with")
        resp = await self.web.usergroups_users_list(usergroup=group_id)
        return [str(u) for u in resp.get("users", [])]


_UNIX_TIME = re.compile(r"[0-9]{1,12}")  # Slack sends ten digits; twelve reach the year 33658


def verify(secret: str, body: bytes, ts: str | None, signature: str | None, now: float) -> tuple[str, str] | None:
    """None when the request is Slack's, signed within the window (at most WINDOW_S ago, at most
    FUTURE_SKEW_S ahead); else (outcome, reason)."""
    if not ts or not signature:
        return "refused_unsigned", "missing X-Slack-Request-Timestamp or X-Slack-Signature: not a request from Slack"
    if _UNIX_TIME.fullmatch(ts) is None:
        return "refused_unsigned", "X-Slack-Request-Timestamp is not a Unix time"
    sent = int(ts)
    if now - sent > WINDOW_S:
        return ("refused_stale", f"stale request: signed {int(now - sent)}s ago, outside Slack's 5-minute window "
                                 "(a replay, or this machine's clock is off)")
    if sent - now > FUTURE_SKEW_S:
        return ("refused_stale", f"request from the future: signed {int(sent - now)}s ahead of this machine's clock, "
                                 f"more than the {FUTURE_SKEW_S}s of clock skew allowed (a forged time, or a clock "
                                 "is off)")
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        return ("refused_signature", "bad signature: the body or timestamp differs from what was signed, or "
                                     "SLACK_SIGNING_SECRET is not this app's signing secret")
    return None


# Where Bolt (its context, middleware and listener matchers), the dedupe middleware and the
# listeners read Slack's payloads, with the types Slack sends there: a payload with anything else
# in those places is refused (400) before Bolt runs, instead of failing inside it (500). Message
# contents (blocks, attachments, text) are not read there, and are not checked.
_REF = "id or object"  # a user, team, channel or enterprise: its id, or an object with it
_REF_OBJECT: dict[str, Any] = {"id": str, "team_id": str, "enterprise_id": str}
_MESSAGE: dict[str, Any] = {"type": str, "subtype": str, "user": _REF, "channel": _REF, "team": _REF, "ts": str,
                            "thread_ts": str, "bot_id": str}
_SHAPE: dict[str, Any] = {
    "type": str, "token": str, "team_id": str, "enterprise_id": str, "user_id": str, "channel_id": str,
    "api_app_id": str, "trigger_id": str, "response_url": str, "command": str, "callback_id": str, "action_id": str,
    "block_id": str, "value": str, "event_id": str, "context_team_id": str, "context_enterprise_id": str,
    "function_execution_id": str, "thread_ts": str, "action_ts": str, "message_ts": str,
    "user": _REF, "team": _REF, "channel": _REF, "enterprise": _REF,
    "event": {**_MESSAGE, "user_id": str, "channel_id": str, "user_team": str, "event_ts": str, "enterprise": _REF,
              "team_id": str, "enterprise_id": str, "function_execution_id": str,
              "item": {"type": str, "channel": _REF, "ts": str}, "message": _MESSAGE, "previous_message": _MESSAGE,
              "assistant_thread": {"channel_id": str, "thread_ts": str}},
    "view": {"id": str, "type": str, "callback_id": str, "hash": str, "team_id": str, "app_installed_team_id": str,
             "private_metadata": str},
    "message": _MESSAGE, "previous_message": _MESSAGE,
    "container": {"type": str, "message_ts": str, "channel_id": str, "thread_ts": str, "view_id": str},
    "actions": [{"type": str, "action_id": str, "block_id": str, "action_ts": str, "value": str,
                 "selected_option": {"value": str}}],
    "authorizations": [{"team_id": str, "enterprise_id": str, "user_id": str}],
    "response_urls": [{"response_url": str, "channel_id": str, "block_id": str, "action_id": str}],
    "assistant_thread": {"channel_id": str, "thread_ts": str},
    "function_data": {}, "workflow_step": {},
}


def payload_problem(body: Any) -> str | None:
    """None when a parsed Slack body has the shape Slack sends where it is read, else what is
    wrong with it."""
    if not isinstance(body, dict):
        what = {list: "an array", str: "a string", bool: "a boolean"}.get(type(body), "a number")
        return f"{what} where Slack sends an object"
    return _shape_problem(body, _SHAPE, "")


def _shape_problem(obj: dict[str, Any], shape: dict[str, Any], where: str) -> str | None:
    for key, kind in shape.items():
        value = obj.get(key)
        if value is None:
            continue
        path = f"{where}.{key}" if where else key
        if kind is str:
            if not isinstance(value, str):
                return f"{path} is not a string"
        elif kind is _REF:
            if isinstance(value, dict):
                problem = _shape_problem(value, _REF_OBJECT, path)
                if problem:
                    return problem
            elif not isinstance(value, str):
                return f"{path} is neither an id nor an object"
        elif isinstance(kind, list):
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                return f"{path} is not a list of objects"
            for i, v in enumerate(value):
                problem = _shape_problem(v, kind[0], f"{path}[{i}]")
                if problem:
                    return problem
        elif not isinstance(value, dict):
            return f"{path} is not an object"
        else:
            problem = _shape_problem(value, kind, path)
            if problem:
                return problem
    return None


class _SocketErrors(logging.Filter):
    """Keeps the reason of slack-sdk's failed Socket Mode connections (it retries them itself)."""

    def __init__(self, chatops: Chatops) -> None:
        super().__init__()
        self.chatops = chatops

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if text.startswith("Failed to connect"):
            m = re.search(r"'error': '([a-z_]+)'", text)
            self.chatops.socket_error = m.group(1) if m else text.split("\n")[0][:200]
            self.chatops.note_error(f"Socket Mode: {self.chatops.socket_error}")
        elif text.startswith("A new session") and "established" in text:
            self.chatops.socket_error = ""
        return True


class _DropTokenWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "`token`" not in record.getMessage()


def _random() -> str:
    import secrets

    return secrets.token_hex(16)


def register(app: web.Application) -> Chatops:
    """Adds the Slack app to the bot's application (`create_app` calls this)."""
    rt = app[RUNTIME]
    chatops = Chatops(rt)
    app[CHATOPS] = chatops
    app.router.add_route("POST", ROUTE, chatops.http_endpoint, name="slack_events")
    hooks = getattr(rt, "engine_hooks", None)
    if hooks is not None:
        hooks.append(chatops.attach_engine)
    app.on_startup.append(chatops.on_startup)
    app.on_cleanup.insert(0, chatops.on_cleanup)  # before the runtime stops the engine
    return chatops


CHATOPS: web.AppKey[Chatops] = web.AppKey("alertbot_chatops", Chatops)

__all__ = ["CHATOPS", "Chatops", "delivery_key", "register", "verify"]
