"""What the engine persists: plain rows, and one `Changes` set committed atomically.

The engine computes a `Changes` for each step (a batch of ingested alerts, due group
flushes, finished deliveries), commits it in one transaction, and only then applies it to
its memory. A `kill -9` therefore loses nothing that was acknowledged, and the state on
disk is always one the engine passed through.

Times are integers: nanoseconds since the Unix epoch (`*_ns`), with the UTC offset the
time was written in (`*_offset`, seconds) where Alertmanager shows it back to users.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class AlertRow:
    fingerprint: int  # unsigned 64-bit; stores keep it as a signed BIGINT (see bot.store.schema)
    labels: str  # JSON object
    annotations: str  # JSON object
    starts_at_ns: int
    starts_at_offset: int
    ends_at_ns: int  # Go's zero time when unset
    ends_at_offset: int
    generator_url: str
    updated_at_ns: int
    timeout: bool


@dataclass(slots=True)
class GroupRow:
    id: str  # route id + "|" + group-labels fingerprint: unique per aggregation group
    group_key: str  # Alertmanager's group key (not unique across sibling routes with equal matchers)
    route_id: str
    receiver: str
    labels: str  # JSON object: the group labels
    created_at_ns: int
    next_flush_ns: int  # when the group's timer fires next
    has_flushed: bool


@dataclass(slots=True)
class NflogRow:
    key: str  # group key + ":" + receiver/integration/index, as Alertmanager keys its log
    firing: str  # JSON list of alert fingerprints (hex) in the last sent notification
    resolved: str  # JSON list
    timestamp_ns: int  # when that notification was sent
    expires_at_ns: int
    state: str = "{}"  # JSON: integration state kept with the entry (e.g. Slack message ts)


@dataclass(slots=True)
class SilenceRow:
    id: str
    matchers: str  # JSON list of {name, value, isRegex, isEqual}
    starts_at_ns: int
    ends_at_ns: int
    updated_at_ns: int
    created_by: str
    comment: str


@dataclass(slots=True)
class OutboxRow:
    id: int  # assigned by the engine (monotonic), so a row can be referenced before commit
    group_id: str
    flush_id: int  # rows of one flush share it
    receiver: str
    integration: str  # "webhook", "slack", "pagerduty"
    integration_index: int
    nflog_key: str
    payload: str  # JSON: what the integration sends (its own format)
    nflog_firing: str  # JSON list: written to the notification log when delivered
    nflog_resolved: str
    nflog_expires_ns: int
    created_at_ns: int
    not_before_ns: int  # next attempt no earlier than this
    deadline_ns: int  # 0: no deadline (retry until delivered)
    attempts: int = 0
    status: str = "pending"  # pending | delivered | failed | abandoned
    last_error: str = ""
    ordering_key: str = ""  # deliveries with the same key go out in id order


@dataclass(slots=True)
class KvRow:
    """State the integrations and chatops keep beside Alertmanager's: a Slack message's ts,
    an acknowledgement, a PagerDuty incident, a durable timer. `value` is JSON."""

    namespace: str
    key: str
    value: str
    updated_at_ns: int


@dataclass(slots=True)
class AuditRow:
    """One human or automatic action (append-only)."""

    at_ns: int
    actor: str
    action: str  # ack, unack, silence, expire, page, query, escalation, resolve, …
    group_id: str
    details: str  # JSON
    id: int = 0  # assigned by the store


@dataclass(slots=True)
class InboxRow:
    """Alerts a front process committed; the engine applies them as received at `received_ns`."""

    id: int  # assigned by the store, increasing in commit order
    received_ns: int
    source: str  # "api" (POST /api/v2/alerts) or "webhook", ":validated" when `body` is the validated form
    body: bytes


@dataclass(slots=True)
class OutboxUpdate:
    id: int
    status: str
    attempts: int
    not_before_ns: int
    last_error: str


@dataclass(slots=True)
class Changes:
    alerts_upsert: list[AlertRow] = field(default_factory=list)
    alerts_delete: list[int] = field(default_factory=list)
    groups_upsert: list[GroupRow] = field(default_factory=list)
    groups_delete: list[str] = field(default_factory=list)
    nflog_upsert: list[NflogRow] = field(default_factory=list)
    nflog_delete: list[str] = field(default_factory=list)
    silences_upsert: list[SilenceRow] = field(default_factory=list)
    outbox_insert: list[OutboxRow] = field(default_factory=list)
    outbox_update: list[OutboxUpdate] = field(default_factory=list)
    kv_upsert: list[KvRow] = field(default_factory=list)
    kv_delete: list[tuple[str, str]] = field(default_factory=list)  # (namespace, key)
    audit_insert: list[AuditRow] = field(default_factory=list)
    inbox_delete: list[int] = field(default_factory=list)  # inbox ids applied by this commit

    def __bool__(self) -> bool:
        return any((self.alerts_upsert, self.alerts_delete, self.groups_upsert, self.groups_delete,
                    self.nflog_upsert, self.nflog_delete, self.silences_upsert, self.outbox_insert,
                    self.outbox_update, self.kv_upsert, self.kv_delete, self.audit_insert, self.inbox_delete))

    def extend(self, other: Changes) -> None:
        for name in self.__slots__:  # type: ignore[attr-defined]
            getattr(self, name).extend(getattr(other, name))


@dataclass(slots=True)
class State:
    """Everything the engine needs to resume: loaded once at start-up."""

    alerts: list[AlertRow] = field(default_factory=list)
    groups: list[GroupRow] = field(default_factory=list)
    nflog: list[NflogRow] = field(default_factory=list)
    silences: list[SilenceRow] = field(default_factory=list)
    outbox_pending: list[OutboxRow] = field(default_factory=list)
    kv: list[KvRow] = field(default_factory=list)
    outbox_max_id: int = 0  # the highest outbox id and flush id ever stored (ids are never reused)
    outbox_max_flush_id: int = 0
