"""Access rules mean what docs/chatops.md says, against the running `alertbot serve` and the
fake Slack (users.info and user groups answered as Slack answers them):

- the documented example itself (loaded from docs/chatops.md, so the two cannot drift):
  `@name` is the name Slack's API gives for the request's user id, never the `user_name` the
  request carries; a rule's `required_matchers` restrict its members whatever `everyone`
  allows; `expire` is limited to what the grant could have created;
- without a settings file: acknowledging, and silencing an alert group from its message, but
  no arbitrary matchers and no page;
- an `ack_silence` route's silence needs what any silence needs, at creation and at each
  extension.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.chatops.settings import load_file
from bot.config.errors import ConfigError
from tests.chatops.conftest import World, alert, world
from tests.chatops.slackapp import ALICE, BOB, MALLORY, Person, wait_for

ROOT = Path(__file__).resolve().parents[2]
CAROL = Person("U0CAROL01", "carol")
SRE_BY_ID = Person("U0123ABCD", "dana")
IMPOSTOR = Person(MALLORY.id, "carol")  # Mallory's request saying user_name=carol


def documented_example() -> str:
    """The `access` example of docs/chatops.md, as it is written there."""
    text = (ROOT / "docs" / "chatops.md").read_text()
    section = text[text.index("### Who may do what"):text.index("### Settings")]
    (block,) = re.findall(r"```yaml\n(.*?)```", section, re.S)
    assert block.startswith("access:"), block
    return block


def directory(w: World) -> None:
    """The workspace: Slack usernames as users.info gives them (ids are who people are)."""
    for p in (ALICE, BOB, CAROL, MALLORY, SRE_BY_ID):
        w.slack.add_user(p.id, p.name)
    w.slack.users[MALLORY.id]["profile"]["display_name"] = "carol"  # anyone may call themselves so


def shown(answer: dict[str, Any]) -> str:
    return str(answer.get("text", "")) + json.dumps(answer.get("blocks", []), ensure_ascii=False)


async def ask(w: World, text: str, who: Person) -> str:
    r = await w.client.command(text, who)
    assert r.status == 200, r.body
    return shown(await w.slack.wait_response(r.response_id))


async def confirm(w: World, text: str, who: Person, channel_id: str) -> dict[str, Any]:
    """`silence …` then Confirm; the silence created."""
    r = await w.client.command(text, who)
    preview = await w.slack.wait_response(r.response_id)
    button = next(e for b in preview.get("blocks", []) for e in b.get("elements", []) if b.get("type") == "actions"
                  and e.get("action_id") == "alertbot.silence.confirm")
    before = {s["id"] for s in w.silences()}
    r = await w.client.click("alertbot.silence.confirm", button["value"], who, channel_id=channel_id,
                             message_ts="", ephemeral=True)
    done = await w.slack.wait_response(r.response_id)
    assert "created" in done["text"], done
    (s,) = [s for s in w.silences() if s["id"] not in before]
    return s


def refused(text: str) -> bool:
    return "not allowed" in text or "you may not" in text or "you may expire only" in text


@pytest.fixture
async def example(tmp_path: Path) -> Any:
    settings = "chatops:\n  upkeep_interval: 1s\n" + documented_example()
    async with world(tmp_path, settings=settings, upstream=False) as w:
        directory(w)
        yield w


async def test_an_at_name_rule_is_the_name_slack_gives_for_the_user_id(example: World) -> None:
    w = example
    await w.post_alerts(alert("DiskFull", instance="db-1", team="infra"))
    p = await w.parent("DiskFull")
    before = (w.silences(), len(w.pd.accepted))
    # Mallory's requests carry user_name=carol (and her display name is "carol"): no grant of carol's.
    a = await ask(w, 'silence 7d alertname=~".+"', IMPOSTOR)
    assert refused(a) and "alertbot.silence.confirm" not in a, a
    a = await ask(w, "page pager the impostor pages", IMPOSTOR)
    assert "you may not page PagerDuty by hand" in a, a
    assert (w.silences(), len(w.pd.accepted)) == before
    asked = [c.args.get("user") for c in w.slack.calls_of("users.info")]
    assert MALLORY.id in asked and "carol" not in asked
    # Carol herself (Slack says U0CAROL01 is "carol"): the sre rule's week and page.
    a = await ask(w, 'silence 7d alertname=~".+"', CAROL)
    assert "alertbot.silence.confirm" in a and not refused(a), a
    a = await ask(w, "page pager carol pages", CAROL)
    assert "Paged PagerDuty" in a, a
    await wait_for(lambda: any(e["payload"]["summary"] == "carol pages" for e in w.pd.accepted
                               if e.get("payload")), 10, "carol's page")
    assert not any(e.get("payload", {}).get("summary") == "the impostor pages" for e in w.pd.accepted)
    # And the rule's id: the same grant.
    a = await ask(w, 'silence 3d alertname="DiskFull"', SRE_BY_ID)
    assert "alertbot.silence.confirm" in a, a
    assert p.group_id  # the group was there all along


async def test_the_documented_example_restricts_rule_members_and_expiry(example: World) -> None:
    w = example
    await w.post_alerts(alert("DiskFull", instance="db-1", team="infra"), alert("ModelDrift", instance="m", team="ml"))
    disk = await w.parent("DiskFull")
    drift = await w.parent("ModelDrift")

    # Bob is in @ml-team: his silences contain team="ml", whatever `everyone` allows.
    a = await ask(w, 'silence 2h alertname="ModelDrift" team="ml"', BOB)
    assert "alertbot.silence.confirm" in a and not refused(a), a
    a = await ask(w, 'silence 2h alertname="DiskFull"', BOB)
    assert refused(a) and "rule 'ml-team'" in a and 'team=\\"ml\\"' in json.dumps(a), a
    r = await w.client.select("alertbot.silence", f"1h|{disk.short}", BOB, channel_id=disk.channel_id,
                              message_ts=disk.ts)
    a = shown(await w.slack.wait_response(r.response_id))
    assert refused(a) and "rule 'ml-team'" in a, a
    a = await ask(w, 'silence 25h alertname="ModelDrift" team="ml"', BOB)
    assert refused(a) and "at most 1d" in a, a
    assert w.silences() == []

    # Someone in no rule: an alert group from its message, not arbitrary matchers, not a page.
    a = await ask(w, 'silence 1h alertname=~".+"', MALLORY)
    assert refused(a) and "open alert group" in a, a
    a = await ask(w, 'silence 1h severity="critical"', MALLORY)
    assert refused(a), a
    r = await w.client.select("alertbot.silence", f"1h|{drift.short}", MALLORY, channel_id=drift.channel_id,
                              message_ts=drift.ts)
    (mallorys,) = await wait_for(lambda: w.silences(), 10, "the silence from the message's menu")
    assert mallorys["matchers"] == [{"name": "alertname", "value": "ModelDrift", "isRegex": False, "isEqual": True}]
    a = await ask(w, 'silence 25h alertname="DiskFull"', MALLORY)
    assert refused(a) and "at most 1d" in a, a

    # Expiring: what the grant could have created, whoever made it, whatever its length.
    infra = await confirm(w, 'silence 5d team="infra" -- disk swap', CAROL, disk.channel_id)
    ml = await confirm(w, 'silence 5d team="ml" -- retraining', CAROL, disk.channel_id)
    a = await ask(w, f"expire {infra['id'][:8]}", BOB)
    assert "you may expire only silences" in a and 'team=\\"ml\\"' in json.dumps(a), a
    a = await ask(w, f"expire {infra['id'][:8]}", MALLORY)
    assert "you may expire only silences" in a, a
    assert infra["id"] in {s["id"] for s in w.active_silences()}
    a = await ask(w, f"expire {ml['id'][:8]}", BOB)  # 5 days, longer than Bob may create: still his team's
    assert "expired" in a and not refused(a), a
    a = await ask(w, f"expire {mallorys['id'][:8]}", MALLORY)  # a group's own silence: anyone's to end
    assert "expired" in a and not refused(a), a
    a = await ask(w, f"expire {infra['id'][:8]}", CAROL)
    assert "expired" in a, a
    assert not w.active_silences()
    expired_by = [(actor, d.get("silence_id")) for actor, action, _, d in w.audit() if action == "expire"]
    assert (BOB.id, infra["id"]) not in expired_by and (BOB.id, ml["id"]) in expired_by


async def test_without_a_settings_file_anyone_acks_and_silences_a_group_from_its_message(tmp_path: Path) -> None:
    # ALERTBOT_SETTINGS empty and no alertbot.yaml where the bot runs: the defaults.
    async with world(tmp_path, upstream=False, env={"ALERTBOT_SETTINGS": ""}) as w:
        assert not (w.bot.workdir / "alertbot.yaml").exists()
        directory(w)
        await w.post_alerts(alert("CriticalThing", instance="a", severity="critical"))
        p = await w.parent("CriticalThing")
        a = await ask(w, 'silence 1h alertname=~".+"', MALLORY)  # what muted a critical alert
        assert refused(a) and "alertbot.silence.confirm" not in a, a
        a = await ask(w, 'silence 1h severity="critical"', MALLORY)
        assert refused(a), a
        a = await ask(w, "page pager wake everyone", MALLORY)
        assert "you may not page" in a, a
        assert w.silences() == []
        a = await ask(w, f"ack {p.short} looking", MALLORY)
        assert "Acknowledged" in a, a
        # The group from its message, and the same by hand, narrowed if wished; a day at most.
        await w.client.select("alertbot.silence", f"4h|{p.short}", MALLORY, channel_id=p.channel_id,
                              message_ts=p.ts)
        (s,) = await wait_for(lambda: w.silences(), 10, "the silence from the message's menu")
        assert s["matchers"] == [{"name": "alertname", "value": "CriticalThing", "isRegex": False, "isEqual": True}]
        a = await ask(w, 'silence 2h alertname="CriticalThing" instance="a"', MALLORY)
        assert "alertbot.silence.confirm" in a and not refused(a), a
        a = await ask(w, 'silence 2d alertname="CriticalThing"', MALLORY)
        assert refused(a) and "at most 1d" in a, a
        a = await ask(w, f"expire {s['id'][:8]}", MALLORY)
        assert "expired" in a and not refused(a), a


ACK_SILENCE_SETTINGS = """\
chatops:
  upkeep_interval: 1s
  ack_silence_duration: 9s
access:
  everyone:
    allow: [ack, query]
  rules:
    - name: short-silences
      users: [U0ALICE01]
      allow: [ack, silence]
      silence: {max_duration: 13s}
"""


async def test_an_ack_silence_needs_what_a_silence_needs(tmp_path: Path) -> None:
    async with world(tmp_path, settings=ACK_SILENCE_SETTINGS, upstream=False) as w:
        directory(w)
        await w.post_alerts(alert("Hot", instance="h1", ack_silence="yes"),
                            alert("Warm", instance="w1", ack_silence="yes"))
        hot = await w.parent("Hot")
        warm = await w.parent("Warm")
        # Mallory may acknowledge, not silence: acknowledged, without the silence, and told why.
        a = await ask(w, f"ack {hot.short}", MALLORY)
        assert "Acknowledged" in a and "no ack silence" in a and "you may not create silences" in a, a
        assert w.kv("chatops.ack", hot.group_id)["by"] == MALLORY.id
        assert "silence" not in w.kv("chatops.ack", hot.group_id) and w.silences() == []
        # Alice may make silences of 13 seconds at most: the 9s ack silence, then no extension past 13s.
        a = await ask(w, f"ack {warm.short}", ALICE)
        assert "ack silence" in a and "no ack silence" not in a, a
        assert w.kv("chatops.ack", warm.group_id)["silence"]["id"]
        line = await w.wait_thread(warm, "is not extended", timeout=30)
        assert "at most 13s" in line, line
        await wait_for(lambda: not w.active_silences(), 30, "the ack silence to lapse")
        assert all((s["ends_ns"] - s["starts_ns"]) / 1e9 <= 13.001 for s in w.silences())
        assert w.kv("chatops.ack", warm.group_id) is not None  # still acknowledged, only not silenced
        assert any(action == "ack silence not extended" for _, action, _, _ in w.audit(warm.group_id))


def test_a_rule_names_people_by_id_or_at_name_only(tmp_path: Path) -> None:
    p = tmp_path / "alertbot.yaml"
    p.write_text("access:\n  rules:\n    - name: sre\n      users: [U0123ABCD, carol]\n      allow: [page]\n")
    with pytest.raises(ConfigError) as exc:
        load_file(str(p))
    assert f"{p}:4 access.rules[0].users" in str(exc.value) and "'carol'" in str(exc.value)
    # What the example leaves out of `everyone` keeps the safe default.
    p.write_text("access:\n  everyone:\n    allow: [ack, silence]\n    silence: {max_duration: 2h}\n")
    everyone = load_file(str(p)).access.everyone
    assert everyone.silence.scope == "group" and everyone.silence.max_duration == 7200
