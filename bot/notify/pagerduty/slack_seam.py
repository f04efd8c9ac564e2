"""Where PagerDuty's story reaches the group's Slack message and thread.

The Slack extension ("slack", issue 5) redraws a group's message and tells its thread through

    refresh(group_id, txn, *, story=None, story_kind="note", …) -> bool

called inside the same cycle, so the Slack edit and thread reply land in the outbox with the
state change that caused them. The message reads the incident itself
(`engine.extension("pagerduty").incident_of(group_id)`: status, who acknowledged, PagerDuty's
incident URL), so it is called after that state is saved. Story lines are trusted mrkdwn:
text from PagerDuty or the configuration goes through `esc`. Without a Slack extension each
line is logged; it is kept in the incident state (`notes`) either way.
"""

from __future__ import annotations

from bot.engine.engine import Txn
from bot.logging import get_logger

log = get_logger("alertbot.pagerduty")


def esc(text: str) -> str:
    """Text from outside (a PagerDuty user's name, an error) as literal Slack mrkdwn."""
    try:
        from bot.notify.slack.mrkdwn import escape_text
    except ImportError:  # pragma: no cover - the Slack module ships with the bot
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escape_text(text)


def tell_slack(txn: Txn, group_id: str, text: str | None, kind: str = "note") -> bool:
    """Redraws the group's Slack message and, with `text`, adds it to the thread; False when no
    Slack extension can (the line is logged instead)."""
    slack = txn.engine.extension("slack")
    refresh = getattr(slack, "refresh", None)
    if group_id and callable(refresh):
        if text:
            refresh(group_id, txn, story=text, story_kind=kind)
        else:
            refresh(group_id, txn)
        return True
    if text:
        log.info("pagerduty_story", group_id=group_id, text=text, slack="no Slack thread to tell")
    return False
