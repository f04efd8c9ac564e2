"""The server as operators meet it: reload (HTTP and SIGHUP, good and bad files), readiness,
metrics, structured logs with trace ids and without secrets, and shutdown."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import aiohttp
import pytest
from aiohttp import web

from tests.server.conftest import BotServer, Recorder

CONFIG_A = """\
route:
  receiver: one
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
receivers:
  - name: one
    webhook_configs:
      - url: {url}
"""

CONFIG_B = CONFIG_A.replace("receiver: one", "receiver: two").replace("- name: one", "- name: two")

BAD_CONFIG = """\
route:
  receiver: nowhere
receivers:
  - name: one
"""


async def _get(url: str, headers: dict | None = None) -> tuple[int, str, dict]:
    async with aiohttp.ClientSession() as s:
        async with s.get(url, headers=headers or {}) as r:
            return r.status, await r.text(), dict(r.headers)


async def _request(method: str, url: str, body: object = None, headers: dict | None = None) -> tuple[int, str, dict]:
    data = None if body is None else json.dumps(body).encode()
    h = {"Content-Type": "application/json"} if data is not None else {}
    h.update(headers or {})
    async with aiohttp.ClientSession() as s:
        async with s.request(method, url, data=data, headers=h) as r:
            return r.status, await r.text(), dict(r.headers)


async def _receivers(bot: BotServer) -> list[str]:
    status, text, _ = await _get(bot.url + "/api/v2/receivers")
    assert status == 200
    return [r["name"] for r in json.loads(text)]


async def _wait_receivers(bot: BotServer, want: list[str], timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    got: list[str] = []
    while time.monotonic() < deadline:
        got = await _receivers(bot)
        if got == want:
            break
        await asyncio.sleep(0.1)
    return got


async def test_reload_over_http(bot_factory, recorder: Recorder) -> None:
    bot: BotServer = bot_factory(CONFIG_A.format(url=recorder.url))
    assert await _receivers(bot) == ["one"]
    # A bad file is refused with Alertmanager's message; the running configuration stays.
    bot.config_path.write_text(BAD_CONFIG)
    status, text, headers = await _request("POST", bot.url + "/-/reload")
    assert status == 500
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert text.startswith(f"failed to reload config: {bot.config_path}:2 route.receiver: ")
    assert "nowhere" in text and text.endswith("\n")
    assert await _receivers(bot) == ["one"]
    metrics = (await _get(bot.url + "/metrics"))[1]
    assert "alertbot_config_last_reload_successful 0.0" in metrics
    # Alerts still flow through the running configuration.
    status, _, _ = await _request("POST", bot.url + "/api/v2/alerts", [{"labels": {"alertname": "StillWorks"}}])
    assert status == 200
    got = await recorder.wait_for(1, timeout=10)
    assert got[0]["receiver"] == "one"
    # A good file is taken.
    bot.config_path.write_text(CONFIG_B.format(url=recorder.url))
    status, text, _ = await _request("POST", bot.url + "/-/reload")
    assert (status, text) == (200, "")
    assert await _receivers(bot) == ["two"]
    status, text, _ = await _get(bot.url + "/api/v2/status")
    assert "receiver: two" in json.loads(text)["config"]["original"]
    metrics = (await _get(bot.url + "/metrics"))[1]
    assert "alertbot_config_last_reload_successful 1.0" in metrics
    # Only POST reloads.
    status, text, headers = await _get(bot.url + "/-/reload")
    assert (status, text, headers["Allow"]) == (405, "Method Not Allowed\n", "OPTIONS, POST")


async def test_reload_on_sighup(bot_factory, recorder: Recorder) -> None:
    bot: BotServer = bot_factory(CONFIG_A.format(url=recorder.url))
    bot.config_path.write_text(BAD_CONFIG)
    bot.signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "reload refused" not in bot.log_text():
        await asyncio.sleep(0.1)
    refused = [r for r in bot.log_records() if r.get("message", "").startswith("reload refused")]
    assert refused and "nowhere" in refused[0]["error"], bot.log_text()[-2000:]
    assert await _receivers(bot) == ["one"]
    bot.config_path.write_text(CONFIG_B.format(url=recorder.url))
    bot.signal(signal.SIGHUP)
    assert await _wait_receivers(bot, ["two"]) == ["two"]
    assert bot.proc.poll() is None


async def test_metrics_cover_the_pipeline(bot_factory, recorder: Recorder) -> None:
    bot: BotServer = bot_factory(CONFIG_A.format(url=recorder.url))
    await _request("POST", bot.url + "/api/v2/alerts", [{"labels": {"alertname": "M1"}}, {"labels": {}}])
    await _request("POST", bot.url + "/api/v2/alerts", "not a list")
    await recorder.wait_for(1, timeout=10)
    await asyncio.sleep(0.5)
    status, text, headers = await _get(bot.url + "/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    want = [
        'alertbot_alerts_received_total{result="accepted",source="api"} 1.0',
        'alertbot_alerts_received_total{result="invalid",source="api"} 1.0',
        'alertbot_http_requests_total{code="400",handler="alerts_post",method="POST"} 2.0',
        'alertbot_notification_attempts_total{integration="webhook",outcome="success"} 1.0',
        'alertbot_notification_latency_seconds_count{integration="webhook"} 1.0',
        'alertbot_alerts{state="firing"} 1.0', "alertbot_aggregation_groups 1.0", "alertbot_outbox_depth 0.0",
        "alertbot_outbox_oldest_age_seconds 0.0", "alertbot_ready 1.0", 'alertbot_silences{state="active"} 0.0',
        'alertbot_notifications_planned_total{integration="webhook",receiver="one"} 1.0',
        "alertbot_engine_flushes_without_inbox_total 0.0",
    ]
    for line in want:
        assert line in text, line
    for family in ("alertbot_db_commit_seconds_count", "alertbot_engine_cycles_total",
                   "alertbot_http_request_duration_seconds_bucket", "alertbot_build_info"):
        assert family in text, family
    commits = float(next(x for x in text.splitlines() if x.startswith("alertbot_db_commit_seconds_count")).split()[1])
    assert commits >= 2
    # OpenMetrics on request, as Prometheus asks for it.
    _, om, headers = await _get(bot.url + "/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"})
    assert headers["Content-Type"].startswith("application/openmetrics-text") and om.rstrip().endswith("# EOF")


async def test_logs_are_json_with_trace_ids_and_no_secrets(bot_factory, recorder: Recorder) -> None:
    # A receiver that refuses with secrets in its error body: the bot logs the failure (the body
    # included), and the redaction processor must scrub it on the way out.
    leaky = web.Application()

    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=400, text="bad routing_key=R0UT1NGKEY42 for ops@example.com "
                                             "(Authorization: Bearer s3cr3t.t0ken.value)")
    # Its path is its credential, as an incoming webhook's is: never shown (the start-up line,
    # the status page, errors) beyond scheme, host and port.
    leaky.router.add_post("/hook/1234567890/PATHT0KEN5ECRET", refuse)
    runner = web.AppRunner(leaky)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    leaky_origin = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
    leaky_url = leaky_origin + "/hook/1234567890/PATHT0KEN5ECRET"
    config = CONFIG_A.format(url=recorder.url) + f"      - url: {leaky_url}\n"
    bot: BotServer = bot_factory(config)
    trace = "0af7651916cd43dd8448eb211c80319c"
    try:
        await _request("POST", bot.url + "/api/v2/alerts",
                       [{"labels": {"alertname": "Traced", "owner": "jane.doe@example.com"}}],
                       {"traceparent": f"00-{trace}-b7ad6b7169203331-01"})
        await _request("POST", bot.url + "/api/v2/alerts", [{"labels": {"alertname": "Untraced"}}])
        await recorder.wait_for(1, timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and "failed for good" not in bot.log_text():
            await asyncio.sleep(0.1)
        status, config_page, _ = await _get(bot.url + "/api/v2/status")
        assert status == 200 and f"{leaky_origin}/<secret>" in config_page
    finally:
        await runner.cleanup()
    records = bot.log_records()
    text = bot.log_text()
    assert records and all(r.get("service") == "alertbot" and r.get("instance") == f"127.0.0.1:{bot.port}"
                           and "timestamp" in r and "level" in r and "message" in r for r in records)
    requests = [r for r in records if r.get("message") == "request" and r.get("path") == "/api/v2/alerts"]
    assert requests[0]["trace_id"] == trace
    assert len(requests[1]["trace_id"]) == 32 and requests[1]["trace_id"] != trace
    # Library records (aiohttp, SQLAlchemy/alembic, the engine's `logging` loggers) come out the same way.
    assert any(r.get("logger") == "alertbot.engine" for r in records)
    failed = [r for r in records if "failed for good" in r.get("message", "")]
    assert failed, text[-3000:]
    assert "routing_key=[REDACTED]" in failed[0]["message"] and "[REDACTED_EMAIL]" in failed[0]["message"]
    assert "Bearer [REDACTED]" in failed[0]["message"]
    assert any(r.get("message") == f"receiver 'one': webhook[1] → {leaky_origin}/<secret>" for r in records)
    for secret in ("R0UT1NGKEY42", "ops@example.com", "s3cr3t.t0ken.value", "jane.doe@example.com",
                   "PATHT0KEN5ECRET"):
        assert secret not in text, secret
    lines = [line for line in text.splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), [line for line in lines if not line.startswith("{")][:3]


@pytest.mark.parametrize(("workers", "refusal"), [
    ("0", '"alertbot is not ready'),
    # A front stores alerts in the inbox whether or not the engine is ready: it says what failed.
    ("1", '"alerts not stored: the database is unavailable; retry later"'),
])
async def test_ready_reflects_the_database(bot_factory, tmp_path, workers: str, refusal: str) -> None:
    """The listener is up at once; /-/ready is 503 until the database is open and the state
    loaded — here never, as the database cannot be opened — and the API says so with a 503."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    bot: BotServer = bot_factory(args=["--database", f"sqlite+aiosqlite:///{blocker}/sub/bot.db",
                                       "--ingest-workers", workers], wait_ready=False)
    deadline = time.monotonic() + 20
    status = None
    while time.monotonic() < deadline:
        try:
            status, text, _ = await _get(bot.url + "/-/healthy")
            break
        except aiohttp.ClientError:
            await asyncio.sleep(0.1)
    assert status == 200
    status, text, headers = await _get(bot.url + "/-/ready")
    assert status == 503 and text.startswith("Service Unavailable: ") and headers["Retry-After"] == "1"
    status, text, _ = await _request("POST", bot.url + "/api/v2/alerts", [{"labels": {"alertname": "Early"}}])
    assert status == 503 and text.startswith(refusal), text
    assert any("database unavailable" in r.get("message", "") for r in bot.log_records())


def test_sigterm_stops_cleanly(bot_factory) -> None:
    bot: BotServer = bot_factory()
    assert bot.stop() == 0
    messages = [r.get("message") for r in bot.log_records()]
    assert "shutting down" in messages and "stopped" in messages
    assert "Traceback" not in bot.log_text()



async def test_sigterm_with_deliveries_in_flight_stops_cleanly(bot_factory) -> None:
    """Stopping while webhook attempts hang (64 at the receiver, more waiting for a slot): they
    end before the HTTP client closes, with no error, and resume at the next start."""
    arrived = 0

    async def hang(request: web.Request) -> web.Response:
        nonlocal arrived
        arrived += 1
        await asyncio.sleep(60)
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", hang)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        bot: BotServer = bot_factory(CONFIG_A.format(url=f"http://127.0.0.1:{port}/hook"))
        alerts = [{"labels": {"alertname": f"Hang{i}"}} for i in range(100)]
        async with aiohttp.ClientSession() as s:
            async with s.post(bot.url + "/api/v2/alerts", json=alerts) as r:
                assert r.status == 200
        deadline = time.monotonic() + 20
        while arrived < 64 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert arrived >= 64
        assert await asyncio.to_thread(bot.stop) == 0
    finally:
        await runner.cleanup()
    records = bot.log_records()
    messages = [r.get("message") for r in records]
    stopping = records[messages.index("shutting down"):]
    assert "stopped" in messages and "Traceback" not in bot.log_text()
    assert [r["message"] for r in stopping if r.get("level") in ("error", "critical")] == []


pytestmark = pytest.mark.xdist_group("operability")
