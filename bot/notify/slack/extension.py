"""The living message: the Slack extension of the engine.

It renders a group's message at each flush (in the engine's cycle), remembers what every
message shows and where it is (`bot.notify.slack.state`), tells the thread what changed,
marks a message resolved when its group closes without a resolved notification, and lets
other modules redraw a message after an acknowledgement, a silence or an escalation:

    notifier = service.notifier                       # one per bot
    engine.transact(lambda txn: notifier.refresh(group_id, txn,
                    acknowledged_by="U123", acknowledged_at_ns=txn.now.ns, ack_comment="on it",
                    story="👀 <@U123> acknowledged: on it", story_kind="ack"))

Every change goes out through the outbox, in order per group (a thread reply is enqueued
behind the post it answers, an edit behind the post it edits).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.engine.alert import Alert
from bot.engine.engine import Extension, Txn
from bot.engine.groups import AggrGroup
from bot.notify.base import Notification
from bot.notify.slack.message import GroupStatus, build_message, check_limits, minimal_message, state_of
from bot.notify.slack.state import (
    CHANNEL,
    GROUP,
    MSG,
    PAYLOAD_MARK,
    TIMER_GC,
    StoryLine,
    incarnation_prefix,
    msg_key,
    split_msg_key,
    story_lines,
)
from bot.notify.slack.view import GroupView, build_view

if TYPE_CHECKING:
    from bot.engine.engine import Engine
    from bot.notify.slack.integration import SlackIntegration
    from bot.notify.slack.service import SlackService
    from bot.store.rows import OutboxRow

log = logging.getLogger("alertbot.slack")

_UNSET: Any = object()
NAME = "slack"


@dataclass(slots=True)
class MessageRef:
    """Where a group's message is, for modules that answer in its thread or find it by ts."""

    group_id: str
    incarnation: int
    index: int
    channel: str
    channel_id: str | None
    ts: str | None
    state: str
    error: str | None


class SlackNotifier(Extension):
    name = NAME

    def __init__(self, service: SlackService) -> None:
        self.service = service
        self.engine: Engine | None = None
        self.views: dict[str, GroupView] = {}  # message key -> what the last render shows
        self.channels: dict[str, str] = {}  # message key -> its channel (a message never moves)
        self._seq = 0
        self._index: dict[str, set[str]] | None = None  # incarnation prefix -> its message keys
        self._index_of: object = None

    def attach(self, engine: Engine) -> None:
        """The engine adopted this extension (it comes with the Slack integrations)."""
        self.engine = engine
        self.service.attached(engine)

    # ------------------------------------------------------------------ reading state
    def kv(self, namespace: str, key: str) -> Any:
        assert self.engine is not None, "SlackNotifier.attach(engine) was not called"
        return self.engine.kv.get((namespace, key))

    def view_for(self, key: str) -> GroupView | None:
        v = self.views.get(key)
        if v is not None:
            return v
        entry = self.kv(MSG, key) or {}
        if entry.get("view"):
            try:
                v = GroupView.from_json(entry["view"])
            except (TypeError, KeyError, ValueError):
                return None
            self.views[key] = v
            return v
        return None

    def group_status(self, group_id: str, incarnation: int) -> GroupStatus:
        """What the message shows beside the alerts: this extension's record (refresh, muting),
        with PagerDuty's incident (status, link, an acknowledgement made there) filled in."""
        g = self.kv(GROUP, group_id) or {}
        status = GroupStatus.from_json(g.get("status")) if g.get("inc") == incarnation else GroupStatus()
        if g.get("inc") == incarnation and g.get("muted"):
            status.muted = g["muted"].get("how", "muted")
            status.silence_ids = status.silence_ids or tuple(g["muted"].get("silences", ()))
        self._with_incident(group_id, status)
        return status

    def _with_incident(self, group_id: str, status: GroupStatus) -> None:
        pd = self.engine.extension("pagerduty") if self.engine is not None else None
        incident_of = getattr(pd, "incident_of", None)
        if not callable(incident_of):
            return
        try:
            st = incident_of(group_id)
        except Exception:
            log.exception("reading the PagerDuty incident of %s failed", group_id)
            return
        if not isinstance(st, dict) or st.get("status") in (None, "none"):
            return
        inc = st.get("incident") if isinstance(st.get("incident"), dict) else {}
        status.incident_status = status.incident_status or str(st.get("status") or "")
        url = inc.get("html_url") or inc.get("url") or ""
        if not status.incident_url and isinstance(url, str) and url.startswith(("http://", "https://")):
            status.incident_url = url
        ack = st.get("ack") if isinstance(st.get("ack"), dict) else None
        if ack and not status.acknowledged_by and st.get("status") != "resolved":
            status.acknowledged_by = str(ack.get("by") or "someone")
            status.acknowledged_at_ns = int(ack.get("at_ns") or 0)
            status.ack_comment = str(ack.get("comment") or "")

    def channel_id(self, channel: str) -> str | None:
        if channel[:1] in ("C", "G", "D") and channel.isalnum():
            return channel
        entry = self.kv(CHANNEL, channel) if self.engine is not None else None
        return entry.get("id") if isinstance(entry, dict) else None

    def messages(self, group_id: str) -> list[MessageRef]:
        """The messages of the group's latest incarnation (live or just closed)."""
        inc = self._incarnation(group_id)
        if inc is None:
            return []
        out = []
        for key in self._message_keys(group_id, inc):
            entry = self.kv(MSG, key) or {}
            _, _, index = split_msg_key(key)
            view = self.view_for(key)
            state = entry.get("state") or (view.status if view else "firing")
            out.append(MessageRef(group_id, inc, index, entry.get("channel") or self.channels.get(key, ""),
                                  entry.get("channel_id"), entry.get("ts"), state, entry.get("error")))
        return sorted(out, key=lambda m: m.index)

    def group_for_message(self, channel_id: str, ts: str) -> str | None:
        """The group whose parent message this is (e.g. for a button click)."""
        assert self.engine is not None
        for (ns, key), value in self.engine.kv.items():
            if ns == MSG and isinstance(value, dict) and value.get("ts") == ts and value.get("channel_id") == channel_id:
                return split_msg_key(key)[0]
        return None

    def _incarnation(self, group_id: str) -> int | None:
        assert self.engine is not None
        g = self.engine.groups.get(group_id)
        if g is not None:
            return g.created_ns
        entry = self.kv(GROUP, group_id) or {}
        return entry.get("inc")

    def _message_keys(self, group_id: str, inc: int) -> list[str]:
        """The message keys of one incarnation (an index: this runs at every flush)."""
        index = self._keys_index()
        return sorted(index.get(incarnation_prefix(group_id, inc), ()))

    def _keys_index(self) -> dict[str, set[str]]:
        assert self.engine is not None
        if self._index is None or self._index_of is not self.engine.kv:
            # Built from the store's state once it is loaded (and again if the engine reloaded it).
            index: dict[str, set[str]] = {}
            for (ns, k) in list(self.engine.kv):
                if ns == MSG:
                    index.setdefault(k.rpartition("/")[0] + "/", set()).add(k)
            for k in self.views:
                index.setdefault(k.rpartition("/")[0] + "/", set()).add(k)
            self._index, self._index_of = index, self.engine.kv
        return self._index

    def _remember(self, key: str, view: GroupView, channel: str) -> None:
        self.views[key] = view
        self.channels[key] = channel
        self._keys_index().setdefault(key.rpartition("/")[0] + "/", set()).add(key)

    def _forget(self, key: str) -> None:
        self.views.pop(key, None)
        self.channels.pop(key, None)
        self.service.sender.forget_message(key)
        keys = self._keys_index().get(key.rpartition("/")[0] + "/")
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys_index()[key.rpartition("/")[0] + "/"]

    # ------------------------------------------------------------------ the flush (in a cycle)
    def render_flush(self, integ: SlackIntegration, n: Notification) -> str:
        assert self.engine is not None, "SlackNotifier.attach(engine) was not called"
        gid = str(n.extra.get("group_id") or "")
        g = self.engine.groups.get(gid)
        inc = g.created_ns if g is not None else 0
        key = msg_key(gid, inc, integ.index)
        entry = self.kv(MSG, key) or {}
        prev = self.view_for(key)
        view = build_view(n, integ.cfg, self.engine.config.templates, group_id=gid,
                          runbook=self.service.runbook_info(n.alerts), silence_base=self.service.settings.silence_base)
        channel = entry.get("channel") or self.channels.get(key) or integ.channel_for(n)
        status = self.group_status(gid, inc)
        story = story_lines(prev, view)
        self._remember(key, view, channel)
        return self._content(n.receiver, integ.index, gid, inc, channel, view, status, n.now.ns, story)

    def _content(self, receiver: str, index: int, gid: str, inc: int, channel: str, view: GroupView,
                 status: GroupStatus, now_ns: int, story: Iterable[StoryLine]) -> str:
        self._seq += 1
        message = build_message(view, status, now_ns=now_ns, max_alerts=self.service.settings.max_alerts)
        problems = check_limits(message)
        if problems:  # a bug of ours; the alert still goes out
            log.error("slack message over Block Kit limits, sending the minimal form: %s", "; ".join(problems[:5]))
            message = minimal_message(view, status, now_ns=now_ns)
        c = view.custom
        opts = {k: v for k, v in (("username", c.username), ("icon_emoji", c.icon_emoji), ("icon_url", c.icon_url))
                if v}
        payload = {
            PAYLOAD_MARK: 1, "kind": "content", "msg": msg_key(gid, inc, index), "gid": gid, "inc": inc,
            "index": index, "receiver": receiver, "channel": channel, "v": [now_ns, self._seq],
            "state": state_of(view, status, now_ns), "message": message, "view": view.to_json(),
            "story": [[s.kind, s.text] for s in story], "opts": opts,
        }
        return json.dumps(payload, ensure_ascii=False)

    # ------------------------------------------------------------------ engine hooks
    def on_delivered(self, row: OutboxRow, ok: bool, effects: dict, txn: Txn) -> None:
        self.service.sender.forget_row(row.id)
        p = _ours(row.payload)
        if p is None:
            return
        if p["kind"] == "content":
            self._content_done(p, ok, effects, txn)
        elif p["kind"] == "reply":
            self._reply_done(p, ok, effects, txn)

    def _content_done(self, p: dict, ok: bool, effects: dict, txn: Txn) -> None:
        key = p["msg"]
        entry = dict(txn.kv(MSG, key) or {})
        had_ts = bool(entry.get("ts"))
        action = effects.get("action", "")
        entry.pop("posting", None)
        entry.setdefault("channel", p["channel"])
        if not ok:
            error = str(effects.get("error") or "delivery failed")
            entry["error"] = error
            txn.put_kv(MSG, key, entry)
            txn.audit("slack", "delivery_failed", p["gid"], channel=p["channel"], error=error)
            return
        lines: list[list[str]] = list(p.get("story", []))
        if action in ("post", "repost", "adopted"):
            entry["ts"], entry["channel_id"] = effects["ts"], effects["channel_id"]
            entry["posted_ns"] = txn.now.ns
            lost = entry.pop("lost_ts", None)
            if p["channel"] != effects["channel_id"]:
                self.service.learn_channel(p["channel"], effects["channel_id"])
                if (txn.kv(CHANNEL, p["channel"]) or {}).get("id") != effects["channel_id"]:
                    txn.put_kv(CHANNEL, p["channel"], {"id": effects["channel_id"]})
            if action == "repost" or lost:
                lines = [["note", "♻️ The previous message of this alert group was deleted; this one replaces it."],
                         *lines]
            elif not had_ts:
                lines = []  # a new parent shows everything; its thread starts with the next change
        if action != "superseded":
            entry["view"] = p["view"]
            entry["state"] = p["state"]
            entry.pop("error", None)
        txn.put_kv(MSG, key, entry)
        g = self._touch_group(txn, p["gid"], p["inc"], p["index"])
        if action in ("post", "adopted", "repost") and not had_ts and g.get("pending"):
            lines += g["pending"]
            g = dict(g)
            g["pending"] = []
            txn.put_kv(GROUP, p["gid"], g)
        for kind, text in lines:
            self._enqueue_reply(txn, p["receiver"], p["index"], p["gid"], p["inc"], kind, text)

    def _reply_done(self, p: dict, ok: bool, effects: dict, txn: Txn) -> None:
        key = p["msg"]
        if ok and effects.get("parent_missing"):
            entry = dict(txn.kv(MSG, key) or {})
            lost = entry.pop("ts", None)
            if lost:
                entry["lost_ts"] = lost
            txn.put_kv(MSG, key, entry)
            view = self.view_for(key)
            if view is not None:
                status = self.group_status(p["gid"], p["inc"])
                channel = entry.get("channel") or p["channel"]
                self._enqueue_content(txn, p["receiver"], p["index"], p["gid"], p["inc"], channel, view, status, [])
            self._enqueue_reply(txn, p["receiver"], p["index"], p["gid"], p["inc"], p["story_kind"], p["text"])
        elif not ok:
            txn.audit("slack", "thread_reply_failed", p["gid"], error=str(effects.get("error") or ""))

    def on_flush(self, group: AggrGroup, alerts: Sequence[Alert], txn: Txn) -> None:
        """A flush whose firing alerts are all muted sends nothing: the message says so (and
        says it again when they are not muted any more)."""
        inc = group.created_ns
        keys = self._message_keys(group.id, inc)
        if not keys:
            return
        firing = [a for a in group.alerts.values() if not a.resolved_at(txn.now)]
        if not firing:
            return  # resolving, not unmuting: the resolved flush or the group's close says so
        muted = not any(not a.resolved_at(txn.now) for a in alerts)
        g = dict(txn.kv(GROUP, group.id) or {})
        if g.get("inc") != inc:
            g = {"inc": inc, "status": {}, "pending": [], "indexes": []}
        if muted == bool(g.get("muted")):
            return
        if muted:
            assert self.engine is not None
            by_alert = [self.engine.silences.mutes(a.labels, txn.now) for a in firing]
            how = "silenced" if all(by_alert) else "muted"
            ids = sorted({sid for ids in by_alert for sid in ids})
            g["muted"] = {"how": how, "silences": ids[:10], "at_ns": txn.now.ns}
            story = ("🔕 Every firing alert is silenced in Alertmanager now: no notifications while that lasts."
                     if how == "silenced" else
                     "🔕 Every firing alert is muted now (inhibited, or in a mute time interval): no notifications "
                     "while that lasts.")
        else:
            g.pop("muted", None)
            story = "🔔 The alerts are not muted any more."
        txn.put_kv(GROUP, group.id, g)
        status = self.group_status(group.id, inc)
        for key in keys:
            view = self.view_for(key)
            if view is None or view.status == "resolved":
                continue
            _, _, index = split_msg_key(key)
            entry = self.kv(MSG, key) or {}
            channel = entry.get("channel") or self.channels.get(key) or ""
            self._enqueue_content(txn, group.receiver, index, group.id, inc, channel, view, status,
                                  [StoryLine("silence", story)])

    def on_group_closed(self, group: AggrGroup, txn: Txn) -> None:
        inc = group.created_ns
        keys = self._message_keys(group.id, inc)
        for key in keys:
            view = self.view_for(key)
            if view is None or view.status == "resolved":
                continue
            resolved = view.all_resolved(txn.now.ns)
            self.views[key] = resolved
            _, _, index = split_msg_key(key)
            entry = self.kv(MSG, key) or {}
            channel = entry.get("channel") or self.channels.get(key) or ""
            story = [StoryLine("resolved", "✅ All alerts resolved: the group is over. (No resolved notification "
                                           "was due — the alerts were muted, or send_resolved is off — so this "
                                           "message was updated without one.)")]
            self._enqueue_content(txn, group.receiver, index, group.id, inc, channel, resolved,
                                  self.group_status(group.id, inc), story)
        if keys:
            retention = self.service.settings.retention_s
            txn.schedule(NAME, f"{TIMER_GC}{group.id}@{inc}", txn.now.ns + int(retention * 1e9))

    def on_timer(self, key: str, txn: Txn) -> None:
        if not key.startswith(TIMER_GC):
            return
        head = key[len(TIMER_GC):]
        gid, _, inc_text = head.rpartition("@")
        inc = int(inc_text)
        live = self.engine.groups.get(gid) if self.engine is not None else None
        if live is not None and live.created_ns == inc:
            return
        for k in self._message_keys(gid, inc):
            txn.delete_kv(MSG, k)
            self._forget(k)
        g = txn.kv(GROUP, gid) or {}
        if g.get("inc") == inc and live is None:
            txn.delete_kv(GROUP, gid)

    # ------------------------------------------------------------------ for other modules
    def thread_note(self, group_id: str, text: str, txn: Txn, kind: str = "escalation") -> bool:
        """One line in the group's thread(s), without redrawing (PagerDuty's seam). `text` is
        trusted mrkdwn. False when the group has no message (the line waits for the first post
        while the group is live)."""
        assert self.engine is not None
        inc = self._incarnation(group_id)
        if inc is None:
            return False
        keys = [k for k in self._message_keys(group_id, inc) if self.view_for(k) is not None]
        for key in keys:
            _, _, index = split_msg_key(key)
            view = self.view_for(key)
            assert view is not None
            self._enqueue_reply(txn, view.receiver, index, group_id, inc, kind, text)
        if not keys and group_id in self.engine.groups:
            g = dict(txn.kv(GROUP, group_id) or {})
            if g.get("inc") != inc:
                g = {"inc": inc, "status": {}, "pending": [], "indexes": []}
            g.setdefault("pending", []).append([kind, text])
            txn.put_kv(GROUP, group_id, g)
        return bool(keys)

    def refresh(self, group_id: str, txn: Txn, *, story: str | None = None, story_kind: str = "note",
                acknowledged_by: str | None = _UNSET, acknowledged_at_ns: int = _UNSET, ack_comment: str = _UNSET,
                silenced_by: str | None = _UNSET, silenced_until_ns: int = _UNSET,
                silence_ids: Iterable[str] = _UNSET, incident_url: str = _UNSET, incident_status: str = _UNSET,
                note: str = _UNSET) -> bool:
        """Redraws the group's message(s) with what changed, and tells the thread `story`
        (trusted mrkdwn: escape alert text in it with `bot.notify.slack.mrkdwn.escape_text`).

        Arguments left out keep their value; `acknowledged_by=None` clears an acknowledgement,
        `silenced_by=None` a silence. Call it inside `engine.transact`. Returns False when the
        bot knows no message of this group (nothing to redraw; the status is still kept for
        the first post when the group is live)."""
        assert self.engine is not None
        inc = self._incarnation(group_id)
        if inc is None:
            return False
        g = dict(txn.kv(GROUP, group_id) or {})
        if g.get("inc") != inc:
            g = {"inc": inc, "status": {}, "pending": [], "indexes": []}
        status = GroupStatus.from_json(g.get("status"))
        changes = {"acknowledged_by": acknowledged_by, "acknowledged_at_ns": acknowledged_at_ns,
                   "ack_comment": ack_comment, "silenced_by": silenced_by, "silenced_until_ns": silenced_until_ns,
                   "silence_ids": silence_ids, "incident_url": incident_url, "incident_status": incident_status,
                   "note": note}
        for name, value in changes.items():
            if value is _UNSET:
                continue
            if value is None:
                if name == "acknowledged_by":
                    status.acknowledged_by, status.acknowledged_at_ns, status.ack_comment = "", 0, ""
                elif name == "silenced_by":
                    status.silenced_by, status.silenced_until_ns, status.silence_ids = "", 0, ()
                else:
                    setattr(status, name, type(getattr(status, name))())
                continue
            setattr(status, name, tuple(value) if name == "silence_ids" else value)
        g["status"] = status.to_json()
        txn.put_kv(GROUP, group_id, g)
        status = self.group_status(group_id, inc)  # with muting and PagerDuty's incident
        keys = self._message_keys(group_id, inc)
        drawn = False
        for key in keys:
            view = self.view_for(key)
            if view is None:
                continue
            _, _, index = split_msg_key(key)
            entry = self.kv(MSG, key) or {}
            channel = entry.get("channel") or self.channels.get(key) or ""
            receiver = view.receiver
            self._enqueue_content(txn, receiver, index, group_id, inc, channel, view, status, [])
            drawn = True
            if story:
                self._enqueue_reply(txn, receiver, index, group_id, inc, story_kind, story)
        if story and not drawn:
            g.setdefault("pending", []).append([story_kind, story])
            txn.put_kv(GROUP, group_id, g)
        return drawn

    # ------------------------------------------------------------------ enqueueing
    def _touch_group(self, txn: Txn, gid: str, inc: int, index: int) -> dict:
        g = dict(txn.kv(GROUP, gid) or {})
        if g.get("inc") != inc:
            g = {"inc": inc, "status": {}, "pending": [], "indexes": []}
        if index not in g.get("indexes", []):
            g["indexes"] = sorted(set(g.get("indexes", [])) | {index})
            txn.put_kv(GROUP, gid, g)
        elif txn.kv(GROUP, gid) is None:
            txn.put_kv(GROUP, gid, g)
        return g

    def _enqueue_content(self, txn: Txn, receiver: str, index: int, gid: str, inc: int, channel: str,
                         view: GroupView, status: GroupStatus, story: list[StoryLine]) -> None:
        payload = self._content(receiver, index, gid, inc, channel, view, status, txn.now.ns, story)
        txn.enqueue(receiver, NAME, index, payload, group_id=gid, ordering_key=f"{NAME}:{gid}", origin=NAME)

    def _enqueue_reply(self, txn: Txn, receiver: str, index: int, gid: str, inc: int, kind: str, text: str) -> None:
        self._seq += 1
        key = msg_key(gid, inc, index)
        entry = self.kv(MSG, key) or {}
        payload = {PAYLOAD_MARK: 1, "kind": "reply", "msg": key, "gid": gid, "inc": inc, "index": index,
                   "receiver": receiver, "channel": entry.get("channel") or self.channels.get(key, ""),
                   "story_kind": kind, "text": text, "rid": f"{txn.now.ns}.{self._seq}",
                   "broadcast": kind in self.service.settings.broadcast}
        txn.enqueue(receiver, NAME, index, json.dumps(payload, ensure_ascii=False), group_id=gid,
                    ordering_key=f"{NAME}:{gid}", origin=NAME)


def _ours(payload: str) -> dict | None:
    if PAYLOAD_MARK not in payload[:40]:
        return None
    try:
        p = json.loads(payload)
    except ValueError:
        return None
    return p if isinstance(p, dict) and p.get(PAYLOAD_MARK) == 1 else None
