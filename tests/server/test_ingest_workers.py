"""`alertbot serve --ingest-workers N` (docs/inbox.md): front processes take POST /api/v2/alerts
into the durable inbox and pass every other request to the engine's process. Seen from outside
it is the same server: the same answers, alerts visible as soon as they were accepted, nothing
lost or sent twice when the engine's process is killed."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import time

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.fixtures.process import process_alive
from tests.server.conftest import NULL_CONFIG, hook_config

pytestmark = [pytest.mark.slow]

JSON = {"Content-Type": "application/json"}
TOKEN = "t0ken-4e1d"
HOOK = {**JSON, "Authorization": f"Bearer {TOKEN}"}


def webhook_body(*labels: str) -> bytes:
    alerts = ",".join(f'{{"status":"firing","labels":{lb},"annotations":{{}},"startsAt":"2026-01-01T00:00:00Z",'
                      f'"endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"0123456789abcdef"}}'
                      for lb in labels)
    return (b'{"version":"4","groupKey":"{}:{}","truncatedAlerts":0,"status":"firing","receiver":"bot",'
            b'"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093",'
            b'"alerts":[' + alerts.encode() + b"]}")


# What clients send that the server must answer in Alertmanager's words: the same from a front.
REQUESTS: list[tuple[str, str, dict[str, str], bytes]] = [
    ("POST", "/api/v2/alerts", JSON, b'[{"labels":{"alertname":"Ok"}}]'),
    ("POST", "/api/v2/alerts", JSON, b'[{"labels":{"alertname":"Ok2"}},{"labels":{"":"x"}}]'),
    ("POST", "/api/v2/alerts", JSON, b'{"labels":{}}'),
    ("POST", "/api/v2/alerts", JSON, b"[{"),
    ("POST", "/api/v2/alerts", {"Content-Type": "text/plain"}, b"[]"),
    ("POST", "/api/v2/alerts", JSON, b'[{"labels":{"a":"b"},"startsAt":"2026-01-02T00:00:00Z",'
                                     b'"endsAt":"2026-01-01T00:00:00Z"}]'),
    ("POST", "/api/v2/alerts", JSON, b'[{"labels":{"a":1}}]'),
    ("POST", "/api/v2/alerts", JSON, b"x" * 3000),  # over --max-body-size
    ("PUT", "/api/v2/alerts", JSON, b"[]"),
    ("GET", "/api/v2/nothing-here", {}, b""),
    ("GET", "/api/v2/silence/not-a-uuid", {}, b""),
    ("POST", "/api/v2/silences", JSON, b'{"matchers":[]}'),
    ("GET", "/api/v2/receivers", {}, b""),
    ("GET", "/-/healthy", {}, b""),
    ("GET", "/-/ready", {}, b""),
    ("POST", "/webhook", JSON, webhook_body('{"alertname":"Hooked"}')),  # no credentials: 401
    ("POST", "/webhook", {**JSON, "Authorization": "Bearer wrong"}, webhook_body('{"alertname":"Hooked"}')),
    ("POST", "/webhook", HOOK, webhook_body('{"alertname":"Hooked"}', '{"":"x"}')),  # one stored, one refused: 400
    ("POST", "/webhook", HOOK, webhook_body('{"alertname":"Hooked"}')),
    ("POST", "/webhook", HOOK, b""),
    ("POST", "/webhook", HOOK, b'{"version":"4","alerts":[{'),
    ("POST", "/webhook", HOOK, b"x" * 3000),
]


async def answers(base: str) -> list[tuple[int, bytes, str | None]]:
    out = []
    async with aiohttp.ClientSession() as s:
        for method, path, headers, body in REQUESTS:
            async with s.request(method, base + path, headers=headers, data=body) as r:
                out.append((r.status, await r.read(), r.headers.get("Content-Type")))
    return out


async def test_fronts_answer_as_the_engine_does(bot_factory) -> None:  # type: ignore[no-untyped-def]
    args = ["--max-body-size", "2KiB"]
    env = {"ALERTBOT_WEBHOOK_BEARER_TOKEN": TOKEN}
    one = bot_factory(NULL_CONFIG, [*args, "--ingest-workers", "0"], name="one", env=env)
    fronted = bot_factory(NULL_CONFIG, [*args, "--ingest-workers", "2"], name="fronted", env=env)
    got, want = await answers(fronted.url), await answers(one.url)
    for (method, path, _, body), g, w in zip(REQUESTS, got, want, strict=True):
        assert g == w, f"{method} {path} {body[:40]!r}: front answered {g}, one process {w}"
    assert [status for status, _, _ in got][:3] == [200, 400, 400]
    assert got[7][0] == 413
    assert [status for status, _, _ in got][-7:] == [401, 401, 400, 200, 400, 400, 413]
    async with aiohttp.ClientSession() as s:  # what the webhook posts stored, through the front too
        async with s.get(fronted.url + "/api/v2/alerts", params={"filter": 'alertname="Hooked"'}) as r:
            assert len(await r.json()) == 1
        async with s.get(fronted.url + "/metrics") as r:
            metrics = await r.text()
    assert 'alertbot_alerts_received_total{result="accepted",source="webhook"} 2.0' in metrics
    assert 'alertbot_alerts_received_total{result="invalid",source="webhook"} 1.0' in metrics
    hooks = [r for r in fronted.log_records() if r.get("message") == "request" and r.get("path") == "/webhook"]
    assert len(hooks) == 7 and all(r.get("process", "").startswith("front-") for r in hooks), hooks


async def test_accepted_alerts_are_seen_at_once(bot_factory) -> None:  # type: ignore[no-untyped-def]
    bot = bot_factory(NULL_CONFIG, ["--ingest-workers", "2"])
    async with aiohttp.ClientSession() as s:
        for i in range(30):
            body = f'[{{"labels":{{"alertname":"Seen","n":"{i}"}}}}]'.encode()
            async with s.post(bot.url + "/api/v2/alerts", data=body, headers=JSON) as r:
                assert r.status == 200
            async with s.get(bot.url + "/api/v2/alerts", params={"filter": f'n="{i}"'}) as r:
                shown = await r.json()
            assert [a["labels"]["n"] for a in shown] == [str(i)], f"alert {i} accepted but not shown"
            async with s.get(bot.url + "/api/v2/alerts/groups") as r:
                groups = await r.json()
            assert sum(len(g["alerts"]) for g in groups) == i + 1
        async with s.get(bot.url + "/metrics") as r:
            metrics = await r.text()
    assert 'alertbot_alerts_received_total{result="accepted",source="api"} 30.0' in metrics
    # The fronts answered the posts: their counts are added into the engine's /metrics, one
    # series per label set (each front counted some of the 30), in a valid exposition.
    assert 'alertbot_http_requests_total{code="200",handler="alerts_post",method="POST"} 30.0' in metrics
    assert 'alertbot_http_request_duration_seconds_count{handler="alerts_post"} 30.0' in metrics
    names = [f.name for f in text_string_to_metric_families(metrics)]
    assert len(names) == len(set(names)) and "alertbot_aggregation_groups" in names


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


async def test_kill9_of_the_engine_loses_no_accepted_alert(bot_factory, recorder) -> None:  # type: ignore[no-untyped-def]
    config = hook_config(recorder.url)
    bot = bot_factory(config, ["--ingest-workers", "1"], name="bot")
    fronts = children(bot.proc.pid)
    assert len(fronts) == 1
    bot.signal(signal.SIGSTOP)  # the engine applies nothing from now on; the front still answers
    async with aiohttp.ClientSession() as s:
        for name in ("a", "b", "c"):
            body = f'[{{"labels":{{"alertname":"Kept","instance":"{name}"}}}}]'.encode()
            async with s.post(bot.url + "/api/v2/alerts", data=body, headers=JSON) as r:
                assert r.status == 200, await r.text()
    bot.signal(signal.SIGKILL)
    bot.proc.wait(10)
    deadline = time.monotonic() + 5
    while any(process_alive(p) for p in fronts) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not any(process_alive(p) for p in fronts), "a front process outlived its engine"
    assert recorder.received == []

    again = bot_factory(config, [], name="bot")  # same database, one process: applies what was left
    bodies = await recorder.wait_for(1, timeout=15)
    assert [sorted(a["labels"]["instance"] for a in b["alerts"]) for b in bodies] == [["a", "b", "c"]]
    await asyncio.sleep(3)  # a group_interval and more: nothing is applied or sent a second time
    assert len(recorder.received) == 1
    with sqlite3.connect(bot.workdir / "bot.db") as db:
        assert db.execute("SELECT count(*) FROM inbox").fetchone() == (0,), "applied bodies were kept"
    async with aiohttp.ClientSession() as s:
        async with s.get(again.url + "/api/v2/alerts") as r:
            assert sorted(a["labels"]["instance"] for a in await r.json()) == ["a", "b", "c"]


@pytest.mark.parametrize("reuseport", [False, True], ids=["another program", "another alertbot's front"])
async def test_front_port_taken_is_a_clear_error(bot_factory, tmp_path, reuseport: bool) -> None:  # type: ignore[no-untyped-def]
    """Also when the port is held by a socket with SO_REUSEPORT, as another alertbot's fronts
    hold theirs: the second server started and shared the port (10 alerts split 2/8)."""
    import socket
    import sys

    from tests.server.conftest import ROOT
    holder = socket.socket()
    if reuseport:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        (tmp_path / "routes.yaml").write_text(NULL_CONFIG)
        res = subprocess.run([sys.executable, "-m", "bot.cli.main", "serve", "--config", str(tmp_path / "routes.yaml"),
                              "--listen", f"127.0.0.1:{port}", "--database",
                              f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", "--ingest-workers", "1"],
                             capture_output=True, text=True, timeout=60, cwd=tmp_path,
                             env=dict(os.environ, PYTHONPATH=str(ROOT)))
    finally:
        holder.close()
    assert res.returncode == 1
    assert f"alertbot: error: cannot listen on 127.0.0.1:{port}: Address already in use" in res.stderr
    assert "Traceback" not in res.stderr


async def test_a_front_refuses_with_503_while_the_engine_lags(bot_factory) -> None:  # type: ignore[no-untyped-def]
    from bot.server.front import BACKLOG_CHECK_S, MAX_INBOX_BODIES

    bot = bot_factory(NULL_CONFIG, ["--ingest-workers", "1"])
    bot.signal(signal.SIGSTOP)  # the engine applies nothing: the inbox only grows
    accepted_at: list[float] = []
    refused = None
    try:
        async with aiohttp.ClientSession() as s:
            for i in range(MAX_INBOX_BODIES * 2):
                body = f'[{{"labels":{{"alertname":"Lag","n":"{i}"}}}}]'.encode()
                async with s.post(bot.url + "/api/v2/alerts", data=body, headers=JSON) as r:
                    if r.status == 200:
                        accepted_at.append(time.monotonic())
                        continue
                    refused = (r.status, await r.json(), r.headers.get("Retry-After"), time.monotonic())
                    break
    finally:
        bot.signal(signal.SIGCONT)
    assert refused is not None, f"{len(accepted_at)} bodies waiting and no 503"
    status, body, retry_after, refused_at = refused
    accepted = len(accepted_at)
    assert status == 503 and retry_after == "1"
    # Alertmanager's error payload for this endpoint: the message as a JSON string, as the engine's own 503.
    assert body.startswith("alertbot is overloaded (") and body.endswith("requests are waiting to be applied); retry later")
    # The backlog is read every BACKLOG_CHECK_S: the refusals start within a few of those after
    # it went over the bound (how many bodies that is depends on the machine's speed).
    assert accepted >= MAX_INBOX_BODIES
    assert sum(1 for t in accepted_at if t < refused_at - 3 * BACKLOG_CHECK_S) <= MAX_INBOX_BODIES
    async with aiohttp.ClientSession() as s:  # the engine catches up; nothing accepted was lost
        async with s.get(bot.url + "/api/v2/alerts", params={"filter": 'alertname="Lag"'}) as r:
            assert len(await r.json()) == accepted
        async with s.get(bot.url + "/metrics") as r:  # the front counts what it refused, the engine what it applied
            metrics = await r.text()
        assert 'alertbot_alerts_received_total{result="unavailable",source="api"} 1.0' in metrics
        assert f'alertbot_alerts_received_total{{result="accepted",source="api"}} {accepted}.0' in metrics
        async with s.post(bot.url + "/api/v2/alerts", data=b'[{"labels":{"alertname":"After"}}]', headers=JSON) as r:
            assert r.status == 200


async def test_one_access_line_per_request_with_the_client_and_its_trace(bot_factory) -> None:  # type: ignore[no-untyped-def]
    bot = bot_factory(NULL_CONFIG, ["--ingest-workers", "1"])
    posted, queried = "4bf92f3577b34da6a3ce929d0e0e4736", "0af7651916cd43dd8448eb211c80319c"
    async with aiohttp.ClientSession() as s:
        async with s.post(bot.url + "/api/v2/alerts", data=b'[{"labels":{"alertname":"Logged"}}]',
                          headers={**JSON, "traceparent": f"00-{posted}-b7ad6b7169203331-01"}) as r:
            assert r.status == 200
        async with s.get(bot.url + "/api/v2/alerts", headers={"traceparent": f"00-{queried}-b7ad6b7169203331-01"}) as r:
            assert r.status == 200
        async with s.get(bot.url + "/api/v2/status") as r:  # no traceparent: the front's trace id is passed on
            assert r.status == 200
    bot.stop()
    lines = [r for r in bot.log_records() if r.get("message") == "request"]
    assert [(r["method"], r["path"]) for r in lines] == [
        ("POST", "/api/v2/alerts"), ("GET", "/api/v2/alerts"), ("GET", "/api/v2/status")], lines
    post, get, status = lines
    assert post["trace_id"] == posted and post["process"].startswith("front-")  # answered by the front
    assert get["trace_id"] == queried and "process" not in get  # passed on, answered by the engine
    assert len(status["trace_id"]) == 32 and status["trace_id"] not in (posted, queried)
    assert all(r["remote"] == "127.0.0.1" and r["instance"] == f"127.0.0.1:{bot.port}" for r in lines)
    assert not any(r.get("message") == "starting" and r.get("process") for r in bot.log_records())


async def test_fronts_run_the_engines_code_whatever_the_working_directory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Started (as users do, by the `alertbot` script) where another `bot` package lies, a
    # chatbot's repository say: the fronts must not import it in place of the engine's code
    # (`python -m` puts the working directory first on the path).
    import sys
    from pathlib import Path

    from tests.fixtures.process import start_on_free_port, stop_process

    decoy = tmp_path / "bot"
    decoy.mkdir()
    (decoy / "__init__.py").write_text('raise ImportError("the decoy bot package was imported")\n')
    (tmp_path / "routes.yaml").write_text(NULL_CONFIG)
    script = str(Path(sys.executable).with_name("alertbot"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTBOT_") and k != "PYTHONPATH"}
    proc, port = start_on_free_port("alertbot serve", lambda port: [
        script, "serve", "--config", "routes.yaml", "--listen", f"127.0.0.1:{port}",
        "--database", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", "--ingest-workers", "1"],
        tmp_path / "alertbot.log", cwd=tmp_path, env=env)
    try:
        assert len(children(proc.pid)) == 1
        async with aiohttp.ClientSession() as s:
            async with s.post(f"http://127.0.0.1:{port}/api/v2/alerts", data=b'[{"labels":{"alertname":"A"}}]',
                              headers=JSON) as r:
                assert r.status == 200
    finally:
        stop_process(proc)
    assert "decoy" not in (tmp_path / "alertbot.log").read_text()
