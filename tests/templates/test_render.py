"""Rendering: bounds, the safe fallback, Slack channels, the data builder and error locations."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from bot.templates import AlertSnapshot, TemplateData, TemplateError, Templates, is_valid_slack_channel


def _data(n: int = 3, team: str | None = "ml", receiver: str = "team.ml") -> TemplateData:
    alerts = []
    for i in range(n):
        labels = {"alertname": "DiskFull", "instance": f"db-{i}:9100", "severity": "critical"}
        if team is not None:
            labels["team"] = team
        alerts.append(
            AlertSnapshot(
                labels=labels,
                annotations={"summary": "disk full", "description": f"disk {i} is full"},
                starts_at=dt.datetime(2026, 11, 26, 12, 0, i, 123456, tzinfo=dt.timezone.utc),
                ends_at=None,
                generator_url=f"http://prom/graph?i={i}",
                status="firing",
            )
        )
    return TemplateData.build(receiver=receiver, alerts=alerts, group_labels={"alertname": "DiskFull"},
                              external_url="https://am.example.com")


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates.default()


def test_builder_matches_alertmanagers_rules(templates: Templates) -> None:
    data = _data()
    d = data.data
    assert d.Receiver == "team\\.ml"  # regexp.QuoteMeta, as Alertmanager does
    assert d.Status == "firing"
    assert dict(d.CommonLabels) == {"alertname": "DiskFull", "severity": "critical", "team": "ml"}
    assert dict(d.CommonAnnotations) == {"summary": "disk full"}
    assert d.Alerts[0].Fingerprint == "%016x" % int(d.Alerts[0].Fingerprint, 16)
    assert templates.render('{{ template "slack.default.title" . }}', data) == "[FIRING:3] DiskFull (critical ml)"
    assert templates.render("{{ (index .Alerts 1).StartsAt }}", data) == "2026-11-26 12:00:01.123456 +0000 UTC"
    resolved = TemplateData.build(
        receiver="r", group_labels={}, external_url="",
        alerts=[AlertSnapshot(labels={"a": "1"}, status="resolved", starts_at="2026-11-26T10:00:00+02:00",
                              ends_at="2026-11-26T11:00:00+02:00")],
    )
    assert resolved.data.Status == "resolved"
    assert templates.render("{{ range .Alerts }}{{ .EndsAt }}{{ end }}", resolved) == "2026-11-26 11:00:00 +0200 +0200"


def test_output_size_is_bounded() -> None:
    small = Templates.default(max_output=1000)
    text = "{{ range .Alerts }}{{ range $.Alerts }}{{ range $.Alerts }}0123456789{{ end }}{{ end }}{{ end }}"
    assert len(small.render(text, _data(4))) == 640
    with pytest.raises(TemplateError) as info:
        small.render(text, _data(5))
    assert info.value.phase == "exec"
    assert info.value.message == "output is larger than 1000 characters"


def test_time_is_bounded() -> None:
    quick = Templates.default(time_limit=0.2)
    # Each level calls the next twice: 2**60 calls if nothing stopped it.
    text = (
        '{{ define "fork" }}{{ if lt (len .) 60 }}{{ template "fork" (printf "%sx" .) }}'
        '{{ template "fork" (printf "%sy" .) }}{{ end }}{{ end }}{{ template "fork" "" }}'
    )
    quick.check(text)  # recursion with a condition is legitimate; only the clock can stop this one
    start = time.monotonic()
    with pytest.raises(TemplateError) as info:
        quick.render(text, _data())
    assert time.monotonic() - start < 2
    assert info.value.message == "rendering took longer than 0.2s"


def test_template_depth_is_bounded(templates: Templates) -> None:
    text = '{{ define "down" }}{{ if . }}{{ template "down" slice . 1 }}{{ end }}{{ end }}{{ template "down" .R }}'
    with pytest.raises(TemplateError) as info:
        templates.render(text.replace(".R", '"' + "x" * 150 + '"'), _data())
    assert info.value.message == "exceeded maximum template depth (100)"
    assert templates.render(text.replace(".R", '"' + "x" * 90 + '"'), _data()) == ""


def test_render_safe_falls_back_and_says_why(templates: Templates) -> None:
    data = _data()
    with capture_logs() as logs:
        out = templates.render_safe("{{ index .Alerts 9 }}", data, fallback='{{ template "slack.default.title" . }}',
                                    field="slack_configs[0].title")
    assert out == "[FIRING:3] DiskFull (critical ml)"
    assert logs[0]["event"] == "template_render_failed"
    assert logs[0]["field"] == "slack_configs[0].title"
    assert "index out of range: 9" in logs[0]["error"]
    with capture_logs() as logs:
        assert templates.render_safe("{{ .Nope }}", data, fallback="{{ .AlsoNope }}") == ""
    assert [e["event"] for e in logs] == ["template_render_failed", "template_fallback_failed"]
    with capture_logs() as logs:
        assert templates.render_safe("{{ .Status }}", data, fallback="x") == "firing"
    assert logs == []


def test_render_channel(templates: Templates) -> None:
    text = "#team-{{ .CommonLabels.team }}"
    with capture_logs() as logs:
        assert templates.render_channel(text, _data(team="ml"), default_channel="#alerts") == "#team-ml"
        assert templates.render_channel(text, _data(team=None), default_channel="#alerts") == "#alerts"
        assert templates.render_channel(text, _data(team="Has Space"), default_channel="#alerts") == "#alerts"
        assert templates.render_channel("{{ .CommonLabels.team }}", _data(team=None), default_channel="#a") == "#a"
        assert templates.render_channel("{{ .Nope }}", _data(), default_channel="#a") == "#a"
        assert templates.render_channel("  C024BE91L \n", _data(), default_channel="#a") == "C024BE91L"
    events = [e["event"] for e in logs]
    assert events == ["slack_channel_invalid", "slack_channel_invalid", "slack_channel_invalid",
                      "slack_channel_template_failed"]
    assert logs[0]["rendered"] == "#team-" and logs[0]["channel"] == "#alerts"
    assert logs[2]["reason"] == "empty"


@pytest.mark.parametrize(
    ("channel", "valid"),
    [("#alerts", True), ("#ml-team_2", True), ("#équipe", True), ("@oncall", True), ("C024BE91L", True),
     ("", False), ("#", False), ("#team-", False), ("#Team", False), ("#a b", False), ("alerts", False),
     ("#" + "x" * 81, False), ("#a,b", False)],
)
def test_slack_channel_names(channel: str, valid: bool) -> None:
    assert is_valid_slack_channel(channel) is valid


def test_exec_error_locations(templates: Templates) -> None:
    text = "line one\n  é {{ .Status }} {{ .Alerts.Nope }}"
    with pytest.raises(TemplateError) as info:
        templates.render(text, _data())
    err = info.value
    # Go counts bytes ("é" is two), the structured column counts characters.
    assert str(err) == ('template: :2:29: executing "" at <.Alerts.Nope>: '
                        "can't evaluate field Nope in type template.Alerts")
    assert (err.name, err.line, err.column, err.phase) == ("", 2, 29, "exec")


def test_inline_defines_do_not_leak(templates: Templates) -> None:
    data = _data()
    assert templates.render('{{ define "__subject" }}mine{{ end }}{{ template "slack.default.title" . }}', data) == "mine"
    assert templates.render('{{ template "slack.default.title" . }}', data) == "[FIRING:3] DiskFull (critical ml)"


def test_template_files_and_globs(tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.tmpl").write_text('{{ define "slack.default.title" }}A {{ .Status }}{{ end }}')
    (tmp_path / "t" / "b.tmpl").write_text('{{ define "extra" }}B{{ end }}top of b')
    templates = Templates.from_globs(["t/*.tmpl", "missing/*.tmpl"], base_dir=tmp_path)
    data = _data()
    assert templates.render('{{ template "slack.default.title" . }}', data) == "A firing"
    assert templates.render('{{ template "extra" }}|{{ template "b.tmpl" }}', data) == "B|top of b"
    assert [p.name for p in templates.files] == ["a.tmpl", "b.tmpl"]
    assert "extra" in templates.names and "slack.default.title" in templates.names
    with pytest.raises(TemplateError):
        Templates.from_globs(["[unclosed"], base_dir=tmp_path)


def test_non_utf8_bytes_come_out_replaced(templates: Templates) -> None:
    # slice cuts "é" in half: Go emits the raw byte; the text we hand on must be valid UTF-8.
    assert templates.render('{{ slice "é" 0 1 }}', _data()) == "\ufffd"
    assert templates.render('{{ len "é" }} {{ slice "aé" 1 }}', _data()) == "2 é"


def test_absurd_nesting_is_a_template_error(templates: Templates) -> None:
    deep = "{{ if true }}" * 3000 + "x" + "{{ end }}" * 3000
    with pytest.raises(TemplateError) as info:
        templates.check(deep)
    assert info.value.message == "actions nested too deeply to parse"
    fine = "{{ if true }}" * 100 + "x" + "{{ end }}" * 100
    assert templates.render(fine, _data()) == "x"
