"""Alerts to and from their stored rows."""

from __future__ import annotations

import orjson

from bot.engine.alert import Alert
from bot.engine.timestamp import Timestamp
from bot.store.rows import AlertRow


def alert_to_row(a: Alert) -> AlertRow:
    return AlertRow(
        fingerprint=a.fingerprint,
        labels=orjson.dumps(a.labels).decode(),
        annotations=orjson.dumps(a.annotations).decode(),
        starts_at_ns=a.starts_at.ns, starts_at_offset=a.starts_at.offset,
        ends_at_ns=a.ends_at.ns, ends_at_offset=a.ends_at.offset,
        generator_url=a.generator_url, updated_at_ns=a.updated_at.ns, timeout=a.timeout)


def alert_from_row(r: AlertRow) -> Alert:
    return Alert(orjson.loads(r.labels), orjson.loads(r.annotations), Timestamp(r.starts_at_ns, r.starts_at_offset),
                 Timestamp(r.ends_at_ns, r.ends_at_offset), r.generator_url, Timestamp(r.updated_at_ns), r.timeout,
                 r.fingerprint)
