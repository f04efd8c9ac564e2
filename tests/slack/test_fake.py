"""The fake Slack answers as Slack does, to what slack-sdk sends (form and JSON bodies, GET
queries, the token in a header or a field), so the other tests exercise the real client path."""

from __future__ import annotations

import json

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import FakeSlack


async def test_wire_format() -> None:
    slack = FakeSlack(["#alerts"], token="xoxb-test")
    await slack.start()
    try:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
        # JSON body (what chat_postMessage sends), metadata kept.
        r = await client.chat_postMessage(channel="#alerts", text="hi", blocks=blocks,
                                          metadata={"event_type": "e", "event_payload": {"k": "v"}})
        assert r["ok"] and r["channel"] == slack.channel_id("#alerts") and r["ts"].count(".") == 1
        assert slack.calls[-1].http == "json"
        # Form body with JSON-valued fields as strings.
        r2 = await client.api_call("chat.postMessage", data={"channel": "#alerts", "text": "form",
                                                              "blocks": json.dumps(blocks), "thread_ts": r["ts"]})
        assert slack.calls[-1].http == "form" and r2["ok"]
        assert slack.thread("#alerts", r["ts"])[0].blocks == blocks
        # GET with a query string; metadata only when asked for.
        h = await client.conversations_history(channel=r["channel"])
        assert slack.calls[-1].http == "GET" and "metadata" not in h["messages"][0]
        h = await client.conversations_history(channel=r["channel"], include_all_metadata=True)
        assert h["messages"][0]["metadata"] == {"event_type": "e", "event_payload": {"k": "v"}}
        assert [m["text"] for m in h["messages"]] == ["hi"]  # replies are not in the channel's history
        # Errors: HTTP 200 with ok:false.
        for call, error in (
            (client.chat_update(channel="#alerts", ts=r["ts"], text="x"), "channel_not_found"),  # ids only
            (client.chat_postMessage(channel="#nope", text="x"), "channel_not_found"),
            (client.chat_postMessage(channel="#alerts", text="x",
                                     blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]),
             "invalid_blocks"),
            (AsyncWebClient(token="xoxb-wrong", base_url=slack.api_url).auth_test(), "invalid_auth"),
        ):
            try:
                await call
                raise AssertionError(f"expected {error}")
            except SlackApiError as exc:
                assert exc.response.status_code == 200 and exc.response["error"] == error
        slack.delete(r["channel"], r["ts"])
        try:
            await client.chat_update(channel=r["channel"], ts=r["ts"], text="x")
        except SlackApiError as exc:
            assert exc.response["error"] == "message_not_found"
        # The token as a form field; none at all.
        async with aiohttp.ClientSession() as s:
            async with s.post(slack.api_url + "auth.test", data={"token": "xoxb-test"}) as resp:
                assert (await resp.json())["user_id"] == "U0ALERTBOT"
            async with s.post(slack.api_url + "auth.test") as resp:
                assert await resp.json() == {"ok": False, "error": "not_authed"}
            # 429 as Slack sends it.
            slack.fail_next("chat.postMessage", status=429, error="ratelimited", retry_after=7)
            async with s.post(slack.api_url + "chat.postMessage", json={"channel": "#alerts", "text": "x"},
                              headers={"Authorization": "Bearer xoxb-test"}) as resp:
                assert resp.status == 429 and resp.headers["Retry-After"] == "7"
                assert await resp.json() == {"ok": False, "error": "ratelimited"}
    finally:
        await slack.stop()
