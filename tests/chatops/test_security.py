"""What must be refused, against the running server: requests Slack did not sign (a bad
signature, a stale timestamp, a replay, a body altered after signing, no signature), and
requests Slack did sign that the rules forbid (a user not allowed to silence, a silence whose
matchers all match the empty string, one longer than allowed, a broadcast mention in a
comment). Each is refused with a clear message, changes nothing, and is logged."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from tests.chatops.conftest import SECRET, World, alert
from tests.chatops.slackapp import ALICE, BOB, MALLORY, slack_sign, wait_for

pytestmark = pytest.mark.peer  # a real Alertmanager 0.25 beside the bot


def snapshot(w: World) -> tuple[Any, ...]:
    """Everything a refused request must leave as it was."""
    return (w.db("SELECT namespace, key, value FROM kv WHERE namespace LIKE 'chatops.%' ORDER BY 1, 2"),
            w.db("SELECT id, ends_at_ns FROM silences ORDER BY id"),
            w.db("SELECT actor, action, group_id, details FROM audit ORDER BY id"))


async def ready_group(w: World, name: str = "Guarded") -> Any:
    await w.post_alerts(alert(name, instance="a", team="ml"))
    p = await w.parent(name)
    await wait_for(lambda: w.audit() is not None, 1, "")
    return p


def refusal_logged(w: World, reason_part: str) -> dict[str, Any]:
    recs = [r for r in w.log_records() if r.get("message") in ("slack request refused", "chatops request refused")
            and reason_part in str(r.get("reason", ""))]
    assert recs, f"no refusal logged with {reason_part!r}"
    rec = recs[-1]
    assert SECRET not in str(rec) and "v0=" not in str(rec)  # never the secret or the signature
    return rec


async def test_bad_signature_stale_timestamp_altered_body_and_unsigned_are_refused(w: World) -> None:
    p = await ready_group(w)
    before = snapshot(w)
    fields, _ = w.client.command_payload(f"ack {p.short} sneaky", MALLORY)
    body = urlencode(fields, quote_via=quote)
    now = str(int(time.time()))
    # 1. signed with another secret
    r = await w.client.post(body, signature=slack_sign("not-the-secret", body, now), ts=now)
    assert r.status == 401 and "bad signature" in r.body["error"], r.body
    refusal_logged(w, "bad signature")
    # 2. signed correctly, but 301 seconds ago
    old = str(int(time.time()) - 301)
    r = await w.client.post(body, ts=old)
    assert r.status == 401 and "stale request" in r.body["error"] and "5-minute" in r.body["error"]
    refusal_logged(w, "stale request")
    # 3. the body altered after it was signed (the text and the user swapped)
    tampered = body.replace("sneaky", "innocent").replace(MALLORY.id, ALICE.id)
    r = await w.client.post(body, send_body=tampered)
    assert r.status == 401 and "bad signature" in r.body["error"]
    # 4. no signature at all
    r = await w.client.raw(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 401 and "missing X-Slack-Request-Timestamp" in r.body["error"]
    refusal_logged(w, "missing X-Slack")
    assert snapshot(w) == before
    metrics = await w.metrics()
    for outcome in ("refused_signature", "refused_stale", "refused_unsigned"):
        assert f'outcome="{outcome}"' in metrics
    assert w.slack.responses and all(not v for v in w.slack.responses.values())  # nobody was answered


async def test_replayed_request_is_refused_and_a_retry_runs_once(w: World) -> None:
    p = await ready_group(w)
    r = await w.client.command(f"ack {p.short} first", ALICE)
    assert r.status == 200
    await w.slack.wait_response(r.response_id)
    state = snapshot(w)
    # the exact same signed request again (a captured request replayed within the window)
    again = await w.client.raw(w.client.last_body, w.client.last_headers)
    assert again.status == 401 and "replayed request" in again.body["error"]
    refusal_logged(w, "replayed request")
    # Slack's own retry of that delivery, signed anew: acknowledged, not run twice
    body = w.client.last_body
    ts = str(int(time.time()) + 1)
    retry = await w.client.raw(body, {"Content-Type": "application/x-www-form-urlencoded",
                                      "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": slack_sign(SECRET, body, ts),
                                      "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status == 200 and retry.seconds < 3
    await wait_for(lambda: w.logged("slack delivery already handled"), 5, "the duplicate to be logged")
    assert snapshot(w) == state
    assert [b for _, b, _, _ in w.audit(p.group_id)].count("ack") == 1
    assert len(w.slack.responses[r.response_id]) == 1
    assert 'outcome="duplicate"' in await w.metrics()


async def test_user_without_a_silence_rule_is_refused(w: World) -> None:
    p = await ready_group(w)
    before = snapshot(w)
    r = await w.client.command('silence 1h alertname="Guarded"', MALLORY)
    assert r.status == 200 and r.seconds < 3
    answer = (await w.slack.wait_response(r.response_id))["text"]
    assert "you may not create silences" in answer and "access" in answer
    # the menu on the message too
    r = await w.client.select("alertbot.silence", f"1h|{p.short}", MALLORY, channel_id=p.channel_id,
                              message_ts=p.ts)
    assert r.status == 200
    assert "you may not create silences" in (await w.slack.wait_response(r.response_id))["text"]
    assert snapshot(w) == before and await w.am_silences() == []
    rec = refusal_logged(w, "you may not create silences")
    assert rec["user"] == MALLORY.id and rec["action"] == "silence"
    assert 'alertbot_chatops_refusals_total{action="silence",reason="access"}' in await w.metrics()


async def test_silence_matching_only_the_empty_string_is_refused(w: World) -> None:
    await ready_group(w)
    before = snapshot(w)
    r = await w.client.command('silence 1h instance=~".*" team=""', ALICE)
    answer = (await w.slack.wait_response(r.response_id))["text"]
    assert "at least one matcher must not match the empty string" in answer, answer
    assert snapshot(w) == before and await w.am_silences() == []
    refusal_logged(w, "empty string")


@pytest.mark.parametrize("who,text,expect", [
    (ALICE, 'silence 3d alertname="Guarded"', "at most 2d (asked for 3d)"),
    (BOB, 'silence 30h alertname="Guarded" team="ml"', "at most 1d (asked for 1d6h)"),
    (BOB, 'silence 2h alertname="Guarded"', 'must contain `team="ml"`'),
])
async def test_silence_outside_the_rules_is_refused(w: World, who: Any, text: str, expect: str) -> None:
    await ready_group(w)
    before = snapshot(w)
    r = await w.client.command(text, who)
    answer = (await w.slack.wait_response(r.response_id))["text"]
    assert "not allowed" in answer and expect in answer, answer
    assert snapshot(w) == before and await w.am_silences() == []
    refusal_logged(w, expect.split(" (")[0])


async def test_bob_in_the_ml_user_group_may_silence_team_ml(w: World) -> None:
    await ready_group(w)
    r = await w.client.command('silence 2h alertname="Guarded" team="ml" -- ml on it', BOB)
    preview = await w.slack.wait_response(r.response_id)
    assert "Silence preview" in preview["text"] or "1 firing alert" in str(preview["blocks"]), preview


@pytest.mark.parametrize("comment", ["<!channel> look", "please @here", "&lt;!everyone&gt; now",
                                     "<!subteam^S0MLTEAM1|@ml-team> ping"])
async def test_broadcast_mention_in_a_comment_is_refused(w: World, comment: str) -> None:
    p = await ready_group(w)
    before = snapshot(w)
    r = await w.client.command(f"ack {p.short} {comment}", ALICE)
    answer = (await w.slack.wait_response(r.response_id))["text"]
    assert "mention that would notify" in answer, answer
    r = await w.client.command(f'silence 1h alertname="Guarded" -- {comment}', ALICE)
    assert "mention that would notify" in (await w.slack.wait_response(r.response_id))["text"]
    assert snapshot(w) == before
    rec = refusal_logged(w, "mention that would notify")
    assert rec["why"] == "unsafe_input"
    assert not any("@here" in t or "<!channel>" in t for t in w.thread(p))


async def test_markup_in_a_comment_is_shown_as_text(w: World) -> None:
    p = await ready_group(w)
    r = await w.client.command(f"ack {p.short} see <https://evil.example|the docs> *now* <@U0BOB0001>", ALICE)
    await w.slack.wait_response(r.response_id)
    line = await w.wait_thread(p, "acknowledged")
    assert "<https://evil.example" not in line and "&lt;https://evil.example" in line
    assert "<@U0BOB0001>" not in line and "&lt;@U0BOB0001&gt;" in line
    assert "*now*" not in line  # formatting characters neutralised
