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
    refresh_only: bool = False  # a repeat held back: keep the log entry alive, send nothing


def mute_stages(alerts: list[Alert], opts: RouteOpts, now: Timestamp, inhibitor: Inhibitor, silences: Silences,
                intervals: Mapping[str, NamedTimeInterval]) -> list[Alert]:
    if not inhibitor.rules and not silences.by_id and not opts.active_time_intervals and not opts.mute_time_intervals:
        return alerts  # nothing could mute them
    kept = [a for a in alerts if not inhibitor.inhibited_by(a.labels, now)] if inhibitor.rules else alerts
    if not kept:
        return kept
    moment = now.to_datetime()
    if opts.active_time_intervals and not any(
            intervals[n].contains(moment) for n in opts.active_time_intervals if n in intervals):
        return []
    if any(intervals[n].contains(moment) for n in opts.mute_time_intervals if n in intervals):
        return []
    return [a for a in kept if not silences.mutes(a.labels, now)] if silences.by_id else kept


def fanout(alerts: list[Alert], integrations: Sequence[Integration], group_key: str, group_labels: dict[str, str],
           opts: RouteOpts, now: Timestamp, nflog: Mapping[str, Entry], external_url: str,
           route_id: str = "", group_id: str = "", suppress_repeat: bool = False,
           tick: Timestamp | None = None) -> list[Decision]:
    """`tick` is when the group's timer fired: the repeat test uses it (today's Alertmanager),
    `now` decides which alerts are resolved."""
    tick = tick or now
    firing_alerts: list[Alert] = []
    resolved_fps: list[int] = []
    for a in alerts:
        if a.resolved_at(now):
            resolved_fps.append(a.fingerprint)
        else:
            firing_alerts.append(a)
    firing = frozenset(a.fingerprint for a in firing_alerts)
    resolved = frozenset(resolved_fps)
    decisions = []
    for integ in integrations:
        key = log_key(group_key, opts.receiver, integ.name, integ.index)
        # An expired entry still counts until the log's GC removes it, as in Alertmanager.
        entry = nflog.get(key)
        reason = needs_update(entry, firing, resolved, integ.send_resolved, opts.repeat_interval, tick.ns)
        if reason is None:
            continue
        if reason == REPEAT and suppress_repeat:
            decisions.append(Decision(integ, key, firing, resolved, None, refresh_only=True))
            continue
        if integ.send_resolved:
            sent = alerts
        elif not firing:
            # Nothing firing and resolved alerts are not sent: nothing goes out, but the
            # batch is logged as if it had (Alertmanager's RetryStage + SetNotifiesStage).
            decisions.append(Decision(integ, key, firing, resolved, None))
            continue
        else:
            sent = firing_alerts
        n = Notification(opts.receiver, group_key, group_labels, sent, now, reason, external_url, route_id,
                         {"group_id": group_id})
        decisions.append(Decision(integ, key, firing, resolved, n))
    return decisions
