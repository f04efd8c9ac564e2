"""Acknowledgement: a state of an alert group, not a silence — and the one place that says
whether a group is acknowledged.

The engine extension "chatops" keeps, in the engine's key-value store (committed with the
cycle that changed it):

    "chatops.ack"/<group id>
        inc          the group's incarnation (its creation time): an acknowledgement belongs
                     to one incarnation; the next alert after a full resolution starts fresh
        by, name     who (a Slack user id and name; PagerDuty's user name for an
                     acknowledgement made in PagerDuty)
        at_ns, comment, source ("slack" | "pagerduty")
        silence      the `ack_silence` silence: {id, until_ns, matchers} (see bot.chatops.upkeep)
        ended_ns, end   set when the group resolved while acknowledged (kept a week, then dropped)
    "chatops.silence"/<silence id>
        silences made from chat: who, the group, the upstream Alertmanager's id, and what is
        still owed to it ({"pending": "create" | "update" | "expire"})

While a group is acknowledged its repeat notifications are held back (`suppress_repeat`) and
its Slack-first escalation does not page. PagerDuty's extension reads `acknowledged()` for
that, and feeds `external()` when someone acknowledges in PagerDuty; it keeps no copy of
its own. Slack's message shows what `refresh` is told here. The acknowledgement ends when
someone unacknowledges or when the group resolves (audited as `resolve`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.config.durations import format_duration
from bot.engine.engine import Extension, Txn
from bot.engine.groups import AggrGroup
from bot.engine.silences import Silence, SilenceError
from bot.engine.timestamp import Timestamp
from bot.logging import get_logger
from bot.notify.slack.mrkdwn import escape_text
from bot.routing.matchers import Matcher, Matchers, MatchType

if TYPE_CHECKING:
    from bot.chatops.access import User
    from bot.engine.engine import Engine

log = get_logger("alertbot.chatops")

NAME = "chatops"
NS_ACK = "chatops.ack"
NS_SILENCE = "chatops.silence"
NS = 1_000_000_000
KEEP_S = 7 * 86400
TIMER_GC = "gc|"


class NotAllowedHere(Exception):
    """An acknowledgement change that cannot be done (already gone, made elsewhere…)."""


class GroupGone(LookupError):
    pass


@dataclass
class AckChange:
    group_id: str
    changed: bool  # False: it already was (or was not) acknowledged
    by: str = ""
    name: str = ""
    source: str = "slack"
    pagerduty: list[str] = field(default_factory=list)  # targets told `acknowledge`
    escalation_cancelled: bool = False
    silence_id: str = ""  # the ack_silence silence created (or expired, for an unack)
    note: str = ""  # something the person should know (e.g. why no ack silence)


def _until(ns: int) -> str:
    from bot.notify.slack.message import date

    return date(ns)


def group_matchers(group: AggrGroup, now: Timestamp) -> Matchers | None:
    """Matchers selecting the group's alerts: its group labels, else the labels its firing
    alerts share; None when there is nothing to match on."""
    labels = dict(group.labels)
    if not labels:
        firing = [a for a in group.alerts.values() if not a.resolved_at(now)] or list(group.alerts.values())
        if firing:
            labels = dict(firing[0].labels)
            for a in firing[1:]:
                for k in list(labels):
                    if a.labels.get(k) != labels[k]:
                        del labels[k]
    labels = {k: v for k, v in labels.items() if v != ""}
    if not labels:
        return None
    return Matchers(Matcher.new(MatchType.EQUAL, k, v) for k, v in sorted(labels.items()))


def matchers_to_json(ms: Matchers | list[Matcher]) -> list[list[Any]]:
    return [[int(m.type), m.name, m.value] for m in ms]


def matchers_from_json(items: list[list[Any]]) -> Matchers:
    return Matchers(Matcher.new(MatchType(int(t)), n, v) for t, n, v in items)


class AckExtension(Extension):
    name = NAME

    def __init__(self, ack_silence_s: float = 15 * 60.0) -> None:
        self.engine: Engine | None = None
        self.ack_silence_s = ack_silence_s

    def attach(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ reading
    def record(self, group_id: str) -> dict[str, Any] | None:
        if self.engine is None:
            return None
        rec = self.engine.kv.get((NS_ACK, group_id))
        return dict(rec) if isinstance(rec, dict) else None

    def current(self, group_id: str) -> dict[str, Any] | None:
        """The live group's acknowledgement, or None."""
        rec = self.record(group_id)
        g = self.engine.groups.get(group_id) if self.engine is not None else None
        if rec is None or g is None or rec.get("inc") != g.created_ns or rec.get("ended_ns"):
            return None
        return rec

    def acknowledged(self, group_id: str) -> bool:
        """Whether the group is acknowledged; for a group that is gone, whether it was when it
        resolved (PagerDuty asks that when deciding to resolve an escalated incident)."""
        if self.engine is None:
            return False
        if group_id in self.engine.groups:
            return self.current(group_id) is not None
        rec = self.record(group_id)
        return rec is not None and (not rec.get("ended_ns") or rec.get("end") == "resolved")

    # ------------------------------------------------------------------ engine hooks
    def suppress_repeat(self, group: AggrGroup) -> bool:
        return self.current(group.id) is not None

    def on_group_closed(self, group: AggrGroup, txn: Txn) -> None:
        rec = txn.kv(NS_ACK, group.id)
        details: dict[str, Any] = {"group_key": group.key, "receiver": group.receiver}
        if isinstance(rec, dict) and rec.get("inc") == group.created_ns and not rec.get("ended_ns"):
            rec = dict(rec)
            rec.update(ended_ns=txn.now.ns, end="resolved")
            txn.put_kv(NS_ACK, group.id, rec)
            txn.schedule(NAME, f"{TIMER_GC}{group.id}", txn.now.ns + KEEP_S * NS)
            details.update(acknowledged_by=rec.get("name") or rec.get("by"),
                           acknowledged_for=format_duration(max(0, txn.now.ns - int(rec.get("at_ns", 0))) / NS))
            if rec.get("silence"):
                details["ack_silence"] = rec["silence"].get("id")
        elif isinstance(rec, dict) and rec.get("inc") != group.created_ns:
            txn.delete_kv(NS_ACK, group.id)  # an older incarnation's, left over
        txn.audit("alertbot", "resolve", group.id, **details)

    def on_timer(self, key: str, txn: Txn) -> None:
        if not key.startswith(TIMER_GC):
            return
        gid = key[len(TIMER_GC):]
        rec = txn.kv(NS_ACK, gid)
        if isinstance(rec, dict) and rec.get("ended_ns"):
            txn.delete_kv(NS_ACK, gid)

    # ------------------------------------------------------------------ changes (inside a cycle)
    def acknowledge(self, txn: Txn, group_id: str, user: User, comment: str = "", *,
                    ack_silence: bool = True) -> AckChange:
        """Acknowledges the group. `ack_silence=False`: not the silence of an `ack_silence`
        route (the person may not create it; the caller says why)."""
        engine = txn.engine
        group = engine.groups.get(group_id)
        if group is None:
            raise GroupGone(group_id)
        cur = self.current(group_id)
        if cur is not None:
            return AckChange(group_id, False, cur.get("by", ""), cur.get("name", ""), cur.get("source", "slack"))
        rec: dict[str, Any] = {"inc": group.created_ns, "by": user.id, "name": user.name, "at_ns": txn.now.ns,
                               "comment": comment, "source": "slack"}
        change = AckChange(group_id, True, user.id, user.name)
        if ack_silence and getattr(group.route.config, "ack_silence", False):
            change.silence_id, change.note = self._ack_silence(txn, group, user, rec)
        txn.put_kv(NS_ACK, group_id, rec)
        txn.audit(user.id, "ack", group_id, name=user.name, comment=comment, ack_silence=change.silence_id or None)
        pd = engine.extension("pagerduty")
        if pd is not None and callable(getattr(pd, "acknowledge", None)) and callable(getattr(pd, "incident_of", None)):
            # PagerDuty gets `acknowledge` for what it was told to trigger, and a waiting
            # Slack-first escalation stops (its own audit row says which targets).
            st = pd.incident_of(group_id)
            if st is not None:
                result = pd.acknowledge(txn, group_id, user.id, comment)
                change.pagerduty = list(result.sent_to)
                change.escalation_cancelled = result.escalation_cancelled
        story = f"👀 <@{user.id}> acknowledged" + (f": {escape_text(comment)}" if comment else ".")
        if change.pagerduty:
            story += " PagerDuty was told (acknowledge)."
        if change.escalation_cancelled:
            story += " The escalation to PagerDuty is off while this lasts."
        if change.silence_id:
            story += (f" An acknowledgement silence (`{change.silence_id[:8]}`) mutes the group while it fires "
                      f"(ack_silence).")
        self._refresh(txn, group_id, story, acknowledged_by=user.id, acknowledged_at_ns=txn.now.ns,
                      ack_comment=comment)
        return change

    def unacknowledge(self, txn: Txn, group_id: str, user: User) -> AckChange:
        engine = txn.engine
        if group_id not in engine.groups:
            raise GroupGone(group_id)
        cur = self.current(group_id)
        if cur is None:
            return AckChange(group_id, False)
        if cur.get("source") == "pagerduty":
            raise NotAllowedHere(f"this acknowledgement was made in PagerDuty (by {escape_text(cur.get('name', ''))}): "
                                 "unacknowledge the incident there — Slack follows PagerDuty")
        txn.delete_kv(NS_ACK, group_id)
        change = AckChange(group_id, True, user.id, user.name)
        pd = engine.extension("pagerduty")
        if callable(getattr(pd, "unacknowledge", None)):
            pd.unacknowledge(txn, group_id)  # its copy of a Slack acknowledgement goes too
        sil = cur.get("silence")
        if isinstance(sil, dict) and sil.get("id"):
            change.silence_id = sil["id"]
            self.expire_silence(txn, sil["id"])
        txn.audit(user.id, "unack", group_id, name=user.name, acknowledged_by=cur.get("name") or cur.get("by"),
                  ack_silence_expired=change.silence_id or None)
        story = f"🔔 <@{user.id}> unacknowledged: repeat notifications and escalation apply again."
        if change.silence_id:
            story += f" The acknowledgement silence `{change.silence_id[:8]}` was expired."
        self._refresh(txn, group_id, story, acknowledged_by=None)
        return change

    def external(self, txn: Txn, group_id: str, by: str, source: str, acknowledged: bool) -> None:
        """An acknowledgement made (or withdrawn) elsewhere — PagerDuty's webhook calls this; its
        own thread line says so, this only keeps the state and the message's look."""
        group = txn.engine.groups.get(group_id)
        if group is None:
            return
        cur = self.current(group_id)
        if acknowledged and cur is None:
            txn.put_kv(NS_ACK, group_id, {"inc": group.created_ns, "by": by, "name": by, "at_ns": txn.now.ns,
                                          "comment": "", "source": source})
            self._refresh(txn, group_id, None, acknowledged_by=by, acknowledged_at_ns=txn.now.ns, ack_comment="")
        elif not acknowledged and cur is not None and cur.get("source") == source:
            txn.delete_kv(NS_ACK, group_id)
            self._refresh(txn, group_id, None, acknowledged_by=None)

    # ------------------------------------------------------------------ the ack silence
    def _ack_silence(self, txn: Txn, group: AggrGroup, user: User, rec: dict[str, Any]) -> tuple[str, str]:
        ms = group_matchers(group, txn.now)
        if ms is None:
            return "", "no ack silence: the group has no labels to match on"
        until = txn.now.ns + round(self.ack_silence_s * NS)
        comment = (f"ack: acknowledged by {user.name or user.id} in Slack; alertbot extends this silence while "
                   f"the alerts fire")
        try:
            sid, rows = txn.engine.silences.set(
                Silence("", ms, txn.now, Timestamp(until), txn.now, user.name or user.id, comment), txn.now)
        except SilenceError as exc:
            return "", f"no ack silence: {exc}"
        txn.changes.silences_upsert.extend(rows)
        rec["silence"] = {"id": sid, "until_ns": until, "matchers": matchers_to_json(ms)}
        txn.put_kv(NS_SILENCE, sid, {"kind": "ack", "group": group.id, "by": user.id, "name": user.name,
                                     "upstream": "", "pending": "create", "at_ns": txn.now.ns})
        return sid, ""

    def extension_due(self, group_id: str, now: Timestamp) -> Silence | None:
        """The ack silence of the group when it is due to be extended now (the group fires, the
        silence is active and has used a third of its time), else None."""
        cur = self.current(group_id)
        if cur is None or not isinstance(cur.get("silence"), dict) or self.engine is None:
            return None
        group = self.engine.groups.get(group_id)
        if group is None or not any(not a.resolved_at(now) for a in group.alerts.values()):
            return None  # not firing any more: the silence lapses
        sil = cur["silence"]
        duration_ns = round(self.ack_silence_s * NS)
        if int(sil.get("until_ns", 0)) - now.ns > duration_ns * 2 // 3:
            return None
        try:
            old = self.engine.silences.get(sil["id"])
        except LookupError:
            return None
        if old.state(now) != "active":
            return None  # expired by someone: respected, not revived
        return old

    def extend_silence(self, txn: Txn, group_id: str, refused: str | None = None) -> str | None:
        """Pushes the ack silence's end out while the group still fires (the upkeep calls this);
        returns the silence id when it was extended. `refused`: the acknowledger may not have
        the longer silence (the upkeep asked their access rules): it is left to lapse, and the
        thread is told once why."""
        old = self.extension_due(group_id, txn.now)
        if old is None:
            return None
        cur = self.current(group_id)
        assert cur is not None
        sil = dict(cur["silence"])
        if refused is not None:
            if not sil.get("refused"):
                sil["refused"] = True
                rec = dict(cur)
                rec["silence"] = sil
                txn.put_kv(NS_ACK, group_id, rec)
                txn.audit("alertbot", "ack silence not extended", group_id, silence_id=old.id,
                          acknowledged_by=cur.get("by"), reason=refused)
                self._thread(txn, group_id, f"🔕 The acknowledgement silence `{old.id[:8]}` is not extended: "
                                            f"{refused}. It ends {_until(old.ends_at.ns)}.")
            return None
        duration_ns = round(self.ack_silence_s * NS)
        until = txn.now.ns + duration_ns
        updated = Silence(old.id, old.matchers, old.starts_at, Timestamp(until), txn.now, old.created_by, old.comment)
        sid, rows = txn.engine.silences.set(updated, txn.now)
        txn.changes.silences_upsert.extend(rows)
        meta = dict(txn.kv(NS_SILENCE, old.id) or {})
        if sid != old.id:
            txn.delete_kv(NS_SILENCE, old.id)
        meta["pending"] = "create" if not meta.get("upstream") else "update"
        txn.put_kv(NS_SILENCE, sid, meta)
        sil.update(id=sid, until_ns=until)
        rec = dict(cur)
        rec["silence"] = sil
        txn.put_kv(NS_ACK, group_id, rec)
        return sid

    @staticmethod
    def expire_silence(txn: Txn, sid: str) -> bool:
        """Expires a silence in the bot's store now; the upstream copy is owed (pending)."""
        try:
            rows = txn.engine.silences.expire(sid, txn.now)
        except LookupError:
            return False
        txn.changes.silences_upsert.extend(rows)
        meta = dict(txn.kv(NS_SILENCE, sid) or {})
        if meta:
            meta["pending"] = "expire" if meta.get("upstream") else ""
            txn.put_kv(NS_SILENCE, sid, meta)
        return bool(rows)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _thread(txn: Txn, group_id: str, text: str) -> None:
        slack = txn.engine.extension("slack")
        note = getattr(slack, "thread_note", None)
        if callable(note):
            try:
                note(group_id, text, txn, kind="silence")
            except Exception:
                log.exception("slack thread note failed", group_id=group_id)

    @staticmethod
    def _refresh(txn: Txn, group_id: str, story: str | None, **status: Any) -> None:
        slack = txn.engine.extension("slack")
        refresh = getattr(slack, "refresh", None)
        if not callable(refresh):
            return
        try:
            if story:
                refresh(group_id, txn, story=story, story_kind="ack", **status)
            else:
                refresh(group_id, txn, **status)
        except Exception:  # the state change stands; the message catches up at the next flush
            log.exception("slack refresh after an acknowledgement change failed", group_id=group_id)
