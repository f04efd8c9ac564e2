"""The Bolt listeners: the slash command, the buttons of the alert message and of our own
answers, and the silence modal. The same listeners serve HTTP and Socket Mode.

Every listener acknowledges first — an empty 200, or the answer itself when it needs nothing
slow (help, a typo) — and does the work afterwards, answering through `respond`
(response_url), the group's message and thread (the Slack notifier, through the outbox),
`chat.postEphemeral` or a file upload.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.chatops import parse
from bot.chatops.access import Refused, User, UserNames
from bot.chatops.acks import group_matchers
from bot.chatops.errors import NotFound, QueryRefused, Unavailable
from bot.chatops.operations import SilenceRequest
from bot.chatops.parse import InputError, UnsafeInput
from bot.chatops.render import (
    ACTION_CANCEL,
    ACTION_CONFIRM,
    BLOCK_COMMENT,
    BLOCK_DURATION,
    BLOCK_MATCHERS,
    INPUT,
    MODAL_SILENCE,
    Reply,
    affected_lines,
    answer,
    problem,
    refusal,
    silence_modal,
    simple,
)
from bot.logging import get_logger
from bot.notify.slack.mrkdwn import code
from bot.notify.slack.view import short_id
from bot.routing.matchers import MatcherError, parse_matchers
from bot.store.base import StoreUnavailable

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from bot.chatops.app import Chatops

log = get_logger("alertbot.chatops")

MODAL_CHECK_S = 1.5
SILENCE_OPTION = re.compile(r"^(\d+[smhdw]|custom)\|([0-9a-f]{8})$")


def help_reply(command: str) -> Reply:
    c = command
    lines = [
        f"• `{c} ack <group> [comment]` — acknowledge: repeats and escalation stop, PagerDuty is told. "
        "`<group>` is the id on the alert message (e.g. `3fa9c2d1`) or matchers (`alertname=\"DiskFull\"`)",
        f"• `{c} unack <group>` — withdraw the acknowledgement",
        f"• `{c} silence <duration> <matchers> [-- comment]` — shows what it would silence, then Confirm",
        f"• `{c} silences [mine|<matchers>]` · `{c} expire <silence id>`",
        f"• `{c} alerts [matchers]` — firing alerts with their group, state and age",
        f"• `{c} query <promql> [range=1h] [step=1m] [datasource=name] [at=time] [in=<group>]` — a table, or a "
        "graph for a range (`in=` posts it in the group's thread)",
        f"• `{c} investigate <group>` — runs the group's runbook queries into its thread",
        f"• `{c} runbook <alertname|group>`",
        f"• `{c} who [service]` — who is on call in PagerDuty · `{c} page <receiver> <summary>` — page now",
        f"• `{c} status` — the bot's health · `{c} audit <group>` — what happened to a group, by whom, when",
        "Buttons on alert messages do the same: Acknowledge, Silence ▾, the runbook's queries, Runbook.",
    ]
    return answer(lines, f"*{c}* — act on alerts from Slack")


class Listeners:
    def __init__(self, chatops: Chatops) -> None:
        self.c = chatops
        self.ops = chatops.ops
        # Access rules that name someone by @name compare it with the name Slack's API gives
        # for the request's user id, never with a name the request carries.
        if chatops.access.names is None:
            chatops.access.names = UserNames(self.slack_username)

    async def slack_username(self, user_id: str) -> str:
        """`users.info`'s `name` for a user id ("" for a deactivated account); raises with
        Slack's reason when it cannot be read."""
        if self.c.web is None or not self.c.settings.bot_token:
            raise LookupError("no SLACK_BOT_TOKEN to read user names with")
        try:
            resp = await self.c.web.users_info(user=user_id)
        except Exception as exc:
            data = getattr(getattr(exc, "response", None), "data", None)
            raise LookupError(str(data.get("error")) if isinstance(data, dict) and data.get("error")
                              else type(exc).__name__) from None
        u = resp.get("user") or {}
        if u.get("id") != user_id or u.get("deleted"):
            return ""
        return str(u.get("name") or "")

    def register(self, bolt: AsyncApp) -> None:
        bolt.middleware(self.c.dedupe_middleware)
        bolt.command(self.c.settings.chatops.command)(self.on_command)
        bolt.action("alertbot.ack")(self.on_ack)
        bolt.action("alertbot.unack")(self.on_unack)
        bolt.action("alertbot.silence")(self.on_silence_select)
        bolt.action(re.compile(r"^alertbot\.investigate\.\d+$"))(self.on_investigate)
        bolt.action("alertbot.runbook")(self.on_link)
        bolt.action(re.compile(r"^alertbot\.action\.\d+$"))(self.on_link)
        bolt.action(ACTION_CONFIRM)(self.on_confirm)
        bolt.action(ACTION_CANCEL)(self.on_cancel)
        bolt.view(MODAL_SILENCE)(self.on_modal_submit)

    # ------------------------------------------------------------------ helpers
    async def guarded(self, user: User, what: str, fn: Callable[[], Awaitable[Reply]]) -> Reply:
        """Runs an operation; what people can act on becomes the answer, and is logged."""
        try:
            return await fn()
        except Refused as exc:
            self.c.refused(user, exc.action or what, exc.reason, "access")
            return refusal(exc.reason)
        except UnsafeInput as exc:
            self.c.refused(user, what, str(exc), "unsafe_input")
            return refusal(str(exc))
        except InputError as exc:
            log.info("chatops input not understood", user=user.id, command=what, reason=str(exc))
            return problem(str(exc))
        except QueryRefused as exc:
            self.c.refused(user, what, str(exc), "query")
            return problem("Prometheus did not answer this query: " + code(str(exc), 600))
        except NotFound as exc:
            log.info("chatops: not found", user=user.id, command=what, reason=str(exc))
            return problem(str(exc))
        except Unavailable as exc:
            return problem(str(exc))
        except StoreUnavailable as exc:
            log.error("chatops: the database refused the change", user=user.id, command=what, error=str(exc))
            return problem("the database is unavailable: nothing was changed. Try again in a moment.")
        except Exception as exc:
            log.exception("chatops command failed", user=user.id, command=what)
            self.c.note_error(f"{what}: {type(exc).__name__}")
            return problem("something went wrong on alertbot's side (it is in the bot's log); check "
                           f"`{self.c.settings.chatops.command} status`")

    async def send(self, respond: Any, reply: Reply, *, channel_id: str = "", thread_ts: str | None = None,
                   replace: bool | None = None) -> None:
        try:
            payload = reply.payload()
            if replace is not None:
                payload["replace_original"] = replace
            await respond(**payload)
        except Exception as exc:
            log.warning("answering through response_url failed", error=f"{type(exc).__name__}: {exc}")
            self.c.note_error(f"response_url: {type(exc).__name__}")
        if reply.files:
            await self.upload(reply, channel_id, thread_ts, respond)

    async def upload(self, reply: Reply, channel_id: str, thread_ts: str | None, respond: Any) -> None:
        web = self.c.web
        for name, png, title in reply.files:
            if web is None or not channel_id:
                break
            try:
                await web.files_upload_v2(channel=channel_id, thread_ts=thread_ts, file=png, filename=name,
                                          title=title[:250])
            except Exception as exc:
                error = getattr(getattr(exc, "response", None), "data", {}) or {}
                why = error.get("error") if isinstance(error, dict) else None
                log.warning("graph upload failed", channel=channel_id, error=why or type(exc).__name__)
                if respond is not None:
                    try:
                        await respond(text=f"⚠️ The graph could not be uploaded ({why or type(exc).__name__}); "
                                           "invite the bot to this channel (`/invite @alertbot`) and scope "
                                           "files:write.", response_type="ephemeral", replace_original=False)
                    except Exception:
                        pass
                break

    @staticmethod
    def user_of(body: dict[str, Any]) -> User:
        """The user who sent it: the id is who they are; the name is only shown (access rules
        never read it — an @name rule is resolved through Slack's API)."""
        if "user_id" in body:  # a slash command
            return User(str(body["user_id"]), str(body.get("user_name") or ""))
        u = body.get("user") or {}
        return User(str(u.get("id", "")), str(u.get("username") or u.get("name") or ""))

    def thread_of(self, group_id: str) -> tuple[str, str] | None:
        """(channel id, ts) of the group's message, if the bot posted one."""
        engine = self.c.runtime.engine
        slack = engine.extension("slack") if engine is not None else None
        messages = getattr(slack, "messages", None)
        if not callable(messages):
            return None
        for m in messages(group_id):
            if m.channel_id and m.ts:
                return m.channel_id, m.ts
        return None

    async def to_thread(self, group_id: str, text: str) -> bool:
        """A line in the group's thread, through the outbox (durable, in order)."""
        engine = self.c.runtime.engine
        slack = engine.extension("slack") if engine is not None else None
        note = getattr(slack, "thread_note", None)
        if engine is None or not callable(note) or self.thread_of(group_id) is None:
            return False
        return bool(await engine.transact(lambda txn: note(group_id, text, txn, kind="investigation")))

    # ------------------------------------------------------------------ the slash command
    async def on_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        started = time.monotonic()
        user = self.user_of(command)
        text = parse.normalize(str(command.get("text", "")))
        verb, _, rest = text.partition(" ")
        verb = verb.lower()
        name = self.c.settings.chatops.command
        run = self.commands().get(verb)
        if verb in ("", "help"):
            await ack(**help_reply(name).payload())
            return
        if run is None:
            await ack(**problem(f"unknown subcommand {code(verb, 40)}; `{name} help` lists them").payload())
            return
        await ack()
        self.c.metrics.ack_seconds.labels(self.c.transport_of(command), "command").observe(time.monotonic() - started)
        log.info("chatops command", user=user.id, command=verb, channel=command.get("channel_id"))
        self.c.settings_changed()
        channel_id = str(command.get("channel_id") or "")
        reply = await self.guarded(user, verb, lambda: run(user, rest.strip(), channel_id))
        thread = None
        where = self.thread_of(reply.group_id) if reply.group_id else None
        if where is not None:
            # `query … in=<group>`: the answer goes to the group's thread
            await self.to_thread(reply.group_id, "\n".join(b["text"]["text"] for b in reply.blocks or []
                                                           if b.get("type") == "section"))
            await self.send(respond, simple(f"📈 Posted in the thread of group "
                                            f"{code(short_id(reply.group_id), 20)}."))
            await self.upload(reply, where[0], where[1], respond)
            return
        await self.send(respond, reply, channel_id=channel_id, thread_ts=thread)

    def commands(self) -> dict[str, Callable[[User, str, str], Awaitable[Reply]]]:
        ops = self.ops

        async def ack(user: User, rest: str, channel: str) -> Reply:
            groups, comment = ops.find_groups(rest)
            return await ops.ack(user, groups, comment)

        async def unack(user: User, rest: str, channel: str) -> Reply:
            groups, extra = ops.find_groups(rest)
            if extra:
                raise InputError(f"`unack` takes only the group; {code(extra, 80)} is left over")
            return await ops.unack(user, groups)

        async def investigate(user: User, rest: str, channel: str) -> Reply:
            groups, _ = ops.find_groups(rest)
            if len(groups) > 1:
                raise InputError("these matchers select several groups: "
                                 + ", ".join(code(short_id(g.id), 20) for g in groups[:10]) + " — pick one")
            return await self.investigate(user, groups[0], None, channel)

        return {
            "ack": ack,
            "unack": unack,
            "silence": lambda user, rest, channel: ops.silence_preview(user, rest),
            "silences": lambda user, rest, channel: ops.silences(user, rest),
            "expire": lambda user, rest, channel: ops.expire(user, rest),
            "alerts": lambda user, rest, channel: ops.alerts(rest),
            "query": lambda user, rest, channel: ops.query(user, parse.query_args(rest), channel_id=channel),
            "investigate": investigate,
            "runbook": lambda user, rest, channel: ops.runbook(rest),
            "who": lambda user, rest, channel: ops.who(rest),
            "page": lambda user, rest, channel: ops.page(user, rest),
            "status": lambda user, rest, channel: ops.status(),
            "audit": lambda user, rest, channel: ops.audit(rest),
        }

    async def investigate(self, user: User, group: Any, only: int | None, channel_id: str,
                          respond: Any = None) -> Reply:
        reply, lines = await self.ops.investigate(user, group, only, channel_id=channel_id)
        if not lines:
            return reply
        where = self.thread_of(group.id)
        if where is None:
            return reply  # no message to answer under: the person gets it (graphs go to the channel)
        await self.to_thread(group.id, "\n".join(lines))
        files = reply.files
        reply = simple(f"🔎 Results posted in the thread of group {code(short_id(group.id), 20)}.")
        if files:
            carrier = Reply("", files=files)
            await self.upload(carrier, where[0], where[1], respond)
        return reply

    # ------------------------------------------------------------------ the alert message's buttons
    async def on_link(self, ack: Any) -> None:
        await ack()  # a URL button: Slack opens the link; the click still wants its 200

    async def _group_action(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any,
                            what: str, fn: Callable[[User, Any], Awaitable[Reply | None]]) -> None:
        started = time.monotonic()
        await ack()
        self.c.metrics.ack_seconds.labels(self.c.transport_of(body), "block_actions").observe(time.monotonic() - started)
        user = self.user_of(body)
        self.c.settings_changed()
        log.info("chatops button", user=user.id, action=what)

        async def run() -> Reply:
            try:
                ref = json.loads(action.get("value") or "{}")
            except ValueError:
                ref = {}
            if not isinstance(ref, dict) or not ref:
                raise NotFound("this button carries no alert group (an old message?)")
            group = self.ops.group_by_ref(ref)
            return await fn(user, group) or Reply("")

        reply = await self.guarded(user, what, run)
        if reply.text or reply.blocks:
            await self.send(respond, reply, replace=False)

    async def on_ack(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async def fn(user: User, group: Any) -> Reply | None:
            reply = await self.ops.ack(user, [group], "")
            return reply if "already" in reply.text or "⚠️" in reply.text else None

        await self._group_action(ack, body, action, respond, "ack", fn)

    async def on_unack(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        async def fn(user: User, group: Any) -> Reply | None:
            reply = await self.ops.unack(user, [group])
            return reply if "🚫" in reply.text or "⚠️" in reply.text or "was not" in reply.text else None

        await self._group_action(ack, body, action, respond, "unack", fn)

    async def on_investigate(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        index = int(action["action_id"].rsplit(".", 1)[1])
        channel = str((body.get("channel") or {}).get("id") or "")

        async def fn(user: User, group: Any) -> Reply | None:
            return await self.investigate(user, group, index, channel, respond)

        await self._group_action(ack, body, action, respond, "investigate", fn)

    async def on_silence_select(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any,
                                client: Any) -> None:
        started = time.monotonic()
        await ack()
        self.c.metrics.ack_seconds.labels(self.c.transport_of(body), "block_actions").observe(time.monotonic() - started)
        user = self.user_of(body)
        value = str((action.get("selected_option") or {}).get("value", ""))
        m = SILENCE_OPTION.match(value)
        channel = str((body.get("channel") or {}).get("id") or "")
        if m is None:
            await self.send(respond, problem("this silence choice is not one the bot offers"), replace=False)
            return
        choice, sid = m.groups()
        if choice == "custom":
            # The modal must open while the trigger_id is fresh (about 3 s): before anything slow.
            reply = await self.guarded(user, "silence", lambda: self.open_modal(client, body, sid, channel))
            if reply.text:
                await self.send(respond, reply, replace=False)
            return

        async def run() -> Reply:
            group = self.ops.group_by_ref({"s": sid})
            ms = group_matchers(group, self.ops.now())
            if ms is None:
                raise InputError("this group has no labels to build a silence from; use Custom…")
            req = SilenceRequest(list(ms), parse.duration(choice), "")
            await self.ops.create_silence(user, req, group_id=group.id, how=f"button {choice}")
            return Reply("")

        self.c.settings_changed()
        reply = await self.guarded(user, "silence", run)
        if reply.text:
            await self.send(respond, reply, replace=False)

    async def open_modal(self, client: Any, body: dict[str, Any], sid: str, channel: str) -> Reply:
        group = self.ops.group_by_ref({"s": sid})
        ms = group_matchers(group, self.ops.now())
        line = ", ".join(str(m) for m in ms) if ms is not None else ""
        found = await self.ops.affected_here(list(ms)) if ms is not None else {}
        items = sorted((("", labels) for _, labels in found.values()), key=lambda x: sorted(x[1].items()))
        names = sorted({a.name for a in group.alerts.values() if a.name})
        view = silence_modal(short_id(group.id), names[0] if len(names) == 1 else f"{len(names)} alert names",
                             line, "2h", affected_lines(items, limit=8), len(items),
                             {"g": group.id, "c": channel})
        await client.views_open(trigger_id=body["trigger_id"], view=view)
        return Reply("")

    # ------------------------------------------------------------------ our own answers' buttons
    async def on_confirm(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        started = time.monotonic()
        await ack()
        self.c.metrics.ack_seconds.labels(self.c.transport_of(body), "block_actions").observe(time.monotonic() - started)
        user = self.user_of(body)
        self.c.settings_changed()

        async def run() -> Reply:
            try:
                doc = json.loads(action.get("value") or "")
                req = SilenceRequest.from_json(doc, self.ops.mode)
            except (ValueError, KeyError, TypeError, MatcherError):
                raise InputError("this confirmation cannot be read; run the command again") from None
            if doc.get("u") != user.id:
                raise Refused("silence", "only the person who asked for this silence can confirm it")
            return await self.ops.create_silence(user, req, how="command")

        reply = await self.guarded(user, "silence", run)
        await self.send(respond, reply, replace=True)

    async def on_cancel(self, ack: Any, respond: Any) -> None:
        await ack()
        try:
            await respond(text="Cancelled: no silence was created.", replace_original=True,
                          response_type="ephemeral")
        except Exception as exc:
            log.warning("answering through response_url failed", error=type(exc).__name__)

    # ------------------------------------------------------------------ the modal
    async def on_modal_submit(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        started = time.monotonic()
        user = self.user_of(body)
        values = (view.get("state") or {}).get("values") or {}

        def value(block: str) -> str:
            return str(((values.get(block) or {}).get(INPUT) or {}).get("value") or "").strip()

        try:
            meta = json.loads(view.get("private_metadata") or "{}")
        except ValueError:
            meta = {}
        errors: dict[str, str] = {}
        req = None
        text = parse.normalize(value(BLOCK_MATCHERS)).replace("\n", ",").strip().strip(",")
        try:
            matchers = parse_matchers("{" + text.removeprefix("{").removesuffix("}") + "}", self.ops.mode)
            if not matchers:
                errors[BLOCK_MATCHERS] = "Give at least one matcher, e.g. alertname=\"DiskFull\"."
        except MatcherError as exc:
            matchers = []
            errors[BLOCK_MATCHERS] = f"Not matchers: {exc}"[:150]
        try:
            seconds = parse.duration(value(BLOCK_DURATION))
        except InputError:
            seconds = 0.0
            errors[BLOCK_DURATION] = "A duration such as 30m, 2h, 1d or 1h30m."
        try:
            comment = parse.comment(parse.normalize(value(BLOCK_COMMENT)))
        except UnsafeInput as exc:
            comment = ""
            errors[BLOCK_COMMENT] = "No @channel, @here, @everyone or group mentions, please."
            self.c.refused(user, "silence", str(exc), "unsafe_input")
        except InputError as exc:
            comment = ""
            errors[BLOCK_COMMENT] = _plain(str(exc))[:150]
        if not errors:
            req = SilenceRequest(matchers, seconds, comment)
            try:
                self.ops.validate_silence(req, user)
                # Reading user groups may be slow; the modal must be answered within 3 s. When
                # it is not known in time, the silence is checked again when it is created
                # (and a refusal comes as an ephemeral message).
                await asyncio.wait_for(self.ops.check_silence(user, matchers, seconds), MODAL_CHECK_S)
            except (TimeoutError, Unavailable):
                log.warning("access check for the silence modal took too long; checked again on creation",
                            user=user.id)
            except Refused as exc:
                self.c.refused(user, "silence", exc.reason, "access")
                errors[BLOCK_MATCHERS if "matcher" in exc.reason or "refuse" in exc.reason else BLOCK_DURATION] = \
                    _plain(exc.reason)[:150]
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        self.c.metrics.ack_seconds.labels(self.c.transport_of(body), "view_submission").observe(
            time.monotonic() - started)
        assert req is not None
        gid = str(meta.get("g") or "")
        if gid and (self.c.runtime.engine is None or gid not in self.c.runtime.engine.groups):
            gid = ""
        reply = await self.guarded(user, "silence", lambda: self.ops.create_silence(user, req, group_id=gid,
                                                                                   how="modal"))
        channel = str(meta.get("c") or "")
        if self.c.web is not None and channel:
            try:
                await self.c.web.chat_postEphemeral(channel=channel, user=user.id, text=reply.text[:3000],
                                                    blocks=reply.blocks)
            except Exception as exc:
                log.warning("chat.postEphemeral failed", error=type(exc).__name__)


def _plain(text: str) -> str:
    """mrkdwn of ours as plain text (modal errors are plain)."""
    return re.sub(r"[*_`]", "", text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
