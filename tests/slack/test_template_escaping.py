"""A migrated `slack_configs` template sees alert text only as text: label names and values,
annotations, `.GeneratorURL`, the group and common sets — everything an alert supplied passes
one rule before a template sees it, so no mention, channel link or link of the alert's making
reaches Slack, wherever the template puts it (even right after a `<` of its own).

Through the real engine, outbox and worker, against the fake Slack (what chat.postMessage got).
"""

from __future__ import annotations

import json
import re

import pytest

from bot.notify.slack.mrkdwn import alert_text
from tests.fakes.slack import FakeSlack
from tests.slack.builders import texts
from tests.slack.inprocess import InProcessBot

HOSTILE = ["<!channel>", "<!here>", "<!everyone>", "<@U0ADMIN01>", "<#C0123ABC|general>",
           "<!subteam^S0123|@oncall>", "<https://evil.example|click me>", "@here", "!channel", "@U0ADMIN01",
           "#C0123ABC", "a>b<!here>"]

# A template that shows every piece of alert data, several ways, some right after a `<` of its own.
EVERYTHING = r"""
{{- define "kv" }}{{ range .SortedPairs }}[{{ .Name }}={{ .Value }}]<{{ .Name }}>|<{{ .Value }}|v> {{ end }}{{ end -}}
{{- define "all" -}}
pod={{ .CommonLabels.pod_name }} idx={{ index .CommonLabels "pod_name" }} ext <{{ .ExternalURL }}|am> {{ .ExternalURL }}
{{ range .Alerts }}alert {{ .Status }} source {{ .GeneratorURL }} <{{ .GeneratorURL }}|graph> <{{ .GeneratorURL }}>
labels {{ template "kv" .Labels }}
annotations {{ template "kv" .Annotations }}
{{ range $k, $v := .Labels }}({{ $k }}:{{ $v }}){{ end }} {{ .Labels.Names }} {{ .Labels.Values }} {{ .Labels }}
{{ end -}}
group {{ template "kv" .GroupLabels }} common {{ template "kv" .CommonLabels }} {{ template "kv" .CommonAnnotations }}
{{ range .CommonLabels.Names }}<{{ . }}> {{ end }}{{ .CommonLabels.Remove (stringSlice "alertname") }}
json {{ toJson .Alerts }} {{ toJson .CommonLabels }}
{{- end -}}
"""

CONFIG = """
route:
  receiver: team
  group_by: ['...']
  group_wait: 100ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: team
    slack_configs:
      - channel: '#alerts'
        title: '{{ template "all" . }}'
        pretext: '{{ template "all" . }}'
        text: '{{ template "all" . }}'
        footer: '{{ template "all" . }}'
        fallback: '{{ template "all" . }}'
        fields:
          - title: '{{ template "all" . }}'
            value: '{{ template "all" . }}'
templates: [TEMPLATES]
"""

# Tokens Slack turns into mentions or links: <!…> (except the bot's own date tokens), <@…>, <#…>.
SPECIAL = re.compile(r"<(?:!(?!date\^)|@|#)")


def hostile_alerts() -> list[dict]:
    labels = {"alertname": "Injected", "pod_name": "api_7"}
    annotations = {"summary": "hello"}
    for i, text in enumerate(HOSTILE):
        labels[text] = text  # a label name in the default (UTF-8) mode can be anything
        labels[f"v{i}"] = text
        annotations[text] = text
        annotations[f"a{i}"] = text
    return [{"labels": {**labels, "instance": f"evil-{i}"}, "annotations": annotations, "generatorURL": url}
            for i, url in enumerate(("<https://evil.example|x>", "!channel"))] + \
           [{"labels": {**labels, "instance": "good"}, "annotations": annotations,
             "generatorURL": "http://prometheus:9090/graph?g0.expr=rate(http_requests_total[5m])&g0.tab=1"}]


def attacker_tokens(text: str) -> list[str]:
    found = [m.group(0) for m in SPECIAL.finditer(text)]
    found += re.findall(r"<https?://evil[^>]*>", text)
    return found


@pytest.fixture
async def slack() -> FakeSlack:
    s = FakeSlack(["#alerts"])
    await s.start()
    yield s
    await s.stop()


async def test_no_alert_supplied_mention_or_link_survives_a_custom_template(slack: FakeSlack, tmp_path) -> None:
    tmpl = tmp_path / "all.tmpl"
    tmpl.write_text(EVERYTHING)
    bot = await InProcessBot(CONFIG.replace("TEMPLATES", json.dumps(str(tmpl))), slack).start()
    try:
        await bot.post(*hostile_alerts())
        await slack.wait_until(lambda: len(slack.parents("#alerts")) == 3, 15, "the three groups' messages")
    finally:
        await bot.stop()
    for m in slack.parents("#alerts"):
        post = next(c for c in slack.calls_of("chat.postMessage") if c.answer.get("ts") == m.ts)
        shown = texts(post.args.get("blocks")) + texts(post.args.get("attachments")) + [post.args.get("text", "")]
        body = "\n".join(shown)
        assert "alert firing" in body and "&lt;!channel&gt;" in body  # the template ran, with the data in it
        assert attacker_tokens(body) == [], attacker_tokens(body)[:10]
        assert "@here" not in body.replace("@\u2060here", "")  # no bare broadcast word either
        # Lookups by the label's own name still work, and the value is the alert's.
        assert "pod=api<!date^00000000^{_}|_>7 idx=api<!date^00000000^{_}|_>7" in body
        assert "<http://bot.example|am>" in body
    good = next(m for m in slack.parents("#alerts") if "good" in json.dumps(m.blocks))
    body = json.dumps(good.blocks, ensure_ascii=False)
    # A real source link stays a working link: & as Slack wants it in a URL, nothing else changed.
    assert "<http://prometheus:9090/graph?g0.expr=rate(http_requests_total[5m])&amp;g0.tab=1|graph>" in body


@pytest.mark.parametrize("text", HOSTILE + ["", "plain", "x_y", "50% < 60%"])
def test_the_rule_never_yields_a_special_token_even_after_a_templates_own_bracket(text: str) -> None:
    out = alert_text(text)
    for wrapped in (out, f"<{out}>", f"<{out}|label>", f"<https://ok.example/{out}|label>", f"x {out} y"):
        assert attacker_tokens(wrapped) == [], wrapped
        assert "|" not in out or not out.startswith("http")


@pytest.mark.parametrize("url,want", [
    ("https://prom.example/graph?g0.expr=up_x&g0.tab=1", "https://prom.example/graph?g0.expr=up_x&amp;g0.tab=1"),
    ("https://evil.example/a|b>c<d", "https://evil.example/a%7Cb%3Ec%3Cd"),
    ("https://x.example/@channel", "https://x.example/%40channel"),
])
def test_a_url_stays_a_url(url: str, want: str) -> None:
    assert alert_text(url) == want
