"""Every validation error of Alertmanager's config table, with its message, line and path.

The messages are Alertmanager's (reference §1.4); each case also pins the line and the
path in the document, which Alertmanager does not give and we do.
"""

from __future__ import annotations

import textwrap

import pytest

from bot.config import ConfigError, load_config_text

RECEIVERS = "receivers:\n- name: x\n"


def errors_of(text: str, mode: str = "fallback") -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(textwrap.dedent(text), "routes.yaml", mode)  # type: ignore[arg-type]
    return [str(i) for i in info.value.issues]


CASES = [
    # (id, document, expected first issue)
    ("empty file", "", "routes.yaml: no route provided in config"),
    ("only comments", "# nothing here\n", "routes.yaml: no route provided in config"),
    ("no route", "global:\n  resolve_timeout: 1m\n" + RECEIVERS, "routes.yaml:1: no routes provided"),
    ("root without receiver", "route:\n  group_by: [a]\n" + RECEIVERS,
     "routes.yaml:1 route: root route must specify a default receiver"),
    ("root with match", "route:\n  receiver: x\n  match:\n    a: b\n" + RECEIVERS,
     "routes.yaml:1 route: root route must not have any matchers"),
    ("root with match_re", "route:\n  receiver: x\n  match_re:\n    a: b.*\n" + RECEIVERS,
     "routes.yaml:1 route: root route must not have any matchers"),
    ("root with matchers", "route:\n  receiver: x\n  matchers: ['a=\"b\"']\n" + RECEIVERS,
     "routes.yaml:1 route: root route must not have any matchers"),
    ("root with mute intervals",
     "route:\n  receiver: x\n  mute_time_intervals: [night]\n" + RECEIVERS + "time_intervals:\n- name: night\n",
     "routes.yaml:3 route.mute_time_intervals: root route must not have any mute time intervals"),
    ("root with active intervals",
     "route:\n  receiver: x\n  active_time_intervals: [night]\n" + RECEIVERS + "time_intervals:\n- name: night\n",
     "routes.yaml:3 route.active_time_intervals: root route must not have any active time intervals"),
    ("continue on root", "route:\n  receiver: x\n  continue: true\n" + RECEIVERS,
     "routes.yaml:3 route.continue: cannot have continue in root route"),
    ("undefined receiver deep", "route:\n  receiver: x\n  routes:\n  - receiver: x\n    routes:\n"
                                "    - matchers: [a=b]\n      receiver: nope\n" + RECEIVERS,
     'routes.yaml:7 route.routes[0].routes[0].receiver: undefined receiver "nope" used in route'),
    ("undefined time interval", "route:\n  receiver: x\n  routes:\n  - receiver: x\n    mute_time_intervals: [night]\n" + RECEIVERS,
     'routes.yaml:5 route.routes[0].mute_time_intervals[0]: undefined time interval "night" used in route'),
    ("duplicate receiver", "route:\n  receiver: x\n" + RECEIVERS + "- name: x\n",
     'routes.yaml:5 receivers[1].name: notification config name "x" is not unique'),
    ("receiver without name", "route:\n  receiver: x\n" + RECEIVERS + "- webhook_configs: []\n",
     "routes.yaml:5 receivers[1]: missing name in receiver"),
    ("duplicated group_by", "route:\n  receiver: x\n  group_by: [a, b, a]\n" + RECEIVERS,
     'routes.yaml:3 route.group_by[2]: duplicated label "a" in group_by'),
    ("wildcard with others", "route:\n  receiver: x\n  group_by:\n  - a\n  - '...'\n" + RECEIVERS,
     "routes.yaml:3 route.group_by: cannot have wildcard group_by (`...`) and other labels at the same time"),
    ("group_interval zero", "route:\n  receiver: x\n  group_interval: 0s\n" + RECEIVERS,
     "routes.yaml:3 route.group_interval: group_interval cannot be zero"),
    ("repeat_interval zero", "route:\n  receiver: x\n  routes:\n  - receiver: x\n    repeat_interval: 0\n" + RECEIVERS,
     "routes.yaml:5 route.routes[0].repeat_interval: repeat_interval cannot be zero"),
    ("invalid match key", "route:\n  receiver: x\n  routes:\n  - match:\n      a-b: c\n" + RECEIVERS,
     'routes.yaml:5 route.routes[0].match.a-b: invalid label name "a-b"'),
    ("bad regex in matchers", "route:\n  receiver: x\n  routes:\n  - matchers:\n    - foo=bar\n    - 'foo=~\"(bar\"'\n" + RECEIVERS,
     "routes.yaml:6 route.routes[0].matchers[1]: error parsing regexp: missing closing ): `^(?:(bar)$`"),
    ("bad regex in match_re", "route:\n  receiver: x\n  routes:\n  - match_re:\n      foo: '(bar'\n" + RECEIVERS,
     "routes.yaml:5 route.routes[0].match_re.foo: error parsing regexp: missing closing ): `^(?:(bar)$`"),
    ("empty match_re value", "route:\n  receiver: x\n  routes:\n  - match_re:\n      foo:\n" + RECEIVERS,
     'routes.yaml:5 route.routes[0].match_re.foo: invalid regexp value for "foo"'),
    ("unknown field", "route:\n  receiver: x\n  routes:\n  - receiver: x\n    recevier: y\n" + RECEIVERS,
     "routes.yaml:5 route.routes[0].recevier: field recevier not found in type config.plain"),
    ("unknown top-level field", "route:\n  receiver: x\n" + RECEIVERS + "inhibit_rule: []\n",
     "routes.yaml:5 inhibit_rule: field inhibit_rule not found in type config.plain"),
    ("bad duration", "route:\n  receiver: x\n  routes:\n  - receiver: x\n    group_wait: 5x\n" + RECEIVERS,
     'routes.yaml:5 route.routes[0].group_wait: not a valid duration string: "5x"'),
    ("duplicate time interval",
     "route:\n  receiver: x\n" + RECEIVERS + "time_intervals:\n- name: n\n- name: n\n",
     'routes.yaml:7 time_intervals[1].name: time interval "n" is not unique'),
    ("duplicate mute time interval",
     "route:\n  receiver: x\n" + RECEIVERS + "mute_time_intervals:\n- name: n\n- name: n\n",
     'routes.yaml:7 mute_time_intervals[1].name: mute time interval "n" is not unique'),
    ("bad matcher syntax", "route:\n  receiver: x\n  routes:\n  - matchers: ['foo=\"bar']\n" + RECEIVERS,
     'routes.yaml:4 route.routes[0].matchers[0]: matcher value contains unescaped double quote: "bar'),
    ("webhook without url", "route:\n  receiver: x\nreceivers:\n- name: x\n  webhook_configs:\n  - send_resolved: true\n",
     "routes.yaml:6 receivers[0].webhook_configs[0]: missing URL in webhook config"),
    ("pagerduty without key", "route:\n  receiver: x\nreceivers:\n- name: x\n  pagerduty_configs:\n  - severity: critical\n",
     "routes.yaml:6 receivers[0].pagerduty_configs[0]: missing service or routing key in PagerDuty config"),
    ("bad weekday", "route:\n  receiver: x\n" + RECEIVERS +
     "time_intervals:\n- name: n\n  time_intervals:\n  - weekdays: ['monday:funday']\n",
     "routes.yaml:8 time_intervals[0].time_intervals[0].weekdays[0]: funday is not a valid weekday"),
    ("bad time range", "route:\n  receiver: x\n" + RECEIVERS +
     "time_intervals:\n- name: n\n  time_intervals:\n  - times:\n    - start_time: '17:00'\n      end_time: '09:00'\n",
     "routes.yaml:9 time_intervals[0].time_intervals[0].times[0]: start time cannot be equal or greater than end time"),
    ("duplicate key", "route:\n  receiver: x\n  receiver: y\n" + RECEIVERS,
     'routes.yaml:3 route.receiver: field receiver already set in type config.plain (first at line 2)'),
    ("duplicate map key", "route:\n  receiver: x\n  routes:\n  - match:\n      a: b\n      a: c\n" + RECEIVERS,
     'routes.yaml:6 route.routes[0].match.a: key "a" already set in map (first at line 5)'),
    ("bad url scheme", "route:\n  receiver: x\nreceivers:\n- name: x\n  webhook_configs:\n  - url: ftp://host/\n",
     'routes.yaml:6 receivers[0].webhook_configs[0].url: unsupported scheme "ftp" for URL'),
    ("undefined escalation receiver", "route:\n  receiver: x\n  routes:\n  - receiver: x\n    escalation:\n"
                                      "      page_after: 10m\n      receiver: pd\n" + RECEIVERS,
     'routes.yaml:7 route.routes[0].escalation.receiver: undefined receiver "pd" used in route escalation'),
    ("escalation receiver that cannot page", "route:\n  receiver: x\n  escalation:\n    page_after: 10m\n"
                                             "    receiver: x\n" + RECEIVERS,
     'routes.yaml:5 route.escalation.receiver: escalation receiver "x" has no pagerduty_configs: it cannot page'),
    # Route labels are Alertmanager 0.34's; like 0.25, the bot does not know the field.
    ("route labels", "route:\n  receiver: x\n  routes:\n  - receiver: x\n    labels:\n      -invalid-: v\n" + RECEIVERS,
     "routes.yaml:5 route.routes[0].labels: field labels not found in type config.plain"),
    ("yaml syntax error", "route:\n  receiver: [x\n" + RECEIVERS,
     "routes.yaml:3: yaml: while parsing a flow sequence: expected ',' or ']', but got ':'"),
    ("not a mapping", "- a\n- b\n", "routes.yaml:1: cannot unmarshal !!seq into config.plain"),
    ("wrong type", "route:\n  receiver: x\n  routes: {a: b}\n" + RECEIVERS,
     "routes.yaml:3 route.routes: expected a list"),
]


@pytest.mark.parametrize("text,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_message_line_and_path(text: str, expected: str) -> None:
    issues = errors_of(text)
    assert issues[0] == expected, issues


def test_invalid_group_by_name_classic_mode() -> None:
    # Alertmanager 0.25 and classic mode allow only classic label names in group_by.
    text = "route:\n  receiver: x\n  group_by: [alertname, a-b]\n" + RECEIVERS
    assert errors_of(text, "classic") == ['routes.yaml:3 route.group_by[1]: invalid label name "a-b" in group_by list']


def test_group_by_accepts_utf8_names_in_fallback_mode() -> None:
    # Today's Alertmanager (fallback/UTF-8 modes) accepts any non-empty UTF-8 label name.
    cfg = load_config_text("route:\n  receiver: x\n  group_by: [alertname, a-b, 'ünï']\n" + RECEIVERS)
    assert cfg.route.opts.group_by == ("a-b", "alertname", "ünï")


def test_all_errors_are_reported_in_document_order() -> None:
    text = "route:\n  receiver: nope\n  routes:\n  - receiver: x\n    group_by: [a, a]\n" + RECEIVERS + "- name: x\n"
    assert errors_of(text) == [
        'routes.yaml:2 route.receiver: undefined receiver "nope" used in route',
        'routes.yaml:5 route.routes[0].group_by[1]: duplicated label "a" in group_by',
        'routes.yaml:8 receivers[1].name: notification config name "x" is not unique',
    ]


def test_unsupported_integrations_are_warnings_not_dropped() -> None:
    cfg = load_config_text(
        "route:\n  receiver: x\nreceivers:\n- name: x\n  email_configs:\n  - to: a@example.com\n  opsgenie_configs:\n  - {}\n")
    assert [str(w) for w in cfg.warnings] == [
        'routes.yaml:5 receivers[0].email_configs: email_configs is not supported by alertbot: '
        '1 integration(s) of receiver "x" will not be notified',
        'routes.yaml:7 receivers[0].opsgenie_configs: opsgenie_configs is not supported by alertbot: '
        '1 integration(s) of receiver "x" will not be notified',
    ]


def test_secrets_are_never_printed() -> None:
    text = ("route:\n  receiver: x\nreceivers:\n- name: x\n  pagerduty_configs:\n  - routing_key: s3cr3t-routing-key\n"
            "    routing_key_file: /etc/key\n")
    issues = errors_of(text)
    assert issues == ["routes.yaml:6 receivers[0].pagerduty_configs[0]: "
                      "at most one of routing_key & routing_key_file must be configured"]
    cfg = load_config_text(text.replace("    routing_key_file: /etc/key\n", ""))
    dumped = repr(cfg.model) + cfg.model.model_dump_json()
    assert "s3cr3t" not in dumped
    assert cfg.model.receivers[0].pagerduty_configs[0].routing_key.reveal() == "s3cr3t-routing-key"


def test_secret_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PD_KEY", "from-env")
    cfg = load_config_text("route:\n  receiver: x\nreceivers:\n- name: x\n  pagerduty_configs:\n  - routing_key: ${PD_KEY}\n")
    assert cfg.model.receivers[0].pagerduty_configs[0].routing_key.reveal() == "from-env"


def test_defaults_are_alertmanagers() -> None:
    cfg = load_config_text("route:\n  receiver: x\n" + RECEIVERS)
    assert cfg.resolve_timeout == 300
    o = cfg.route.opts
    assert (o.group_wait, o.group_interval, o.repeat_interval, o.group_by, o.group_by_all) == (30, 300, 14400, (), False)


def test_inline_template_errors_name_the_line_inside_routes_yaml() -> None:
    text = ("route:\n  receiver: x\nreceivers:\n- name: x\n  slack_configs:\n  - channel: '#a'\n"
            "    text: |\n      first line\n      {{ .CommonLabels.alertname | nosuchfunc }}\n")
    (issue,) = errors_of(text)
    assert issue.startswith("routes.yaml:9 receivers[0].slack_configs[0].text: template: ")
    assert "nosuchfunc" in issue


def test_template_files_are_loaded_relative_to_the_config(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.config import load_config

    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "ok.tmpl").write_text('{{ define "my.title" }}[{{ .Status }}]{{ end }}')
    cfg = tmp_path / "routes.yaml"
    cfg.write_text("templates: ['t/*.tmpl']\nroute:\n  receiver: x\nreceivers:\n- name: x\n  slack_configs:\n"
                   "  - channel: '#a'\n    title: '{{ template \"my.title\" . }}'\n")
    loaded = load_config(str(cfg))
    assert loaded.template_error is None
    (tmp_path / "t" / "bad.tmpl").write_text('{{ define "broken" }}{{ if }}{{ end }}')
    assert "bad.tmpl" in (load_config(str(cfg)).template_error or "")
