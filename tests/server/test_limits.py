"""Bodies too large, floods of requests: the bot refuses what it must, keeps serving, and loses
no valid alert. (Alertmanager has no body limit: it reads whatever it is sent.)"""

from __future__ import annotations

import asyncio
import json
import socket
import time

import aiohttp
import pytest

from tests.server.conftest import BotServer

JSON = {"Content-Type": "application/json"}
HUNDRED_MB = 100 * 1024 * 1024


def _raw_request(port: int, head: bytes, body_chunks: list[bytes], read_timeout: float = 5.0) -> tuple[bytes, float]:
    """Sends a request by hand; returns what the server answered and the seconds until the
    first byte of the answer arrived."""
    started = time.monotonic()
    first = None
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        s.sendall(head)
        try:
            for chunk in body_chunks:
                s.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed while we were still sending: that is the point
        data = b""
        try:
            while True:
                part = s.recv(65536)
                if not part:
                    break
                if first is None:
                    first = time.monotonic() - started
                data += part
        except (TimeoutError, ConnectionResetError):
            pass
    return data, first if first is not None else float("inf")


def test_declared_100mb_body_refused_before_reading(bot_factory) -> None:
    bot: BotServer = bot_factory()
    head = (f"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {HUNDRED_MB}\r\n\r\n").encode()
    # Not a byte of the body is sent: the answer can only come from the declared length.
    answer, _ = _raw_request(bot.port, head, [], read_timeout=10)
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large", answer[:300]
    assert b'{"code":413,"message":"request body too large: 104857600 bytes, the limit is 67108864 bytes"}' in answer
    assert b"Connection: close" in answer  # answered with no body sent: from the declared length alone
    # And while the client keeps sending 100 MB, the server answers and closes early.
    answer, _ = _raw_request(bot.port, head, [b"[" + b" " * (1024 * 1024 - 1)] * 100, read_timeout=10)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert _get(bot.url + "/-/healthy")[0] == 200


def test_chunked_body_over_the_limit_refused_while_reading(bot_factory) -> None:
    bot: BotServer = bot_factory(args=["--max-body-size", "1MiB"])
    head = b"POST /api/v2/alerts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b" " * 65536
    chunks = [b"1\r\n[\r\n"] + [b"%x\r\n" % len(chunk) + chunk + b"\r\n"] * 64  # 4 MiB announced piecewise
    answer, _ = _raw_request(bot.port, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
    assert b"request body too large: more, the limit is 1048576 bytes" in answer
    # A body just under the limit is read and answered normally.
    small = json.dumps([{"labels": {"alertname": "UnderLimit", "pad": "x" * 1000}}] * 900).encode()
    assert len(small) < 1024 * 1024
    status, _ = _post(bot.url + "/api/v2/alerts", small)
    assert status == 200
    assert _get(bot.url + "/-/healthy")[0] == 200


async def test_flood_of_concurrent_requests(bot_factory) -> None:
    """400 requests from 40 clients at once, good and bad mixed: each gets its own answer,
    the server keeps serving, and every valid alert is stored."""
    bot: BotServer = bot_factory()
    bad = [b"[{", b'[{"labels":{"a":1}}]', b"[{}]", b'[{"labels":{}}]', b"{}"]
    expected_status = {b"[{": 400, b'[{"labels":{"a":1}}]': 400, b"[{}]": 422, b'[{"labels":{}}]': 400, b"{}": 400}

    async def client(n: int, session: aiohttp.ClientSession) -> list[tuple[int, int]]:
        out = []
        for i in range(10):
            if i % 2:
                body = bad[(n + i) % len(bad)]
                want = expected_status[body]
            else:
                body = json.dumps([{"labels": {"alertname": "Flood", "client": str(n), "i": str(i), "k": str(k)}}
                                   for k in range(20)]).encode()
                want = 200
            async with session.post(bot.url + "/api/v2/alerts", data=body, headers=JSON) as r:
                await r.read()
                out.append((r.status, want))
        return out

    connector = aiohttp.TCPConnector(limit=40)
    async with aiohttp.ClientSession(connector=connector) as session:
        results = await asyncio.gather(*(client(n, session) for n in range(40)))
        assert all(got == want for r in results for got, want in r), [r for r in results if any(g != w for g, w in r)]
        async with session.get(bot.url + '/api/v2/alerts?filter=alertname="Flood"') as r:
            stored = await r.json()
        async with session.get(bot.url + "/-/ready") as r:
            assert r.status == 200
    assert len(stored) == 40 * 5 * 20
    assert len({a["fingerprint"] for a in stored}) == 4000


def _get(url: str) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _post(url: str, body: bytes) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(url, data=body, method="POST", headers=JSON)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


pytestmark = pytest.mark.xdist_group("limits")
