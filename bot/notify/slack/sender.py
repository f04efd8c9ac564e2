"""Turns one outbox row of the Slack integration into Slack calls (`deliver`, one attempt).

A *content* row makes a group's parent message look like its payload: `chat.update` when the
message exists, `chat.postMessage` when it does not (or when Slack says it is gone). A
*reply* row posts one story line in the parent's thread.

Guarantees, and why:
- One parent per group incarnation and channel. Before a post, a marker is committed with
  the message's state; a later attempt that finds the marker — after a crash, or after a
  failure that may have reached Slack (a timeout, `fatal_error`, a 5xx) — first looks for
  the message in the channel's history (by its metadata) and adopts it instead of posting a
  second one. A failure that surely did not post (a 429, an `ok:false` refusal) skips that.
- Edits are debounced: an edit waits until `debounce` seconds after the message's last
  write; if a newer content row for the same message is already in the outbox by then, the
  older one is skipped (the newer carries everything). A storm of changes is one edit.
- Thread replies are at-least-once: a reply whose call may have reached Slack is looked up
  in the thread before it is sent again; only a crash between Slack's answer and the commit
  can repeat one.
- Order per message is the outbox's: one row at a time per group, in id order.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from bot.notify.base import Outcome
from bot.notify.slack.api import CONTENT_ERRORS, GONE, RETRYABLE, CallResult, SlackApi
from bot.notify.slack.message import minimal_message
from bot.notify.slack.state import METADATA_EVENT, MSG
from bot.notify.slack.view import GroupView

if TYPE_CHECKING:
    from bot.notify.slack.extension import SlackNotifier
    from bot.notify.slack.integration import SlackIntegration
    from bot.notify.slack.service import SlackService

log = logging.getLogger("alertbot.slack")

MAX_UNEXPLAINED = 10  # attempts for errors Slack does not document as retryable
MARK_TIMEOUT_S = 30.0
HISTORY_WINDOW_S = 120.0
HISTORY_PAGES = 5
STORY_EVENT = "alertbot_story"


class Sender:
    def __init__(self, service: SlackService) -> None:
        self.service = service
        self._last_write: dict[str, float] = {}  # message key -> monotonic time of its last post/edit
        self._clean: set[str] = set()  # message keys whose last post attempt surely posted nothing
        self._maybe_replied: set[str] = set()  # reply ids whose last attempt may have reached Slack
        self._meta: dict[int, tuple[str, str, tuple[int, int]]] = {}  # row id -> (kind, msg, version)
        self._unexplained: dict[str, int] = {}

    @property
    def notifier(self) -> SlackNotifier:
        return self.service.notifier

    def forget_row(self, row_id: int) -> None:
        self._meta.pop(row_id, None)

    def forget_message(self, key: str) -> None:
        """The message's state is gone (its group ended long ago)."""
        self._last_write.pop(key, None)
        self._clean.discard(key)

    # ------------------------------------------------------------------ entry point
    async def deliver(self, integ: SlackIntegration, payload: str) -> Outcome:
        try:
            p = json.loads(payload)
        except ValueError:
            return Outcome.permanent("unreadable Slack payload")
        try:
            if p.get("kind") == "content":
                return await self._content(integ.api, p)
            if p.get("kind") == "reply":
                return await self._reply(integ.api, p)
        except Exception as exc:  # a bug of ours must not stop the worker; the outbox retries
            log.exception("slack delivery failed unexpectedly")
            return Outcome.retry(f"internal error: {type(exc).__name__}: {exc}")
        return Outcome.permanent(f"unknown Slack payload kind {p.get('kind')!r}")

    # ------------------------------------------------------------------ the parent message
    async def _content(self, api: SlackApi, p: dict) -> Outcome:
        key = p["msg"]
        entry = self.notifier.kv(MSG, key) or {}
        ts, cid = entry.get("ts"), entry.get("channel_id")
        message = p["message"]
        lost = bool(entry.get("lost_ts"))
        if ts and cid:
            if self._superseded(p):
                return Outcome.success(action="superseded")
            await self._debounce(key)
            if self._superseded(p):
                return Outcome.success(action="superseded")
            r = await api.call("chat.update", channel=cid, ts=ts, **_update_args(message, p))
            if not r.ok and r.error in CONTENT_ERRORS:
                log.error("Slack refused the message (%s); sending its minimal form", r.error)
                r = await api.call("chat.update", channel=cid, ts=ts, **_update_args(self._minimal(p), p))
            self.service.observe(r, p["channel"])
            if r.ok:
                self._wrote(key, p)
                return Outcome.success(action="update", ts=ts, channel_id=cid)
            if r.error not in GONE:
                return self._outcome(r, p)
            log.warning("the Slack message of group %s is gone (%s): posting a new one", p["gid"], r.error)
            lost = True
        if entry.get("posting") and key not in self._clean:
            found = await self._find_posted(api, p, entry)
            if isinstance(found, CallResult):
                return self._outcome(found, p)
            if found is not None:
                ts, cid = found
                log.info("adopted the Slack message %s of group %s posted before an interruption", ts, p["gid"])
                r = await api.call("chat.update", channel=cid, ts=ts, **_update_args(message, p))
                self.service.observe(r, p["channel"])
                self._wrote(key, p)
                return Outcome.success(action="adopted", ts=ts, channel_id=cid)
        async def mark() -> CallResult | None:
            # Recorded once the post's turn has come (not while it waits for the channel's pace):
            # after a crash, only posts that may really have been sent are looked for.
            if await self._mark_posting(key, p["channel"]):
                return None
            return CallResult("chat.postMessage", False, "retry",
                              "could not record the post before sending it (database unavailable)")

        args = _post_args(message, p)
        r = await api.call("chat.postMessage", before=mark, channel=p["channel"], **args)
        if not r.ok and not r.status and r.error.startswith("could not record"):
            return Outcome.retry(r.error)
        if not r.ok and r.error in CONTENT_ERRORS and not r.maybe_done:
            log.error("Slack refused the message (%s); sending its minimal form", r.error)
            r = await api.call("chat.postMessage", channel=p["channel"], **_post_args(self._minimal(p), p))
        self.service.observe(r, p["channel"])
        if r.ok:
            self._clean.discard(key)
            self._wrote(key, p)
            return Outcome.success(action="repost" if lost else "post", ts=str(r.data.get("ts", "")),
                                   channel_id=str(r.data.get("channel", "")))
        if r.maybe_done:
            self._clean.discard(key)
        else:
            self._clean.add(key)
        return self._outcome(r, p)

    def _minimal(self, p: dict) -> dict:
        return minimal_message(GroupView.from_json(p["view"]), None, now_ns=p["v"][0])

    def _superseded(self, p: dict) -> bool:
        """Whether a newer content row for the same message waits in the outbox."""
        engine = self.notifier.engine
        assert engine is not None
        okey = f"slack:{p['gid']}"
        mine = (p["msg"], tuple(p["v"]))
        for row in list(engine.outbox.values()):
            if row.ordering_key != okey or row.integration != "slack":
                continue
            meta = self._meta.get(row.id)
            if meta is None:
                try:
                    q = json.loads(row.payload)
                    meta = (q.get("kind", ""), q.get("msg", ""), tuple(q.get("v", (0, 0))))
                except (ValueError, AttributeError):
                    meta = ("", "", (0, 0))
                self._meta[row.id] = meta
            if meta[0] == "content" and meta[1] == mine[0] and meta[2] > mine[1]:
                return True
        return False

    async def _debounce(self, key: str) -> None:
        last = self._last_write.get(key)
        if last is None:
            return
        wait = last + self.service.settings.debounce_s - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)

    def _wrote(self, key: str, p: dict) -> None:
        self._last_write[key] = time.monotonic()
        self._unexplained.pop(_attempt_key(p), None)

    async def _mark_posting(self, key: str, channel: str) -> bool:
        engine = self.notifier.engine
        assert engine is not None

        def mark(txn: Any) -> None:
            entry = dict(txn.kv(MSG, key) or {})
            entry["posting"] = {"at_ns": txn.now.ns}
            entry.setdefault("channel", channel)
            txn.put_kv(MSG, key, entry)

        try:
            await asyncio.wait_for(asyncio.shield(engine.transact(mark)), timeout=MARK_TIMEOUT_S)
            return True
        except Exception as exc:
            log.warning("could not record a Slack post before sending it: %s", exc)
            return False

    async def _find_posted(self, api: SlackApi, p: dict, entry: dict) -> tuple[str, str] | CallResult | None:
        """The parent an interrupted attempt may have posted: (ts, channel id), None, or the
        failed lookup."""
        cid = entry.get("channel_id") or self.notifier.channel_id(p["channel"])
        if cid is None:
            found = await self._lookup_channel(api, p["channel"])
            if isinstance(found, CallResult):
                return found
            cid = found
        if cid is None:
            return None
        oldest = entry["posting"]["at_ns"] / 1e9 - HISTORY_WINDOW_S
        cursor = None
        for _ in range(HISTORY_PAGES):
            args: dict[str, Any] = {"channel": cid, "oldest": f"{oldest:.6f}", "include_all_metadata": True,
                                    "limit": 200}
            if cursor:
                args["cursor"] = cursor
            r = await api.call("conversations.history", **args)
            self.service.observe(r, p["channel"])
            if not r.ok:
                return r if r.kind == "retry" else None
            for m in r.data.get("messages", []):
                md = m.get("metadata") or {}
                ep = md.get("event_payload") or {}
                if (md.get("event_type") == METADATA_EVENT and ep.get("group_id") == p["gid"]
                        and str(ep.get("incarnation")) == str(p["inc"]) and int(ep.get("index", -1)) == p["index"]):
                    return str(m["ts"]), cid
            cursor = (r.data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                break
        return None

    async def _lookup_channel(self, api: SlackApi, channel: str) -> str | CallResult | None:
        name = channel.lstrip("#")
        cursor = None
        for _ in range(20):
            args: dict[str, Any] = {"types": "public_channel,private_channel", "exclude_archived": True,
                                    "limit": 1000}
            if cursor:
                args["cursor"] = cursor
            r = await api.call("conversations.list", **args)
            if not r.ok:
                return r if r.kind == "retry" else None
            for c in r.data.get("channels", []):
                if c.get("name") == name:
                    return str(c["id"])
            cursor = (r.data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
        return None

    # ------------------------------------------------------------------ thread replies
    async def _reply(self, api: SlackApi, p: dict) -> Outcome:
        entry = self.notifier.kv(MSG, p["msg"])
        if not entry:
            return Outcome(False, False, "the message this reply belongs to is no longer known",
                           effects={"error": "message_state_gone"})
        ts, cid = entry.get("ts"), entry.get("channel_id")
        if not ts or not cid:
            if entry.get("error"):
                return Outcome(False, False, f"the parent message was never posted: {entry['error']}",
                               effects={"error": entry["error"]})
            return self._unexplained_retry(p, "the parent message is not posted yet")
        rid = p["rid"]
        if rid in self._maybe_replied:
            seen = await self._reply_exists(api, cid, ts, rid, p)
            if isinstance(seen, CallResult):
                return self._outcome(seen, p)
            if seen:
                self._maybe_replied.discard(rid)
                return Outcome.success(action="reply", ts=ts, channel_id=cid)
        args: dict[str, Any] = {
            "thread_ts": ts, "text": p["text"], "unfurl_links": False, "unfurl_media": False,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": p["text"][:3000] or " ",
                                                    "verbatim": True}}],
            "metadata": {"event_type": STORY_EVENT, "event_payload": {"rid": rid, "group_id": p["gid"]}},
        }
        if p.get("broadcast"):
            args["reply_broadcast"] = True
        r = await api.call("chat.postMessage", channel=cid, **args)
        self.service.observe(r, p["channel"] or cid)
        if r.ok:
            self._maybe_replied.discard(rid)
            self._unexplained.pop(_attempt_key(p), None)
            return Outcome.success(action="reply", ts=str(r.data.get("ts", "")), channel_id=cid)
        if r.error in ("thread_not_found", "message_not_found"):
            return Outcome.success(action="reply", parent_missing=True)
        if r.maybe_done:
            self._maybe_replied.add(rid)
        return self._outcome(r, p)

    async def _reply_exists(self, api: SlackApi, cid: str, ts: str, rid: str, p: dict) -> bool | CallResult:
        cursor = None
        for _ in range(HISTORY_PAGES):
            args: dict[str, Any] = {"channel": cid, "ts": ts, "include_all_metadata": True, "limit": 200}
            if cursor:
                args["cursor"] = cursor
            r = await api.call("conversations.replies", **args)
            self.service.observe(r, p["channel"] or cid)
            if not r.ok:
                return r if r.kind == "retry" else False
            for m in r.data.get("messages", []):
                if ((m.get("metadata") or {}).get("event_payload") or {}).get("rid") == rid:
                    return True
            cursor = (r.data.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
        return False

    # ------------------------------------------------------------------ outcomes
    def _outcome(self, r: CallResult, p: dict) -> Outcome:
        if r.kind == "retry":
            documented = r.status == 429 or r.status >= 500 or r.error in RETRYABLE or not r.status
            if not documented:
                return self._unexplained_retry(p, r.describe(), r.error, r.retry_after)
            return Outcome.retry(r.describe(), retry_after=r.retry_after)
        self._unexplained.pop(_attempt_key(p), None)
        return Outcome(False, False, r.describe(), effects={"error": r.error})

    def _unexplained_retry(self, p: dict, why: str, error: str = "", retry_after: float | None = None) -> Outcome:
        k = _attempt_key(p)
        n = self._unexplained[k] = self._unexplained.get(k, 0) + 1
        if n >= MAX_UNEXPLAINED:
            self._unexplained.pop(k, None)
            return Outcome(False, False, f"{why} (gave up after {n} attempts)", effects={"error": error or why})
        return Outcome.retry(why, retry_after=retry_after)


def _attempt_key(p: dict) -> str:
    return f"{p.get('kind')}|{p.get('msg')}|{p.get('v') or p.get('rid')}"


def _metadata(p: dict) -> dict:
    return {"event_type": METADATA_EVENT,
            "event_payload": {"group_id": p["gid"], "incarnation": str(p["inc"]), "index": p["index"],
                              "receiver": p["receiver"], "flush_ns": str(p["v"][0])}}


def _post_args(message: dict, p: dict) -> dict:
    args = {"text": message["text"], "blocks": message["blocks"], "metadata": _metadata(p), "unfurl_links": False,
            "unfurl_media": False}
    if message.get("attachments"):
        args["attachments"] = message["attachments"]
    args.update(p.get("opts") or {})
    return args


def _update_args(message: dict, p: dict) -> dict:
    args = {"text": message["text"], "blocks": message["blocks"], "metadata": _metadata(p)}
    # An edit must clear a colour bar the message no longer has.
    args["attachments"] = message.get("attachments") or []
    return args
