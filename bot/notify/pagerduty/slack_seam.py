"""Where PagerDuty's story reaches the group's Slack message and thread.

The Slack module (issue 5, `bot/notify/slack`, extension "slack") was being written at the
same time as this one and did not yet offer a way in. This is the seam: when an engine
extension named "slack" has these methods, they are called inside the same cycle (so the
Slack edit or thread reply lands in the outbox with the state change that caused it):

    thread_note(group_id: str, text: str, txn: Txn) -> None   a line in the group's thread
    refresh(group_id: str, txn: Txn) -> None                   re-render the parent message

The message can show the incident with `engine.extension("pagerduty").incident_of(group_id)`
(status, who acknowledged, PagerDuty's incident number and URL, the story's lines). Without the
Slack extension each line is logged; it is kept in the incident state (`notes`) either way.
"""

from __future__ import annotations

from typing import Protocol

from bot.engine.engine import Txn
from bot.logging import get_logger

log = get_logger("alertbot.pagerduty")


class SlackThread(Protocol):
    def thread_note(self, group_id: str, text: str, txn: Txn) -> None: ...

    def refresh(self, group_id: str, txn: Txn) -> None: ...


def tell_slack(txn: Txn, group_id: str, text: str | None, refresh: bool = True) -> bool:
    """Says `text` in the group's Slack thread and refreshes its message; False when no Slack
    extension can (the line is logged instead)."""
    slack = txn.engine.extension("slack")
    note = getattr(slack, "thread_note", None)
    redo = getattr(slack, "refresh", None)
    told = False
    if group_id and text and callable(note):
        note(group_id, text, txn)
        told = True
    if group_id and refresh and callable(redo):
        redo(group_id, txn)
    if text and not told:
        log.info("pagerduty_story", group_id=group_id, text=text, slack="no Slack thread to tell")
    return told
