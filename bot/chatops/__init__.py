"""Slack chatops: the `/oncall` command, the buttons of the alert message, acknowledgements,
silences from chat (mirrored to an upstream Alertmanager), investigation queries, who is on
call, manual pages, the bot's status and the audit log — over HTTP (`POST /slack/events`)
or Socket Mode, behind one set of listeners.

Public API (everything else in this package is internal):

    register(app) -> Chatops
        Adds the Slack app to the bot's aiohttp application (`bot.server.app.create_app`
        calls it): the route, the acknowledgement extension the engine adopts when the
        runtime builds it (`Runtime.engine_hooks`), start and stop.
    AckExtension (engine extension "chatops")
        .acknowledged(group_id) -> bool      the one answer to "is this group acknowledged?"
        .current(group_id) -> dict | None    who, when, comment, source
        .external(txn, group_id, by, source, acknowledged)   an acknowledgement made elsewhere
                                             (PagerDuty's webhook)
    verify(secret, body, timestamp, signature, now) -> None | (outcome, reason)
        Slack's v0 signature check with its five-minute window.

Settings: bot.chatops.settings (the `chatops` and `access` sections of alertbot.yaml, and
the environment). See docs/chatops.md.
"""

from bot.chatops.acks import AckExtension
from bot.chatops.app import CHATOPS, Chatops, register, verify

__all__ = ["CHATOPS", "AckExtension", "Chatops", "register", "verify"]
