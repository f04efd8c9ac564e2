"""Slack: one living Block Kit message per alert group and channel, edited in place, with a
thread that tells the group's story; every call through the durable outbox, paced per
channel, 429s honoured, nothing dropped.

Public API (everything else in this package is internal):

    service_for(http, *, registry=None) -> SlackService
        The bot's one Slack service per HttpClient, from the environment (SlackSettingsError
        names a bad variable). build_integrations uses it when an HTTP client is given.
    SlackService
        .integration(receiver, index, cfg)   the IntegrationFactory build_integrations uses
        .prepare(config)                     build_integrations calls it with the config
        .attach(engine)                      only for an engine built without Slack integrations
                                             (they bring the message extension themselves)
        .notifier -> SlackNotifier           for chatops, PagerDuty…:
            .refresh(group_id, txn, *, story=None, story_kind="note", acknowledged_by=…,
                     acknowledged_at_ns=…, ack_comment=…, silenced_by=…, silenced_until_ns=…,
                     silence_ids=…, incident_url=…, incident_status=…, note=…) -> bool
            .messages(group_id) -> [MessageRef(group_id, incarnation, index, channel,
                                               channel_id, ts, state, error)]
            .group_for_message(channel_id, ts) -> group_id | None
        .status() -> dict                    token check and failing channels
    SlackSettings.from_env()                 the environment variables (see settings.py)
    build_message(view, status) / check_limits(message) / GroupStatus / GroupView
    escape_text(s), escape_code(s)           alert text made safe for mrkdwn

Interactive ids in the message (for bot.chatops): see bot.notify.slack.message.
"""

from bot.notify.slack.extension import MessageRef, SlackNotifier
from bot.notify.slack.message import GroupStatus, build_message, check_limits
from bot.notify.slack.mrkdwn import escape_code, escape_text
from bot.notify.slack.service import SlackService, service_for
from bot.notify.slack.settings import SlackSettings, SlackSettingsError
from bot.notify.slack.view import GroupView

__all__ = [
    "GroupStatus", "GroupView", "MessageRef", "SlackNotifier", "SlackService", "SlackSettings",
    "SlackSettingsError", "build_message", "check_limits", "escape_code", "escape_text", "service_for",
]
