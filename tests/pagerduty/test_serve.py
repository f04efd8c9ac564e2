"""End to end: `alertbot serve` (a subprocess, SQLite) with the fake PagerDuty.

Trigger after group_wait with the dedup_key the real Alertmanager 0.25 computed for the same
group (data/alertmanager-0.25), one incident per group, resolve after full resolution and
after a silence, signed webhooks in (and the ones refused), and the faults: 429, 500, timeouts,
refused connections, a SIGKILL in between, a 400 that is reported and not retried.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.pagerduty import FakePagerDuty, pd_sign
from tests.server.conftest import BotServer


DATA = Path(__file__).parent / "data" / "alertmanager-0.25"
ROUTING_KEY = "0123456789abcdef0123456789abcdef"
SECRETS = "old-secret, new-secret"
PDBASIC_GROUP_KEY = '{}/{alertname="PDBasic"}:{alertname="PDBasic"}'

CONFIG = """\
route:
  receiver: pd-basic
  group_by: [alertname]
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
  routes:
  - matchers: [alertname="PDBasic"]
    receiver: pd-basic
  - matchers: [alertname="BadKey"]
    receiver: pd-badkey
receivers:
- name: pd-basic
  pagerduty_configs:
  - routing_key: ${PD_ROUTING_KEY}
    url: PD_URL
    timeout: 1s
- name: pd-badkey
  pagerduty_configs:
  - routing_key: too-short
    url: PD_URL
"""


def alertmanagers_dedup_key() -> str:
    """The dedup_key Alertmanager 0.25 sent for the PDBasic group (recorded)."""
    for line in (DATA / "events.jsonl").read_text().splitlines():
        raw = json.loads(line)["raw"]
        if "PDBasic" in json.loads(raw)["payload"]["summary"]:
            return json.loads(raw)["dedup_key"]
    raise AssertionError("the recording has no PDBasic event")


def iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def alert(instance: str, resolved: bool = False, name: str = "PDBasic") -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"labels": {"alertname": name, "instance": instance, "severity": "critical"},
            "annotations": {"summary": f"{name} on {instance}"},
            "startsAt": iso(now),
            "endsAt": iso(now if resolved else now + timedelta(hours=1))}


class Bot:
    def __init__(self, fake: FakePagerDuty, workdir: Path) -> None:
        self.fake = fake
        self.workdir = workdir
        self.server: BotServer | None = None

    async def start(self, env: dict[str, str] | None = None) -> BotServer:
        text = CONFIG.replace("PD_URL", self.fake.events_url)
        full_env = {"PD_ROUTING_KEY": ROUTING_KEY, "PAGERDUTY_WEBHOOK_SECRET": SECRETS,
                    "ALERTBOT_RUNBOOKS": str(self.workdir / "no-runbooks"), **(env or {})}
        self.server = await asyncio.to_thread(BotServer.start, text, self.workdir, None, full_env)
        return self.server

    async def post(self, *alerts: dict[str, Any]) -> None:
        assert self.server is not None
        async with aiohttp.ClientSession() as s, s.post(f"{self.server.url}/api/v2/alerts", json=list(alerts)) as r:
            assert r.status == 200, await r.text()

    async def silence(self, name: str) -> None:
        assert self.server is not None
        now = datetime.now(UTC)
        body = {"matchers": [{"name": "alertname", "value": name, "isRegex": False, "isEqual": True}],
                "startsAt": iso(now), "endsAt": iso(now + timedelta(hours=1)), "createdBy": "test", "comment": "q"}
        async with aiohttp.ClientSession() as s, s.post(f"{self.server.url}/api/v2/silences", json=body) as r:
            assert r.status == 200, await r.text()

    async def webhook(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        assert self.server is not None
        async with aiohttp.ClientSession() as s, \
                s.post(f"{self.server.url}/pagerduty/webhook", data=body, headers=headers) as r:
            return r.status, await r.json(content_type=None)

    def db(self, sql: str, *args: object) -> list[tuple]:
        con = sqlite3.connect(f"file:{self.workdir / 'bot.db'}?mode=ro", uri=True, timeout=10)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def incident(self, key: str) -> dict[str, Any] | None:
        rows = self.db("SELECT value FROM kv WHERE namespace = 'pagerduty.incident' AND key = ?", key)
        return json.loads(rows[0][0]) if rows else None

    def pagerduty_state(self) -> list[tuple]:
        return self.db("SELECT namespace, key, value FROM kv WHERE namespace LIKE 'pagerduty.%' ORDER BY 1, 2")

    def audit(self) -> list[tuple]:
        return self.db("SELECT actor, action, group_id, details FROM audit ORDER BY id")

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@pytest.fixture
async def bot(fake_pd: FakePagerDuty, tmp_path: Path) -> AsyncIterator[Callable[..., Bot]]:
    made: list[Bot] = []

    def make(name: str = "bot") -> Bot:
        b = Bot(fake_pd, tmp_path / name)
        made.append(b)
        return b

    yield make
    for b in made:
        await asyncio.to_thread(b.stop)


async def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)


async def test_trigger_one_incident_and_resolve(bot: Callable[..., Bot], fake_pd: FakePagerDuty) -> None:
    b = bot()
    await b.start()
    t0 = time.monotonic()
    await b.post(alert("i1"))
    (event,) = await fake_pd.wait_events(1, timeout=60)
    waited = fake_pd.received[0].at - t0
    assert waited >= 0.8, waited  # not before group_wait (1s); how long after depends on the machine
    key = alertmanagers_dedup_key()
    assert event["dedup_key"] == key  # the value Alertmanager 0.25 computed for this group
    assert event["event_action"] == "trigger" and event["routing_key"] == ROUTING_KEY
    assert event["payload"]["summary"] == "[FIRING:1] PDBasic (i1 critical)"
    # The routing key came from the environment; it is not in the database.
    assert not any(ROUTING_KEY in str(row) for row in b.db("SELECT payload FROM outbox"))
    await b.post(alert("i2"))
    await fake_pd.wait_events(2, timeout=60)
    assert fake_pd.actions(key) == ["trigger", "trigger"]
    assert fake_pd.accepted[1]["payload"]["summary"] == "[FIRING:2] PDBasic (critical)"
    assert [a.dedup_key for a in fake_pd.alerts] == [key]  # one incident per group
    await b.post(alert("i1", resolved=True), alert("i2", resolved=True))
    await fake_pd.wait_events(3, timeout=60)
    assert fake_pd.actions(key) == ["trigger", "trigger", "resolve"]
    assert fake_pd.alert(key).status == "resolved"
    await asyncio.sleep(2.5)
    assert fake_pd.actions(key) == ["trigger", "trigger", "resolve"]  # once, not again from the close
    await wait_until(lambda: (b.incident(key) or {}).get("status") == "resolved", 30, "the incident resolved")


async def test_resolve_after_the_group_was_silenced(bot: Callable[..., Bot], fake_pd: FakePagerDuty) -> None:
    b = bot()
    await b.start()
    await b.post(alert("i1"))
    await fake_pd.wait_events(1, timeout=60)
    await b.silence("PDBasic")
    await asyncio.sleep(2.5)  # a flush while muted: nothing sent
    assert len(fake_pd.accepted) == 1
    await b.post(alert("i1", resolved=True))
    events = await fake_pd.wait_events(2, timeout=60)
    key = alertmanagers_dedup_key()
    assert [e["event_action"] for e in events] == ["trigger", "resolve"]
    assert events[1] == {"routing_key": ROUTING_KEY, "dedup_key": key, "event_action": "resolve"}
    assert fake_pd.alert(key).status == "resolved"
    await wait_until(lambda: any(a[1] == "resolve" for a in b.audit()), 30, "the resolve in the audit log")


async def test_signed_webhooks_update_the_group_and_bad_ones_change_nothing(
        bot: Callable[..., Bot], fake_pd: FakePagerDuty) -> None:
    b = bot()
    await b.start()
    await b.post(alert("i1"))
    await fake_pd.wait_events(1, timeout=60)
    key = alertmanagers_dedup_key()
    await wait_until(lambda: (b.incident(key) or {}).get("status") == "triggered", 30, "the trigger recorded")
    body, headers = fake_pd.webhook("incident.acknowledged", key, secrets=["new-secret"], agent="Alice Oncall")
    status, answer = await b.webhook(body, headers)
    assert status == 202 and answer["outcome"] == "applied", answer
    st = b.incident(key)
    assert st["status"] == "acknowledged"
    assert st["ack"]["by"] == "Alice Oncall" and st["ack"]["source"] == "pagerduty"
    assert st["incident"]["number"] == 1 and st["incident"]["html_url"].endswith("/incidents/Q000001")
    assert any(n["text"].startswith(":eyes: Acknowledged in PagerDuty by Alice Oncall") for n in st["notes"])
    log = [r for r in b.server.log_records() if r.get("message") == "pagerduty_story"]
    assert any("Acknowledged in PagerDuty by Alice Oncall" in r.get("text", "") for r in log)

    before_state, before_audit = b.pagerduty_state(), b.audit()
    resolved, rheaders = fake_pd.webhook("incident.resolved", key, secrets=["new-secret"], agent="Bob Backup")
    # 1. wrong secret; 2. no signature; 3. body changed after signing; 4. a signature that is
    # not v1; 5. the acknowledged webhook again (same X-Webhook-Id): refused, nothing changes.
    wrong = {**rheaders, "X-PagerDuty-Signature": pd_sign("guessed", resolved)}
    missing = {k: v for k, v in rheaders.items() if k != "X-PagerDuty-Signature"}
    tampered = resolved.replace(b"Bob Backup", b"Eve Mallory")
    v0 = {**rheaders, "X-PagerDuty-Signature": rheaders["X-PagerDuty-Signature"].replace("v1=", "v0=")}
    for data, hdrs, code in ((resolved, wrong, 401), (resolved, missing, 401), (tampered, rheaders, 401),
                             (resolved, v0, 401), (body, headers, 400)):
        status, answer = await b.webhook(data, hdrs)
        assert status == code, (status, answer)
        assert answer["status"] == "error"
    assert b.pagerduty_state() == before_state
    assert b.audit() == before_audit
    # During a secret rotation PagerDuty signs with both; the old one alone still works.
    resolved2, h2 = fake_pd.webhook("incident.resolved", key, secrets=["rotated-away", "old-secret"],
                                    agent="Bob Backup")
    assert h2["X-PagerDuty-Signature"].count("v1=") == 2
    status, answer = await b.webhook(resolved2, h2)
    assert status == 202, answer
    st = b.incident(key)
    assert st["status"] == "resolved" and st["resolved_by"]["by"] == "Bob Backup"
    assert any("Resolved in PagerDuty by Bob Backup" in n["text"] for n in st["notes"])
    # Not JSON / not V3, though correctly signed: 400.
    junk = b'{"messages": []}'
    status, answer = await b.webhook(junk, {"X-PagerDuty-Signature": pd_sign("new-secret", junk),
                                            "Content-Type": "application/json"})
    assert status == 400 and "V3" in answer["message"]


async def test_webhooks_are_refused_without_a_configured_secret(bot: Callable[..., Bot],
                                                                 fake_pd: FakePagerDuty) -> None:
    b = bot()
    await b.start(env={"PAGERDUTY_WEBHOOK_SECRET": ""})
    body, headers = fake_pd.webhook("incident.acknowledged", "k", secrets=[""])
    status, answer = await b.webhook(body, headers)
    assert status == 401 and "no signing secret" in answer["message"]


@pytest.mark.parametrize("fault", ["429", "500", "timeout", "refused"])
async def test_pagerduty_faults_are_retried_until_it_is_back(bot: Callable[..., Bot], fake_pd: FakePagerDuty,
                                                             fault: str) -> None:
    b = bot()
    await b.start()
    if fault == "429":
        fake_pd.fail_next(429, times=3, retry_after=1)
    elif fault == "500":
        fake_pd.fail_next(500, times=3)
    elif fault == "timeout":
        fake_pd.hang_next(times=2)  # the receiver's timeout is 1s
    else:
        await fake_pd.refuse_connections()
    await b.post(alert("i1"))
    if fault == "refused":
        await asyncio.sleep(4)
        assert fake_pd.received == []
        await fake_pd.accept_connections()
    events = await fake_pd.wait_events(1, timeout=60)
    assert [e["event_action"] for e in events] == ["trigger"]
    if fault == "429":
        statuses = [r.status for r in fake_pd.received]
        assert statuses == [429, 429, 429, 202]
        gaps = [b2.at - a.at for a, b2 in zip(fake_pd.received, fake_pd.received[1:])]
        assert all(g >= 0.95 for g in gaps), gaps  # Retry-After: 1 honoured
    elif fault == "500":
        assert [r.status for r in fake_pd.received] == [500, 500, 500, 202]
    elif fault == "timeout":
        assert len(fake_pd.received) == 3 and fake_pd.received[-1].status == 202
    await asyncio.sleep(2.5)
    assert len(fake_pd.accepted) == 1  # arrived once


async def test_nothing_is_lost_across_a_sigkill(bot: Callable[..., Bot], fake_pd: FakePagerDuty) -> None:
    b = bot()
    await b.start()
    fake_pd.fail_next(500, times=1000)
    await b.post(alert("i1"))
    await wait_until(lambda: len(fake_pd.received) >= 2, 60, "two failed attempts")
    assert b.server is not None
    b.server.signal(signal.SIGKILL)
    await asyncio.to_thread(b.server.proc.wait, 10)
    fake_pd._script.clear()  # PagerDuty is back
    seen = len(fake_pd.received)
    await b.start()  # the same database
    events = await fake_pd.wait_events(1, timeout=60)
    assert [e["event_action"] for e in events] == ["trigger"]
    assert events[0]["dedup_key"] == alertmanagers_dedup_key()
    assert len(fake_pd.received) > seen
    await asyncio.sleep(2.5)
    assert len(fake_pd.accepted) == 1


async def test_a_400_is_not_retried_and_is_reported(bot: Callable[..., Bot], fake_pd: FakePagerDuty) -> None:
    b = bot()
    await b.start()
    await b.post(alert("x", name="BadKey"))
    await wait_until(lambda: len(fake_pd.received) >= 1, 60, "the event")
    await asyncio.sleep(3)
    assert [r.status for r in fake_pd.received] == [400]  # not retried
    await wait_until(lambda: any(a[1] == "pagerduty event refused" for a in b.audit()), 30, "the audit row")
    (row,) = [a for a in b.audit() if a[1] == "pagerduty event refused"]
    assert "Length of 'routing_key' is incorrect" in row[3]
    (outbox,) = b.db("SELECT status, last_error FROM outbox WHERE receiver = 'pd-badkey'")
    assert outbox[0] == "failed" and "Event object is invalid" in outbox[1]
    assert b.server is not None
    errors = [r for r in b.server.log_records() if r.get("level") == "error" and "failed for good" in r.get("message", "")]
    assert errors and "Length of 'routing_key'" in errors[0]["message"]
