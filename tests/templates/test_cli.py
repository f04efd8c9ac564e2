"""`alertbot template render`: a template tried on a recorded webhook payload, errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli.main import main
from tests.templates.conformance import HERE

PAYLOAD = json.loads((HERE / "corpus" / "datasets" / "recorded-grouped.json").read_text())["payload"]


@pytest.fixture()
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "payload.json").write_text(json.dumps(PAYLOAD))
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "team.tmpl").write_text(
        '{{ define "team.title" }}{{ .CommonLabels.alertname }} x{{ len .Alerts }}{{ end }}'
    )
    (tmp_path / "routes.yaml").write_text(
        "route:\n  receiver: x\nreceivers:\n- name: x\ntemplates:\n- templates/*.tmpl\n"
    )
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["template", "render", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_render_with_config_templates(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--config", str(workdir / "routes.yaml"), "--data", str(workdir / "payload.json"),
                         "--template", '{{ template "team.title" . }} | {{ template "slack.default.title" . }}')
    assert (code, err) == (0, "")
    assert out == "HighLatency x5 | [FIRING:5] HighLatency api (grouped warning)"


def test_render_without_config_uses_the_defaults(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--data", str(workdir / "payload.json"),
                       "--template", '{{ template "pagerduty.default.instances" .Alerts.Firing }}')
    assert code == 0
    assert out.startswith("Labels:\n - alertname = HighLatency\n - instance = api-0:8080\n")
    assert out.count("Source: http://prometheus.example.com") == 5


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ .Status", "alertbot: error: template: :1: unclosed action"),
        ("{{ .Alerts.firing }}", "can't evaluate field firing in type template.Alerts"),
        ('{{ template "team.nope" . }}', 'template "team.nope" not defined'),
    ],
)
def test_bad_template_is_one_clear_line(workdir: Path, capsys: pytest.CaptureFixture[str], template: str,
                                        message: str) -> None:
    code, out, err = run(capsys, "--config", str(workdir / "routes.yaml"), "--data", str(workdir / "payload.json"),
                         "--template", template)
    assert code == 1
    assert out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_no_check_reports_the_render_error(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--no-check", "--data", str(workdir / "payload.json"), "--template", "{{ index .Alerts 9 }}")
    assert code == 1
    assert "error calling index: index out of range: 9" in err


def test_bad_data_files(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "bad.json").write_text('{"alerts": [')
    (workdir / "list.json").write_text("[1, 2]")
    (workdir / "wrong.json").write_text('{"alerts": [{"labels": {"a": 1}}]}')
    for name, message in [("nope.json", "nope.json: no such file"), ("bad.json", "bad.json:1: invalid JSON"),
                          ("list.json", "not an Alertmanager webhook payload"),
                          ("wrong.json", "labels must be an object of strings")]:
        code, _, err = run(capsys, "--data", str(workdir / name), "--template", "x")
        assert code == 1 and message in err, err


def test_broken_template_file_names_it(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (workdir / "templates" / "zz.tmpl").write_text("{{ define \"x\" }}\n{{ if }}{{ end }}{{ end }}")
    code, _, err = run(capsys, "--config", str(workdir / "routes.yaml"), "--data", str(workdir / "payload.json"),
                       "--template", "x")
    assert code == 1
    assert "templates: template: zz.tmpl:2: missing value for if" in err
