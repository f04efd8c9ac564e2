"""The message builder: Block Kit limits by construction, escaping of alert text, the
wording of a migrated Alertmanager config, the states and the interactive ids."""

from __future__ import annotations

import json
import re

import pytest

from bot.notify.slack.message import (
    MAX_BLOCKS,
    MAX_TOTAL_TEXT,
    GroupStatus,
    build_message,
    check_limits,
    minimal_message,
)
from bot.notify.slack.mrkdwn import escape_code, escape_text, fit_text, slen
from bot.notify.slack.view import QueryRef, RunbookInfo
from tests.fakes.slack import block_problems
from tests.slack.builders import NOW, make_alert, texts, view_of

HOSTILE = ["<!channel>", "<!here>", "<!everyone>", "<@U0123ABCD>", "<!subteam^S0123|@oncall>", "@channel",
           "@here please", "*bold*", "_italic_", "~strike~", "`code`", "```block```", "> quoted", "&amp; & &lt;",
           "<https://evil.example|click here for your bonus>", "<#C0123|general>", "<!date^1^{date}|x>"]


def all_problems(message: dict) -> list[str]:
    fake = block_problems(message["blocks"])
    for a in message.get("attachments", []):
        fake += block_problems(a.get("blocks", []))
    return check_limits(message) + fake


def test_a_thousand_alert_group_stays_inside_every_limit() -> None:
    alerts = [make_alert({"alertname": "DiskFull", "service": "storage", "instance": f"node-{i:04d}.example:9100",
                          "mountpoint": f"/data/{i}", "device": f"/dev/sd{i % 26}"},
                         {"summary": f"Disk {i} is {90 + i % 10}% full", "description": "x" * 400},
                         resolved=i % 7 == 0) for i in range(1000)]
    view = view_of(alerts, group_labels={"alertname": "DiskFull", "service": "storage"})
    assert (view.firing, view.resolved) == (857, 143)
    message = build_message(view, now_ns=NOW.ns)
    assert all_problems(message) == []
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert sum(slen(t) for t in texts(message["blocks"])) <= MAX_TOTAL_TEXT
    body = json.dumps(message, ensure_ascii=False)
    # the ten shown one by one, then how many more (990 of 1000)
    assert "+990 more alerts (847 firing, 143 resolved)" in body
    assert message["blocks"][0]["text"]["text"] == "🔥 FIRING · DiskFull · 857 alerts"
    assert "node-0001.example:9100" in body


def test_ten_kilobyte_annotations_are_cut_to_fit() -> None:
    big = "Lorem ipsum dolor sit amet, " * 400  # 11,200 characters
    alerts = [make_alert({"alertname": "Big", "instance": f"i{i}"}, {"summary": big, "description": big,
                                                                     "runbook_url": big}) for i in range(30)]
    message = build_message(view_of(alerts), now_ns=NOW.ns)
    assert all_problems(message) == []
    sections = [b["text"]["text"] for b in message["blocks"] if b["type"] == "section" and "text" in b]
    assert any("Lorem ipsum" in s and "…" in s for s in sections)
    assert max(slen(s) for s in sections) <= 3000


@pytest.mark.parametrize("sample", [
    "日本語のアラート: ディスクがいっぱいです",
    "🔥🔥🔥 emoji everywhere 🚒👩‍🚒🧯" * 200,
    "עברית ومعها العربية mixed with LTR",
    "combining: e\u0301e\u0301e\u0301 and zero\u200bwidth and \u0000nul\u0007bell",
    "😀" * 3000,  # 3,000 emoji: 6,000 UTF-16 units
])
def test_unicode_keeps_the_limits_counted_in_utf16(sample: str) -> None:
    alerts = [make_alert({"alertname": "Ünïcödé", "service": sample[:100], "instance": f"{sample[:50]}{i}"},
                         {"summary": sample, "description": sample}) for i in range(60)]
    message = build_message(view_of(alerts), GroupStatus(acknowledged_by="Zoë 🦊", ack_comment=sample),
                            now_ns=NOW.ns)
    assert all_problems(message) == []
    header = message["blocks"][0]["text"]["text"]
    assert slen(header) <= 150
    json.dumps(message, ensure_ascii=False).encode("utf-8")  # no lone surrogates, no NULs broke it
    assert "\u0000" not in json.dumps(message, ensure_ascii=False)


def test_label_and_annotation_text_cannot_ping_link_or_format() -> None:
    alerts = []
    for i, h in enumerate(HOSTILE):
        alerts.append(make_alert({"alertname": "Inject", "instance": h, "team": f"t{i}"},
                                 {"summary": f"summary {h} end", "description": f"{h}\n{h} done"}))
    view = view_of(alerts, group_labels={"alertname": "Inject"})
    message = build_message(view, GroupStatus(acknowledged_by="<!channel>", ack_comment="<@U999> *bold* @here"),
                            now_ns=NOW.ns, max_alerts=40)
    for text in texts(message["blocks"]) + [message["text"]]:
        # No mention or link token is left except our own: dates, and links to the URLs we made.
        for token in re.findall(r"<[^>]*>", text):
            assert token.startswith(("<!date^", "<http://prometheus:9090", "<http://alertmanager.example")), token
        assert "<!channel>" not in text and "<@U" not in text and "<!here" not in text
        assert not re.search(r"@(channel|here|everyone)\b", text, re.IGNORECASE), text
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text
    # Formatting characters from alerts only survive inside inline code or a date token's fallback.
    for text in texts(message["blocks"]):
        outside_code = re.sub(r"`[^`\n]*`|<https?://[^|>]*\|", "", text)  # code spans, and the URLs of links
        for pair in ("*bold*", "_italic_", "~strike~", "```"):
            assert pair not in outside_code, text
    body = json.dumps(message["blocks"], ensure_ascii=False)
    assert "summary " in body and " end" in body  # the text itself is still there
    assert "`instance=*bold*`" in body  # label values copy back exactly from inline code


def test_escape_functions() -> None:
    assert escape_text("a < b & c > d") == "a &lt; b &amp; c &gt; d"
    assert escape_text("<!channel>") == "&lt;!channel&gt;"
    assert escape_text("hi @channel and @Here") == "hi @\u2060channel and @\u2060Here"
    assert escape_text("*x*") == "<!date^00000000^{_}|*>x<!date^00000000^{_}|*>"
    assert escape_text("> q\nok > not") == "\u00ad&gt; q\nok &gt; not"
    assert escape_code("a`b\nc<d>") == "a\u02cbb c&lt;d&gt;"
    # Cutting never splits an entity or a token.
    cut = fit_text("&" * 100, 22)
    assert cut == "&amp;" * 4 + "…"
    assert fit_text("**", 20) == "…"


def test_custom_wording_of_a_migrated_config_is_shown() -> None:
    config = """
route:
  receiver: team
receivers:
  - name: team
    slack_configs:
      - channel: '#alerts'
        title: '[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} on {{ .CommonLabels.cluster }}'
        title_link: 'https://grafana.example/d/abc?var-cluster={{ .CommonLabels.cluster }}'
        pretext: 'Heads up, team'
        text: |-
          {{ range .Alerts }}• {{ .Annotations.summary }} ({{ .Labels.instance }})
          {{ end }}
        color: '{{ if eq .Status "firing" }}#ff00ff{{ else }}good{{ end }}'
        footer: 'sent by alertbot'
        fields:
          - title: Cluster
            value: '{{ .CommonLabels.cluster }}'
            short: true
        actions:
          - type: button
            text: 'Dashboard'
            url: 'https://grafana.example/d/abc'
"""
    alerts = [make_alert({"alertname": "Lag", "cluster": "eu-1", "instance": "<!channel>"},
                         {"summary": "lag *high*"})]
    message = build_message(view_of(alerts, config), now_ns=NOW.ns)
    assert all_problems(message) == []
    assert message["blocks"][0]["text"]["text"] == "🔥 [FIRING] Lag on eu-1"
    body = json.dumps(message, ensure_ascii=False)
    assert "Heads up, team" in body
    assert "• lag <!date^00000000^{_}|*>high<!date^00000000^{_}|*> (&lt;!channel&gt;)" in body
    assert "*Cluster*\\neu-1" in body
    assert "sent by alertbot" in body
    assert "<https://grafana.example/d/abc?var-cluster=eu-1|details>" in body
    (att,) = message["attachments"]
    assert att["color"] == "#ff00ff"
    buttons = [e for b in att["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert {"text": {"type": "plain_text", "text": "Dashboard", "emoji": True}, "action_id": "alertbot.action.0",
            "type": "button", "url": "https://grafana.example/d/abc"} in buttons


def test_states_and_interactive_ids() -> None:
    rb = RunbookInfo(True, "API error rate above 1%", "https://runbooks.example/api.md", "api-high-error-rate",
                     "platform-api", ["**Find what fails.** Break errors down by `endpoint`.", "Check [deploys]"
                                      "(https://ci.example/deploys)."], 2,
                     [QueryRef(0, "errors by endpoint"), QueryRef(1, "error ratio")], "")
    alerts = [make_alert({"alertname": "APIHighErrorRate", "service": "api", "severity": "critical"})]
    view = view_of(alerts, runbook=rb, group_labels={"alertname": "APIHighErrorRate", "service": "api"})

    def ids(message: dict) -> list[str]:
        return [e["action_id"] for b in message["blocks"] if b["type"] == "actions" for e in b["elements"]]

    firing = build_message(view, now_ns=NOW.ns)
    assert firing["blocks"][0]["text"]["text"].startswith("🔥 FIRING")
    assert ids(firing) == ["alertbot.ack", "alertbot.silence", "alertbot.runbook", "alertbot.investigate.0",
                           "alertbot.investigate.1"]
    ack_button = next(e for b in firing["blocks"] if b["type"] == "actions" for e in b["elements"]
                      if e["action_id"] == "alertbot.ack")
    assert json.loads(ack_button["value"]) == {"g": view.group_id}
    query = next(e for b in firing["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == "alertbot.investigate.1")
    assert json.loads(query["value"]) == {"g": view.group_id, "rb": "api-high-error-rate", "q": 1}
    body = json.dumps(firing, ensure_ascii=False)
    assert "*Find what fails.* Break errors down by `endpoint`." in body
    assert "<https://ci.example/deploys|deploys>" in body
    assert "…and 2 more steps in the runbook" in body

    acked = build_message(view, GroupStatus(acknowledged_by="U0ALICE", acknowledged_at_ns=NOW.ns,
                                            ack_comment="looking"), now_ns=NOW.ns)
    assert acked["blocks"][0]["text"]["text"].startswith("👀 ACKNOWLEDGED")
    assert "Acknowledged by <@U0ALICE>" in json.dumps(acked)
    assert ids(acked)[0] == "alertbot.unack"

    silenced = build_message(view, GroupStatus(silenced_by="U0BOB", silenced_until_ns=NOW.ns + 3600 * 10**9),
                             now_ns=NOW.ns)
    assert silenced["blocks"][0]["text"]["text"].startswith("🔕 SILENCED")
    expired = build_message(view, GroupStatus(silenced_by="U0BOB", silenced_until_ns=NOW.ns - 1), now_ns=NOW.ns)
    assert expired["blocks"][0]["text"]["text"].startswith("🔥 FIRING")

    resolved = build_message(view.all_resolved(), now_ns=NOW.ns)
    assert resolved["blocks"][0]["text"]["text"] == "✅ RESOLVED · APIHighErrorRate · 1 alert"
    assert ids(resolved) == ["alertbot.runbook"]  # nothing to acknowledge or silence any more
    for m in (firing, acked, silenced, resolved):
        assert all_problems(m) == []


def test_minimal_message_is_always_valid() -> None:
    alerts = [make_alert({"alertname": "X" * 500, "instance": h}) for h in HOSTILE]
    m = minimal_message(view_of(alerts))
    assert all_problems(m) == [] and len(m["blocks"]) == 2


def test_silence_links_open_the_upstream_alertmanager_or_are_left_out() -> None:
    """The links pointed at `<bot>/#/silences/new`, a page alertbot does not have (a 404). With
    an upstream Alertmanager (ALERTMANAGER_URL) they open its silence form; without one there is
    no link (the Silence button silences from Slack)."""
    from bot.notify.slack.settings import SlackSettings

    alerts = [make_alert({"alertname": "X", "instance": "a"})]
    bot_url = "http://alertbot.example:9093"
    without = texts(build_message(view_of(alerts, external_url=bot_url), None, now_ns=NOW.ns))
    assert not [t for t in without if "silences/new" in t], without
    upstream = SlackSettings.from_env({"ALERTMANAGER_URL": "https://am.example/"}).silence_base
    assert upstream == "https://am.example"
    with_am = texts(build_message(view_of(alerts, external_url=bot_url, silence_base=upstream), None, now_ns=NOW.ns))
    links = [t for t in with_am if "silences/new" in t]
    assert links and all("<https://am.example/#/silences/new?filter=" in t and bot_url not in t for t in links), links
