"""Alerts to and from their stored rows."""

from __future__ import annotations

import orjson

from bot.engine.alert import Alert
from bot.engine.timestamp import Timestamp
from bot.store.rows import AlertRow


def alert_to_row(a: Alert) -> AlertRow:
    # Positional (the fields' order): once per ingested alert, and keywords cost 60 % more.
    starts, ends = a.starts_at, a.ends_at
    return AlertRow(a.fingerprint, orjson.dumps(a.labels).decode(), orjson.dumps(a.annotations).decode(),
                    starts.ns, starts.offset, ends.ns, ends.offset, a.generator_url, a.updated_at.ns, a.timeout)


def alert_from_row(r: AlertRow) -> Alert:
    return Alert(orjson.loads(r.labels), orjson.loads(r.annotations), Timestamp(r.starts_at_ns, r.starts_at_offset),
                 Timestamp(r.ends_at_ns, r.ends_at_offset), r.generator_url, Timestamp(r.updated_at_ns), r.timeout,
                 r.fingerprint)


# -- alerts as a front process validated them (docs/inbox.md)
#
# One JSON array per alert: labels, annotations, startsAt (ns, UTC offset), endsAt (ns, UTC
# offset; null when the client sent none), generatorURL, fingerprint. An instant whose
# nanoseconds do not fit 64 bits (before 1677-09-21 or after 2262-04-11: valid in a request, and
# orjson writes no wider integer) is written as a decimal string. Everything is defaulted
# and checked but the one thing that depends on configuration: `endsAt` from
# `resolve_timeout`, which the engine applies with the configuration it runs when it takes the
# alerts (a reload between the front's answer and then changes it, as it would have inside
# one process).

def validated_entry(labels: dict[str, str], annotations: dict[str, str], starts: Timestamp, ends: Timestamp | None,
                    url: str, fp: int) -> list:
    """One alert of the validated form; `ends` None when the client sent none."""
    if ends is None:
        return [labels, annotations, starts.ns, starts.offset, None, 0, url, fp]
    return [labels, annotations, starts.ns, starts.offset, ends.ns, ends.offset, url, fp]


def validated_to_bytes(alerts: list[Alert]) -> bytes:
    return entries_to_bytes([validated_entry(a.labels, a.annotations, a.starts_at, None if a.timeout else a.ends_at,
                                             a.generator_url, a.fingerprint) for a in alerts])


_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def entries_to_bytes(entries: list[list]) -> bytes:
    """`validated_entry` lists as stored. Validated text is valid UTF-8 (Go's JSON decoding,
    emulated, already replaced lone surrogates), so orjson fails only on a far instant: then
    those are written as strings (the common case pays nothing for them)."""
    try:
        return orjson.dumps(entries)
    except orjson.JSONEncodeError:
        return orjson.dumps([[e[0], e[1], _wide(e[2]), e[3], _wide(e[4]), *e[5:]] for e in entries])


def _wide(ns: int | None) -> int | str | None:
    return ns if ns is None or _INT64_MIN <= ns <= _INT64_MAX else str(ns)


def validated_from_bytes(body: bytes, now: Timestamp, resolve_timeout: float) -> tuple[list[Alert], int]:
    """The alerts of `validated_to_bytes` received at `now`, and how many end before they start
    with this `resolve_timeout` (`to_alert` refuses those; only a shorter timeout than the
    front's can make one)."""
    default_end = now.add(resolve_timeout)
    out: list[Alert] = []
    refused = 0
    for labels, notes, starts_ns, starts_offset, ends_ns, ends_offset, url, fp in orjson.loads(body):
        if type(starts_ns) is str:  # a far instant (entries_to_bytes)
            starts_ns = int(starts_ns)
        if type(ends_ns) is str:
            ends_ns = int(ends_ns)
        if ends_ns is None:
            if default_end.ns < starts_ns:
                refused += 1
                continue
            out.append(Alert(labels, notes, Timestamp(starts_ns, starts_offset), default_end, url, now, True, fp))
        else:
            out.append(Alert(labels, notes, Timestamp(starts_ns, starts_offset),
                             Timestamp(ends_ns, ends_offset), url, now, False, fp))
    return out, refused
