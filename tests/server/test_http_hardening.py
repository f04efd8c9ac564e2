"""What clients can send that the server must answer with a clear 4xx and nothing lost: far
timestamps, bodies that are not JSON (cross-site posts), numbers Python will not parse, bodies
over a route's own limit, clients that send slowly or go away. Each is checked against the real
`alertbot serve` in both of its shapes (the default, with a front process where the machine has
more than one core, and one process, `--ingest-workers 0`): the answers must be the same."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator

import aiohttp
import orjson
import pytest

from bot.engine.codec import validated_from_bytes, validated_to_bytes
from bot.engine.timestamp import Timestamp
from bot.server.openapi import postable_alerts, validated_postable_alerts
from tests.server.conftest import BotServer, both_shapes, no_traceback_in

# One worker runs the module: its bots (a module fixture) start once, not once per worker.
pytestmark = pytest.mark.xdist_group("http_hardening")

JSON = {"Content-Type": "application/json"}
SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
PD_SECRET = "pd-secret-1"
HEADER_TIMEOUT_S = 2
BODY_TIMEOUT_S = 3
SLACK_S = 20.0  # what a busy machine may add to a timeout before the server acts on it
@pytest.fixture(scope="module")
def bots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BotServer]]:
    """Both shapes of the server, with short read timeouts and Slack and PagerDuty secrets."""
    args = ["--read-header-timeout", f"{HEADER_TIMEOUT_S}s", "--read-body-timeout", f"{BODY_TIMEOUT_S}s"]
    with both_shapes(tmp_path_factory, args, {"SLACK_SIGNING_SECRET": SLACK_SECRET,
                                              "PAGERDUTY_WEBHOOK_SECRET": PD_SECRET}) as started:
        yield started


async def _request(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None,
                   ) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as s, s.request(method, url, data=body, headers=headers or {}) as r:
        return r.status, await r.read()


async def _alerts(bot: BotServer, matcher: str) -> list[dict]:
    async with aiohttp.ClientSession() as s:
        async with s.get(bot.url + "/api/v2/alerts", params={"filter": matcher}) as r:
            assert r.status == 200
            return await r.json()


async def _both(bots: dict[str, BotServer], method: str, path: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """The answer of both shapes, which must be the same."""
    got = {name: await _request(method, bot.url + path, body, headers) for name, bot in bots.items()}
    assert len(set(got.values())) == 1, f"{method} {path} {body[:60]!r}: {got}"
    return got["default"]


@pytest.fixture
def quiet(bots: dict[str, BotServer]) -> Iterator[None]:
    """No traceback reaches either server's log during the test."""
    with no_traceback_in(bots):
        yield


# ---------------------------------------------------------------------------------- item 6

FAR = ["9999-12-31T23:59:59Z", "1600-01-01T00:00:00Z", "1677-09-21T00:00:00Z", "2262-04-12T00:00:00Z",
       "0001-01-01T00:00:01Z"]


def test_far_instants_survive_the_inbox_row() -> None:
    """A front stores validated alerts as JSON numbers of nanoseconds; instants outside the
    64 bits of nanoseconds (before 1677-09-21, after 2262-04-11) are stored too, and come back
    exactly as the engine validating the body itself would have taken them."""
    received = Timestamp.parse("2026-11-27T12:00:00Z")
    posted = [{"labels": {"alertname": "Near"}}]
    posted += [{"labels": {"alertname": "EndsFar", "at": t}, "endsAt": t} for t in FAR if t > "2026"]
    posted += [{"labels": {"alertname": "StartsFar", "at": t}, "startsAt": t} for t in FAR if t < "2026"]
    posted += [{"labels": {"alertname": "Both", "at": t}, "startsAt": t, "endsAt": "9999-12-31T23:59:59Z"} for t in FAR]
    body = orjson.dumps(posted)
    alerts, errors = postable_alerts(body, received, 300.0)
    assert errors == [] and len(alerts) == len(posted)
    fast = validated_postable_alerts(body, received, 300.0)
    assert fast is not None and fast == (validated_to_bytes(alerts), len(alerts))
    back, refused = validated_from_bytes(fast[0], received, 300.0)
    assert refused == 0
    assert [(a.labels, a.starts_at.ns, a.ends_at.ns, a.timeout, a.fingerprint) for a in back] == \
        [(a.labels, a.starts_at.ns, a.ends_at.ns, a.timeout, a.fingerprint) for a in alerts]


@pytest.mark.parametrize("field, when", [("endsAt", "9999-12-31T23:59:59Z"), ("startsAt", "1600-01-01T00:00:00Z"),
                                         ("startsAt", "1677-09-21T00:00:00Z")])
async def test_far_timestamps_are_stored_by_both_shapes(bots: dict[str, BotServer], quiet: None, field: str,
                                                       when: str) -> None:
    tag = f"{field}-{when[:4]}"
    body = json.dumps([{"labels": {"alertname": "A", "tag": tag}},
                       {"labels": {"alertname": "B", "tag": tag}, field: when}]).encode()
    assert await _both(bots, "POST", "/api/v2/alerts", body, JSON) == (200, b"")
    for bot in bots.values():
        shown = await _alerts(bot, f'tag="{tag}"')
        assert sorted(a["labels"]["alertname"] for a in shown) == ["A", "B"]
        far = next(a for a in shown if a["labels"]["alertname"] == "B")
        assert far[field] == when.replace("Z", ".000Z")


# ---------------------------------------------------------------------------------- item 10: numbers

HUGE = "1" * 5001  # Python refuses to parse an int of more than 4,300 digits (sys.int_info)


def _hook(labels: str) -> bytes:
    return (b'{"version":"4","groupKey":"{}:{}","truncatedAlerts":0,"status":"firing","receiver":"bot",'
            b'"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am:9093",'
            b'"alerts":[{"status":"firing","labels":' + labels.encode() + b',"annotations":{},'
            b'"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"",'
            b'"fingerprint":"0123456789abcdef"}]}')


@pytest.mark.parametrize("path, template", [
    ("/api/v2/alerts", '[{"labels":{"alertname":"N","n":%s}}]'),
    ("/api/v2/alerts", '[{"labels":{"alertname":"N"},"unknown":%s}]'),
    ("/api/v2/alerts", '[{"labels":{"alertname":"N"}}, %s]'),
    ("/api/v2/alerts", '%s'),
    ("/api/v2/silences", '{"matchers":[{"name":"a","value":"b","isRegex":false}],"createdBy":%s,'
                         '"comment":"c","startsAt":"2026-01-01T00:00:00Z","endsAt":"2099-01-01T00:00:00Z"}'),
    ("/api/v2/silences", '{"matchers":[{"name":"a","value":"b","isRegex":%s}]}'),
    ("/webhook", '{"alertname":"N","n":%s}'),
])
async def test_a_number_too_long_for_python_is_a_number(bots: dict[str, BotServer], quiet: None, path: str,
                                                       template: str) -> None:
    """A JSON number of 5,001 digits is answered as any number in its place is: Alertmanager's
    4xx and message (or 200 where Go ignores the field), never a 500."""
    def body(number: str) -> bytes:
        return _hook(template % number) if path == "/webhook" else (template % number).encode()

    small = await _both(bots, "POST", path, body("1"), JSON)
    huge = await _both(bots, "POST", path, body(HUGE), JSON)
    assert huge == small and huge[0] < 500, huge


def _pd_signature(body: bytes) -> str:
    return "v1=" + hmac.new(PD_SECRET.encode(), body, hashlib.sha256).hexdigest()


async def test_signed_pagerduty_webhook_with_a_huge_number_is_400(bots: dict[str, BotServer], quiet: None) -> None:
    body = b'{"event":{"id":"01ABC","event_type":"incident.acknowledged","n":' + HUGE.encode() + b"}}"
    status, answer = await _both(bots, "POST", "/pagerduty/webhook", body,
                                 {**JSON, "X-PagerDuty-Signature": _pd_signature(body)})
    assert status == 400 and b"not JSON" in answer, answer


# ---------------------------------------------------------------------------------- item 7

@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "multipart/form-data; boundary=x", "application/jsonx", "text/json"])
async def test_webhook_refuses_what_a_web_page_can_post(bots: dict[str, BotServer], quiet: None,
                                                         content_type: str | None) -> None:
    """A browser posts text/plain, form and multipart bodies across sites without asking first:
    POST /webhook takes only what Alertmanager sends (application/json), else 415 and nothing is
    stored."""
    tag = f"csrf-{content_type}"
    headers = {} if content_type is None else {"Content-Type": content_type}
    status, answer = await _both(bots, "POST", "/webhook", _hook(json.dumps({"alertname": "Csrf", "t": tag})),
                                 headers)
    shown = "application/octet-stream" if content_type is None else content_type.split(";")[0]
    assert (status, answer) == (415, f'"unsupported media type \\"{shown}\\", only [application/json] are allowed"\n'
                                     .encode()), answer
    for bot in bots.values():
        assert await _alerts(bot, f't="{tag}"') == []


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
async def test_webhook_takes_json(bots: dict[str, BotServer], quiet: None, content_type: str) -> None:
    tag = f"json-{content_type}"
    status, _ = await _both(bots, "POST", "/webhook", _hook(json.dumps({"alertname": "Json", "t": tag})),
                            {"Content-Type": content_type})
    assert status == 200
    for bot in bots.values():
        assert len(await _alerts(bot, f't="{tag}"')) == 1


# ---------------------------------------------------------------------------------- item 8

def _send_raw(port: int, head: bytes, chunks: Iterator[bytes] | list[bytes], wait: float = 30.0) -> bytes:
    """Sends a request by hand and returns what the server answered before closing (or before
    `wait` seconds of silence). Sending stops when the server closes its side."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        s.sendall(head)
        try:
            for chunk in chunks:
                s.sendall(chunk)
        except OSError:
            pass  # the server answered and closed while we were still sending
        data = b""
        try:
            while True:
                part = s.recv(65536)
                if not part:
                    break
                data += part
        except OSError:
            pass
    return data


def _chunked_forever(total: int, size: int = 65536) -> list[bytes]:
    """`total` bytes of chunked body with no last chunk: the body never ends."""
    return [b"%x\r\n" % size + b" " * size + b"\r\n"] * (total // size)


@pytest.mark.parametrize("path, limit", [("/slack/events", 1024 * 1024), ("/pagerduty/webhook", 256 * 1024)])
async def test_a_route_refuses_a_chunked_body_over_its_own_limit_while_reading(
        bots: dict[str, BotServer], quiet: None, path: str, limit: int) -> None:
    """Slack's and PagerDuty's routes take at most 1 MiB and 256 KiB: a chunked body is refused
    once it passes that, before it ends and before any signature is checked (not read on to
    --max-body-size, 64 MiB)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    answers = {}
    for name, bot in bots.items():
        answer = await asyncio.to_thread(_send_raw, bot.port, head, _chunked_forever(4 * limit))
        status_line, _, rest = answer.partition(b"\r\n")
        answers[name] = (status_line, rest.partition(b"\r\n\r\n")[2])
    assert len(set(answers.values())) == 1, answers
    status_line, body = answers["default"]
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large", answers
    assert json.loads(body) == {"code": 413, "message": f"request body too large: more, the limit is {limit} bytes"}
    # A declared length over the limit is refused before a byte of the body is sent.
    for bot in bots.values():
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {limit + 1}\r\n\r\n".encode()
        answer = await asyncio.to_thread(_send_raw, bot.port, head, [])
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]


# ---------------------------------------------------------------------------------- item 9

def _closed_after(port: int, head: bytes, trickle: bytes, every: float, limit: float) -> tuple[float, bytes]:
    """Connects, sends `head`, then one byte of `trickle` every `every` seconds (cycling) until
    the server closes the connection; returns the seconds that took and what the server sent."""
    started = time.monotonic()
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as s:
        s.settimeout(every)
        try:
            if head:
                s.sendall(head)
            i = 0
            while time.monotonic() - started < limit:
                try:
                    part = s.recv(65536)
                except TimeoutError:
                    if trickle:
                        s.sendall(trickle[i % len(trickle):i % len(trickle) + 1])
                        i += 1
                    continue
                if not part:
                    break
                got += part
        except OSError:
            pass
    return time.monotonic() - started, got


def _traced(trace_id: str) -> bytes:
    return f"traceparent: 00-{trace_id}-00f067aa0ba902b7-01\r\n".encode()


async def _many(n: int, *args: object) -> list[tuple[float, bytes]]:
    return await asyncio.gather(*(asyncio.to_thread(_closed_after, *args) for _ in range(n)))  # type: ignore[arg-type]


async def test_clients_trickling_headers_are_cut_off(bots: dict[str, BotServer], quiet: None) -> None:
    """Connections that send their headers a byte at a time, or nothing at all, are closed once
    the header timeout has passed (here 2 s), with one info line each and no answer."""
    head = b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\n"
    for name, bot in bots.items():
        marks = len(bot.log_text())
        trickling = await _many(20, bot.port, head, b"X-Slow: yes\r\n", 0.3, HEADER_TIMEOUT_S + SLACK_S)
        silent = await _many(5, bot.port, b"", b"", 0.3, HEADER_TIMEOUT_S + SLACK_S)
        for seconds, got in trickling + silent:
            assert got == b"" and seconds < HEADER_TIMEOUT_S + SLACK_S, (name, seconds, got)
        assert max(s for s, _ in trickling) >= HEADER_TIMEOUT_S * 0.9, name  # not before the timeout either
        lines = [json.loads(line) for line in bot.log_text()[marks:].splitlines() if line.startswith("{")]
        closed = [r for r in lines if "request head" in r.get("message", "")]
        assert len(closed) == 25 and all(r["level"] == "info" for r in closed), (name, closed[:3])


async def test_an_idle_kept_alive_connection_outlives_the_header_timeout(bots: dict[str, BotServer]) -> None:
    """Prometheus and Alertmanager keep connections open between sends (every evaluation,
    minutes apart): the header timeout counts from a request's first byte, not from the
    previous answer."""
    body = b'[{"labels":{"alertname":"Kept"}}]'
    request = (b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def two_requests(port: int) -> list[bytes]:
        answers = []
        with socket.create_connection(("127.0.0.1", port), timeout=SLACK_S) as s:
            for _ in range(2):
                s.sendall(request)
                answers.append(s.recv(65536))
                time.sleep(HEADER_TIMEOUT_S * 2)
        return answers

    for name, bot in bots.items():
        answers = await asyncio.to_thread(two_requests, bot.port)
        assert [a.split(b"\r\n", 1)[0] for a in answers] == [b"HTTP/1.1 200 OK"] * 2, (name, answers)


@pytest.mark.parametrize("path", ["/api/v2/alerts", "/webhook", "/api/v2/silences", "/slack/events"])
async def test_a_body_that_trickles_is_answered_408(bots: dict[str, BotServer], quiet: None, path: str) -> None:
    """A body sent a byte at a time is cut off once the body timeout (here 3 s) has passed: 408
    (in the words of the 413 for a body too large), and the connection closed."""
    answers = {}
    for name, bot in bots.items():
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 100000\r\n\r\n").encode()
        seconds, got = await asyncio.to_thread(_closed_after, bot.port, head, b" ", 0.3, BODY_TIMEOUT_S + SLACK_S)
        assert BODY_TIMEOUT_S * 0.9 <= seconds < BODY_TIMEOUT_S + SLACK_S, (name, seconds, got)
        status_line, _, rest = got.partition(b"\r\n")
        answers[name] = (status_line, rest.partition(b"\r\n\r\n")[2])
    assert len(set(answers.values())) == 1, answers
    status_line, body = answers["default"]
    assert status_line == b"HTTP/1.1 408 Request Timeout", answers
    assert json.loads(body) == {"code": 408, "message": f"request body not received within {BODY_TIMEOUT_S}s"}


@pytest.mark.parametrize("path", ["/api/v2/alerts", "/webhook", "/api/v2/silences", "/slack/events",
                                  "/pagerduty/webhook"])
async def test_a_client_that_goes_away_mid_body_is_one_info_line(bots: dict[str, BotServer], quiet: None,
                                                                  path: str) -> None:
    for name, bot in bots.items():
        trace_id = hashlib.md5(f"{name}{path}".encode()).hexdigest()
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 100000\r\n").encode() + _traced(trace_id) + b"\r\n"
        with socket.create_connection(("127.0.0.1", bot.port)) as s:
            s.sendall(head + b'[{"labels":')
            await asyncio.sleep(0.5)
        deadline = time.monotonic() + SLACK_S
        while time.monotonic() < deadline:
            lines = [r for r in bot.log_records() if r.get("trace_id") == trace_id]
            if lines:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # anything logged after the first line too
        lines = [r for r in bot.log_records() if r.get("trace_id") == trace_id]
        assert len(lines) == 1, (name, lines)
        assert lines[0]["level"] == "info" and lines[0]["status"] == 499, (name, lines)


@pytest.mark.parametrize("raw", [
    b"GET / HTTP/1.1\r\nBad Header\r\n\r\n",
    b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    b"\r\nzz\r\nabc\r\n",
    b"POST /api/v2/silences HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcdef\r\n",
])
async def test_malformed_http_is_400_and_one_info_line(bots: dict[str, BotServer], quiet: None, raw: bytes) -> None:
    for name, bot in bots.items():
        marks = len(bot.log_text())
        answer = await asyncio.to_thread(_send_raw, bot.port, raw, [], SLACK_S)
        assert answer.startswith(b"HTTP/1.0 400 Bad Request"), (name, answer)
        await asyncio.sleep(0.3)
        lines = [json.loads(line) for line in bot.log_text()[marks:].splitlines() if line.startswith("{")]
        assert [(r["level"], r["message"]) for r in lines] == [("info", "malformed request refused: 400")], lines
