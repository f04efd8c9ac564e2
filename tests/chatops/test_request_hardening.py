"""What reaches `POST /slack/events` signed or not that the bot must refuse with a clear 4xx
and no traceback: timestamps that are not Unix times or lie in the future, bodies that are
signed but are not Slack payloads; the replay window and the replay memory, on a controlled
clock; and a `/oncall query` time that is not one."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote, urlencode

import aiohttp
import pytest

from bot.chatops.app import FUTURE_SKEW_S, REPLAY_MEMORY_S, WINDOW_S, _Seen, verify
from tests.chatops.conftest import SECRET, World, world
from tests.chatops.slackapp import ALICE, slack_sign
from tests.fixtures.prometheus import Prometheus
from tests.server.conftest import BotServer, both_shapes, no_traceback_in

# One worker runs the module: its bots (a module fixture) start once, not once per worker.
pytestmark = pytest.mark.xdist_group("request_hardening")

FORM = "application/x-www-form-urlencoded"
# ------------------------------------------------------------------ the window, on a controlled clock

def test_the_replay_memory_outlasts_every_acceptable_timestamp() -> None:
    """Signatures are checked against the wall clock, and a request already received is refused
    as long as its timestamp could be accepted again: from up to FUTURE_SKEW_S before it to
    WINDOW_S after it. Run second by second over a controlled clock, as the endpoint runs them
    (the signature's time first, then the replay memory)."""
    assert (WINDOW_S, FUTURE_SKEW_S) == (300, 60) and REPLAY_MEMORY_S >= WINDOW_S + FUTURE_SKEW_S
    start = 1_800_000_000.0
    now = [start]
    replays = _Seen(REPLAY_MEMORY_S, clock=lambda: now[0])
    body = b"command=%2Foncall&text=status"

    def accepted(ts: int) -> bool:
        sig = slack_sign(SECRET, body.decode(), str(ts))
        return verify(SECRET, body, str(ts), sig, now[0]) is None and not replays.check_and_add(sig)

    # Signed 295 s ahead of this machine's clock (a forged time): refused, whatever the memory.
    assert not accepted(int(start) + 295)
    assert verify(SECRET, body, str(int(start) + 295), "v0=x", start)[1].startswith("request from the future")
    # Up to a minute ahead is clock skew: accepted once, then refused as a replay for as long as
    # its time is inside the window, and as stale after.
    for ahead in (0, 30, FUTURE_SKEW_S):
        ts = int(start) + ahead + 10_000 * (ahead + 1)  # a fresh timestamp for each case
        now[0] = ts - ahead
        assert accepted(ts), ahead
        while now[0] <= ts + WINDOW_S + 5:
            now[0] += 1
            assert not accepted(ts), (ahead, now[0] - ts)
        assert verify(SECRET, body, str(ts), slack_sign(SECRET, body.decode(), str(ts)), now[0])[0] == "refused_stale"


def test_a_timestamp_that_is_no_unix_time_is_refused() -> None:
    body = b"x=1"
    now = time.time()
    for ts in ("9" * 400, "1" * 5000, " 1700000000", "+1700000000", "1_700_000_000", "1.7e9", "-5", "١٧٠٠٠٠٠٠٠٠"):
        outcome, reason = verify(SECRET, body, ts, slack_sign(SECRET, "x=1", ts), now)  # type: ignore[misc]
        assert (outcome, reason) == ("refused_unsigned", "X-Slack-Request-Timestamp is not a Unix time"), ts


# ------------------------------------------------------------------ the real server

@pytest.fixture(scope="module")
def bots(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BotServer]]:
    with both_shapes(tmp_path_factory, env={"SLACK_SIGNING_SECRET": SECRET}) as started:
        yield started


@pytest.fixture
def quiet(bots: dict[str, BotServer]) -> Iterator[None]:
    with no_traceback_in(bots):
        yield


async def _post(bot: BotServer, body: str, content_type: str = FORM, ts: str | None = None,
                sign_ts: str | None = None) -> tuple[int, dict]:
    ts = ts or str(int(time.time()))
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": slack_sign(SECRET, body, sign_ts or ts)}
    async with aiohttp.ClientSession() as s, s.post(bot.url + "/slack/events", data=body.encode(),
                                                    headers=headers) as r:
        raw = await r.read()
        return r.status, json.loads(raw) if raw else {}


def _command(text: str, trigger: str) -> str:
    return urlencode({"token": "t", "team_id": "T0FAKE", "channel_id": "C00000001", "user_id": ALICE.id,
                      "user_name": ALICE.name, "command": "/oncall", "text": text, "api_app_id": "A0FAKE0001",
                      "response_url": "http://127.0.0.1:9/response", "trigger_id": trigger}, quote_via=quote)


async def test_timestamps_that_are_no_time_or_in_the_future_are_refused(bots: dict[str, BotServer],
                                                                         quiet: None) -> None:
    for name, bot in bots.items():
        status, answer = await _post(bot, _command("help", f"{name}-long"), ts="9" * 400)
        assert (status, answer) == (401, {"error": "X-Slack-Request-Timestamp is not a Unix time"}), name
        ahead = str(int(time.time()) + 295)
        status, answer = await _post(bot, _command("help", f"{name}-ahead"), ts=ahead)
        assert status == 401 and answer["error"].startswith("request from the future: signed 29"), (name, answer)
        skewed = str(int(time.time()) + 30)  # within the minute of clock skew allowed
        status, answer = await _post(bot, _command("help", f"{name}-skewed"), ts=skewed)
        assert status == 200 and "/oncall" in answer.get("text", ""), (name, answer)


PAYLOADS = [
    ("payload=notjson", FORM, "not JSON"),
    ("payload=" + quote("[1,2]"), FORM, "an array where Slack sends an object"),
    ("payload=" + quote('"text"'), FORM, "a string where Slack sends an object"),
    ("payload=" + quote('{"type":5}'), FORM, "type is not a string"),
    ("payload=" + quote('{"type":"block_actions","actions":"x"}'), FORM, "actions is not a list of objects"),
    ("payload=" + quote('{"type":"block_actions","user":"U1","team":5}'), FORM, "team is neither an id nor an object"),
    ("payload=" + quote('{"type":"block_actions","actions":[{"action_id":"alertbot.ack","value":5}],'
                        '"user":{"id":"U1"},"trigger_id":"t"}'), FORM, "actions[0].value is not a string"),
    ("payload=" + quote('{"type":"block_actions","actions":[{"action_id":5}],"user":{"id":5}}'), FORM,
     "user.id is not a string"),
    ("payload=" + quote('{"type":"view_submission","view":5}'), FORM, "view is not an object"),
    ("payload=" + quote('{"a":' + "1" * 5001 + "}"), FORM, "a number too long"),
    ('{"type":"event_callback","event":5}', "application/json", "event is not an object"),
    ('{"type":"event_callback","event":{"type":"message","channel":5}}', "application/json",
     "event.channel is neither an id nor an object"),
    ("[1]", "application/json", "an array where Slack sends an object"),
    ("{abc", "application/json", "not JSON"),
    ("[" * 100_000 + "]" * 100_000, "application/json", "nesting too deep"),
]


@pytest.mark.parametrize("body, content_type, why", PAYLOADS)
async def test_signed_bodies_that_are_no_slack_payload_are_400(bots: dict[str, BotServer], quiet: None, body: str,
                                                                content_type: str, why: str) -> None:
    answers = {name: await _post(bot, body, content_type) for name, bot in bots.items()}
    status, answer = answers["default"]
    assert answers["one process"] == answers["default"], answers
    assert status == 400 and answer["error"].startswith("the body is not a Slack request: "), answer
    assert why in answer["error"], answer


# ------------------------------------------------------------------ /oncall query at=

@pytest.fixture
async def qw(tmp_path: Path) -> AsyncIterator[World]:
    end = int(time.time()) // 60 * 60 - 60
    prom = Prometheus.start(f"# TYPE up gauge\nup 1 {end}\n# EOF\n", tmp_path / "prometheus")
    try:
        async with world(tmp_path, prometheus_url=prom.url, upstream=False) as the_world:
            yield the_world
    finally:
        prom.stop()


@pytest.mark.peer
async def test_a_query_time_that_is_no_time_is_the_users_error(qw: World) -> None:
    for at in ("99999999999999999999", "1e400", "nan", "-99999999999999", "10000-01-01T00:00:00Z", "tomorrow"):
        r = await qw.client.command(f"query up at={at}", ALICE)
        assert r.status == 200
        a = await qw.slack.wait_response(r.response_id)
        assert f"at={at}" in a["text"] and "expected Unix seconds or an RFC 3339 time" in a["text"], (at, a)
    r = await qw.client.command(f"query up at={int(time.time())}", ALICE)
    a = await qw.slack.wait_response(r.response_id)
    assert "up" in json.dumps(a) and "expected Unix seconds" not in json.dumps(a), a
    text = qw.bot.log_text()
    assert "Traceback" not in text and '"exception"' not in text, text[-3000:]
