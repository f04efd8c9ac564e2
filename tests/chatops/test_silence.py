"""Silences from Slack end to end: the command's preview with Confirm / Cancel, the Silence ▾
menu (a fixed duration, or the custom modal with the group's matchers and the affected-alert
preview), listing and expiring — in alertbot's store, at the real Alertmanager 0.25 (createdBy
the Slack user's name, the comment as given), on the message and in its thread, in the audit."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.chatops.conftest import World, alert
from tests.chatops.slackapp import ALICE, BOB, wait_for

pytestmark = pytest.mark.peer  # a real Alertmanager 0.25 beside the bot


def button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, Any]:
    for b in blocks:
        for e in b.get("elements", []) if b.get("type") == "actions" else []:
            if e.get("action_id") == action_id:
                return e
    raise AssertionError(f"no {action_id} in {json.dumps(blocks)[:500]}")


def text_of(answer: dict[str, Any]) -> str:
    return answer.get("text", "") + json.dumps(answer.get("blocks", []), ensure_ascii=False)


async def test_command_previews_then_confirm_creates_here_and_upstream(w: World) -> None:
    assert w.am is not None
    await w.post_alerts(alert("DiskFull", instance="a", team="ml"), alert("DiskFull", instance="b", team="ml"),
                        alert("CpuHot", instance="c"))
    p = await w.parent("DiskFull")
    r = await w.client.command('silence 2h alertname="DiskFull" -- swapping the disks', ALICE)
    assert r.status == 200 and r.seconds < 3
    preview = await w.slack.wait_response(r.response_id)
    shown = text_of(preview)
    assert "2 firing alerts" in shown and "instance=a" in shown and "instance=b" in shown, shown
    assert "CpuHot" not in shown and "swapping the disks" in shown
    assert w.silences() == [] and await w.am_silences() == []  # nothing before Confirm
    confirm = button(preview["blocks"], "alertbot.silence.confirm")
    r = await w.client.click("alertbot.silence.confirm", confirm["value"], ALICE, channel_id=p.channel_id,
                             message_ts="", ephemeral=True)
    assert r.status == 200 and r.seconds < 3
    done = await w.slack.wait_response(r.response_id)
    assert done["replace_original"] is True and "created" in done["text"], done
    (s,) = w.silences()
    assert s["created_by"] == "alice" and s["comment"] == "swapping the disks"
    assert s["matchers"] == [{"name": "alertname", "value": "DiskFull", "isRegex": False, "isEqual": True}]
    assert round((s["ends_ns"] - s["starts_ns"]) / 1e9) == 7200
    # the real Alertmanager has it too, created by the Slack user's name
    assert "Also created in the upstream Alertmanager" in done["text"]
    (am,) = await w.am_silences()
    assert am["createdBy"] == "alice" and am["comment"] == "swapping the disks"
    assert am["matchers"] == [{"name": "alertname", "value": "DiskFull", "isRegex": False, "isEqual": True}]
    assert w.kv("chatops.silence", s["id"])["upstream"] == am["id"]
    # the message says so, the thread tells who
    await wait_for(lambda: "SILENCED" in p.blocks_text(w.slack), 10, "the message to say SILENCED")
    line = await w.wait_thread(p, "silenced")
    assert f"<@{ALICE.id}>" in line and "swapping the disks" in line
    row = next(d for a, b, g, d in w.audit(p.group_id) if b == "silence")
    assert row["silence_id"] == s["id"] and row["firing_alerts"] == 2 and row["comment"] == "swapping the disks"
    # listed, then expired here and upstream
    r = await w.client.command("silences", ALICE)
    listed = text_of(await w.slack.wait_response(r.response_id))
    assert s["id"][:8] in listed and "alice" in listed
    r = await w.client.command(f"expire {s['id'][:8]}", ALICE)
    expired = await w.slack.wait_response(r.response_id)
    assert "expired" in expired["text"] and "upstream Alertmanager too" in expired["text"], expired
    assert not w.active_silences()
    ams = await w.am_silences()
    assert len(ams) == 1, json.dumps(ams, indent=1)
    assert ams[0]["status"]["state"] == "expired"
    assert [b for _, b, _, _ in w.audit(p.group_id)].count("expire") == 1
    await wait_for(lambda: "SILENCED" not in p.blocks_text(w.slack), 10, "the message to lose SILENCED")


async def test_cancel_and_someone_elses_confirm_create_nothing(w: World) -> None:
    await w.post_alerts(alert("Noisy", instance="a"))
    p = await w.parent("Noisy")
    r = await w.client.command('silence 1h alertname="Noisy"', ALICE)
    preview = await w.slack.wait_response(r.response_id)
    value = button(preview["blocks"], "alertbot.silence.confirm")["value"]
    r = await w.client.click("alertbot.silence.confirm", value, BOB, channel_id=p.channel_id, message_ts="",
                             ephemeral=True)
    refused = await w.slack.wait_response(r.response_id)
    assert "only the person who asked" in refused["text"]
    r = await w.client.click("alertbot.silence.cancel", "cancel", ALICE, channel_id=p.channel_id, message_ts="",
                             ephemeral=True)
    assert "Cancelled" in (await w.slack.wait_response(r.response_id))["text"]
    assert w.silences() == [] and await w.am_silences() == []
    assert "silence" not in [b for _, b, _, _ in w.audit()]


async def test_silence_menu_fixed_duration(w: World) -> None:
    await w.post_alerts(alert("Flood", instance="a", env="prod"), alert("Flood", instance="b", env="prod"))
    p = await w.parent("Flood")
    r = await w.client.select("alertbot.silence", f"4h|{p.short}", ALICE, channel_id=p.channel_id,
                              message_ts=p.ts)
    assert r.status == 200 and r.seconds < 3
    (s,) = await wait_for(lambda: w.silences(), 10, "the silence")
    assert s["matchers"] == [{"name": "alertname", "value": "Flood", "isRegex": False, "isEqual": True}]
    assert round((s["ends_ns"] - s["starts_ns"]) / 1e9) == 4 * 3600 and s["created_by"] == "alice"
    await wait_for(lambda: "SILENCED" in p.blocks_text(w.slack), 10, "SILENCED")
    await w.wait_thread(p, "silenced")

    async def upstream() -> list[dict[str, Any]]:
        return [x for x in await w.am_silences() if x["status"]["state"] == "active"]

    deadline = time.monotonic() + 10
    while not await upstream():
        assert time.monotonic() < deadline, "no silence in Alertmanager"
        await wait_for(lambda: True, 0.1, "")
    (am,) = await upstream()
    assert am["createdBy"] == "alice"


async def test_silence_menu_custom_opens_the_modal_and_submission_creates(w: World) -> None:
    await w.post_alerts(alert("Custom", instance="a", team="ml"), alert("Custom", instance="b", team="ml"))
    p = await w.parent("Custom")
    r = await w.client.select("alertbot.silence", f"custom|{p.short}", ALICE, channel_id=p.channel_id,
                              message_ts=p.ts)
    assert r.status == 200 and r.seconds < 3
    opened = await wait_for(lambda: w.slack.views, 10, "views.open")
    assert opened[0]["trigger_id"] == r.trigger_id
    view = opened[0]["view"]
    assert view["callback_id"] == "alertbot.silence.modal"
    blocks = {b.get("block_id"): b for b in view["blocks"]}
    assert blocks["silence_matchers"]["element"]["initial_value"] == 'alertname="Custom"'
    preview = json.dumps(view["blocks"])
    assert "2 firing alerts" in preview and "instance=a" in preview
    # a bad duration: the modal shows the error, nothing is created
    r = await w.client.submit(view, {"silence_matchers": 'alertname="Custom", instance="a"',
                                     "silence_duration": "soon", "silence_comment": ""}, ALICE)
    assert r.status == 200 and r.body["response_action"] == "errors" and "silence_duration" in r.body["errors"]
    assert w.silences() == []
    r = await w.client.submit(view, {"silence_matchers": 'alertname="Custom", instance="a"',
                                     "silence_duration": "3h", "silence_comment": "only a"}, ALICE)
    assert r.status == 200 and r.seconds < 3 and not r.body, r.body
    (s,) = await wait_for(lambda: w.silences(), 10, "the silence")
    assert {m["name"]: m["value"] for m in s["matchers"]} == {"alertname": "Custom", "instance": "a"}
    assert s["comment"] == "only a" and round((s["ends_ns"] - s["starts_ns"]) / 1e9) == 3 * 3600
    eph = await wait_for(lambda: w.slack.ephemeral, 10, "the ephemeral answer")
    assert eph[0]["user"] == ALICE.id and "created" in eph[0]["text"]
    line = await w.wait_thread(p, "silenced")
    assert "1 of the 2 firing alerts" in line


async def test_silences_mine_and_by_matchers(w: World) -> None:
    await w.post_alerts(alert("A1", instance="x"), alert("B1", instance="y"))
    await w.parent("A1")
    for text in ('silence 1h alertname="A1" -- one', 'silence 1h alertname="B1" -- two'):
        r = await w.client.command(text, ALICE)
        preview = await w.slack.wait_response(r.response_id)
        r = await w.client.click("alertbot.silence.confirm", button(preview["blocks"], "alertbot.silence.confirm")
                                 ["value"], ALICE, channel_id="C00000001", message_ts="", ephemeral=True)
        await w.slack.wait_response(r.response_id)
    r = await w.client.command('silences alertname="A1"', BOB)
    shown = text_of(await w.slack.wait_response(r.response_id))
    assert "A1" in shown and "B1" not in shown
    r = await w.client.command("silences mine", BOB)
    assert "No active or pending your silences" in (await w.slack.wait_response(r.response_id))["text"]
    r = await w.client.command("silences mine", ALICE)
    shown = text_of(await w.slack.wait_response(r.response_id))
    assert "A1" in shown and "B1" in shown
