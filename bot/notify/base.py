"""The one small interface every integration implements, and the one place that decides
retries.

A flush hands each integration a `Notification` (the alerts to send, already muted,
de-duplicated and send_resolved-filtered); the integration renders it to a payload, which
goes into the durable outbox; the delivery worker then calls `deliver(payload)` once per
attempt and asks `RetryPolicy` what to do with the outcome.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

from bot.engine.alert import Alert
from bot.engine.timestamp import Timestamp


@dataclass(slots=True)
class Notification:
    receiver: str
    group_key: str
    group_labels: dict[str, str]
    alerts: list[Alert]  # in notification order; firing alerts carry the zero endsAt
    now: Timestamp  # the flush time: decides which alerts are resolved
    reason: str  # Alertmanager's notification_reason
    external_url: str
    route_id: str = ""
    extra: dict = field(default_factory=dict)  # integration-specific context (runbook, group id…)

    def status(self) -> str:
        return "firing" if any(not a.resolved_at(self.now) for a in self.alerts) else "resolved"


@dataclass(slots=True)
class Outcome:
    """The result of one delivery attempt."""

    ok: bool
    retryable: bool = False
    error: str = ""
    retry_after: float | None = None  # seconds, when the peer said so (Retry-After)
    effects: dict = field(default_factory=dict)  # what the owning extension should record (e.g. a message ts)
    sent: bool = True  # False: done without sending anything (a dry run that only logs it)

    @classmethod
    def success(cls, **effects: object) -> Outcome:
        return cls(True, effects=dict(effects))

    @classmethod
    def logged_only(cls) -> Outcome:
        """Done, but nothing was sent: the integration only logged what it would have sent."""
        return cls(True, sent=False)

    @classmethod
    def retry(cls, error: str, retry_after: float | None = None) -> Outcome:
        return cls(False, True, error, retry_after)

    @classmethod
    def permanent(cls, error: str) -> Outcome:
        return cls(False, False, error)


class Integration(Protocol):
    name: str  # "webhook", "slack", "pagerduty"
    receiver: str
    index: int
    send_resolved: bool
    # True: Alertmanager's semantics — delivery is retried only until the flush deadline,
    # and the notification log is written when it is delivered (a failed flush is retried
    # by the next one). False: the outbox keeps retrying until delivered.
    bounded_by_flush: bool

    def render(self, n: Notification) -> str:
        """The payload to store in the outbox (JSON text in the integration's own format)."""

    async def deliver(self, payload: str) -> Outcome:
        """One attempt. Never raises for transport problems: returns an Outcome."""


@dataclass(slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, Alertmanager's defaults (cenkalti/backoff):
    first retry after ~0.5 s, x1.5 each time, +-50 % jitter, at most 60 s apart; a peer's
    Retry-After is honoured when it asks for longer."""

    initial: float = 0.5
    multiplier: float = 1.5
    jitter: float = 0.5
    max_interval: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after the `attempt`-th failed attempt (1-based)."""
        base = min(self.max_interval, self.initial * self.multiplier ** (attempt - 1))
        r = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        wait = base * r
        if retry_after is not None:
            wait = max(wait, retry_after)
        return wait


DEFAULT_RETRY = RetryPolicy()
