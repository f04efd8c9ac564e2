"""bot/logging.py: one JSON line per event, stdlib records through the same pipeline, and the
redaction processor that keeps secrets, tokens and e-mail addresses out of every line."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from bot import logging as botlog


@pytest.fixture(autouse=True)
def _restore_logging():
    yield
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_alertbot", False):
            root.removeHandler(h)
    structlog.reset_defaults()


def _capture() -> io.StringIO:
    stream = io.StringIO()
    botlog.configure(instance="127.0.0.1:9999", level="debug", stream=stream)
    return stream


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_redact_by_key_and_by_value() -> None:
    event = {
        "message": "posting to https://hooks.slack.com/services/T000/B000/XXXXSECRET with xoxb-1234-5678-abcdEFGH",
        "headers": {"Authorization": "Bearer abc.def.ghi", "Content-Type": "application/json",
                    "X-Slack-Signature": "v0=deadbeef"},
        "routing_key": "R0UT1NGKEY0123456789abcdefABCDEF",
        "config": {"pagerduty": [{"service_key": "svc-key-1"}, {"severity": "critical"}],
                   "smtp_auth_password": "pw", "bot_token": "xoxb-zzz"},
        "error": "401 from https://user:p4ss@example.net/x?api_key=K3Y&x=1 for alice@example.org",
        "group_key": '{}:{alertname="A"}',
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "count": 3,
    }
    out = botlog.redact(None, "info", event)
    text = json.dumps(out)
    for secret in ("XXXXSECRET", "xoxb-1234", "abc.def.ghi", "deadbeef", "R0UT1NGKEY", "svc-key-1", '"pw"',
                   "xoxb-zzz", "p4ss", "K3Y", "alice@example.org"):
        assert secret not in text, secret
    assert out["headers"]["Content-Type"] == "application/json"
    assert out["headers"]["Authorization"] == "[REDACTED]"
    assert out["config"]["pagerduty"][1] == {"severity": "critical"}
    assert out["routing_key"] == "[REDACTED]"
    assert out["error"] == ("401 from https://[REDACTED]@example.net/x?api_key=[REDACTED]&x=1 for [REDACTED_EMAIL]")
    assert out["message"] == ("posting to https://hooks.slack.com/services/[REDACTED] with xox?-[REDACTED]")
    # What is not secret is left alone: trace ids (32 hex), group keys, numbers.
    assert out["trace_id"] == event["trace_id"]
    assert out["group_key"] == event["group_key"]
    assert out["count"] == 3


def test_structlog_and_stdlib_share_one_json_format() -> None:
    stream = _capture()
    with structlog.contextvars.bound_contextvars(trace_id="f" * 32, group_key='{}:{a="b"}', receiver="team"):
        botlog.get_logger("alertbot.test").info("flushed", alerts=2, password="hunter2")
        logging.getLogger("aiohttp.server").warning("stdlib says %s to %s", "hello", "bob@example.com")
    try:
        raise ValueError("boom with token=abc123")
    except ValueError:
        logging.getLogger("alertbot.engine").exception("cycle failed")
    a, b, c = _lines(stream)
    assert list(a)[:6] == ["timestamp", "level", "service", "instance", "trace_id", "message"]
    assert (a["level"], a["service"], a["instance"], a["message"]) == ("info", "alertbot", "127.0.0.1:9999", "flushed")
    assert (a["trace_id"], a["group_key"], a["receiver"], a["alerts"]) == ("f" * 32, '{}:{a="b"}', "team", 2)
    assert a["password"] == "[REDACTED]"
    assert a["timestamp"].endswith("Z")
    assert (b["level"], b["logger"], b["trace_id"]) == ("warning", "aiohttp.server", "f" * 32)
    assert b["message"] == "stdlib says hello to [REDACTED_EMAIL]"
    assert c["level"] == "error" and "trace_id" not in c
    assert "Traceback" in c["exception"] and "ValueError" in c["exception"]
    assert "abc123" not in json.dumps(c)
