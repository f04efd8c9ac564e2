"""The notification pipeline of one flush, as Alertmanager's stages:
`inhibit → time-active → time-mute → silence → fanout{dedup, send_resolved filter, log}`.

Each stage takes alerts and returns alerts; when none are left the pipeline stops and the
flush counts as successful. The fanout decides, per integration of the receiver, whether
to notify (the notification log) and what to send.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config.timeintervals import NamedTimeInterval
from bot.engine.alert import Alert
from bot.engine.inhibit import Inhibitor
from bot.engine.nflog import REPEAT, Entry, log_key, needs_update
from bot.engine.silences import Silences
from bot.engine.timestamp import Timestamp
from bot.notify.base import Integration, Notification
from bot.routing.route import RouteOpts


@dataclass(slots=True)
class Decision:
    """What one integration does in this flush."""

    integration: Integration
    nflog_key: str
    firing: frozenset[int]
    resolved: frozenset[int]
    notification: Notification | None  # None: nothing to send, but log the batch now


def mute_stages(alerts: list[Alert], opts: RouteOpts, now: Timestamp, inhibitor: Inhibitor, silences: Silences,
                intervals: Mapping[str, NamedTimeInterval]) -> list[Alert]:
    kept = [a for a in alerts if not inhibitor.inhibited_by(a.labels, now)]
    if not kept:
        return kept
    moment = now.to_datetime()
    if opts.active_time_intervals and not any(
            intervals[n].contains(moment) for n in opts.active_time_intervals if n in intervals):
        return []
    if any(intervals[n].contains(moment) for n in opts.mute_time_intervals if n in intervals):
        return []
    return [a for a in kept if not silences.mutes(a.labels, now)]


def fanout(alerts: list[Alert], integrations: Sequence[Integration], group_key: str, group_labels: dict[str, str],
           opts: RouteOpts, now: Timestamp, nflog: Mapping[str, Entry], external_url: str,
           route_id: str = "", group_id: str = "", suppress_repeat: bool = False) -> list[Decision]:
    firing = frozenset(a.fingerprint for a in alerts if not a.resolved_at(now))
    resolved = frozenset(a.fingerprint for a in alerts if a.resolved_at(now))
    decisions = []
    for integ in integrations:
        key = log_key(group_key, opts.receiver, integ.name, integ.index)
        entry = nflog.get(key)
        if entry is not None and entry.expires_at_ns <= now.ns and not suppress_repeat:
            # An expired entry counts as none (the next notification is a "first" one), except
            # while repeats are held back (an acknowledged group stays quiet).
            entry = None
        reason = needs_update(entry, firing, resolved, integ.send_resolved, opts.repeat_interval, now.ns)
        if reason is None or (reason == REPEAT and suppress_repeat):
            continue
        if integ.send_resolved:
            sent = alerts
        elif not firing:
            # Nothing firing and resolved alerts are not sent: nothing goes out, but the
            # batch is logged as if it had (Alertmanager's RetryStage + SetNotifiesStage).
            decisions.append(Decision(integ, key, firing, resolved, None))
            continue
        else:
            sent = [a for a in alerts if not a.resolved_at(now)]
        n = Notification(opts.receiver, group_key, group_labels, sent, now, reason, external_url, route_id,
                         {"group_id": group_id})
        decisions.append(Decision(integ, key, firing, resolved, n))
    return decisions
