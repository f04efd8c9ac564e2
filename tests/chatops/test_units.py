"""The pieces without a server: Slack's signature check, command parsing, the access rules,
the settings file's errors, and the answers' formatting."""

from __future__ import annotations

import hashlib
import hmac
import time
from pathlib import Path

import pytest

from bot.chatops import parse
from bot.chatops.access import Access, GroupMembers, Refused, User, UserNames, matcher_set
from bot.chatops.app import delivery_key, verify
from bot.chatops.settings import SettingsFile, from_env, load_file
from bot.config.errors import ConfigError
from bot.prometheus import Row, Table
from bot.routing.matchers import parse_matchers


def sign(secret: str, body: bytes, ts: str) -> str:
    return "v0=" + hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()


def test_verify_accepts_slacks_signature_within_the_window_only() -> None:
    body = b"token=x&command=%2Foncall&text=status"
    now = time.time()
    ts = str(int(now))
    assert verify("s3cret", body, ts, sign("s3cret", body, ts), now) is None
    assert verify("s3cret", body, ts, sign("other", body, ts), now)[0] == "refused_signature"  # type: ignore[index]
    assert verify("s3cret", body + b"x", ts, sign("s3cret", body, ts), now)[0] == "refused_signature"  # type: ignore[index]
    old = str(int(now) - 301)
    assert verify("s3cret", body, old, sign("s3cret", body, old), now)[0] == "refused_stale"  # type: ignore[index]
    future = str(int(now) + 301)
    assert verify("s3cret", body, future, sign("s3cret", body, future), now)[0] == "refused_stale"  # type: ignore[index]
    edge = str(int(now) - 300)
    assert verify("s3cret", body, edge, sign("s3cret", body, edge), int(now)) is None
    assert verify("s3cret", body, None, None, now)[0] == "refused_unsigned"  # type: ignore[index]
    assert verify("s3cret", body, "soon", "v0=00", now)[0] == "refused_unsigned"  # type: ignore[index]


def test_delivery_keys() -> None:
    assert delivery_key({"type": "event_callback", "event_id": "Ev1"}) == "event:Ev1"
    assert delivery_key({"command": "/oncall", "trigger_id": "t1"}) == "command:t1"
    k = delivery_key({"type": "block_actions", "trigger_id": "t2", "actions": [{"action_id": "a", "action_ts": "1"}]})
    assert k == "action:t2:a:1"
    assert delivery_key({"type": "url_verification"}) is None


def test_command_text_as_slack_sends_it() -> None:
    assert parse.normalize("ack 3fa9c2d1 &lt;not a tag&gt; &amp; “quoted”") == 'ack 3fa9c2d1 <not a tag> & "quoted"'
    ms, rest = parse.leading_matchers('alertname="Disk full" {team="ml", env=~"prod|stage"} on it', "fallback")
    assert [str(m) for m in ms] == ['alertname="Disk full"', 'team="ml"', 'env=~"prod|stage"'] and rest == "on it"
    ms, rest = parse.leading_matchers('severity!=info -- note: x=1', "fallback")
    assert [str(m) for m in ms] == ['severity!="info"'] and rest == "note: x=1"
    with pytest.raises(parse.InputError, match="is not a matcher"):
        parse.strict_matchers('alertname="X" nonsense', "fallback")
    assert parse.duration("1h30m") == 5400
    with pytest.raises(parse.InputError, match="not a duration"):
        parse.duration("soon")
    q = parse.query_args('sum by (job) (rate(x{a="b c"}[5m])) range=1h step=1m datasource=thanos in=3fa9c2d1')
    assert (q.expr, q.range_s, q.step_s, q.datasource, q.into) == (
        'sum by (job) (rate(x{a="b c"}[5m]))', 3600, 60, "thanos", "3fa9c2d1")
    with pytest.raises(parse.InputError, match="needs `range=`"):
        parse.query_args("up step=1m")


@pytest.mark.parametrize("text", ["<!channel>", "<!here>", "<!everyone>", "@channel please", "hey @here",
                                  "<!subteam^S123|@team>", "<!here|here>"])
def test_broadcast_mentions_are_unsafe(text: str) -> None:
    with pytest.raises(parse.UnsafeInput):
        parse.comment(text)


def test_ordinary_comments_pass() -> None:
    for text in ("on it", "mail me at me@example.com", "see #ops", "<@U123> knows", "50% < 60%"):
        assert parse.comment(text) == text


def _access(yaml_text: str, groups: dict[str, tuple[str, list[str]]] | None = None, tmp: Path | None = None,
            names: dict[str, str] | None = None) -> Access:
    assert tmp is not None
    (tmp / "s.yaml").write_text(yaml_text)
    model = load_file(str(tmp / "s.yaml")).access
    groups = groups or {}
    directory = names or {}

    async def name_of(uid: str) -> str:  # what users.info says for an id
        if uid not in directory:
            raise LookupError("user_not_found")
        return directory[uid]

    async def handles() -> dict[str, str]:
        return {h: gid for gid, (h, _) in groups.items()}

    async def members(gid: str) -> list[str]:
        if gid not in groups:
            raise LookupError("no_such_subteam")
        return groups[gid][1]

    return Access(lambda: model, GroupMembers(handles, members), UserNames(name_of))


async def test_defaults_are_safe(tmp_path: Path) -> None:
    a = _access("{}\n", tmp=tmp_path)
    anyone = User("U1", "anyone")
    await a.check(anyone, "ack")
    await a.check(anyone, "query")
    ms = parse_matchers('alertname="X"')
    group_x = {matcher_set(ms)}  # an open group whose labels are alertname="X"
    assert await a.check_silence(anyone, ms, 24 * 3600, group_scopes=group_x) == "everyone"
    with pytest.raises(Refused, match="open alert group"):
        await a.check_silence(anyone, ms, 3600)  # no such group: arbitrary matchers
    with pytest.raises(Refused, match=r"at most 1d \(asked for 1d1s\)"):
        await a.check_silence(anyone, ms, 24 * 3600 + 1, group_scopes=group_x)
    with pytest.raises(Refused, match="you may not page"):
        await a.check(anyone, "page")


async def test_rules_by_user_name_and_group(tmp_path: Path) -> None:
    a = _access("""
access:
  everyone: {allow: [ack]}
  rules:
    - {name: ml, groups: ["@ml-team"], allow: [silence], silence: {required_matchers: ['team="ml"'], max_duration: 24h}}
    - {name: sre, users: ["@carol", U0DAVE], allow: [silence, page], silence: {max_duration: 7d}}
    - {name: ghosts, groups: ["@nobody"], allow: [expire]}
""", {"S1": ("ml-team", ["U0BOB"])}, tmp_path, {"U0CAROL": "carol", "U0EVE": "eve"})
    bob, carol, dave, eve = User("U0BOB", "bob"), User("U0CAROL", "Carol"), User("U0DAVE"), User("U0EVE", "eve")
    with pytest.raises(Refused):  # the name a request carries is not who someone is
        await a.check_silence(User("U0EVE", "carol"), parse_matchers('alertname="X"'), 3600)
    ml = parse_matchers('alertname="X", team="ml"')
    assert await a.check_silence(bob, ml, 3600) == "rule 'ml'"
    with pytest.raises(Refused, match='must contain `team="ml"`'):
        await a.check_silence(bob, parse_matchers('alertname="X"'), 3600)
    assert await a.check_silence(carol, parse_matchers('alertname="X"'), 3 * 86400) == "rule 'sre'"
    await a.check(dave, "page")
    with pytest.raises(Refused, match="you may not create silences") as exc:
        await a.check_silence(eve, ml, 60)
    assert "@nobody could not be read" in str(exc.value) or "no Slack user group @nobody" in str(exc.value)
    with pytest.raises(Refused, match="you may not expire"):
        await a.check(eve, "expire")


def test_settings_errors_name_file_line_and_path(tmp_path: Path) -> None:
    p = tmp_path / "alertbot.yaml"
    p.write_text("chatops:\n  command: oncall\naccess:\n  rules:\n    - allow: [ack, fly]\n      silence:\n"
                 "        max_duration: forever\n")
    with pytest.raises(ConfigError) as exc:
        load_file(str(p))
    text = str(exc.value)
    assert f"{p}:2 chatops.command: a slash command such as /oncall" in text
    assert f"{p}:5 access.rules[0].allow[1]: unknown action" in text
    assert f"{p}:7 access.rules[0].silence.max_duration" in text
    s = from_env({"ALERTBOT_SETTINGS": str(p), "SLACK_APP_TOKEN": "xoxb-not-an-app-token",
                  "ALERTMANAGER_URL": "alertmanager:9093"})
    assert s.file == SettingsFile() and s.app_token == "" and s.alertmanager_url == ""
    assert any("safe defaults apply" in x for x in s.problems)
    assert any("SLACK_APP_TOKEN" in x for x in s.problems) and any("ALERTMANAGER_URL" in x for x in s.problems)


def test_a_query_table_shows_the_numbers_and_escapes_labels() -> None:
    from bot.chatops.queries import table_lines

    t = Table("x", 0.0, "vector", (Row({"__name__": "x", "job": "api<b>", "code": "200"}, 12.5, 0.0),
                                   Row({"__name__": "x", "job": "db", "code": "200"}, 3e-7, 0.0)),
              ("__name__", "code", "job"))
    lines = table_lines(t)
    assert lines[0].startswith("common labels:") and "`__name__=x`" in lines[0] and "`code=200`" in lines[0]
    assert "api&lt;b&gt;  12.5" in lines[1] and "db      3e-07" in lines[1]  # aligned as Slack shows it
