"""`POST /webhook`: the bot as an Alertmanager webhook receiver — authentication, bad payloads,
and real Alertmanagers (two of them, as an HA pair without gossip would) delivering the same
alerts again and again without the bot notifying twice."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import aiohttp
import pytest

from tests.server.conftest import BotServer, Recorder, hook_config

TOKEN = "tok-3f9a1c"


def _bot_config(recorder: Recorder) -> str:
    return hook_config(recorder.url)


def _payload(status: str = "firing", ends: str = "0001-01-01T00:00:00Z") -> dict:
    return {
        "version": "4", "groupKey": '{}:{alertname="Dup"}', "truncatedAlerts": 0, "status": status,
        "receiver": "bot", "groupLabels": {"alertname": "Dup"}, "commonLabels": {"alertname": "Dup"},
        "commonAnnotations": {}, "externalURL": "http://am:9093",
        "alerts": [{"status": status, "labels": {"alertname": "Dup", "instance": "a"}, "annotations": {},
                    "startsAt": "2026-01-01T00:00:00Z", "endsAt": ends, "generatorURL": "http://p/g",
                    "fingerprint": "0123456789abcdef"}],
    }


async def _post(url: str, body: bytes, headers: dict | None = None) -> tuple[int, bytes, dict]:
    async with aiohttp.ClientSession() as s:
        async with s.post(url, data=body, headers={"Content-Type": "application/json", **(headers or {})}) as r:
            return r.status, await r.read(), dict(r.headers)


async def test_bearer_token_required(bot_factory, recorder: Recorder) -> None:
    bot: BotServer = bot_factory(_bot_config(recorder), env={"ALERTBOT_WEBHOOK_BEARER_TOKEN": TOKEN})
    body = json.dumps(_payload()).encode()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"},
                    {"Authorization": TOKEN}, {"Authorization": f"Bearer {TOKEN}x"}):
        status, text, resp_headers = await _post(bot.url + "/webhook", body, headers)
        assert (status, text) == (401, b'"unauthorized"\n'), headers
        assert resp_headers["WWW-Authenticate"] == 'Bearer realm="alertbot"'
    status, text, _ = await _post(bot.url + "/webhook", body, {"Authorization": f"Bearer {TOKEN}"})
    assert (status, text) == (200, b"")
    # The token never reaches the log.
    assert TOKEN not in bot.log_text()


async def test_basic_auth_required(bot_factory, tmp_path, recorder: Recorder) -> None:
    pw = tmp_path / "password"
    pw.write_text("pa:ss wörd\n")
    bot: BotServer = bot_factory(_bot_config(recorder), args=["--webhook-username", "am",
                                                              "--webhook-password-file", str(pw)])
    body = json.dumps(_payload()).encode()

    def basic(user: str, password: str) -> dict:
        return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    for headers in ({}, basic("am", "wrong"), basic("other", "pa:ss wörd"), {"Authorization": "Basic !!!"},
                    {"Authorization": "Bearer pa:ss wörd"}):
        status, _, resp_headers = await _post(bot.url + "/webhook", body, headers)
        assert status == 401, headers
        assert resp_headers["WWW-Authenticate"] == 'Basic realm="alertbot"'
    status, _, _ = await _post(bot.url + "/webhook", body, basic("am", "pa:ss wörd"))
    assert status == 200


async def test_bad_payloads(bot_factory, recorder: Recorder) -> None:
    bot: BotServer = bot_factory(_bot_config(recorder))
    url = bot.url + "/webhook"
    assert (await _post(url, b"{"))[:2] == (400, b'"parsing webhook body failed, because unexpected EOF"\n')
    assert (await _post(url, b""))[:2] == (400, b'"webhook body is empty"\n')
    assert (await _post(url, b"[]"))[:2] == (400, b'"webhook payload must be a JSON object"\n')
    wrong = _payload()
    wrong["version"] = "3"
    status, text, _ = await _post(url, json.dumps(wrong).encode())
    assert status == 400 and b"unsupported webhook payload version" in text
    mixed = _payload()
    mixed["alerts"].append({"status": "firing", "labels": {"alertname": 5}})
    mixed["alerts"].append({"status": "firing", "labels": {"alertname": "Kept", "x": "y"},
                            "startsAt": "2026-01-01T00:00:00Z", "endsAt": "0001-01-01T00:00:00Z"})
    status, text, _ = await _post(url, json.dumps(mixed).encode())
    assert status == 400 and text.startswith(b'"alerts[1]: ')
    async with aiohttp.ClientSession() as s:
        async with s.get(bot.url + "/api/v2/alerts") as r:
            names = sorted(a["labels"]["alertname"] for a in await r.json())
    assert names == ["Dup", "Kept"]  # the valid ones of the batch are stored


@pytest.mark.peer
async def test_duplicate_deliveries_from_two_alertmanagers_notify_once(bot_factory, am_factory,
                                                                        recorder: Recorder) -> None:
    """Two Alertmanagers (an HA pair that cannot gossip) both send every alert to the bot, and
    each repeats it every second: the bot notifies once when it fires, once when it resolves."""
    bot: BotServer = bot_factory(_bot_config(recorder), env={"ALERTBOT_WEBHOOK_BEARER_TOKEN": TOKEN})
    am_config = f"""\
route:
  receiver: bot
  group_by: [alertname]
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1s
receivers:
  - name: bot
    webhook_configs:
      - url: {bot.url}/webhook
        send_resolved: true
        http_config:
          authorization:
            credentials: {TOKEN}
"""
    ams = [am_factory(am_config, "am-a"), am_factory(am_config, "am-b")]
    alert = [{"labels": {"alertname": "Replicated", "instance": "db-1"}, "startsAt": "2026-01-01T00:00:00Z"}]
    for am in ams:
        status, text, _ = await _post(am.url + "/api/v2/alerts", json.dumps(alert).encode())
        assert status == 200, text
    await recorder.wait_for(1, timeout=10)
    await asyncio.sleep(5)  # several repeats from both Alertmanagers, several bot group intervals
    firing = [b for b in (body for _, body in recorder.received)]
    assert len(firing) == 1, firing
    assert firing[0]["status"] == "firing"
    assert [a["labels"]["alertname"] for a in firing[0]["alerts"]] == ["Replicated"]
    received = _metric(await _get_text(bot.url + "/metrics"),
                       'alertbot_alerts_received_total{result="accepted",source="webhook"}')
    assert received >= 6, received  # the bot did get the duplicates

    resolved = [{**alert[0], "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}]
    for am in ams:
        status, text, _ = await _post(am.url + "/api/v2/alerts", json.dumps(resolved).encode())
        assert status == 200, text
    await recorder.wait_for(2, timeout=10)
    await asyncio.sleep(5)
    bodies = [body for _, body in recorder.received]
    assert [b["status"] for b in bodies] == ["firing", "resolved"], bodies


async def _get_text(url: str) -> str:
    async with aiohttp.ClientSession() as s:
        async with s.get(url) as r:
            return await r.text()


def _metric(text: str, series: str) -> float:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.split()[-1])
    return 0.0
