"""Reads of the whole state (`GET /api/v2/alerts`, `/alerts/groups`, `/silences`) share the
engine's event loop in slices (bot.engine.reads): in one process, where that loop serves every
request, an alert posted while a long read is under way is stored and answered before the read
is. The order is the server's own: each request is logged when its handler returns."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import pytest

ALERTS = 20_000
CONFIG = """\
route:
  receiver: r
  group_by: [alertname, group]
  group_wait: 1h
receivers:
  - name: r
"""


def _request(url: str, method: str = "GET", body: object | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, r.read()


def _batch(start: int, n: int) -> list[dict]:
    return [{"labels": {"alertname": f"A{i % 20}", "group": f"g{i % 200}", "instance": f"host-{i}"},
             "annotations": {"summary": f"alert {i}", "description": "d" * 80}} for i in range(start, start + n)]


def _handlers_in_order(bot) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["handler"] for r in bot.log_records() if r.get("message") == "request" and "handler" in r]


@pytest.mark.parametrize("path,handler", [("/api/v2/alerts", "alerts_get"),
                                          ("/api/v2/alerts/groups", "alert_groups")])
def test_an_alert_posted_during_a_long_read_is_answered_before_it(bot_factory, path: str, handler: str) -> None:
    bot = bot_factory(CONFIG, args=["--ingest-workers", "0"])
    for start in range(0, ALERTS, 2000):
        assert _request(bot.url + "/api/v2/alerts", "POST", _batch(start, 2000))[0] == 200
    started = time.monotonic()
    _request(bot.url + path)
    one_read_s = time.monotonic() - started
    got: dict[str, object] = {}

    def read() -> None:
        got["status"], got["body"] = _request(bot.url + path)

    reader = threading.Thread(target=read)
    reader.start()
    time.sleep(one_read_s / 4)  # well into the read: it took one_read_s alone
    assert reader.is_alive(), "the read finished too soon to tell anything"
    assert _request(bot.url + "/api/v2/alerts", "POST", [{"labels": {"alertname": "Unrelated"}}])[0] == 200
    reader.join()
    assert got["status"] == 200
    listed = json.loads(got["body"])  # type: ignore[arg-type]
    count = len(listed) if handler == "alerts_get" else sum(len(g["alerts"]) for g in listed)
    assert count in (ALERTS, ALERTS + 1)
    # The second read and the post, in the order their handlers returned. Before: the read held
    # the loop from its first alert to its last, and the post (its commit) waited for it.
    last = [h for h in _handlers_in_order(bot) if h in (handler, "alerts_post")][-2:]
    assert last == ["alerts_post", handler]


def test_slices_do_not_change_the_answer(bot_factory) -> None:
    """The answer is the one a read in one piece gives: sorted by fingerprint, every alert once."""
    bot = bot_factory(CONFIG, args=["--ingest-workers", "0"])
    assert _request(bot.url + "/api/v2/alerts", "POST", _batch(0, 3000))[0] == 200
    alerts = json.loads(_request(bot.url + "/api/v2/alerts")[1])
    assert [a["fingerprint"] for a in alerts] == sorted(a["fingerprint"] for a in alerts)
    assert len({a["fingerprint"] for a in alerts}) == 3000
    groups = json.loads(_request(bot.url + "/api/v2/alerts/groups")[1])
    assert sum(len(g["alerts"]) for g in groups) == 3000 and len(groups) == 200
