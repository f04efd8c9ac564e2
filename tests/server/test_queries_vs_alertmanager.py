"""Reading state back: `GET /api/v2/alerts`, `/alerts/groups`, `/silences`, `/receivers` on the
real Alertmanager 0.25 and on the bot, after the same alerts and silences were posted to both.

Bodies are compared as JSON text, field order included, after removing what is each side's own:
`updatedAt` (the moment of receipt) and silence ids (random UUIDs; the bot's ids are mapped to
Alertmanager's in the order the silences were created).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.fixtures.alertmanager import Alertmanager
from tests.server.conftest import BotServer

pytestmark = [pytest.mark.peer, pytest.mark.xdist_group("queries_vs_alertmanager")]

CONFIG = """\
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['team="a"']
      receiver: team-a
      group_by: [alertname, instance]
      continue: true
    - matchers: ['team=~"a|b"']
      receiver: team-b
    - matchers: ['severity="page"']
      receiver: pager
      group_by: ['...']
inhibit_rules:
  - source_matchers: ['severity="critical"']
    target_matchers: ['severity="warning"']
    equal: [instance]
receivers:
  - name: default
  - name: team-a
  - name: team-b
  - name: pager
"""

STARTS = "2026-01-01T00:00:00.123+01:00"
ENDS = "2099-01-01T00:00:00Z"


def _alerts() -> list[dict]:
    out = []
    # One inhibiting source per instance: with two, Alertmanager names either (map order).
    for i, (team, sev) in enumerate([("a", "critical"), ("a", "warning"), ("b", "warning"), ("c", "page"),
                                     ("a", "info"), ("", "warning"), ("b", "error")]):
        labels = {"alertname": f"Alert{i % 3}", "instance": f"host-{i % 2}:9100", "severity": sev, "job": "node"}
        if team:
            labels["team"] = team
        out.append({"labels": labels, "annotations": {"summary": f"alert {i}", "runbook": "https://r/x?a=1&b=<2>"},
                    "startsAt": STARTS, "endsAt": ENDS, "generatorURL": f"http://prometheus:9090/graph?i={i}"})
    out.append({"labels": {"alertname": "NoJob", "instance": "z", "team": "b"}, "startsAt": STARTS, "endsAt": ENDS})
    out.append({"labels": {"alertname": "Ünïcödé", "x": "☃"}, "startsAt": STARTS, "endsAt": ENDS})
    out.append({"labels": {"alertname": "Resolved"}, "startsAt": STARTS, "endsAt": "2026-01-02T00:00:00Z"})
    return out


# Distinct ends: Alertmanager sorts silences with an unstable sort, so ties come out in any order.
SILENCES = [
    {"matchers": [{"name": "alertname", "value": "Alert1", "isRegex": False}], "comment": "one",
     "endsAt": "2099-03-01T00:00:00Z"},
    {"matchers": [{"name": "team", "value": "b|c", "isRegex": True}, {"name": "severity", "value": "critical",
                                                                       "isRegex": False, "isEqual": False}],
     "comment": "two", "endsAt": "2099-02-01T00:00:00+01:00"},
    {"matchers": [{"name": "instance", "value": "nothing", "isRegex": False}], "comment": "pending",
     "startsAt": "2098-01-01T00:00:00Z"},
    {"matchers": [{"name": "alertname", "value": "Gone", "isRegex": False}], "comment": "expired-later"},
]


class Pair:
    def __init__(self, am: Alertmanager, bot: BotServer) -> None:
        self.am = am
        self.bot = bot
        self.id_map: dict[str, str] = {}  # bot silence id -> Alertmanager's


async def _request(session: aiohttp.ClientSession, method: str, url: str, body: object = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"} if data is not None else {}
    async with session.request(method, url, data=data, headers=headers) as r:
        return r.status, await r.read()


async def _populate(pair: Pair) -> None:
    async with aiohttp.ClientSession() as s:
        for side in (pair.am, pair.bot):
            status, body = await _request(s, "POST", side.url + "/api/v2/alerts", _alerts())
            assert status == 200, body
        for spec in SILENCES:
            silence = {"startsAt": "2026-01-01T00:00:00Z", "endsAt": ENDS, "createdBy": "tester", **spec}
            ids = []
            for side in (pair.am, pair.bot):
                status, body = await _request(s, "POST", side.url + "/api/v2/silences", silence)
                assert status == 200, body
                ids.append(json.loads(body)["silenceID"])
            pair.id_map[ids[1]] = ids[0]
        # The last one is expired on both.
        for side, sid in ((pair.am, list(pair.id_map.values())[-1]), (pair.bot, list(pair.id_map)[-1])):
            status, _ = await _request(s, "DELETE", f"{side.url}/api/v2/silence/{sid}")
            assert status == 200
    await asyncio.sleep(1.0)  # Alertmanager's inhibitor learns of new alerts asynchronously


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    base: Path = tmp_path_factory.mktemp("queries")
    am = Alertmanager.start(CONFIG, base / "alertmanager")
    try:
        bot = BotServer.start(CONFIG, base / "bot", ["--matchers-mode", "classic"])
    except Exception:
        am.stop()
        raise
    p = Pair(am, bot)
    try:
        asyncio.run(_populate(p))
        yield p
    finally:
        bot.stop()
        am.stop()


_UPDATED = re.compile(rb'"updatedAt":"[^"]*",?')


# Silence times set to "now" by the server: the start of a silence that started in the past,
# the end of an expired one (the test's own times are in 2098 and 2099).
_NOW_TIMES = re.compile(rb'"(startsAt|endsAt)":"20(?!98|99)[^"]*"')


def _normalise(body: bytes, id_map: dict[str, str] | None = None) -> bytes:
    body = _UPDATED.sub(b"", body)
    if body.startswith(b'[{"id":'):
        body = _NOW_TIMES.sub(rb'"\1":"now"', body)
    for mine, theirs in (id_map or {}).items():
        body = body.replace(mine.encode(), theirs.encode())
    return body


QUERIES = [
    "/api/v2/alerts", "/api/v2/alerts?active=false", "/api/v2/alerts?silenced=false", "/api/v2/alerts?inhibited=false",
    "/api/v2/alerts?active=false&silenced=false", "/api/v2/alerts?silenced=false&inhibited=false&active=true",
    '/api/v2/alerts?filter=severity="warning"', '/api/v2/alerts?filter=team=~"a|b"&filter=severity!="critical"',
    '/api/v2/alerts?filter=team=""', '/api/v2/alerts?filter=team!=""', '/api/v2/alerts?filter=team!~""',
    '/api/v2/alerts?filter=team=~""', "/api/v2/alerts?receiver=team-a", "/api/v2/alerts?receiver=team-.*",
    "/api/v2/alerts?receiver=pager|default", "/api/v2/alerts?filter=x=☃", "/api/v2/alerts?unprocessed=false",
    "/api/v2/alerts/groups", "/api/v2/alerts/groups?active=false", "/api/v2/alerts/groups?silenced=false",
    "/api/v2/alerts/groups?inhibited=false", "/api/v2/alerts/groups?receiver=team-a",
    '/api/v2/alerts/groups?filter=severity=~"warn.*"', "/api/v2/alerts/groups?receiver=nobody",
    "/api/v2/silences", '/api/v2/silences?filter=alertname="Alert1"', '/api/v2/silences?filter=team=~"b|c"',
    '/api/v2/silences?filter=team="b|c"', "/api/v2/receivers",
]


@pytest.mark.parametrize("path", QUERIES)
async def test_same_answer(pair: Pair, path: str) -> None:
    async with aiohttp.ClientSession() as s:
        sa, ba = await _request(s, "GET", pair.am.url + path)
        sb, bb = await _request(s, "GET", pair.bot.url + path)
    assert sb == sa == 200
    assert _normalise(bb, pair.id_map) == _normalise(ba), (
        f"\nalertmanager: {_normalise(ba).decode()}\nalertbot:     {_normalise(bb, pair.id_map).decode()}")


async def test_queries_are_not_trivial(pair: Pair) -> None:
    """The comparison above covers suppressed, inhibited and silenced alerts, not only empty lists."""
    async with aiohttp.ClientSession() as s:
        _, body = await _request(s, "GET", pair.bot.url + "/api/v2/alerts")
    alerts = json.loads(body)
    assert len(alerts) == 9  # the resolved one is not shown
    assert any(a["status"]["inhibitedBy"] for a in alerts)
    assert any(a["status"]["silencedBy"] for a in alerts)
    assert any(a["status"]["state"] == "active" for a in alerts)
