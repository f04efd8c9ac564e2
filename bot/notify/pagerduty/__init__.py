"""PagerDuty: Events API v2 out (Alertmanager's events and dedup keys), incidents kept in step
with Slack, Slack-first escalation, signed V3 webhooks in, and who is on call.

Public API (everything else in this package is internal):

    service_for(config, http) -> PagerDutyService
        The bot's PagerDuty service (one per HttpClient, i.e. per running server). The
        registry builds `pagerduty_configs` integrations through it; chatops gets it the same
        way (`service_for(None, runtime.http)`) or as `engine.extension("pagerduty").service`.

    PagerDutyService
        await .who_is_on_call(service_or_policy) -> OnCallAnswer     REST GET /oncalls, cached 60 s
        await .acknowledge(group_id, actor, comment="") -> AckResult  `acknowledge` with the group's
                                                                       dedup_key; cancels escalation
        await .trigger_manual(receiver, summary, actor, *, group_id="", severity="critical",
                              details=None) -> dedup_key               page now
        .incident(group_id) -> dict | None                            the incident as the bot knows it
        .bind(engine)                                                 when no pagerduty_configs exist
        Errors: OnCallUnavailable (str: a reply for Slack), UnknownGroup, NotPageable,
        PagerDutyNotConfigured.

    dedup_key(group_key) -> str      Alertmanager's: sha256 hex of the group key
    webhooks: sign / verify / parse / secrets_from_env   (V3 signatures, for the server)

Environment: PAGERDUTY_API_TOKEN(_FILE) and PAGERDUTY_API_URL for the REST API,
PAGERDUTY_WEBHOOK_SECRET(_FILE) for inbound webhooks. Routing keys come from the receivers'
`routing_key` (`${ENV}` references) or `routing_key_file`. See docs/pagerduty.md.
"""

from bot.notify.pagerduty.extension import AckResult, NotPageable, UnknownGroup, WebhookResult
from bot.notify.pagerduty.oncall import OnCall, OnCallAnswer, OnCallDirectory, OnCallUnavailable
from bot.notify.pagerduty.payload import dedup_key
from bot.notify.pagerduty.service import PagerDutyNotConfigured, PagerDutyService, service_for

__all__ = [
    "AckResult", "NotPageable", "OnCall", "OnCallAnswer", "OnCallDirectory", "OnCallUnavailable",
    "PagerDutyNotConfigured", "PagerDutyService", "UnknownGroup", "WebhookResult", "dedup_key", "service_for",
]
