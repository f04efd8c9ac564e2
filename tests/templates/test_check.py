"""Bad templates give a clear error at config load (`Templates.check`), without rejecting good ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.templates import TemplateError, Templates
from tests.templates.conformance import expected, template_sets


@pytest.fixture(scope="module")
def templates() -> Templates:
    return Templates.default()


def _check_error(templates: Templates, text: str) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        templates.check(text)
    return info.value


# The list of bad templates: each is caught by check(), with Go's message where Go has one.
@pytest.mark.parametrize(
    ("text", "phase", "message", "line", "column"),
    [
        ("{{ .Status", "parse", "template: :1: unclosed action", 1, 11),
        ("ok\n{{ if .Status }}\nnever ended", "parse", "template: :3: unexpected EOF", 3, 12),
        ("{{ .Status | nosuch }}", "parse", 'template: :1: function "nosuch" not defined', 1, 14),
        (
            '{{ template "team.title" . }}',
            "check",
            'template: :1:12: executing "" at <{{template "team.title" .}}>: template "team.title" not defined',
            1,
            13,
        ),
        (
            '{{ toUpper .Status "x" }}',
            "check",
            'template: :1:3: executing "" at <toUpper>: wrong number of args for toUpper: want 1 got 2',
            1,
            4,
        ),
        (
            "{{ .CommonLabels.Remove }}",
            "check",
            'template: :1:16: executing "" at <.CommonLabels.Remove>: wrong number of args for Remove: want 1 got 0',
            1,
            17,
        ),
        ("{{ range 5 }}x{{ end }}", "check", 'template: :1:9: executing "" at <5>: range can\'t iterate over 5', 1, 10),
        (
            '{{ define "loop" }}{{ template "loop" . }}{{ end }}{{ template "loop" . }}',
            "check",
            'template: :1:31: executing "loop" at <{{template "loop" .}}>: recursion without end: "loop" → "loop" '
            "(each calls the next unconditionally)",
            1,
            32,
        ),
    ],
    ids=["unclosed-action", "unclosed-if", "unknown-function", "undefined-template", "wrong-arg-count",
         "wrong-method-args", "range-over-number", "recursion-without-end"],
)
def test_bad_templates_fail_at_check(templates: Templates, text: str, phase: str, message: str, line: int,
                                     column: int) -> None:
    err = _check_error(templates, text)
    assert (err.phase, str(err), err.line, err.column) == (phase, message, line, column)
    assert err.name == ""
    assert message.endswith(err.message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{ .Alerts.firing }}", "can't evaluate field firing in type template.Alerts"),
        ("{{ .CommonLabel.team }}", "can't evaluate field CommonLabel in type *template.Data"),
        ("{{ range .Alerts }}{{ .Label.x }}{{ end }}", "can't evaluate field Label in type template.Alert"),
        ("{{ with index .Alerts 0 }}{{ .StartsAt.Fromat \"15:04\" }}{{ end }}", "can't evaluate field Fromat in type time.Time"),
        ("{{ range $i, $a := .Alerts }}{{ $a.Annotation }}{{ end }}", "can't evaluate field Annotation in type template.Alert"),
        ("{{ range .CommonLabels.SortedPairs }}{{ .Key }}{{ end }}", "can't evaluate field Key in type template.Pair"),
        ("{{ (index .Alerts 0).StartsAt.wall }}", "wall is an unexported field of struct type time.Time"),
        ("{{ toUpper 3 }}", "expected string; found 3"),
        ("{{ join \",\" .Status }}", "wrong type for value; expected []string; got string"),
        ("{{ .Alerts | toUpper }}", "wrong type for value; expected string; got template.Alerts"),
        ("{{ len 3 }}", "error calling len: len of type int"),
        ("{{ eq .Status 1 }}", "error calling eq: incompatible types for comparison"),
        ("{{ lt .Alerts 1 }}", "error calling lt: invalid type for comparison"),
        ('{{ match "(" .Status }}', "error calling match: error parsing regexp: missing closing ): `(`"),
        ("{{ nil }}", "nil is not a command"),
        ('{{ . "x" }}', "can't give argument to non-function ."),
        ("{{ range .Status }}{{ end }}", "range can't iterate over a value of type string"),
        ('{{ define "a" }}{{ template "b" . }}{{ end }}{{ define "b" }}{{ template "a" . }}{{ end }}{{ template "a" . }}',
         'recursion without end: "a" → "b" → "a" (each calls the next unconditionally)'),
    ],
)
def test_static_mistakes_caught(templates: Templates, text: str, message: str | None) -> None:
    err = _check_error(templates, text)
    assert err.phase == "check"
    if message is not None:
        assert err.message == message, str(err)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "plain",
        '{{ template "slack.default.title" . }}',
        "{{ range .Alerts }}{{ .Labels.anything }}{{ .Annotations.whatever }}{{ end }}",
        "{{ .CommonLabels.SortedPairs }}{{ .GroupLabels.Names }}{{ .CommonAnnotations.Values }}",
        '{{ define "r" }}{{ if . }}{{ len . }} {{ template "r" slice . 1 }}{{ end }}{{ end }}{{ template "r" .Alerts }}',
        "{{ $x := 1 }}{{ $x = .Status }}{{ $x }}",
        "{{ index .Alerts 0 }}",  # fails only when there are no alerts
        '{{ with .Alerts }}{{ (index . 0).Labels.instance | reReplaceAll ":.*" "" }}{{ end }}',
        "{{ range $k, $v := .CommonLabels }}{{ $k }}={{ $v | toUpper }}{{ end }}",
        '{{ .StartsAt }}{{ template "nodot" }}{{ define "nodot" }}{{ .Anything.At.All }}{{ end }}',
        "{{ (index .Alerts 0).StartsAt.Format \"15:04\" }} {{ (index .Alerts 0).EndsAt.Sub (index .Alerts 0).StartsAt }}",
        '{{ date "2006" (index .Alerts 0).StartsAt }} {{ humanizeDuration 90 }} {{ trimSpace " x " }}',
        "{{ toJson .Alerts.Firing }} {{ .CommonLabels | toJson }}",
    ],
)
def test_good_templates_pass(templates: Templates, text: str) -> None:
    if text.startswith("{{ .StartsAt }}"):
        # .StartsAt is not a field of the notification data: the checker must say so...
        with pytest.raises(TemplateError):
            templates.check(text)
        # ...but a template called without data is not typed, so its body is not judged.
        templates.check('{{ template "nodot" }}{{ define "nodot" }}{{ .Anything.At.All }}{{ end }}')
        return
    templates.check(text)


def test_check_never_rejects_what_alertmanager_renders(tmp_path: Path) -> None:
    """On the conformance corpus: a rejected template fails in Alertmanager on every data set with alerts,
    and a template Go cannot parse is rejected with Go's own message."""
    sets = template_sets(tmp_path)
    exp = expected()
    with_alerts = [i for i, d in enumerate(exp["datasets"]) if d["data"]["alerts"]]
    rejected = 0
    for entry in exp["templates"]:
        results = entry["results"]
        try:
            sets[entry["set"]].check(entry["text"])
        except TemplateError as err:
            rejected += 1
            assert all("error" in results[i] for i in with_alerts), (entry["id"], str(err))
            if err.phase == "parse":
                assert all(r.get("error") == str(err) for r in results), entry["id"]
        else:
            errors = {r.get("error") for r in results}
            is_parse_error = len(errors) == 1 and None not in errors and ": executing " not in next(iter(errors))
            assert not is_parse_error, f"{entry['id']}: Go cannot parse it but check() passed"
    assert rejected >= 60


def test_check_follows_calls_into_template_files(tmp_path: Path) -> None:
    (tmp_path / "team.tmpl").write_text(
        '{{ define "team.title" }}{{ .CommonLabels.team }} {{ template "team.suffix" . }}{{ end }}\n'
        '{{ define "team.suffix" }}{{ .Alerts.Frining | len }}{{ end }}\n'
    )
    templates = Templates.from_globs(["*.tmpl"], base_dir=tmp_path)
    err = _check_error(templates, '{{ template "team.title" . }}')
    assert err.name == "team.tmpl"
    assert (err.line, err.column) == (2, 37)
    assert str(err) == (
        'template: team.tmpl:2:36: executing "team.suffix" at <.Alerts.Frining>: '
        "can't evaluate field Frining in type template.Alerts"
    )


def test_parse_errors_in_template_files_name_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.tmpl").write_text('{{ define "x" }}\nfine\n{{ if .Status }}\n{{ end }}\n{{ end')
    with pytest.raises(TemplateError) as info:
        Templates.from_globs([str(tmp_path / "*.tmpl")])
    err = info.value
    assert (err.name, err.line, err.phase) == ("broken.tmpl", 5, "parse")
    assert str(err) == "template: broken.tmpl:5: unclosed action"


def test_check_set_judges_template_files_on_their_own(tmp_path: Path) -> None:
    (tmp_path / "ok.tmpl").write_text('{{ define "ok" }}{{ .Anything | printf "%v" }}{{ template "helper" . }}{{ end }}'
                                      '{{ define "helper" }}{{ len . }}{{ end }}')
    Templates.from_globs(["ok.tmpl"], base_dir=tmp_path).check_set()
    (tmp_path / "bad.tmpl").write_text('{{ define "bad" }}\n{{ toUpper "a" "b" }}{{ end }}')
    with pytest.raises(TemplateError) as info:
        Templates.from_globs(["*.tmpl"], base_dir=tmp_path).check_set()
    assert (info.value.name, info.value.line) == ("bad.tmpl", 2)
    assert info.value.message == "wrong number of args for toUpper: want 1 got 2"
