"""Rows and change sets for store tests, and the normal form two stores' states are compared in."""

from __future__ import annotations

import dataclasses
import json
import random

from bot.engine.timestamp import ZERO_NS
from bot.store.rows import (AlertRow, AuditRow, Changes, GroupRow, KvRow, NflogRow, OutboxRow, OutboxUpdate, SilenceRow,
                            State)

T0 = 1_764_000_000_000_000_000  # 2025-11-24 in ns
S = 1_000_000_000


def alert(fp: int, i: int = 0, **kw: object) -> AlertRow:
    row = AlertRow(fingerprint=fp, labels=json.dumps({"alertname": "HighLatency", "instance": f"10.0.0.{i}:9100",
                                                      "service": "model-registry"}),
                   annotations=json.dumps({"summary": f"p99 above 2s on {i}"}), starts_at_ns=T0 + i * S,
                   starts_at_offset=0, ends_at_ns=ZERO_NS, ends_at_offset=0,
                   generator_url=f"http://prometheus:9090/graph?g0.expr=up%7Bi%3D{i}%7D", updated_at_ns=T0 + i * S,
                   timeout=False)
    return dataclasses.replace(row, **kw)


def group(gid: str, **kw: object) -> GroupRow:
    row = GroupRow(id=gid, group_key=f'{{}}:{{alertname="{gid}"}}', route_id="0.1", receiver="team-ml",
                   labels=json.dumps({"alertname": gid}), created_at_ns=T0, next_flush_ns=T0 + 30 * S,
                   has_flushed=False)
    return dataclasses.replace(row, **kw)


def nflog(key: str, **kw: object) -> NflogRow:
    row = NflogRow(key=key, firing=json.dumps(["00000000000000ff"]), resolved="[]", timestamp_ns=T0,
                   expires_at_ns=T0 + 120 * 3600 * S)
    return dataclasses.replace(row, **kw)


def silence(sid: str, **kw: object) -> SilenceRow:
    row = SilenceRow(id=sid, matchers=json.dumps([{"name": "service", "value": "model-registry", "isRegex": False,
                                                   "isEqual": True}]),
                     starts_at_ns=T0, ends_at_ns=T0 + 3600 * S, updated_at_ns=T0, created_by="ops@example.com",
                     comment="deploying")
    return dataclasses.replace(row, **kw)


def outbox(oid: int, **kw: object) -> OutboxRow:
    row = OutboxRow(id=oid, group_id="0.1|abc", flush_id=oid // 3 + 1, receiver="team-ml", integration="webhook",
                    integration_index=0, nflog_key=f"{{}}:{{}}:team-ml/webhook/0#{oid}",
                    payload=json.dumps({"version": "4", "status": "firing", "alerts": [{"n": oid}]}),
                    nflog_firing='["00000000000000ff"]', nflog_resolved="[]", nflog_expires_ns=T0 + 432000 * S,
                    created_at_ns=T0 + oid, not_before_ns=T0 + oid, deadline_ns=0)
    return dataclasses.replace(row, **kw)


def kv(namespace: str, key: str, **kw: object) -> KvRow:
    row = KvRow(namespace=namespace, key=key, value=json.dumps({"ts": "1764000000.000100", "channel": "C0ALERTS"}),
                updated_at_ns=T0)
    return dataclasses.replace(row, **kw)


def audit(group_id: str, action: str = "ack", **kw: object) -> AuditRow:
    row = AuditRow(at_ns=T0, actor="U024BE7LH", action=action, group_id=group_id,
                   details=json.dumps({"via": "slack", "comment": "looking"}))
    return dataclasses.replace(row, **kw)


def everything(n: int = 5) -> Changes:
    """A change set with every kind of row."""
    return Changes(
        alerts_upsert=[alert(0x1000 + i, i) for i in range(n)],
        groups_upsert=[group(f"g{i}") for i in range(n)],
        nflog_upsert=[nflog(f"k{i}", state=json.dumps({"ts": f"1700000000.{i:06d}"})) for i in range(n)],
        silences_upsert=[silence(f"s{i}") for i in range(n)],
        outbox_insert=[outbox(i + 1) for i in range(n)],
        kv_upsert=[kv("slack.message", f"g{i}") for i in range(n)] + [kv("ack", f"g{i}") for i in range(n)],
        audit_insert=[audit(f"g{i % 2}", action=f"a{i}") for i in range(n)],
    )


def normal(state: State) -> dict[str, list[object]]:
    """A state with every list in key order, for comparing stores that return rows in different orders."""
    return {
        "alerts": sorted(state.alerts, key=lambda r: r.fingerprint),
        "groups": sorted(state.groups, key=lambda r: r.id),
        "nflog": sorted(state.nflog, key=lambda r: r.key),
        "silences": sorted(state.silences, key=lambda r: r.id),
        "outbox_pending": sorted(state.outbox_pending, key=lambda r: r.id),
        "kv": sorted(state.kv, key=lambda r: (r.namespace, r.key)),
    }


_TEXTS = ["", "plain", "ünïcödé ✓ 🚨", 'quotes " and \' and \\ backslash', "line\nbreak\ttab", "x" * 5000,
          '{"json": [1, 2, {"nested": null}]}', "€" * 100]
_STATUSES = ["pending", "pending", "delivered", "failed", "abandoned"]


def random_changes(rng: random.Random, next_outbox_id: list[int]) -> Changes:
    """A random change set over a small key space, so that updates, deletes and duplicates happen."""
    fps = [0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1] + [rng.getrandbits(64) for _ in range(3)] + list(range(2, 40))
    times = [ZERO_NS, T0, 0, -1, -(1 << 63) + 1, (1 << 63) - 1, T0 + rng.randrange(10**12)]
    c = Changes()
    for _ in range(rng.randrange(0, 60)):
        c.alerts_upsert.append(alert(rng.choice(fps), rng.randrange(100), labels=rng.choice(_TEXTS),
                                     ends_at_ns=rng.choice(times), ends_at_offset=rng.choice([0, 3600, -16200]),
                                     timeout=rng.random() < 0.5, updated_at_ns=rng.choice(times)))
    c.alerts_delete = [rng.choice(fps) for _ in range(rng.randrange(0, 10))]
    gids = [f"0.{i}|{i * 7919:016x}" for i in range(15)]
    c.groups_upsert = [group(rng.choice(gids), next_flush_ns=rng.choice(times), has_flushed=rng.random() < 0.5)
                       for _ in range(rng.randrange(0, 10))]
    c.groups_delete = [rng.choice(gids) for _ in range(rng.randrange(0, 4))]
    keys = [f"key{i}" for i in range(15)]
    c.nflog_upsert = [nflog(rng.choice(keys), state=rng.choice(_TEXTS), timestamp_ns=rng.choice(times))
                      for _ in range(rng.randrange(0, 10))]
    c.nflog_delete = [rng.choice(keys) for _ in range(rng.randrange(0, 4))]
    sids = [f"sil-{i}" for i in range(10)]
    c.silences_upsert = [silence(rng.choice(sids), comment=rng.choice(_TEXTS), ends_at_ns=rng.choice(times))
                         for _ in range(rng.randrange(0, 5))]
    for _ in range(rng.randrange(0, 6)):
        c.outbox_insert.append(outbox(next_outbox_id[0], status=rng.choice(_STATUSES), payload=rng.choice(_TEXTS),
                                      ordering_key=rng.choice(["", "g1", "g2"])))
        next_outbox_id[0] += 1
    known = list(range(1, next_outbox_id[0])) + [10**9]  # plus an id that does not exist
    c.outbox_update = [OutboxUpdate(rng.choice(known), rng.choice(_STATUSES), rng.randrange(10),
                                    rng.choice(times), rng.choice(_TEXTS)) for _ in range(rng.randrange(0, 6))]
    kv_keys = [(ns, f"k{i}") for ns in ("slack", "ack", "pd") for i in range(4)]
    c.kv_upsert = [kv(*rng.choice(kv_keys), value=rng.choice(_TEXTS), updated_at_ns=rng.choice(times))
                   for _ in range(rng.randrange(0, 6))]
    c.kv_delete = [rng.choice(kv_keys) for _ in range(rng.randrange(0, 3))]
    c.audit_insert = [audit(rng.choice(gids), action=rng.choice(["ack", "silence", "page"]),
                            details=rng.choice(_TEXTS)) for _ in range(rng.randrange(0, 4))]
    return c
