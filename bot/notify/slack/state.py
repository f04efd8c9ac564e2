"""The Slack state the bot keeps in the engine's key-value store, and the thread's story.

    ("slack.msg",   "<group id>@<incarnation>/<config index>")
        one parent message: channel, channel id, ts, the view it shows, the post in progress
    ("slack.group", "<group id>")
        the group's latest incarnation and what people did about it (GroupStatus), story
        lines waiting for the first post
    ("slack.channel", "<#name>")
        the channel's id, learnt from a post (chat.update and conversations.* need ids)

An *incarnation* is the aggregation group's creation time: Alertmanager destroys a group
once all its alerts resolved and were notified, and the next alert with the same labels
starts a new one — which gets a new parent message.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.engine.nflog import REPEAT
from bot.notify.slack.mrkdwn import code
from bot.notify.slack.view import GroupView

MSG = "slack.msg"
GROUP = "slack.group"
CHANNEL = "slack.channel"
TIMER_GC = "gc|"
PAYLOAD_MARK = "alertbot_slack"
METADATA_EVENT = "alertbot_alert_group"


def msg_key(group_id: str, incarnation: int, index: int) -> str:
    return f"{group_id}@{incarnation}/{index}"


def incarnation_prefix(group_id: str, incarnation: int) -> str:
    return f"{group_id}@{incarnation}/"


def split_msg_key(key: str) -> tuple[str, int, int]:
    head, _, index = key.rpartition("/")
    gid, _, inc = head.rpartition("@")
    return gid, int(inc), int(index)


@dataclass(slots=True)
class StoryLine:
    kind: str  # added | resolved | repeat | ack | silence | escalation | note | investigation
    text: str  # mrkdwn, already safe


def story_lines(prev: GroupView | None, new: GroupView) -> list[StoryLine]:
    """What changed between two renders of a message, for its thread."""
    if prev is None:
        return []
    prev_firing = set(prev.fps_firing)
    new_firing = set(new.fps_firing)
    added = new_firing - prev_firing
    gone = prev_firing - new_firing
    out = []
    if added:
        out.append(StoryLine("added", f"🔥 {_count(len(added), 'new alert')}: {_describe(added, new, prev)}"))
    if new.status == "resolved" and prev.status != "resolved":
        n = max(len(gone), new.resolved)
        out.append(StoryLine("resolved", f"✅ All alerts resolved ({_count(n, 'alert')}): the group is over."))
    elif gone:
        out.append(StoryLine("resolved", f"✅ {len(gone)} resolved: {_describe(gone, new, prev)}"
                                         f" — {_count(new.firing, 'alert')} still firing."))
    if not out and new.reason == REPEAT and new.status == "firing":
        out.append(StoryLine("repeat", f"🔁 Still firing: {_count(new.firing, 'alert')} (repeat_interval elapsed)."))
    return out


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _describe(fps: set[str], *views: GroupView, limit: int = 5) -> str:
    by_fp = {}
    for v in views:
        for a in v.alerts:
            by_fp.setdefault(a.fp, a)
    known = [by_fp[f] for f in sorted(fps) if f in by_fp]
    parts = []
    for a in known[:limit]:
        labels = " ".join(f"{k}={v}" for k, v in a.labels.items()) or a.name or a.fp
        parts.append(code(labels, 200))
    rest = len(fps) - len(parts)
    if rest > 0:
        parts.append(f"and {rest} more")
    return ", ".join(parts) if parts else _count(len(fps), "alert")
