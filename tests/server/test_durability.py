"""An answered POST is a stored alert: the server is killed with SIGKILL right after its 200s
and restarted on the same database, and every acknowledged alert and silence is there — on the
embedded SQLite file and on a real PostgreSQL server."""

from __future__ import annotations

import json
import signal
import urllib.request
from pathlib import Path

import pytest

from tests.server.conftest import NULL_CONFIG, BotServer

pytestmark = pytest.mark.xdist_group("durability")


def _call(method: str, url: str, body: object = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


def _acknowledge_then_kill(bot: BotServer) -> tuple[set[str], str]:
    fingerprints: set[str] = set()
    for batch in range(20):
        alerts = [{"labels": {"alertname": "Durable", "batch": str(batch), "i": str(i)},
                   "startsAt": "2026-01-01T00:00:00Z", "endsAt": "2099-01-01T00:00:00Z"} for i in range(50)]
        status, _ = _call("POST", bot.url + "/api/v2/alerts", alerts)
        assert status == 200
    status, body = _call("POST", bot.url + "/api/v2/silences", {
        "matchers": [{"name": "batch", "value": "3", "isRegex": False}], "startsAt": "2026-01-01T00:00:00Z",
        "endsAt": "2099-01-01T00:00:00Z", "createdBy": "me", "comment": "kept"})
    assert status == 200
    sid = json.loads(body)["silenceID"]
    _, body = _call("GET", bot.url + "/api/v2/alerts")
    fingerprints = {a["fingerprint"] for a in json.loads(body)}
    bot.proc.send_signal(signal.SIGKILL)
    bot.proc.wait(timeout=10)
    return fingerprints, sid


def _check_restored(bot: BotServer, fingerprints: set[str], sid: str) -> None:
    _, body = _call("GET", bot.url + "/api/v2/alerts")
    alerts = json.loads(body)
    assert {a["fingerprint"] for a in alerts} == fingerprints
    assert len(fingerprints) == 1000
    assert sum(1 for a in alerts if a["status"]["silencedBy"] == [sid]) == 50
    _, body = _call("GET", f"{bot.url}/api/v2/silence/{sid}")
    assert json.loads(body)["comment"] == "kept"


def test_sigkill_loses_no_acknowledged_alert_sqlite(tmp_path: Path) -> None:
    bot = BotServer.start(NULL_CONFIG, tmp_path / "bot")
    try:
        fingerprints, sid = _acknowledge_then_kill(bot)
        again = BotServer.start(NULL_CONFIG, tmp_path / "bot")  # same directory: same bot.db
        try:
            _check_restored(again, fingerprints, sid)
        finally:
            again.stop()
    finally:
        bot.stop()


@pytest.mark.peer
def test_sigkill_loses_no_acknowledged_alert_postgresql(tmp_path: Path) -> None:
    from tests.store.pg import PostgresCluster

    cluster = PostgresCluster.start()
    try:
        url = cluster.create_database("serve_durable")
        args = ["--database", url]
        bot = BotServer.start(NULL_CONFIG, tmp_path / "bot", args)
        try:
            fingerprints, sid = _acknowledge_then_kill(bot)
            again = BotServer.start(NULL_CONFIG, tmp_path / "bot2", args)
            try:
                _check_restored(again, fingerprints, sid)
                start = next(r for r in again.log_records() if r.get("message") == "starting")
                assert start["database"].startswith("postgresql+asyncpg://")
            finally:
                again.stop()
        finally:
            bot.stop()
    finally:
        cluster.stop()
