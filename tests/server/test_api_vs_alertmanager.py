"""The bot's HTTP API against the real Alertmanager 0.25, request by request.

Every request below goes to both; status, Content-Type, Allow and body must be equal byte for
byte. The bot runs with `--matchers-mode classic` here, the label-name rules of 0.25 (today's
Alertmanager accepts any UTF-8 label name; see test_today_differs). Where the bot answers
differently on purpose the case says so and why, and the test checks both sides of the
difference, so a stale explanation fails.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest

from tests.fixtures.alertmanager import Alertmanager
from tests.server.conftest import NULL_CONFIG, BotServer

pytestmark = [pytest.mark.peer, pytest.mark.xdist_group("api_vs_alertmanager")]

JSON = {"Content-Type": "application/json"}
T0 = "2026-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


@dataclass
class Pair:
    am: Alertmanager
    bot: BotServer


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    base: Path = tmp_path_factory.mktemp("api")
    am = Alertmanager.start(NULL_CONFIG, base / "alertmanager")
    try:
        bot = BotServer.start(NULL_CONFIG, base / "bot", ["--matchers-mode", "classic"])
    except Exception:
        am.stop()
        raise
    yield Pair(am, bot)
    bot.stop()
    am.stop()


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def key(self) -> tuple:
        return (self.status, self.headers.get("Content-Type"), self.headers.get("Allow"), self.body)


async def send(base: str, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
               chunked: bool = False) -> Answer:
    skip = ["Content-Type"] if headers is None or "Content-Type" not in headers else []
    data: object = body
    if chunked:
        async def gen():  # type: ignore[no-untyped-def]
            if body:
                yield body
        data = gen()
    async with aiohttp.ClientSession() as s:
        async with s.request(method, base + path, data=data, headers=headers or {}, skip_auto_headers=skip) as r:
            return Answer(r.status, await r.read(), {k: v for k, v in r.headers.items()
                                                       if k in ("Content-Type", "Allow")})


async def both(pair: Pair, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
               chunked: bool = False) -> tuple[Answer, Answer]:
    a = await send(pair.am.url, method, path, body, headers, chunked)
    b = await send(pair.bot.url, method, path, body, headers, chunked)
    return a, b


# ------------------------------------------------------------------------------ POST /api/v2/alerts
ALERT_BODIES = [
    # well-formed
    "[]", "null", "   []   ", '[{"labels":{"alertname":"Same1"}}]',
    '[{"labels":{"alertname":"Same2","job":"j"},"annotations":{"summary":"s"},"generatorURL":"http://x/g",'
    f'"startsAt":"{T0}"}}]',
    '[{"Labels":{"alertname":"CaseInsensitiveKey"}}]',  # Go matches field names without case
    '[{"labels":{"alertname":"ExtraField"},"foo":1}]',
    '[{"labels":{"alertname":"Trailing"}}] garbage',  # Go's decoder reads the first value only
    '[{"labels":{"alertname":"EmptyValueDropped","x":""}}]',
    '[{"labels":{"alertname":"NullValue","x":null}}]',
    '[{"labels":{"alertname":"Ünïcödé ☃","severity":"😀"},"annotations":{"summary":"日本語 <b>&amp;</b>"}}]',
    '[{"labels":{"alertname":"Escapes","v":"tab\\tnl\\nnul\\u0000"}}]',
    '[{"labels":{"alertname":"LoneSurrogate","v":"\\ud800"}}]',
    # malformed JSON
    "[{", "[}", "[1,]", '[{"a" 1}]', '[{"a":1,}]', '{"a"}', "nul", "[01]", "[-]", "[1.]", "[1e]", '["\\x"]',
    '["\\u12"]', '[{"labels":{"alertname":"a"}} {"labels":{}}]', "tru", "[\"a\tb\"]", "\ufeff[]",
    "[" * 10_001, "[" * 10_000 + "]" * 10_000, '[{"labels":{"a":' + "[" * 3000 + "]" * 3000 + "}}]",
    '[{"labels":{"alertname":"' + "x" * 100_000 + '\n"}}]', '[{"labels":{"alertname":"A"},"startsAt":"2026-01-01T00:00:00Z"',
    "[" + ",".join(['{"labels":{"alertname":"Many"}}'] * 2000) + ",]",
    # wrong types
    "{}", '"x"', "true", "1", "[1]", '["x"]', "[[]]", "[1e400]", '[{"labels":[]}]', '[{"labels":"x"}]',
    '[{"labels":{"a":true}}]', '[{"labels":{"a":{}}}]', '[{"labels":{"a":1}}]', '[{"labels":{"a":[]}}]',
    '[{"labels":{"a":"b"},"annotations":[]}]', '[{"labels":{"a":"b"},"annotations":{"x":2}}]',
    '[{"labels":{"a":"b"},"generatorURL":5}]', '[{"labels":{"a":"b"},"startsAt":5}]',
    '[{"labels":{"a":1},"annotations":{"b":2}}]', '[{"annotations":{"b":2},"labels":{"a":1}}]',
    '[{"labels":{"a":1},"startsAt":"x"}]', '[{"labels":{"a":"b"}},1]', '[{"labels":{"a":1}},{"labels":{"a":true}}]',
    # schema (422)
    "[{}]", '[{"labels":null}]', '[{"labels":{"a":"b"}},{}]', '[{},{"labels":{"a":"b"},"generatorURL":"::"}]',
    '[{"generatorURL":"::"}]', '[{"labels":{"a":"b"},"generatorURL":"foo"}]',
    '[{"labels":{"a":"b"},"generatorURL":"http://[::1/x"}]', '[{"labels":{"a":"b"},"generatorURL":"http://h:port/"}]',
    '[{"labels":{"a":"b"},"generatorURL":"http://a b/"}]', '[{"labels":{"a":"b"},"generatorURL":"/x%zz"}]',
    '[{"labels":{"alertname":"UrlOk1"},"generatorURL":"/graph?g0.expr=up"}]',
    '[{"labels":{"alertname":"UrlOk2"},"generatorURL":"mailto:x"}]',
    '[{"labels":{"alertname":"UrlOk3"},"generatorURL":"http://u:p@h:9090/graph#frag"}]',
    '[{"labels":{"alertname":"UrlOk4"},"generatorURL":""}]',
    # times: go-openapi's layouts
    '[{"labels":{"alertname":"T1"},"startsAt":"2026-01-01T00:00:00"}]',
    '[{"labels":{"alertname":"T2"},"startsAt":"2026-01-01 00:00:00"}]',
    '[{"labels":{"alertname":"T3"},"startsAt":"2026-01-01T00:00Z"}]',
    '[{"labels":{"alertname":"T4"},"startsAt":"2026-01-01T00:00"}]',
    '[{"labels":{"alertname":"T5"},"startsAt":"2026-01-01T00:00:00.123456789+05:30"}]',
    '[{"labels":{"alertname":"T6"},"startsAt":"2026-01-01T00:00:00.123+0530"}]',
    '[{"labels":{"alertname":"T7"},"startsAt":"2026-01-01T5:00:00Z"}]',
    '[{"labels":{"alertname":"T8"},"startsAt":"2026-01-01T00:00:00,5Z"}]',
    '[{"labels":{"alertname":"T9"},"startsAt":""}]',
    '[{"labels":{"alertname":"T10"},"startsAt":null,"endsAt":null}]',
    '[{"labels":{"a":"b"},"startsAt":"2026-01-01"}]', '[{"labels":{"a":"b"},"startsAt":"x"}]',
    '[{"labels":{"a":"b"},"startsAt":"2026-13-01T00:00:00Z"}]', '[{"labels":{"a":"b"},"startsAt":"2026-02-30T00:00:00Z"}]',
    '[{"labels":{"a":"b"},"startsAt":"2026-01-01T24:00:00Z"}]', '[{"labels":{"a":"b"},"startsAt":"2026-01-01T00:60:00Z"}]',
    '[{"labels":{"a":"b"},"startsAt":"2026-01-01T00:00:60Z"}]', '[{"labels":{"a":"b"},"startsAt":"2026-01-01T00:00:00Zjunk"}]',
    '[{"labels":{"a":"b"},"startsAt":"2026-01-01T00:00:00+01"}]', '[{"labels":{"a":"b"},"startsAt":"2026-01-01t00:00:00z"}]',
    '[{"labels":{"a":"b"},"startsAt":"2026-01-01T00:00:00.Z"}]', '[{"labels":{"a":"b"},"startsAt":"９０００-01-01T00:00:00Z"}]',
    # validation (400, a JSON string)
    '[{"labels":{}}]', '[{"labels":{"a":""}}]', '[{"labels":{"a.b":"c"}}]', '[{"labels":{"":"b"}}]',
    '[{"labels":{"1a":"b"}}]', '[{"labels":{"a":"b"},"annotations":{"a.b":"c"}}]',
    f'[{{"labels":{{"a":"b"}},"startsAt":"2026-01-02T00:00:00Z","endsAt":"{T0}"}}]',
    f'[{{"labels":{{"a.b":"c"}},"startsAt":"2026-01-02T00:00:00Z","endsAt":"{T0}"}}]',
    f'[{{"labels":{{"a":"b"}},"startsAt":"{FUTURE}"}}]',
    '[{"labels":{"alertname":"Resolved"},"endsAt":"2001-01-01T00:00:00Z"}]',
    f'[{{"labels":{{"alertname":"SameInstant"}},"startsAt":"{T0}","endsAt":"{T0}"}}]',
    '[{"labels":{}},{"labels":{"alertname":"KeptBesideInvalid"}}]',
]


@pytest.mark.parametrize("body", ALERT_BODIES, ids=range(len(ALERT_BODIES)))
async def test_post_alerts_same_answer(pair: Pair, body: str) -> None:
    a, b = await both(pair, "POST", "/api/v2/alerts", body.encode(), JSON)
    assert b.key() == a.key(), f"alertmanager: {a}\nalertbot:     {b}"


# Bytes a Python str cannot carry: invalid UTF-8 (Go reads U+FFFD for each bad byte).
RAW_BODIES = [b'[{"labels":{"alertname":"BadUtf8","v":"\xff\xfe"}}]', b'[{"labels":{"alertname":"Trunc\xe2\x82"}}]',
              b'[{"labels":{"a":"b"},"startsAt":"\xff"}]', b"[\xff]"]


@pytest.mark.parametrize("body", RAW_BODIES, ids=range(len(RAW_BODIES)))
async def test_post_alerts_invalid_utf8_same_answer(pair: Pair, body: bytes) -> None:
    a, b = await both(pair, "POST", "/api/v2/alerts", body, JSON)
    assert b.key() == a.key(), f"alertmanager: {a}\nalertbot:     {b}"


CONTENT_TYPES = [None, "text/plain", "application/json; charset=utf-8", "Application/JSON", "application/json+x",
                 "application/vnd.api+json", ";;", "text/plain; x", "application/json, text/plain", "application/",
                 "/json", 'application/json; a="unterminated', "application/json; a=1; a=2", "application/json;"]


@pytest.mark.parametrize("ctype", CONTENT_TYPES, ids=range(len(CONTENT_TYPES)))
async def test_content_type_same_answer(pair: Pair, ctype: str | None) -> None:
    headers = {} if ctype is None else {"Content-Type": ctype}
    a, b = await both(pair, "POST", "/api/v2/alerts", b"[]", headers)
    assert b.key() == a.key(), f"alertmanager: {a}\nalertbot:     {b}"


async def test_missing_body_same_answer(pair: Pair) -> None:
    for body, headers, chunked in [(b"", JSON, False), (b"   ", JSON, False), (b"", JSON, True),
                                   (b"", {"Content-Type": "text/plain"}, False), (b"\n\t ", {}, True)]:
        a, b = await both(pair, "POST", "/api/v2/alerts", body, headers, chunked)
        assert b.key() == a.key(), f"{body!r} {headers}: alertmanager: {a}\nalertbot:     {b}"
        assert a.status == 422 or a.status == 415, a


async def test_chunked_body_same_answer(pair: Pair) -> None:
    body = b'[{"labels":{"alertname":"Chunked"}},{"labels":{"a":1}}]'
    a, b = await both(pair, "POST", "/api/v2/alerts", body, JSON, chunked=True)
    assert b.key() == a.key()
    assert a.status == 400


def _comparable(alerts: list[dict], since: str) -> dict[str, dict]:
    """Alerts by fingerprint without the fields that depend on the moment they were received."""
    out = {}
    for a in alerts:
        item = {k: v for k, v in a.items() if k not in ("endsAt", "updatedAt", "startsAt")}
        if a["startsAt"] < since:  # given by the client, not "now"
            item["startsAt"] = a["startsAt"]
        out[a["fingerprint"]] = item
    return out


async def test_same_alerts_stored(pair: Pair) -> None:
    """After the same requests, both hold the same alerts: no valid alert of a batch is lost."""
    batch = [{"labels": {"alertname": "Mixed", "i": str(i)}} for i in range(5)]
    batch.insert(2, {"labels": {"alertname": "Mixed", "bad.name": "x"}})
    batch.insert(4, {"labels": {}})
    body = json.dumps(batch).encode()
    a, b = await both(pair, "POST", "/api/v2/alerts", body, JSON)
    assert (a.status, b.status) == (400, 400)
    ga, gb = await both(pair, "GET", "/api/v2/alerts")
    assert ga.status == gb.status == 200
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - 3600))
    left, right = _comparable(json.loads(ga.body), since), _comparable(json.loads(gb.body), since)
    right = {k: v for k, v in right.items() if v["labels"].get("alertname") != "DupKey"}  # see test_differs_duplicate_keys
    assert right == left
    mixed = [x for x in right.values() if x["labels"].get("alertname") == "Mixed"]
    assert len(mixed) == 5


async def test_ten_thousand_alerts_in_one_request(pair: Pair) -> None:
    batch = [{"labels": {"alertname": "Big", "batch": "big", "instance": f"host-{i}:9100", "job": "node"},
              "annotations": {"summary": f"host {i} is down"}, "startsAt": T0,
              "generatorURL": f"http://prometheus:9090/graph?g0.expr=up%7Binstance%3D%22host-{i}%22%7D"}
             for i in range(10_000)]
    body = json.dumps(batch).encode()
    a, b = await both(pair, "POST", "/api/v2/alerts", body, JSON)
    assert a.key() == b.key() == (200, None, None, b"")
    ga, gb = await both(pair, "GET", '/api/v2/alerts?filter=batch="big"')
    # Same alerts in the same order; endsAt and updatedAt are each side's own "now".
    strip = re.compile(rb'"(endsAt|updatedAt)":"[^"]*"')
    assert strip.sub(b"", ga.body) == strip.sub(b"", gb.body)
    assert len(json.loads(gb.body)) == 10_000


# ------------------------------------------------------------------------------ silences
def _silence(**over: object) -> bytes:
    s: dict[str, object] = {"matchers": [{"name": "alertname", "value": "X", "isRegex": False}],
                            "startsAt": T0, "endsAt": FUTURE, "createdBy": "me", "comment": "c"}
    for k, v in over.items():
        if v is None:
            s.pop(k, None)
        else:
            s[k] = v
    return json.dumps(s).encode()


SILENCE_BODIES = [
    _silence(matchers=[]), _silence(matchers=[{"name": "a", "value": "b"}]), _silence(createdBy=None),
    _silence(comment=None), _silence(startsAt=None), _silence(endsAt=None), _silence(matchers=None), b"{}", b"",
    b"   ", b"{", b"[]", b"null", b"1", _silence(startsAt="x"), _silence(endsAt="2026-13-01T00:00:00Z"),
    _silence(startsAt=FUTURE, endsAt=FUTURE), _silence(startsAt="2020-01-01T00:00:00Z", endsAt="2021-01-01T00:00:00Z"),
    _silence(matchers=[{"name": "a", "value": "", "isRegex": False}]),
    _silence(matchers=[{"name": "a", "value": ".*", "isRegex": True}]),
    _silence(matchers=[{"name": "a", "value": "(", "isRegex": True}]),
    _silence(matchers=[{"name": "a.b", "value": "x", "isRegex": False}]),
    _silence(matchers=[{"value": "x", "isRegex": False}]), _silence(matchers=[{"name": "a", "isRegex": False}]),
    _silence(matchers=[{"name": "a", "value": "x", "isRegex": "no"}]),
    _silence(matchers=[{"name": 1, "value": "x", "isRegex": False}]), _silence(matchers="x"),
    _silence(comment=5), _silence(id="not-a-known-id"), _silence(id=5),
    _silence(id="2a8b2c3d-0000-0000-0000-000000000000",
             matchers=[{"name": "a.b", "value": "x", "isRegex": False}]),  # unknown id before validation
    _silence(matchers=[{"name": "a", "value": "x", "isRegex": False}, {"name": "b", "value": "y"}]),
]


@pytest.mark.parametrize("body", SILENCE_BODIES, ids=range(len(SILENCE_BODIES)))
async def test_post_silence_errors_same_answer(pair: Pair, body: bytes) -> None:
    a, b = await both(pair, "POST", "/api/v2/silences", body, JSON)
    assert a.status != 200, "cases here are refused by Alertmanager"
    assert b.key() == a.key(), f"alertmanager: {a}\nalertbot:     {b}"


async def test_post_silence_created_alike(pair: Pair) -> None:
    body = _silence(matchers=[{"name": "alertname", "value": "Created", "isRegex": False},
                              {"name": "job", "value": "a|b", "isRegex": True, "isEqual": False}],
                    endsAt="2099-01-01T00:00:00.5+02:00", comment="ünïcode <&>")
    a, b = await both(pair, "POST", "/api/v2/silences", body, JSON)
    assert a.status == b.status == 200
    assert re.fullmatch(rb'\{"silenceID":"[0-9a-f-]{36}"\}\n', a.body)
    assert re.fullmatch(rb'\{"silenceID":"[0-9a-f-]{36}"\}\n', b.body)
    ida, idb = json.loads(a.body)["silenceID"], json.loads(b.body)["silenceID"]
    sa, sb = (await send(pair.am.url, "GET", f"/api/v2/silence/{ida}"),
              await send(pair.bot.url, "GET", f"/api/v2/silence/{idb}"))
    ja, jb = json.loads(sa.body), json.loads(sb.body)
    for j in (ja, jb):
        j.pop("id")
        j.pop("updatedAt")
        j.pop("startsAt")  # moved to "now" by both
    assert jb == ja
    assert list(json.loads(sb.body)) == list(json.loads(sa.body))  # field order


PATHS = [
    ("GET", "/api/v2/silence/nope"), ("DELETE", "/api/v2/silence/nope"),
    ("GET", "/api/v2/silence/2a8b2c3d-0000-0000-0000-000000000000"),
    ("GET", "/api/v2/silences?filter=%7B"), ("GET", "/api/v2/silences?filter=a%3D%3Db"),
    ("GET", "/api/v2/alerts?filter=%7B"), ("GET", "/api/v2/alerts?receiver=("),
    ("GET", "/api/v2/alerts/groups?receiver=("), ("GET", "/api/v2/alerts/groups?filter=a!"),
    ("GET", '/api/v2/alerts?filter=alertname="nothing-like-this"'), ("GET", "/api/v2/alerts?active=maybe&filter=x=y"),
    ("GET", "/api/v2/nothing"), ("PUT", "/api/v2/alerts"), ("DELETE", "/api/v2/alerts"),
    ("PATCH", "/api/v2/silence/2a8b2c3d-0000-0000-0000-000000000000"), ("HEAD", "/api/v2/status"),
    ("POST", "/api/v2/status"), ("OPTIONS", "/api/v2/silences"), ("GET", "/api/v2/receivers"),
    ("GET", "/-/healthy"), ("HEAD", "/-/healthy"), ("GET", "/-/ready"), ("POST", "/-/healthy"), ("GET", "/-/reload"),
    ("PUT", "/-/reload"),
]


_ALLOWED = re.compile(rb"but \[([A-Z,]*)\] are")


def _method_order_free(x: Answer) -> tuple:
    """Alertmanager lists the allowed methods of a path in Go's map order, which varies from
    one request to the next: compare them as sets."""
    key = list(x.key())
    if x.status == 405 and key[2]:
        key[2] = frozenset(key[2].split(","))
        key[3] = _ALLOWED.sub(lambda m: b"but [" + b",".join(sorted(m.group(1).split(b","))) + b"] are", key[3])
    return tuple(key)


@pytest.mark.parametrize(("method", "path"), PATHS, ids=[f"{m} {p}" for m, p in PATHS])
async def test_other_requests_same_answer(pair: Pair, method: str, path: str) -> None:
    a, b = await both(pair, method, path)
    assert _method_order_free(b) == _method_order_free(a), f"alertmanager: {a}\nalertbot:     {b}"


# ------------------------------------------------------------------------------ documented differences
async def test_differs_null_alert(pair: Pair) -> None:
    """Alertmanager crashes on a null alert and drops the connection without an answer; the
    bot refuses it like an alert without labels."""
    with pytest.raises(aiohttp.ClientError):
        await send(pair.am.url, "POST", "/api/v2/alerts", b"[null]", JSON)
    b = await send(pair.bot.url, "POST", "/api/v2/alerts", b"[null]", JSON)
    assert b.key() == (422, "application/json", None, b'{"code":602,"message":"0.labels in body is required"}')


async def test_differs_null_silence_matcher(pair: Pair) -> None:
    with pytest.raises(aiohttp.ClientError):
        await send(pair.am.url, "POST", "/api/v2/silences", _silence(matchers=[None]), JSON)
    b = await send(pair.bot.url, "POST", "/api/v2/silences", _silence(matchers=[None]), JSON)
    assert b.key() == (422, "application/json", None, b'{"code":602,"message":"matchers.0 in body is required"}')


async def test_differs_error_separator(pair: Pair) -> None:
    """Several invalid alerts: today's Alertmanager joins the messages with a newline
    (errors.Join), 0.25 with "; ". The bot follows today's."""
    body = b'[{"labels":{}},{"labels":{"a":"b"},"startsAt":"2026-01-02T00:00:00Z","endsAt":"2026-01-01T00:00:00Z"}]'
    a, b = await both(pair, "POST", "/api/v2/alerts", body, JSON)
    assert a.body == b'"at least one label pair required; start time must be before end time"\n'
    assert b.body == b'"at least one label pair required\\nstart time must be before end time"\n'
    assert a.status == b.status == 400


async def test_differs_delete_unknown_silence(pair: Pair) -> None:
    """0.25 answers 500 "silence not found"; today's Alertmanager 404 (as the bot)."""
    a, b = await both(pair, "DELETE", "/api/v2/silence/2a8b2c3d-0000-0000-0000-000000000000")
    assert (a.status, a.body) == (500, b'"silence not found"\n')
    assert (b.status, b.body) == (404, b"")


async def test_differs_duplicate_keys(pair: Pair) -> None:
    """Go reports a type error in a key that a later duplicate overwrites; the bot's JSON
    parser keeps only the last value and accepts the alert."""
    body = b'[{"labels":{"alertname":1,"alertname":"DupKey"}}]'
    a, b = await both(pair, "POST", "/api/v2/alerts", body, JSON)
    assert a.status == 400 and b"cannot unmarshal number" in a.body
    assert (b.status, b.body) == (200, b"")


async def test_differs_v1_api(pair: Pair) -> None:
    """0.25 still serves the deprecated v1 API; today's answers 410 Gone, as the bot does."""
    a, b = await both(pair, "GET", "/api/v1/alerts")
    assert a.status == 200
    assert b.status == 410 and json.loads(b.body)["status"] == "deprecated"


async def test_differs_utf8_label_names_by_default(pair: Pair, bot_factory) -> None:
    """Today's Alertmanager (and the bot by default, --matchers-mode fallback) accepts any
    UTF-8 label name; 0.25 (and the bot in classic mode) only the classic ones."""
    body = b'[{"labels":{"alertname":"Utf8Name","service.name":"checkout","k8s/pod":"p-1"}}]'
    # With two invalid names Alertmanager reports either (Go map order): compare on one.
    one = b'[{"labels":{"alertname":"Utf8Name","service.name":"checkout"}}]'
    a = await send(pair.am.url, "POST", "/api/v2/alerts", one, JSON)
    classic = await send(pair.bot.url, "POST", "/api/v2/alerts", one, JSON)
    assert a.key() == classic.key()
    assert (a.status, a.body) == (400, b'"invalid label set: invalid name \\"service.name\\""\n')
    default = bot_factory()
    b = await send(default.url, "POST", "/api/v2/alerts", body, JSON)
    assert (b.status, b.body) == (200, b"")
    got = await send(default.url, "GET", "/api/v2/alerts")
    assert json.loads(got.body)[0]["labels"] == {"alertname": "Utf8Name", "k8s/pod": "p-1", "service.name": "checkout"}
