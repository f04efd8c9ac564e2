"""The PagerDuty engine extension: each group's incident, kept in step with Slack and PagerDuty.

State lives in the engine's key-value store (committed with the cycle that changed it):

    "pagerduty.incident"/<dedup_key>   the incident of one group (or of a manual page):
        group_id, group_key, status ("none" | "triggered" | "acknowledged" | "resolved"),
        targets {"<receiver>/<index>": {action, at_ns, via, error}} — what each PagerDuty
        integration last accepted, ack {by, at_ns, source, comment} (with bot.chatops running, a
        copy: chatops's state decides, and acknowledgements made here or in PagerDuty are
        handed to it), resolved_by, incident
        (PagerDuty's id, number, URL, assignees… from webhooks), escalation {state, receiver,
        due_ns, …}, closed, notes (the story told to Slack), last_event {id, at_ns, type}: the
        newest webhook event applied to it (by its `occurred_at`; an older one changes nothing)
    "pagerduty.event"/<event id>       webhook events already seen (the signed `event.id`)
    "pagerduty.webhook"/<webhook id>   deliveries already seen (`X-Webhook-Id`, not signed)
        both forgotten once the event is older than WEBHOOK_WINDOW_S: by then its age refuses it

What Alertmanager never does and this adds:
- `acknowledge` with the group's dedup_key when someone acknowledges in Slack (the API);
- `resolve` when a group closes without its flush having sent one: muted (silenced,
  inhibited, time interval) or escalated (the PagerDuty receiver is not the route's);
- Slack-first escalation: a route's `escalation` starts a durable timer at the group's first
  unmuted flush; when it fires and nobody acknowledged, the escalation receiver is paged;
- PagerDuty's own acknowledge/resolve/escalate/reassign (webhooks) recorded and told to Slack.

Every event goes through the outbox behind the group's earlier events (ordering key
`pagerduty:<group id>`, the one the flush uses), so an acknowledge or resolve never overtakes
the trigger it follows, across restarts too.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.engine.alert import Alert, sorted_alerts
from bot.engine.engine import Engine, Extension, Txn
from bot.engine.groups import AggrGroup
from bot.engine.pipeline import mute_stages
from bot.engine.timestamp import ZERO, Timestamp
from bot.logging import get_logger
from bot.notify.base import Notification
from bot.notify.pagerduty.payload import (
    ACKNOWLEDGE,
    MAX_SUMMARY_RUNES,
    RESOLVE,
    TRIGGER,
    dedup_key,
    follow_up_event,
    stored,
    truncate_runes,
)
from bot.notify.pagerduty.slack_seam import esc

if TYPE_CHECKING:
    from bot.notify.pagerduty.service import PagerDutyService

log = get_logger("alertbot.pagerduty")

NAME = "pagerduty"
NS_INCIDENT = "pagerduty.incident"
NS_WEBHOOK = "pagerduty.webhook"
NS_EVENT = "pagerduty.event"
NS = 1_000_000_000
FORGET_AFTER_S = 7 * 86400  # a closed group's incident state is kept this long (late webhooks)
# A webhook event is accepted while its `occurred_at` is within this of the bot's clock, either
# way: PagerDuty retries a delivery for about 20 minutes; 10 more cover its queue and the two
# clocks' difference. Older is a replay (refused), and so is a time this far ahead (a clock is
# wrong). An event's id is remembered until it is this old, then its age refuses it instead.
WEBHOOK_WINDOW_S = 30 * 60
WEBHOOK_GC_EVERY_S = 5 * 60
MAX_NOTES = 50
OPEN_ACTIONS = (TRIGGER, ACKNOWLEDGE)


class UnknownGroup(LookupError):
    """No open group, and no incident, has this id."""


class NotPageable(ValueError):
    """A manual page that cannot be sent (no PagerDuty integration, nothing firing)."""


@dataclass(frozen=True)
class AckResult:
    group_id: str
    dedup_key: str
    acknowledged_by: str
    already_acknowledged: bool
    sent_to: tuple[str, ...]  # "<receiver>/<index>" that get an `acknowledge` event
    escalation_cancelled: bool


@dataclass(frozen=True)
class WebhookResult:
    # "applied" | "ignored" (not about one of our incidents) | "outdated" (older than the last
    # event applied to its incident: recorded, changes nothing) — answered 202;
    # "duplicate" | "too_old" | "from_the_future" | "invalid" — refused (400), nothing changes
    outcome: str
    detail: str = ""
    group_id: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _fmt_duration(seconds: float) -> str:
    s = int(round(seconds))
    if s and s % 3600 == 0:
        return f"{s // 3600}h"
    if s and s % 60 == 0:
        return f"{s // 60}m"
    return f"{s}s"


def occurred_at_ns(event: dict[str, Any]) -> int | None:
    """A webhook event's `occurred_at` (RFC 3339, inside the signed body), or None."""
    text = event.get("occurred_at")
    if not isinstance(text, str):
        return None
    try:
        return Timestamp.parse(text.strip()).ns
    except ValueError:
        return None


def action_of(payload: str) -> tuple[str, str]:
    """(event action, dedup_key) of an outbox payload of a "pagerduty" integration: ours, or a
    dry run's (which carries the group key and the notification's status)."""
    try:
        doc = json.loads(payload)
    except ValueError:
        return "", ""
    if not isinstance(doc, dict):
        return "", ""
    if isinstance(doc.get("event"), dict):
        ev = doc["event"]
        return str(ev.get("event_action", "")), str(ev.get("dedup_key", ""))
    key = doc.get("group", doc.get("groupKey"))
    if isinstance(key, str):
        return (TRIGGER if doc.get("status") == "firing" else RESOLVE), dedup_key(key)
    return "", ""


class PagerDutyExtension(Extension):
    name = NAME

    def __init__(self, service: PagerDutyService) -> None:
        self.service = service
        self.engine: Engine | None = None
        self._tell: list[tuple[str, str | None, str]] = []  # Slack lines waiting for the state to be saved
        self._by_group: dict[str, str] = {}  # group id -> dedup_key, for groups that are gone
        self._indexed: int | None = None  # id() of the engine's kv the index was built from

    def attach(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ state helpers
    def _load(self, txn: Txn, key: str) -> dict[str, Any] | None:
        value = txn.kv(NS_INCIDENT, key)
        return copy.deepcopy(value) if isinstance(value, dict) else None

    def _save(self, txn: Txn, key: str, st: dict[str, Any]) -> None:
        st["updated_ns"] = txn.now.ns
        txn.put_kv(NS_INCIDENT, key, st)
        if st.get("group_id"):
            self._by_group[st["group_id"]] = key
        # Slack redraws from the saved state (incident_of), so it is told only now.
        pending, self._tell = self._tell, []
        for group_id, text, kind in pending:
            self.service.tell_slack(txn, group_id, text, kind)

    @staticmethod
    def _new(group: AggrGroup | None) -> dict[str, Any]:
        return {"group_id": group.id if group else "", "group_key": group.key if group else "", "status": "none",
                "targets": {}, "ack": None, "resolved_by": None, "incident": None, "escalation": None,
                "closed": False, "notes": []}

    def _find(self, engine: Engine, group_id: str) -> tuple[str, dict[str, Any]] | None:
        """The incident state of a group that may be gone (its newest)."""
        if self._indexed != id(engine.kv):  # first use, or the state was reloaded from the database
            newest: dict[str, tuple[int, str]] = {}
            for (ns, k), v in engine.kv.items():
                if ns == NS_INCIDENT and isinstance(v, dict) and v.get("group_id"):
                    at = int(v.get("updated_ns", 0))
                    if v["group_id"] not in newest or at >= newest[v["group_id"]][0]:
                        newest[v["group_id"]] = (at, k)
            self._by_group = {g: k for g, (_, k) in newest.items()}
            self._indexed = id(engine.kv)
        key = self._by_group.get(group_id)
        value = engine.kv.get((NS_INCIDENT, key)) if key else None
        if not isinstance(value, dict) or value.get("group_id") != group_id:
            return None
        return key, copy.deepcopy(value)  # type: ignore[return-value]

    @staticmethod
    def _pd_integrations(engine: Engine, receiver: str) -> list[Any]:
        return [i for i in engine.integrations.for_receiver(receiver) if i.name == NAME]

    @staticmethod
    def _sends_events(integ: Any) -> bool:
        return hasattr(integ, "routing_key_for_delivery")  # our PagerDutyIntegration, not a dry run

    def _last_actions(self, engine: Engine, st: dict[str, Any], key: str) -> dict[str, str]:
        """What each target's incident will be once the outbox has delivered: the last
        accepted action, overlaid by the events still queued (in order)."""
        last = {t: v["action"] for t, v in st["targets"].items() if v.get("action")}
        gid = st.get("group_id", "")
        for row in sorted(engine.outbox.values(), key=lambda r: r.id):
            if row.integration != NAME or (gid and row.group_id != gid):
                continue
            action, dk = action_of(row.payload)
            if dk == key and action:
                last[f"{row.receiver}/{row.integration_index}"] = action
        return last

    def _acknowledged(self, engine: Engine, st: dict[str, Any], group: AggrGroup | None) -> bool:
        acks = engine.extension("chatops")
        if acks is not None and st.get("group_id"):
            return bool(acks.acknowledged(st["group_id"]))  # bot.chatops holds the one ack state
        if st.get("ack") or st.get("status") == "acknowledged":
            return True
        if group is None:
            return False
        # Another module (Slack chatops) may hold the acknowledgement: an acknowledged group
        # is one whose repeats are held back.
        return any(e.suppress_repeat(group) for e in engine.extensions if e is not self)

    def _note(self, txn: Txn, st: dict[str, Any], text: str, kind: str = "note") -> None:
        """A line for the group's Slack thread (trusted mrkdwn: outside text escaped with
        `esc`), kept in the state too; told to Slack once the state is saved."""
        st["notes"] = (st.get("notes") or [])[-(MAX_NOTES - 1):] + [{"at_ns": txn.now.ns, "text": text, "kind": kind}]
        self._tell.append((st.get("group_id", ""), text, kind))

    def _enqueue(self, txn: Txn, st: dict[str, Any], integ: Any, payload: str, key: str, via: str) -> str:
        gid = st.get("group_id", "")
        txn.enqueue(integ.receiver, NAME, integ.index, payload, group_id=gid,
                    ordering_key=f"{NAME}:{gid or key}", origin=NAME)
        t = f"{integ.receiver}/{integ.index}"
        target = st["targets"].setdefault(t, {})
        target.setdefault("via", via)
        return t

    def _follow_up(self, txn: Txn, st: dict[str, Any], key: str, target: str, action: str) -> bool:
        engine = txn.engine
        receiver, _, index = target.rpartition("/")
        integ = engine.integrations.find(receiver, NAME, int(index)) if index.isdigit() else None
        if integ is None:
            log.warning("pagerduty_target_gone", target=target, action=action, dedup_key=key,
                        consequence="not sent: the integration is no longer configured")
            return False
        if not self._sends_events(integ):
            log.warning(f"not sent ({getattr(integ, 'why', 'dry run')}): would have sent {action} to "
                        f"{getattr(integ, 'target', 'PagerDuty')}", receiver=receiver, dedup_key=key)
            return False
        self._enqueue(txn, st, integ, stored(follow_up_event(key, action)), key, "route")
        return True

    def _unmuted(self, engine: Engine, group: AggrGroup, now: Timestamp) -> list[Alert]:
        """The group's alerts as its next flush would notify them (after the mute stages)."""
        snapshot = []
        for a in group.alerts.values():
            c = a.copy()
            if not c.resolved_at(now):
                c.ends_at = ZERO
            snapshot.append(c)
        return mute_stages(sorted_alerts(snapshot), group.route.opts, now, engine.inhibitor, engine.silences,
                           engine.intervals)

    def _page(self, txn: Txn, st: dict[str, Any], group: AggrGroup, alerts: list[Alert], receiver: str,
              reason: str, via: str) -> list[str]:
        """Triggers `receiver`'s PagerDuty integrations for the group (escalation, manual page)."""
        engine = txn.engine
        integs = self._pd_integrations(engine, receiver)
        if not integs:
            log.error("pagerduty_escalation_receiver_without_pagerduty", receiver=receiver, group_key=group.key,
                      consequence="nobody was paged: add pagerduty_configs to that receiver")
        sent = []
        key = dedup_key(group.key)
        for integ in integs:
            batch = alerts if integ.send_resolved else [a for a in alerts if not a.resolved_at(txn.now)]
            n = Notification(receiver, group.key, group.labels, batch, txn.now, reason, engine.external_url,
                             group.route.id, {"group_id": group.id})
            sent.append(self._enqueue(txn, st, integ, integ.render(n), key, via))
        return sent

    # ------------------------------------------------------------------ engine hooks
    def on_flush(self, group: AggrGroup, alerts: Sequence[Alert], txn: Txn) -> None:
        self._tell.clear()  # nothing left over from a hook that failed half-way
        engine = txn.engine
        firing = [a for a in alerts if not a.resolved_at(txn.now)]
        esc = getattr(group.route.config, "escalation", None)
        if not firing or (esc is None and not self._pd_integrations(engine, group.receiver)):
            return
        key = dedup_key(group.key)
        st = self._load(txn, key)
        last_event = None
        if st is not None and st.get("closed"):
            last = self._last_actions(engine, st, key)
            if st.get("status") == "resolved" or not any(a in OPEN_ACTIONS for a in last.values()):
                last_event = st.get("last_event")  # a late retry about the old incident stays out of date
                st = None  # the old incident is over: a new one starts
            else:
                st["closed"] = False  # its incident is still open in PagerDuty: it goes on
                txn.cancel(NAME, f"forget|{key}")
        if st is None:
            st = self._new(group)
            if last_event:
                st["last_event"] = last_event
        st["group_id"], st["group_key"] = group.id, group.key
        if esc is not None:
            self._escalation_on_flush(txn, st, key, group, list(alerts), firing, esc)
        self._save(txn, key, st)

    def _escalation_on_flush(self, txn: Txn, st: dict[str, Any], key: str, group: AggrGroup,
                             alerts: list[Alert], firing: list[Alert], esc: Any) -> None:
        e = st.get("escalation")
        if self._acknowledged(txn.engine, st, group):
            if e and e.get("state") == "waiting":
                txn.cancel(NAME, f"esc|{key}")
                e["state"] = "acknowledged"
            return
        if e is None or e.get("state") == "acknowledged":  # after an unacknowledgement: the clock starts again
            due = txn.now.ns + round(esc.page_after * NS)
            st["escalation"] = {"state": "waiting", "receiver": esc.receiver, "page_after_s": esc.page_after,
                                "resolve_unacknowledged": esc.resolve_unacknowledged, "due_ns": due,
                                "started_ns": txn.now.ns}
            txn.schedule(NAME, f"esc|{key}", due)
        elif e.get("state") == "paged":
            fps = sorted(f"{a.fingerprint:016x}" for a in firing)
            if fps != e.get("fps"):
                # Alerts joined or left after the page: the incident gets the group's state (no new page).
                self._page(txn, st, group, alerts, e["receiver"], "escalated group changed", "escalation")
                e["fps"] = fps

    def on_timer(self, key: str, txn: Txn) -> None:
        self._tell.clear()  # nothing left over from a hook that failed half-way
        kind, _, arg = key.partition("|")
        if kind == "esc":
            self._escalate(txn, arg)
        elif kind == "forget":
            st = self._load(txn, arg)
            if st is not None and st.get("closed"):
                txn.delete_kv(NS_INCIDENT, arg)
        elif kind == "webhook-gc":
            self._gc_webhooks(txn)

    def _escalate(self, txn: Txn, key: str) -> None:
        engine = txn.engine
        st = self._load(txn, key)
        e = st.get("escalation") if st else None
        if st is None or not e or e.get("state") != "waiting":
            return
        group = engine.groups.get(st["group_id"])
        if group is None:
            e["state"] = "closed"
        elif self._acknowledged(engine, st, group):
            e["state"] = "acknowledged"
        else:
            alerts = self._unmuted(engine, group, txn.now)
            firing = [a for a in alerts if not a.resolved_at(txn.now)]
            if not firing:
                st["escalation"] = None  # muted or resolved meanwhile: the next firing flush restarts the clock
            else:
                after = _fmt_duration(e["page_after_s"])
                sent = self._page(txn, st, group, alerts, e["receiver"], f"not acknowledged within {after}",
                                  "escalation")
                e.update(state="paged", paged_ns=txn.now.ns, fps=sorted(f"{a.fingerprint:016x}" for a in firing))
                txn.audit("alertbot", "escalate", group.id, receiver=e["receiver"], page_after=after, sent_to=sent)
                self._note(txn, st, f":rotating_light: Nobody acknowledged within {after}: paging PagerDuty "
                                    f"(receiver {esc(e['receiver'])}).", "escalation")
        self._save(txn, key, st)

    def on_delivered(self, row: Any, ok: bool, effects: dict, txn: Txn) -> None:
        self._tell.clear()  # nothing left over from a hook that failed half-way
        action, key = action_of(row.payload)
        if not key:
            return
        st = self._load(txn, key)
        if st is None:
            if ok:
                return
            st = self._new(txn.engine.groups.get(row.group_id))
        t = f"{row.receiver}/{row.integration_index}"
        target = st["targets"].setdefault(t, {"via": "route" if row.flush_id else "manual"})
        before = st.get("status")
        if ok:
            target.update(action=action, at_ns=txn.now.ns, error="")
            if action == TRIGGER and st.get("status") in ("none", "resolved", None):
                if st.get("status") == "resolved":
                    st.update(ack=None, resolved_by=None, incident=None)  # PagerDuty opens a new incident
                st["status"] = "triggered"
            elif action == ACKNOWLEDGE and st.get("status") != "resolved":
                st["status"] = "acknowledged"
            elif action == RESOLVE:
                if all(v.get("action") == RESOLVE for v in st["targets"].values() if v.get("action")):
                    st["status"] = "resolved"
                    st["resolved_by"] = st.get("resolved_by") or {"by": "alertbot", "at_ns": txn.now.ns,
                                                                  "source": "alertbot"}
        else:
            error = str(effects.get("error") or "not delivered")
            target.update(error=error, failed_action=action, failed_ns=txn.now.ns)
            txn.audit("alertbot", "pagerduty event refused", st.get("group_id", ""), event_action=action, target=t,
                      error=error)
            self._note(txn, st, f":warning: PagerDuty refused the {esc(action)} event ({esc(t)}): {esc(error)}")
        if st.get("status") != before and st.get("group_id"):
            self._tell.append((st["group_id"], None, "note"))  # the message shows the incident's status
        self._save(txn, key, st)

    def on_group_closed(self, group: AggrGroup, txn: Txn) -> None:
        self._tell.clear()  # nothing left over from a hook that failed half-way
        engine = txn.engine
        key = dedup_key(group.key)
        st = self._load(txn, key)
        if st is None:
            return
        e = st.get("escalation")
        if e and e.get("state") == "waiting":
            txn.cancel(NAME, f"esc|{key}")
            e["state"] = "closed"
        st["closed"] = True
        st["closed_ns"] = txn.now.ns
        resolved, left_open = [], []
        if st.get("status") != "resolved":
            acked = self._acknowledged(engine, st, None)
            for t, action in sorted(self._last_actions(engine, st, key).items()):
                if action not in OPEN_ACTIONS:
                    continue
                via = st["targets"].get(t, {}).get("via", "route")
                receiver, _, index = t.rpartition("/")
                integ = engine.integrations.find(receiver, NAME, int(index)) if index.isdigit() else None
                if via == "route" and integ is not None and not integ.send_resolved:
                    continue  # send_resolved: false, as Alertmanager: PagerDuty's incident is left to people
                if via == "escalation" and e and not e.get("resolve_unacknowledged", True) and not acked:
                    left_open.append(t)
                    continue
                if self._follow_up(txn, st, key, t, RESOLVE):
                    resolved.append(t)
        if resolved:
            txn.audit("alertbot", "resolve", group.id, sent_to=resolved,
                      reason="group resolved without a resolve from its flush (muted or escalated)")
            self._note(txn, st, ":white_check_mark: All alerts resolved: resolving the PagerDuty incident.",
                       "resolved")
        if left_open:
            txn.audit("alertbot", "leave open", group.id, targets=left_open, reason="nobody acknowledged")
            self._note(txn, st, ":warning: All alerts resolved, but nobody acknowledged the page: the PagerDuty "
                                "incident stays open for someone to look at (resolve_unacknowledged: false).")
        txn.schedule(NAME, f"forget|{key}", txn.now.ns + FORGET_AFTER_S * NS)
        self._save(txn, key, st)

    def suppress_repeat(self, group: AggrGroup) -> bool:
        if self.engine is None or self.engine.extension("chatops") is not None:
            return False  # bot.chatops answers (its acknowledgement state is the one source of truth)
        st = self.engine.kv.get((NS_INCIDENT, dedup_key(group.key)))
        if not isinstance(st, dict) or st.get("closed") or st.get("status") == "resolved":
            return False
        return bool(st.get("ack")) or st.get("status") == "acknowledged"

    # ------------------------------------------------------------------ the chatops API (inside a cycle)
    def acknowledge(self, txn: Txn, group_id: str, actor: str, comment: str = "") -> AckResult:
        self._tell.clear()  # nothing left over from a hook that failed half-way
        engine = txn.engine
        group = engine.groups.get(group_id)
        if group is not None:
            key = dedup_key(group.key)
            st = self._load(txn, key) or self._new(group)
        else:
            found = self._find(engine, group_id)
            if found is None:
                raise UnknownGroup(group_id)
            key, st = found
        already = bool(st.get("ack"))
        if not already:
            st["ack"] = {"by": actor, "at_ns": txn.now.ns, "source": "slack", "comment": comment}
        self._tell_acks(txn, st, actor, True, "slack")
        cancelled = False
        e = st.get("escalation")
        if e and e.get("state") == "waiting":
            txn.cancel(NAME, f"esc|{key}")
            e["state"] = "acknowledged"
            cancelled = True
        sent = []
        if st.get("status") not in ("resolved", "acknowledged"):
            for t, action in sorted(self._last_actions(engine, st, key).items()):
                if action == TRIGGER and self._follow_up(txn, st, key, t, ACKNOWLEDGE):
                    sent.append(t)
        txn.audit(actor, "acknowledge", st.get("group_id", group_id), comment=comment, pagerduty=sent,
                  escalation_cancelled=cancelled)
        self._save(txn, key, st)
        ack = st["ack"] or {}
        return AckResult(st.get("group_id", group_id), key, str(ack.get("by", actor)), already, tuple(sent),
                         cancelled)

    def page(self, txn: Txn, receiver: str, summary: str, actor: str, group_id: str = "",
             severity: str = "critical", details: dict[str, Any] | None = None) -> str:
        self._tell.clear()
        engine = txn.engine
        integs = self._pd_integrations(engine, receiver)
        if not integs:
            raise NotPageable(f"receiver {receiver!r} has no pagerduty_configs")
        if group_id:
            group = engine.groups.get(group_id)
            if group is None:
                raise UnknownGroup(group_id)
            key = dedup_key(group.key)
            st = self._load(txn, key) or self._new(group)
            alerts = sorted_alerts([a.copy() for a in group.alerts.values()])
            for a in alerts:
                if not a.resolved_at(txn.now):
                    a.ends_at = ZERO
            firing = [a for a in alerts if not a.resolved_at(txn.now)]
            if not firing:
                raise NotPageable("nothing in this group is firing")
            e = st.get("escalation")
            if e and e.get("state") == "waiting":
                txn.cancel(NAME, f"esc|{key}")
            st["escalation"] = {**(e or {}), "state": "paged", "receiver": receiver, "paged_ns": txn.now.ns,
                                "fps": sorted(f"{a.fingerprint:016x}" for a in firing), "by": actor}
            sent = self._page(txn, st, group, alerts, receiver, f"paged by {actor}", "escalation")
            txn.audit(actor, "page", group.id, receiver=receiver, summary=summary, sent_to=sent)
            self._note(txn, st, f":rotating_light: {actor} paged PagerDuty (receiver {esc(receiver)})"
                                + (f": {esc(summary)}" if summary else "."), "escalation")
            self._save(txn, key, st)
            return key
        key = f"alertbot-{uuid.uuid4().hex}"
        text, _ = truncate_runes(summary or "Paged from alertbot", MAX_SUMMARY_RUNES)
        event = {"dedup_key": key, "event_action": TRIGGER,
                 "payload": {"summary": text, "source": "alertbot", "severity": severity,
                             "custom_details": {"paged_by": actor, **(details or {})}},
                 "client": "alertbot", "client_url": engine.external_url}
        st = self._new(None)
        st["manual"] = {"by": actor, "summary": text, "receiver": receiver}
        sent = []
        for integ in integs:
            if self._sends_events(integ):
                sent.append(self._enqueue(txn, st, integ, stored(event), key, "manual"))
            else:
                log.warning(f"not sent ({getattr(integ, 'why', 'dry run')}): would have paged "
                            f"{getattr(integ, 'target', 'PagerDuty')}: {text}", receiver=receiver)
        txn.audit(actor, "page", "", receiver=receiver, summary=text, dedup_key=key, sent_to=sent)
        self._save(txn, key, st)
        return key

    # ------------------------------------------------------------------ PagerDuty's webhooks (inside a cycle)
    def apply_webhook(self, txn: Txn, webhook_id: str, event: dict[str, Any]) -> WebhookResult:
        """Applies one verified V3 webhook event: once (its signed `event.id`, and the delivery's
        `X-Webhook-Id`), only while fresh (`occurred_at` within WEBHOOK_WINDOW_S of our clock),
        and never over a newer event of the same incident."""
        self._tell.clear()  # nothing left over from a hook that failed half-way
        etype = str(event.get("event_type", ""))
        event_id = str(event.get("id") or "")
        occurred_ns = occurred_at_ns(event)
        if not event_id or occurred_ns is None:
            return WebhookResult("invalid", "a V3 event carries its id and occurred_at; this one does not")
        if txn.kv(NS_EVENT, event_id) is not None:
            return WebhookResult("duplicate", f"event {event_id} was already processed")
        if webhook_id and txn.kv(NS_WEBHOOK, webhook_id) is not None:
            return WebhookResult("duplicate", f"webhook {webhook_id} was already processed")
        now_ns, window_ns = txn.now.ns, WEBHOOK_WINDOW_S * NS
        if occurred_ns < now_ns - window_ns:
            return WebhookResult("too_old", f"event {event_id} occurred at {event.get('occurred_at')}, older than "
                                            f"the {_fmt_duration(WEBHOOK_WINDOW_S)} PagerDuty retries within: "
                                            "refused as a replay")
        if occurred_ns > now_ns + window_ns:
            return WebhookResult("from_the_future", f"event {event_id} occurred at {event.get('occurred_at')}, more "
                                                    f"than {_fmt_duration(WEBHOOK_WINDOW_S)} ahead of this bot's "
                                                    "clock: check the clock (NTP)")
        seen = {"at_ns": now_ns, "expires_ns": occurred_ns + window_ns, "event_type": etype, "event_id": event_id,
                "webhook_id": webhook_id}
        txn.put_kv(NS_EVENT, event_id, seen)
        if webhook_id and webhook_id != event_id:
            txn.put_kv(NS_WEBHOOK, webhook_id, seen)
        if txn.kv("timer", f"{NAME}|webhook-gc") is None:
            txn.schedule(NAME, "webhook-gc", now_ns + WEBHOOK_GC_EVERY_S * NS)
        data = event.get("data")
        if not isinstance(data, dict) or data.get("type") != "incident":
            return WebhookResult("ignored", f"{etype}: not about an incident")
        engine = txn.engine
        key = str(data.get("incident_key") or "")
        st = self._load(txn, key) if key else None
        if st is None:
            # With PagerDuty's alert grouping the incident key is not ours; its id may be known.
            pid = data.get("id")
            for (ns, k), v in engine.kv.items():
                if ns == NS_INCIDENT and isinstance(v, dict) and pid and (v.get("incident") or {}).get("id") == pid:
                    key, st = k, copy.deepcopy(v)
                    break
        if st is None:
            return WebhookResult("ignored", f"{etype}: incident {data.get('id')} is not one of alertbot's")
        agent = event.get("agent") if isinstance(event.get("agent"), dict) else {}
        who_raw = str(agent.get("summary") or "PagerDuty")
        last = st.get("last_event") if isinstance(st.get("last_event"), dict) else None
        if last is not None and occurred_ns < int(last.get("at_ns", 0)):
            # PagerDuty retried an older event after a newer one was applied: what it says is
            # already out of date (an `acknowledged` from before the `unacknowledged`…).
            txn.audit(f"pagerduty:{who_raw}", etype, st.get("group_id", ""), incident=data.get("id"),
                      webhook_id=webhook_id, event_id=event_id, outcome="outdated",
                      occurred_at=event.get("occurred_at"), newer_event=last.get("id"))
            return WebhookResult("outdated", f"{etype} occurred before {last.get('type') or 'the last event'} "
                                             "already applied to this incident: not applied", st.get("group_id", ""))
        st["last_event"] = {"id": event_id, "at_ns": occurred_ns, "type": etype}
        who = esc(who_raw)
        from_us = agent.get("type") in ("service_reference", "integration_reference") or not event.get("agent")
        number = data.get("number")
        name = esc(f"#{number}" if number else str(data.get("id", "")))
        assignees = [str(a.get("summary", "")) for a in data.get("assignees") or [] if isinstance(a, dict)]
        st["incident"] = {
            "id": data.get("id"), "number": number, "html_url": data.get("html_url"), "title": data.get("title"),
            "status": data.get("status"), "urgency": data.get("urgency"), "assignees": assignees,
            "service": (data.get("service") or {}).get("summary") if isinstance(data.get("service"), dict) else None,
            "escalation_policy": ((data.get("escalation_policy") or {}).get("summary")
                                  if isinstance(data.get("escalation_policy"), dict) else None),
        }
        at = str(event.get("occurred_at") or "")
        note = None
        group = engine.groups.get(st.get("group_id", ""))
        if etype == "incident.acknowledged":
            st["status"] = "acknowledged"
            if not st.get("ack"):
                st["ack"] = {"by": who_raw, "at": at, "at_ns": txn.now.ns, "source": "pagerduty", "comment": ""}
                note = f":eyes: Acknowledged in PagerDuty by {who} (incident {name})."
            e = st.get("escalation")
            if e and e.get("state") == "waiting":
                txn.cancel(NAME, f"esc|{key}")
                e["state"] = "acknowledged"
            self._tell_acks(txn, st, who_raw, True)
        elif etype == "incident.unacknowledged":
            st["status"] = "triggered"
            st["ack"] = None
            self._tell_acks(txn, st, who_raw, False)
            note = f":bell: No longer acknowledged in PagerDuty (incident {name}): it is triggered again."
        elif etype == "incident.resolved":
            st["status"] = "resolved"
            st["resolved_by"] = {"by": who_raw, "at": at, "at_ns": txn.now.ns, "source": "pagerduty"}
            still = group is not None and any(not a.resolved_at(txn.now) for a in group.alerts.values())
            if not from_us:
                note = f":white_check_mark: Resolved in PagerDuty by {who} (incident {name})" + (
                    "; alerts of this group are still firing." if still else ".")
        elif etype == "incident.reopened":
            st["status"] = "triggered"
            note = f":bell: Reopened in PagerDuty by {who} (incident {name})."
        elif etype == "incident.escalated":
            note = f":arrow_up: Escalated in PagerDuty (incident {name}) to {esc(', '.join(assignees)) or 'the next level'}."
        elif etype == "incident.reassigned":
            note = f":busts_in_silhouette: Reassigned in PagerDuty by {who} to {esc(', '.join(assignees)) or 'nobody'} " \
                   f"(incident {name})."
        elif etype == "incident.triggered":
            if st.get("status") in ("none", None):
                st["status"] = "triggered"
        txn.audit(f"pagerduty:{who_raw}", etype, st.get("group_id", ""), incident=data.get("id"), webhook_id=webhook_id,
                  event_id=event_id)
        if note:
            self._note(txn, st, note, "ack" if etype == "incident.acknowledged" else
                       "resolved" if etype == "incident.resolved" else "escalation")
        else:
            self._tell.append((st.get("group_id", ""), None, "note"))  # redraw: the incident's link and status
        self._save(txn, key, st)
        return WebhookResult("applied", etype, st.get("group_id", ""), (note,) if note else ())

    @staticmethod
    def _tell_acks(txn: Txn, st: dict[str, Any], who: str, acknowledged: bool, source: str = "pagerduty") -> None:
        """bot.chatops keeps the acknowledgement state: one made (or withdrawn) here goes there."""
        acks = txn.engine.extension("chatops")
        if acks is not None and st.get("group_id"):
            acks.external(txn, st["group_id"], who, source, acknowledged)

    def unacknowledge(self, txn: Txn, group_id: str) -> bool:
        """bot.chatops withdrew an acknowledgement made in Slack: the copy kept here goes too, and a
        Slack-first escalation waits again from the next flush. PagerDuty's own incident stays as it
        is (the Events API cannot unacknowledge)."""
        found = self._find(txn.engine, group_id) if group_id not in txn.engine.groups else None
        group = txn.engine.groups.get(group_id)
        key = dedup_key(group.key) if group is not None else (found[0] if found else None)
        st = self._load(txn, key) if key else None
        if st is None or not st.get("ack") or st["ack"].get("source") != "slack":
            return False
        st["ack"] = None
        self._save(txn, key, st)
        return True

    def _gc_webhooks(self, txn: Txn) -> None:
        """Forgets the events (and deliveries) old enough for their age to refuse them."""
        engine = txn.engine
        now = txn.now.ns
        old = [(ns, k) for (ns, k), v in engine.kv.items() if ns in (NS_EVENT, NS_WEBHOOK)
               and (not isinstance(v, dict)
                    or int(v.get("expires_ns", int(v.get("at_ns", 0)) + WEBHOOK_WINDOW_S * NS)) <= now)]
        for ns, k in old:
            txn.delete_kv(ns, k)
        gone = set(old)
        if any(ns in (NS_EVENT, NS_WEBHOOK) and (ns, k) not in gone for ns, k in engine.kv):
            txn.schedule(NAME, "webhook-gc", now + WEBHOOK_GC_EVERY_S * NS)

    # ------------------------------------------------------------------ reading (outside a cycle)
    def incident_of(self, group_id: str) -> dict[str, Any] | None:
        """A copy of the group's incident state, for Slack and chatops to show."""
        if self.engine is None:
            return None
        group = self.engine.groups.get(group_id)
        if group is not None:
            st = self.engine.kv.get((NS_INCIDENT, dedup_key(group.key)))
            if isinstance(st, dict):
                return {"dedup_key": dedup_key(group.key), **copy.deepcopy(st)}
        found = self._find(self.engine, group_id)
        return {"dedup_key": found[0], **found[1]} if found else None
