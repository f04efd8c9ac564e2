"""What an operation cannot do, as people should read it (the message is mrkdwn of ours).

Access and policy refusals are `bot.chatops.access.Refused`; input that cannot be understood
is `bot.chatops.parse.InputError` (`UnsafeInput` for a broadcast mention).
"""

from __future__ import annotations


class NotFound(LookupError):
    """No such group, silence, receiver, runbook…"""


class Unavailable(RuntimeError):
    """The bot or a peer it needs is not ready (the message says which)."""


class QueryRefused(Exception):
    """A Prometheus query that did not give a result (its guardrails, or Prometheus's error)."""
