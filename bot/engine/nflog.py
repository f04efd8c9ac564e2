"""The notification log: what each integration last sent for each group, and the rule that
decides whether a flush must notify (Alertmanager's DedupStage `needsUpdate`)."""

from __future__ import annotations

import json

import orjson
from dataclasses import dataclass, field

from bot.store.rows import NflogRow

FIRST = "first notification"
NEW_ALERTS = "new alerts added"
SOME_RESOLVED = "some alerts resolved"
ALL_RESOLVED = "all alerts resolved"
REPEAT = "repeat interval elapsed"

RETENTION_NS = 120 * 3600 * 1_000_000_000  # Alertmanager's --data.retention default


@dataclass(slots=True)
class Entry:
    firing: frozenset[int]
    resolved: frozenset[int]
    timestamp_ns: int
    expires_at_ns: int
    state: dict = field(default_factory=dict)

    def to_row(self, key: str, firing_json: str | None = None, resolved_json: str | None = None) -> NflogRow:
        """`firing_json`/`resolved_json`: the sets already encoded (by `encode_fingerprints`)."""
        return NflogRow(key, encode_fingerprints(self.firing) if firing_json is None else firing_json,
                        encode_fingerprints(self.resolved) if resolved_json is None else resolved_json,
                        self.timestamp_ns, self.expires_at_ns, json.dumps(self.state) if self.state else "{}")

    @classmethod
    def from_row(cls, row: NflogRow) -> Entry:
        return cls(frozenset(int(x, 16) for x in json.loads(row.firing)),
                   frozenset(int(x, 16) for x in json.loads(row.resolved)), row.timestamp_ns, row.expires_at_ns,
                   json.loads(row.state or "{}"))


def encode_fingerprints(fps: frozenset[int]) -> str:
    """A set of fingerprints as the log and the outbox store it: a sorted JSON list of hex."""
    return orjson.dumps([f"{fp:016x}" for fp in sorted(fps)]).decode()


def log_key(group_key: str, receiver: str, integration: str, index: int) -> str:
    return f"{group_key}:{receiver}/{integration}/{index}"


def expiry_ns(timestamp_ns: int, repeat_interval_s: float) -> int:
    return timestamp_ns + min(RETENTION_NS, round(2 * repeat_interval_s * 1e9))


def needs_update(entry: Entry | None, firing: frozenset[int], resolved: frozenset[int], send_resolved: bool,
                 repeat_interval_s: float, now_ns: int) -> str | None:
    """The reason to notify, or None. `entry` is None when there is none (or it expired)."""
    if entry is None:
        return FIRST if firing else None
    if not firing <= entry.firing:
        return FIRST if not entry.firing else NEW_ALERTS
    if not firing:
        return ALL_RESOLVED if entry.firing else None
    if send_resolved and not resolved <= entry.resolved:
        return SOME_RESOLVED
    if entry.timestamp_ns < now_ns - round(repeat_interval_s * 1e9):
        return REPEAT
    return None
